// sigma/nn/modules/linear.h: the fully connected layer, as torch::nn::Linear.
#pragma once

#include <cstdint>
#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// y = x W^T + b for x [*, in_features] -> y [*, out_features], with
// weight W [out_features, in_features] and bias b [out_features] (undefined
// with bias(false)). Initialised as PyTorch: W by kaiming_uniform_ with
// a = sqrt(5) and b, both U(-1/sqrt(in_features), 1/sqrt(in_features)),
// drawn from sigma's global generator (sigma::manual_seed).
class LinearImpl : public Module {
 public:
  LinearImpl(std::int64_t in_features, std::int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  Tensor forward(const Tensor& input);
  // Draws weight and bias again from the default distribution.
  void reset_parameters();
  // "Linear(in_features=30, out_features=32, bias=True)"
  void pretty_print(std::ostream& stream) const override;

  LinearOptions options;
  Tensor weight;
  Tensor bias;
};
SIGMA_MODULE(Linear);

}  // namespace sigma::nn
