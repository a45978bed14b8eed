// sigma/nn/modules/conv.h: Conv1d and Conv2d, as torch::nn::Conv1d/Conv2d.
#pragma once

#include <cstddef>
#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// Convolution (cross-correlation) of [N, in_channels, *spatial] (or without
// N) with weight [out_channels, in_channels / groups, *kernel_size] and bias
// [out_channels] (undefined with bias(false)); sigma::conv1d / conv2d.
// Initialised as LibTorch: weight by kaiming_uniform_ with a = sqrt(5), bias
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups *
// prod(kernel_size), from sigma's global generator. padding_mode must be
// kZeros (the others are a sigma::Error).
template <std::size_t D>
class ConvNdImpl : public Module {
 public:
  explicit ConvNdImpl(const ConvOptions<D>& options);
  // Draws weight and bias again from the default distribution.
  void reset_parameters();
  // "Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))", as PyTorch's repr.
  void pretty_print(std::ostream& stream) const override;

  ConvOptions<D> options;
  Tensor weight;
  Tensor bias;
};

class Conv1dImpl : public ConvNdImpl<1> {
 public:
  Conv1dImpl(std::int64_t input_channels, std::int64_t output_channels,
             ExpandingArray<1> kernel_size)
      : Conv1dImpl(Conv1dOptions(input_channels, output_channels, kernel_size)) {}
  explicit Conv1dImpl(const Conv1dOptions& options) : ConvNdImpl<1>(options) {}
  // [N, C, L] or [C, L] -> [N, O, L_out] or [O, L_out]
  Tensor forward(const Tensor& input);
};
SIGMA_MODULE(Conv1d);

class Conv2dImpl : public ConvNdImpl<2> {
 public:
  Conv2dImpl(std::int64_t input_channels, std::int64_t output_channels,
             ExpandingArray<2> kernel_size)
      : Conv2dImpl(Conv2dOptions(input_channels, output_channels, kernel_size)) {}
  explicit Conv2dImpl(const Conv2dOptions& options) : ConvNdImpl<2>(options) {}
  // [N, C, H, W] or [C, H, W] -> [N, O, H_out, W_out] or [O, H_out, W_out]
  Tensor forward(const Tensor& input);
};
SIGMA_MODULE(Conv2d);

}  // namespace sigma::nn
