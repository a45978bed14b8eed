// sigma/nn/modules/linear.h: the fully connected layer, as torch::nn::Linear,
// and Flatten / Unflatten, which LibTorch keeps beside it.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

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

// Flattens dimensions start_dim..end_dim (inclusive, negative from the end)
// into one: [N, C, H, W] -> [N, C*H*W] by default (sigma::flatten).
class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(const FlattenOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "Flatten(start_dim=1, end_dim=-1)"
  FlattenOptions options;
};
SIGMA_MODULE(Flatten);

// Expands dimension dim into sizes: Unflatten(1, {2, 5}) maps [N, 10] to
// [N, 2, 5]. sigma::Error naming both shapes when the sizes' product is not
// the dimension's size.
class UnflattenImpl : public Module {
 public:
  UnflattenImpl(std::int64_t dim, std::vector<std::int64_t> sizes)
      : UnflattenImpl(UnflattenOptions(dim, std::move(sizes))) {}
  explicit UnflattenImpl(UnflattenOptions options) : options(std::move(options)) {}
  Tensor forward(const Tensor& input);
  // "Unflatten(dim=1, unflattened_size=(2, 5))"
  void pretty_print(std::ostream& stream) const override;
  UnflattenOptions options;
};
SIGMA_MODULE(Unflatten);

}  // namespace sigma::nn
