// sigma/nn/layer_options.h: the options of the convolution, pooling, batch
// normalization and leaky/bounded activation layers and their functional
// forms, spelled as LibTorch's torch/nn/options/{conv,pooling,batchnorm,
// activation,dropout}.h. Included from sigma/nn/options.h.
//
// A per-dimension argument is an ExpandingArray<D>: one integer stands for
// all D dimensions (kernel_size(3) is {3, 3} for Conv2d), a list gives each.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "sigma/error.h"
#include "sigma/tensor.h"

namespace sigma {

// The tag types of the string-like options, as torch::enumtype (kSame,
// kZeros, ...): each option names them through a std::variant.
namespace enumtype {
struct kValid {};
struct kSame {};
struct kZeros {};
struct kReflect {};
struct kReplicate {};
struct kCircular {};
}  // namespace enumtype
inline constexpr enumtype::kValid kValid{};
inline constexpr enumtype::kSame kSame{};
inline constexpr enumtype::kZeros kZeros{};
inline constexpr enumtype::kReflect kReflect{};
inline constexpr enumtype::kReplicate kReplicate{};
inline constexpr enumtype::kCircular kCircular{};

// D values of T, from one value repeated or a list of exactly D (as
// torch::ExpandingArray); a list of another length is a sigma::Error.
template <std::size_t D, class T = std::int64_t>
class ExpandingArray {
 public:
  /* implicit */ ExpandingArray(T single) { values_.fill(single); }  // NOLINT
  // For optional elements: ExpandingArrayWithOptionalElem<2>(7) is {7, 7}.
  template <class U = T, std::enable_if_t<!std::is_same_v<U, std::int64_t>, int> = 0>
  /* implicit */ ExpandingArray(std::int64_t single) {  // NOLINT
    values_.fill(T(single));
  }
  /* implicit */ ExpandingArray(std::initializer_list<T> list)       // NOLINT
      : ExpandingArray(std::vector<T>(list)) {}
  /* implicit */ ExpandingArray(const std::vector<T>& list) {  // NOLINT
    if (list.size() != D)
      throw Error("ExpandingArray: expected " + std::to_string(D) + " values, got " +
                  std::to_string(list.size()));
    for (std::size_t i = 0; i < D; ++i) values_[i] = list[i];
  }
  /* implicit */ ExpandingArray(const std::array<T, D>& values) : values_(values) {}  // NOLINT

  T& operator[](std::size_t i) { return values_.at(i); }
  const T& operator[](std::size_t i) const { return values_.at(i); }
  std::array<T, D>& operator*() { return values_; }
  const std::array<T, D>& operator*() const { return values_; }
  const T* data() const noexcept { return values_.data(); }
  static constexpr std::size_t size() noexcept { return D; }
  std::vector<T> vec() const { return {values_.begin(), values_.end()}; }
  // As the sizes argument of an op (torch::max_pool2d(x, options.kernel_size())).
  operator IntArrayRef() const  // NOLINT
    requires std::is_same_v<T, std::int64_t>
  {
    return {values_.data(), D};
  }
  friend bool operator==(const ExpandingArray& a, const ExpandingArray& b) {
    return a.values_ == b.values_;
  }

 private:
  std::array<T, D> values_{};
};

// D optional sizes (as torch::ExpandingArrayWithOptionalElem): nullopt keeps
// the input's size in that dimension (AdaptiveAvgPool2d's output_size).
template <std::size_t D>
using ExpandingArrayWithOptionalElem = ExpandingArray<D, std::optional<std::int64_t>>;

namespace nn {

// ---- Convolution: Conv1d (D = 1) and Conv2d (D = 2).
template <std::size_t D>
using conv_padding_t = std::variant<ExpandingArray<D>, enumtype::kValid, enumtype::kSame>;
using conv_padding_mode_t =
    std::variant<enumtype::kZeros, enumtype::kReflect, enumtype::kReplicate, enumtype::kCircular>;

template <std::size_t D>
struct ConvOptions {
  using padding_t = conv_padding_t<D>;
  ConvOptions(std::int64_t in_channels, std::int64_t out_channels,
              ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  SIGMA_ARG(std::int64_t, in_channels);      // channels of the input (required)
  SIGMA_ARG(std::int64_t, out_channels);     // channels of the output (required)
  SIGMA_ARG(ExpandingArray<D>, kernel_size); // the window (required)
  SIGMA_ARG(ExpandingArray<D>, stride) = 1;  // step of the window
  // Zeros added on both sides, or kValid (none) or kSame (output as large
  // as the input; stride 1 only).
  SIGMA_ARG(padding_t, padding) = 0;

 public:
  decltype(auto) padding(std::initializer_list<std::int64_t> il) {
    return padding(padding_t(ExpandingArray<D>(il)));
  }
  SIGMA_ARG(ExpandingArray<D>, dilation) = 1;  // spacing of the window's taps
  SIGMA_ARG(std::int64_t, groups) = 1;         // channel groups, each convolved alone
  SIGMA_ARG(bool, bias) = true;                // learn a bias [out_channels]
  // How the padding is filled: only kZeros is implemented (others throw).
  SIGMA_ARG(conv_padding_mode_t, padding_mode) = kZeros;
};
using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

namespace functional {
template <std::size_t D>
struct ConvFuncOptions {
  using padding_t = conv_padding_t<D>;
  SIGMA_ARG(Tensor, bias) = Tensor();          // [out_channels] (none)
  SIGMA_ARG(ExpandingArray<D>, stride) = 1;
  SIGMA_ARG(padding_t, padding) = 0;

 public:
  decltype(auto) padding(std::initializer_list<std::int64_t> il) {
    return padding(padding_t(ExpandingArray<D>(il)));
  }
  SIGMA_ARG(ExpandingArray<D>, dilation) = 1;
  SIGMA_ARG(std::int64_t, groups) = 1;
};
using Conv1dFuncOptions = ConvFuncOptions<1>;
using Conv2dFuncOptions = ConvFuncOptions<2>;
}  // namespace functional

// ---- Pooling.
template <std::size_t D>
struct MaxPoolOptions {
  /* implicit */ MaxPoolOptions(ExpandingArray<D> kernel_size)  // NOLINT
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  SIGMA_ARG(ExpandingArray<D>, kernel_size);   // the window (required)
  SIGMA_ARG(ExpandingArray<D>, stride);        // defaults to kernel_size
  SIGMA_ARG(ExpandingArray<D>, padding) = 0;   // -inf on both sides, at most half the window
  SIGMA_ARG(ExpandingArray<D>, dilation) = 1;  // spacing of the window's taps
  SIGMA_ARG(bool, ceil_mode) = false;          // round the output size up
};
using MaxPool1dOptions = MaxPoolOptions<1>;
using MaxPool2dOptions = MaxPoolOptions<2>;

template <std::size_t D>
struct AvgPoolOptions {
  /* implicit */ AvgPoolOptions(ExpandingArray<D> kernel_size)  // NOLINT
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  SIGMA_ARG(ExpandingArray<D>, kernel_size);  // the window (required)
  SIGMA_ARG(ExpandingArray<D>, stride);       // defaults to kernel_size
  SIGMA_ARG(ExpandingArray<D>, padding) = 0;  // zeros on both sides, at most half the window
  SIGMA_ARG(bool, ceil_mode) = false;         // round the output size up
  SIGMA_ARG(bool, count_include_pad) = true;  // padded zeros count in the divisor
  // Divide by this instead of the window's size (none).
  SIGMA_ARG(std::optional<std::int64_t>, divisor_override) = std::nullopt;
};
using AvgPool2dOptions = AvgPoolOptions<2>;

template <class output_size_t>
struct AdaptiveAvgPoolOptions {
  /* implicit */ AdaptiveAvgPoolOptions(output_size_t output_size)  // NOLINT
      : output_size_(output_size) {}
  SIGMA_ARG(output_size_t, output_size);  // the output's spatial size (required)
};
using AdaptiveAvgPool2dOptions = AdaptiveAvgPoolOptions<ExpandingArrayWithOptionalElem<2>>;

namespace functional {
using MaxPool1dFuncOptions = MaxPool1dOptions;
using MaxPool2dFuncOptions = MaxPool2dOptions;
using AvgPool2dFuncOptions = AvgPool2dOptions;
using AdaptiveAvgPool2dFuncOptions = AdaptiveAvgPool2dOptions;
}  // namespace functional

// ---- Batch normalization over the channel dimension 1.
struct BatchNormOptions {
  /* implicit */ BatchNormOptions(std::int64_t num_features)  // NOLINT
      : num_features_(num_features) {}
  SIGMA_ARG(std::int64_t, num_features);  // C, the channels (required)
  SIGMA_ARG(double, eps) = 1e-5;          // added to the variance
  // Weight of the new batch in the running statistics; nullopt: a cumulative
  // average over the batches seen (1 / num_batches_tracked).
  SIGMA_ARG(std::optional<double>, momentum) = 0.1;
  SIGMA_ARG(bool, affine) = true;               // learn weight (ones) and bias (zeros)
  SIGMA_ARG(bool, track_running_stats) = true;  // keep running_mean / running_var
};

using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

namespace functional {
struct BatchNormFuncOptions {
  SIGMA_ARG(Tensor, weight) = Tensor();  // [C] scale (none)
  SIGMA_ARG(Tensor, bias) = Tensor();    // [C] shift (none)
  SIGMA_ARG(bool, training) = false;     // batch statistics (and update the running ones)
  SIGMA_ARG(std::optional<double>, momentum) = 0.1;
  SIGMA_ARG(double, eps) = 1e-5;
};
}  // namespace functional

// ---- Activations with a parameter.
struct LeakyReLUOptions {
  SIGMA_ARG(double, negative_slope) = 1e-2;  // the slope for x < 0
  SIGMA_ARG(bool, inplace) = false;          // overwrite the input
};

struct ELUOptions {
  SIGMA_ARG(double, alpha) = 1.0;    // alpha (e^x - 1) for x <= 0
  SIGMA_ARG(bool, inplace) = false;  // overwrite the input
};

struct HardtanhOptions {
  SIGMA_ARG(double, min_val) = -1.0;  // lower bound
  SIGMA_ARG(double, max_val) = 1.0;   // upper bound
  SIGMA_ARG(bool, inplace) = false;   // overwrite the input
};

// Dropout2d zeroes whole channels (each [H, W] plane) of [N, C, H, W] or
// [C, H, W] inputs.
using Dropout2dOptions = DropoutOptions;

namespace functional {
using LeakyReLUFuncOptions = LeakyReLUOptions;
using ELUFuncOptions = ELUOptions;
using HardtanhFuncOptions = HardtanhOptions;
struct Dropout2dFuncOptions {
  SIGMA_ARG(double, p) = 0.5;        // probability of zeroing a channel, in [0, 1]
  SIGMA_ARG(bool, training) = true;  // false: return the input unchanged
  SIGMA_ARG(bool, inplace) = false;  // overwrite the input
};
}  // namespace functional

}  // namespace nn
}  // namespace sigma
