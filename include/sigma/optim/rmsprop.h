// sigma/optim/rmsprop.h: RMSprop, as torch::optim::RMSprop, with PyTorch's
// update (torch/optim/rmsprop.py), per parameter p with gradient g:
//   g = g + weight_decay p
//   v = alpha v + (1 - alpha) g^2                     (square_avg)
//   a = alpha a + (1 - alpha) g                       (grad_avg, centered only)
//   d = sqrt(v - a^2) + eps (centered), else sqrt(v) + eps
//   b = momentum b + g / d; p = p - lr b              (momentum > 0; momentum_buffer)
//   p = p - lr g / d                                  (momentum == 0)
// Buffers start at zero on a parameter's first step (a buffer that an option
// turned on later needs starts at zero then).
#pragma once

#include <cstdint>
#include <vector>

#include "sigma/optim/optimizer.h"

namespace sigma::optim {

struct RMSpropOptions : public OptimizerCloneableOptions<RMSpropOptions> {
  RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, as LibTorch
  SIGMA_ARG(double, lr);                         // learning rate, >= 0 (default 1e-2)
  SIGMA_ARG(double, alpha) = 0.99;               // decay of the running averages, >= 0
  SIGMA_ARG(double, eps) = 1e-8;                 // added to the denominator, >= 0
  SIGMA_ARG(double, weight_decay) = 0;           // L2 penalty added to g, >= 0
  SIGMA_ARG(double, momentum) = 0;               // >= 0; 0 disables the momentum buffer
  SIGMA_ARG(bool, centered) = false;             // divide by the estimated variance of g

 public:
  double get_lr() const override { return lr(); }
  void set_lr(double new_lr) override { lr(new_lr); }
  friend bool operator==(const RMSpropOptions& a, const RMSpropOptions& b);
};

struct RMSpropParamState : public OptimizerCloneableParamState<RMSpropParamState> {
  SIGMA_ARG(std::int64_t, step) = 0;
  SIGMA_ARG(Tensor, square_avg);            // v
  SIGMA_ARG(Tensor, momentum_buffer) = {};  // b (momentum > 0 only)
  SIGMA_ARG(Tensor, grad_avg) = {};         // a (centered only)
};

// sigma::Error if an option is out of range (lr, eps, momentum, weight_decay
// or alpha negative), naming it.
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults = {});
  explicit RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = {});
  Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace sigma::optim
