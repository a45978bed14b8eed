// sigma/optim/sgd.h: stochastic gradient descent, as torch::optim::SGD, with
// PyTorch's update (torch/optim/sgd.py), per parameter p with gradient g:
//   g = g + weight_decay p
//   b = g on the first step, else momentum b + (1 - dampening) g
//   g = g + momentum b (nesterov) or b (momentum != 0)
//   p = p - lr g
#pragma once

#include <vector>

#include "sigma/optim/optimizer.h"

namespace sigma::optim {

struct SGDOptions : public OptimizerCloneableOptions<SGDOptions> {
  SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit, as LibTorch
  SIGMA_ARG(double, lr);                  // learning rate, >= 0 (required)
  SIGMA_ARG(double, momentum) = 0;        // >= 0; 0 disables the momentum buffer
  SIGMA_ARG(double, dampening) = 0;       // damps the gradient added to the buffer
  SIGMA_ARG(double, weight_decay) = 0;    // L2 penalty, >= 0
  SIGMA_ARG(bool, nesterov) = false;      // needs momentum > 0 and dampening 0

 public:
  double get_lr() const override { return lr(); }
  void set_lr(double new_lr) override { lr(new_lr); }
  friend bool operator==(const SGDOptions& a, const SGDOptions& b);
};

struct SGDParamState : public OptimizerCloneableParamState<SGDParamState> {
  SIGMA_ARG(Tensor, momentum_buffer);  // undefined until the first step with momentum
};

class SGD : public Optimizer {
 public:
  // sigma::Error if an option is out of range (lr, momentum or weight_decay
  // negative; nesterov without momentum or with dampening), naming it.
  explicit SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults);
  explicit SGD(std::vector<Tensor> params, SGDOptions defaults);
  Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace sigma::optim
