// sigma/optim/optimizer.h: the Optimizer base, parameter groups, options and
// per-parameter state, as torch::optim::Optimizer.
//
// An optimizer holds parameter groups, each a list of parameters with its own
// options (a copy of the optimizer's defaults unless given), and the state of
// each parameter (momentum buffers, moment estimates) created on its first
// step. step() updates the parameters in place, without recording a graph,
// from their grad(); parameters whose grad is undefined are skipped.
//   sigma::optim::SGD opt(model->parameters(), sigma::optim::SGDOptions(0.1).momentum(0.9));
//   opt.zero_grad();
//   loss.backward();
//   opt.step();
//   opt.param_groups()[0].options().lr(0.01);  // what a scheduler does
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sigma/nn/options.h"  // SIGMA_ARG
#include "sigma/tensor.h"

namespace sigma::optim {

// State an optimizer keeps for one parameter; each optimizer derives its own.
class OptimizerParamState {
 public:
  virtual ~OptimizerParamState() = default;
  virtual std::unique_ptr<OptimizerParamState> clone() const = 0;
};

template <class Derived>
class OptimizerCloneableParamState : public OptimizerParamState {
 public:
  std::unique_ptr<OptimizerParamState> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// The options of one parameter group. Each optimizer's options derive from
// this; the learning rate is reachable through the base, so a scheduler (or
// a user) can read and set it without knowing the optimizer:
// group.options().lr() and group.options().lr(0.01).
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  double lr() const { return get_lr(); }
  OptimizerOptions& lr(double new_lr) {
    set_lr(new_lr);
    return *this;
  }
};

template <class Derived>
class OptimizerCloneableOptions : public OptimizerOptions {
 public:
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// Parameters that share options. Without options, the optimizer gives the
// group a copy of its defaults when the group is added.
class OptimizerParamGroup {
 public:
  OptimizerParamGroup(std::vector<Tensor> params)  // NOLINT: implicit, as LibTorch
      : params_(std::move(params)) {}
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
      : params_(std::move(params)), options_(std::move(options)) {}
  OptimizerParamGroup(const OptimizerParamGroup& other)
      : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}
  OptimizerParamGroup(OptimizerParamGroup&&) noexcept = default;
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other) {
    if (this != &other) {
      params_ = other.params_;
      options_ = other.options_ ? other.options_->clone() : nullptr;
    }
    return *this;
  }
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) noexcept = default;

  bool has_options() const noexcept { return options_ != nullptr; }
  // sigma::Error if the group has no options.
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
  std::vector<Tensor>& params() noexcept { return params_; }
  const std::vector<Tensor>& params() const noexcept { return params_; }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

class Optimizer {
 public:
  using LossClosure = std::function<Tensor()>;
  // The state of each parameter, keyed by its TensorImpl (p.unsafeGetTensorImpl()).
  using StateMap = std::unordered_map<const void*, std::unique_ptr<OptimizerParamState>>;

  // Every parameter must be a defined floating-point leaf and appear in one
  // group only; sigma::Error otherwise.
  Optimizer(std::vector<OptimizerParamGroup> param_groups,
            std::unique_ptr<OptimizerOptions> defaults);
  Optimizer(std::vector<Tensor> parameters, std::unique_ptr<OptimizerOptions> defaults);
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;
  virtual ~Optimizer();

  void add_param_group(const OptimizerParamGroup& param_group);
  // Adds parameters to the first group.
  void add_parameters(const std::vector<Tensor>& parameters);

  // One update of every parameter that has a gradient. With a closure, calls
  // it first (with gradients enabled) and returns its loss; else returns an
  // undefined tensor.
  virtual Tensor step(LossClosure closure = nullptr) = 0;

  // set_to_none (the default, as PyTorch 2): every grad becomes undefined;
  // otherwise grads are zeroed in place.
  void zero_grad(bool set_to_none = true);

  // The parameters of the first group; sigma::Error if there is none.
  const std::vector<Tensor>& parameters() const;
  std::vector<Tensor>& parameters();
  // The number of parameters over all groups.
  std::size_t size() const noexcept;

  OptimizerOptions& defaults() noexcept { return *defaults_; }
  const OptimizerOptions& defaults() const noexcept { return *defaults_; }
  std::vector<OptimizerParamGroup>& param_groups() noexcept { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const noexcept { return param_groups_; }
  StateMap& state() noexcept { return state_; }
  const StateMap& state() const noexcept { return state_; }

 protected:
  // Calls closure under grad mode if there is one.
  static Tensor run_closure(const LossClosure& closure);
  // The state of p as S, default-constructed on first use; the bool is true
  // when it was just created.
  template <class S>
  std::pair<S&, bool> param_state(const Tensor& p) {
    auto [it, inserted] = state_.try_emplace(static_cast<const void*>(p.unsafeGetTensorImpl()));
    if (inserted) it->second = std::make_unique<S>();
    return {static_cast<S&>(*it->second), inserted};
  }

  std::vector<OptimizerParamGroup> param_groups_;
  StateMap state_;
  std::unique_ptr<OptimizerOptions> defaults_;
};

}  // namespace sigma::optim
