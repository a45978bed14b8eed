// sigma/optim/adagrad.h: Adagrad, as torch::optim::Adagrad, with PyTorch's
// update (torch/optim/adagrad.py), per parameter p with gradient g at step
// t = 1, 2, ...:
//   g = g + weight_decay p
//   s = s + g^2                                       (sum)
//   p = p - lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)
// As in LibTorch and PyTorch, every parameter's state (step 0, sum filled
// with initial_accumulator_value) is made when the optimizer is constructed,
// so a checkpoint of a new optimizer holds it too. Each group's own
// initial_accumulator_value is used (as PyTorch; LibTorch 1.13 uses the
// defaults' for every group); parameters added later (add_param_group) get
// their state on their first step.
#pragma once

#include <cstdint>
#include <vector>

#include "sigma/optim/optimizer.h"

namespace sigma::optim {

struct AdagradOptions : public OptimizerCloneableOptions<AdagradOptions> {
  AdagradOptions(double lr = 1e-2) : lr_(lr) {}      // NOLINT: implicit, as LibTorch
  SIGMA_ARG(double, lr);                             // learning rate, >= 0 (default 1e-2)
  SIGMA_ARG(double, lr_decay) = 0;                   // lr / (1 + (t - 1) lr_decay), >= 0
  SIGMA_ARG(double, weight_decay) = 0;               // L2 penalty added to g, >= 0
  SIGMA_ARG(double, initial_accumulator_value) = 0;  // the sum's start, >= 0
  SIGMA_ARG(double, eps) = 1e-10;                    // added to the denominator, >= 0

 public:
  double get_lr() const override { return lr(); }
  void set_lr(double new_lr) override { lr(new_lr); }
  friend bool operator==(const AdagradOptions& a, const AdagradOptions& b);
};

struct AdagradParamState : public OptimizerCloneableParamState<AdagradParamState> {
  SIGMA_ARG(Tensor, sum);  // s
  SIGMA_ARG(std::int64_t, step) = 0;
};

// sigma::Error if an option is out of range (lr, lr_decay, weight_decay,
// initial_accumulator_value or eps negative), naming it.
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults = {});
  explicit Adagrad(std::vector<Tensor> params, AdagradOptions defaults = {});
  Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace sigma::optim
