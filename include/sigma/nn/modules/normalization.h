// sigma/nn/modules/normalization.h: LayerNorm, as torch::nn::LayerNorm.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// x [*, normalized_shape] -> y of the same shape: each slice over the
// trailing normalized_shape dimensions normalised to mean 0 and (biased)
// variance 1, then y = x_hat * weight + bias. weight starts at ones and bias
// at zeros, both [normalized_shape] (undefined with elementwise_affine(false)),
// named as PyTorch's so state dicts match.
//   sigma::nn::LayerNorm ln(sigma::nn::LayerNormOptions({64}).eps(1e-6));
class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(std::vector<std::int64_t> normalized_shape)
      : LayerNormImpl(LayerNormOptions(std::move(normalized_shape))) {}
  explicit LayerNormImpl(const LayerNormOptions& options);

  Tensor forward(const Tensor& input);
  // weight to ones and bias to zeros again.
  void reset_parameters();
  // "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
  void pretty_print(std::ostream& stream) const override;

  LayerNormOptions options;
  Tensor weight;
  Tensor bias;
};
SIGMA_MODULE(LayerNorm);

}  // namespace sigma::nn
