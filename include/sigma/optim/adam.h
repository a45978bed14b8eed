// sigma/optim/adam.h: Adam and AdamW, as torch::optim::Adam and AdamW, with
// PyTorch's updates (torch/optim/adam.py, adamw.py), per parameter p with
// gradient g at step t = 1, 2, ...:
//   Adam:  g = g + weight_decay p        AdamW: p = p (1 - lr weight_decay)
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   v_max = max(v_max, v) (amsgrad; then v_max replaces v below)
//   p = p - lr / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "sigma/optim/optimizer.h"

namespace sigma::optim {

struct AdamOptions : public OptimizerCloneableOptions<AdamOptions> {
  AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as LibTorch
  using betas_t = std::tuple<double, double>;
  SIGMA_ARG(double, lr);                                       // learning rate (default 1e-3)
  SIGMA_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);     // moment decay rates, in [0, 1)
  SIGMA_ARG(double, eps) = 1e-8;                               // added to the denominator, >= 0
  SIGMA_ARG(double, weight_decay) = 0;                         // L2 penalty added to g, >= 0
  SIGMA_ARG(bool, amsgrad) = false;                            // use the running max of v

 public:
  double get_lr() const override { return lr(); }
  void set_lr(double new_lr) override { lr(new_lr); }
  friend bool operator==(const AdamOptions& a, const AdamOptions& b);
};

struct AdamWOptions : public OptimizerCloneableOptions<AdamWOptions> {
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, as LibTorch
  using betas_t = std::tuple<double, double>;
  SIGMA_ARG(double, lr);                                       // learning rate (default 1e-3)
  SIGMA_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);     // moment decay rates, in [0, 1)
  SIGMA_ARG(double, eps) = 1e-8;                               // added to the denominator, >= 0
  SIGMA_ARG(double, weight_decay) = 1e-2;                      // decoupled decay, >= 0
  SIGMA_ARG(bool, amsgrad) = false;                            // use the running max of v

 public:
  double get_lr() const override { return lr(); }
  void set_lr(double new_lr) override { lr(new_lr); }
  friend bool operator==(const AdamWOptions& a, const AdamWOptions& b);
};

struct AdamParamState : public OptimizerCloneableParamState<AdamParamState> {
  SIGMA_ARG(std::int64_t, step) = 0;
  SIGMA_ARG(Tensor, exp_avg);              // m
  SIGMA_ARG(Tensor, exp_avg_sq);           // v
  SIGMA_ARG(Tensor, max_exp_avg_sq) = {};  // v_max (amsgrad only)
};
using AdamWParamState = AdamParamState;

// sigma::Error if an option is out of range (lr, eps or weight_decay
// negative, a beta outside [0, 1)), naming it.
class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<OptimizerParamGroup> param_groups, AdamOptions defaults = {});
  explicit Adam(std::vector<Tensor> params, AdamOptions defaults = {});
  Tensor step(LossClosure closure = nullptr) override;
};

class AdamW : public Optimizer {
 public:
  explicit AdamW(std::vector<OptimizerParamGroup> param_groups, AdamWOptions defaults = {});
  explicit AdamW(std::vector<Tensor> params, AdamWOptions defaults = {});
  Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace sigma::optim
