// sigma/layer_ops.h: the ops behind the convolution, pooling, batch norm and
// bounded/leaky activation layers, with LibTorch's names, arguments and
// defaults (torch::conv2d, torch::max_pool2d, torch::batch_norm, ...).
// Included from sigma/ops.h. Inputs are [N, C, *spatial] (or the same without
// N where LibTorch allows it); float32 and float64, with gradients for every
// floating operand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "sigma/tensor.h"

namespace sigma {

// The named padding of conv1d/conv2d ("same" or "valid"). Unlike a bare
// string_view it does not accept the literal 0, so conv2d(x, w, b, 1, 0)
// picks the integer padding instead of being ambiguous.
struct ConvPaddingName {
  template <std::size_t N>
  ConvPaddingName(const char (&name)[N]) : value(name, N - 1) {}  // NOLINT
  ConvPaddingName(std::string_view name) : value(name) {}         // NOLINT
  ConvPaddingName(const std::string& name) : value(name) {}       // NOLINT
  std::string_view value;
};

// ---- Convolution (cross-correlation, as PyTorch). input [N, C, L] or [C, L]
// (conv1d), [N, C, H, W] or [C, H, W] (conv2d); weight [O, C / groups, k...];
// bias [O] or undefined. Per spatial dimension: out = (in + 2 padding -
// dilation (k - 1) - 1) / stride + 1. padding "valid" is 0; "same" pads so
// out = in (stride 1 only; an odd total puts the extra zero at the end).
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              IntArrayRef stride = 1, IntArrayRef padding = 0, IntArrayRef dilation = 1,
              std::int64_t groups = 1);
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              ConvPaddingName padding, IntArrayRef dilation = 1, std::int64_t groups = 1);
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              IntArrayRef stride = 1, IntArrayRef padding = 0, IntArrayRef dilation = 1,
              std::int64_t groups = 1);
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              ConvPaddingName padding, IntArrayRef dilation = 1, std::int64_t groups = 1);

// ---- Batch normalization over dimension 1 of input [N, C, *]:
// y = (x - mean_c) / sqrt(var_c + eps) weight_c + bias_c. training: mean and
// biased var of the batch, and the running stats (when defined) become
// (1 - momentum) running + momentum batch, with the unbiased var. Otherwise
// running_mean / running_var are used (and must be defined).
// cudnn_enabled is accepted and ignored.
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps, bool cudnn_enabled = true);

// ---- Pooling over the trailing 1 or 2 dimensions of [N, C, *] or [C, *].
// stride empty means kernel_size. Out size as convolution's, rounded up with
// ceil_mode (a last window starting in the right padding is dropped).
// Padding is at most half the (dilated) window. max_pool's indices are the
// flat positions (h W + w) of each maximum in its input plane; NaN wins.
Tensor max_pool1d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, IntArrayRef dilation = 1, bool ceil_mode = false);
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride = {},
                                                   IntArrayRef padding = 0,
                                                   IntArrayRef dilation = 1,
                                                   bool ceil_mode = false);
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, IntArrayRef dilation = 1, bool ceil_mode = false);
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride = {},
                                                   IntArrayRef padding = 0,
                                                   IntArrayRef dilation = 1,
                                                   bool ceil_mode = false);
// Mean of each window; padded zeros count in the divisor with
// count_include_pad (not the part of a ceil_mode window past the padding);
// divisor_override (non-zero) replaces the divisor.
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<std::int64_t> divisor_override = std::nullopt);
// Output [*, oh, ow]: window i covers [floor(i in / out), ceil((i + 1) in / out)).
Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size);

// ---- Activations. leaky_relu: x for x > 0, slope x otherwise. elu:
// scale x for x > 0, scale alpha (e^(input_scale x) - 1) otherwise.
// hardtanh: x clamped to [min_val, max_val], gradient 1 strictly inside.
Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope = 0.01);
Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope = 0.01);
Tensor elu(const Tensor& x, const Scalar& alpha = 1, const Scalar& scale = 1,
           const Scalar& input_scale = 1);
Tensor& elu_(Tensor& x, const Scalar& alpha = 1, const Scalar& scale = 1,
             const Scalar& input_scale = 1);
Tensor hardtanh(const Tensor& x, const Scalar& min_val = -1, const Scalar& max_val = 1);
Tensor& hardtanh_(Tensor& x, const Scalar& min_val = -1, const Scalar& max_val = 1);

}  // namespace sigma
