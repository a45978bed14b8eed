// sigma/nn/options.h: the options structs of the nn modules and functions,
// and the enum values they share (sigma::kMean, sigma::kFanIn, sigma::kReLU),
// as LibTorch's torch/nn/options and torch/enum.h.
//
// Each option is a SIGMA_ARG: a chained setter and a getter of the same name,
// with its default on the declaring line:
//   sigma::nn::LinearOptions(4, 8).bias(false)
// A module takes its options struct (or the options' required arguments), and
// the matching functional takes the same struct under a FuncOptions alias.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sigma/reduction.h"
#include "sigma/tensor.h"

// Declares option `name` of type T: name(value) sets it and returns *this,
// name() reads it. Follow with `= default_value;` where it has one.
#define SIGMA_ARG(T, name)                                 \
 public:                                                   \
  auto name(const T& new_##name)->decltype(*this) {        \
    this->name##_ = new_##name;                            \
    return *this;                                          \
  }                                                        \
  const T& name() const noexcept { return this->name##_; } \
  T& name() noexcept { return this->name##_; }             \
                                                           \
 private:                                                  \
  T name##_

namespace sigma {

// Which fan the Kaiming initializers scale by.
enum class FanMode : std::int8_t { FanIn, FanOut };
inline constexpr FanMode kFanIn = FanMode::FanIn;
inline constexpr FanMode kFanOut = FanMode::FanOut;

// The nonlinearity an initializer's gain is computed for (calculate_gain).
enum class Nonlinearity : std::int8_t {
  Linear,
  Conv1D,
  Conv2D,
  Conv3D,
  ConvTranspose1D,
  ConvTranspose2D,
  ConvTranspose3D,
  Sigmoid,
  Tanh,
  ReLU,
  LeakyReLU,
  SELU
};
inline constexpr Nonlinearity kLinear = Nonlinearity::Linear;
inline constexpr Nonlinearity kConv1D = Nonlinearity::Conv1D;
inline constexpr Nonlinearity kConv2D = Nonlinearity::Conv2D;
inline constexpr Nonlinearity kConv3D = Nonlinearity::Conv3D;
inline constexpr Nonlinearity kConvTranspose1D = Nonlinearity::ConvTranspose1D;
inline constexpr Nonlinearity kConvTranspose2D = Nonlinearity::ConvTranspose2D;
inline constexpr Nonlinearity kConvTranspose3D = Nonlinearity::ConvTranspose3D;
inline constexpr Nonlinearity kSigmoid = Nonlinearity::Sigmoid;
inline constexpr Nonlinearity kTanh = Nonlinearity::Tanh;
inline constexpr Nonlinearity kReLU = Nonlinearity::ReLU;
inline constexpr Nonlinearity kLeakyReLU = Nonlinearity::LeakyReLU;
inline constexpr Nonlinearity kSELU = Nonlinearity::SELU;

namespace nn {

// ---- Linear: y = x W^T + b with W [out_features, in_features].
struct LinearOptions {
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  SIGMA_ARG(std::int64_t, in_features);   // size of each input sample (required)
  SIGMA_ARG(std::int64_t, out_features);  // size of each output sample (required)
  SIGMA_ARG(bool, bias) = true;           // learn an additive bias b [out_features]
};

// ---- Flatten and Unflatten (LibTorch's options/linear.h).
struct FlattenOptions {
  FlattenOptions() = default;
  SIGMA_ARG(std::int64_t, start_dim) = 1;  // first dimension flattened
  SIGMA_ARG(std::int64_t, end_dim) = -1;   // last dimension flattened (inclusive)
};

struct UnflattenOptions {
  UnflattenOptions(std::int64_t dim, std::vector<std::int64_t> sizes)
      : dim_(dim), sizes_(std::move(sizes)) {}
  SIGMA_ARG(std::int64_t, dim);                 // the dimension expanded (required)
  SIGMA_ARG(std::vector<std::int64_t>, sizes);  // its new sizes, one may be -1 (required)
};

// ---- LayerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias over the
// trailing normalized_shape dimensions.
struct LayerNormOptions {
  /* implicit */ LayerNormOptions(std::vector<std::int64_t> normalized_shape)  // NOLINT
      : normalized_shape_(std::move(normalized_shape)) {}
  SIGMA_ARG(std::vector<std::int64_t>, normalized_shape);  // the trailing dims (required)
  SIGMA_ARG(double, eps) = 1e-5;                           // added to the variance
  SIGMA_ARG(bool, elementwise_affine) = true;  // learn weight (ones) and bias (zeros)
};

// ---- Embedding: a table of num_embeddings rows of embedding_dim values.
struct EmbeddingOptions {
  EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  SIGMA_ARG(std::int64_t, num_embeddings);  // rows of the table (required)
  SIGMA_ARG(std::int64_t, embedding_dim);   // size of each row (required)
  // A row that gets no gradient and starts at zero; negative counts from the
  // end (none).
  SIGMA_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
  // Rows looked up are rescaled in place to this norm at most (none).
  SIGMA_ARG(std::optional<double>, max_norm) = std::nullopt;
  SIGMA_ARG(double, norm_type) = 2.;             // the p of max_norm's p-norm
  SIGMA_ARG(bool, scale_grad_by_freq) = false;   // divide gradients by index frequency
  SIGMA_ARG(bool, sparse) = false;               // sparse gradients (unsupported: must be false)
  SIGMA_ARG(Tensor, _weight) = {};  // the table to use instead of a new one (none)
};

// Embedding::from_pretrained's options.
struct EmbeddingFromPretrainedOptions {
  SIGMA_ARG(bool, freeze) = true;  // the table gets no gradient
  SIGMA_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
  SIGMA_ARG(std::optional<double>, max_norm) = std::nullopt;
  SIGMA_ARG(double, norm_type) = 2.;
  SIGMA_ARG(bool, scale_grad_by_freq) = false;
  SIGMA_ARG(bool, sparse) = false;
};

namespace functional {
// F::layer_norm's options: the shape plus the affine tensors (both optional).
struct LayerNormFuncOptions {
  /* implicit */ LayerNormFuncOptions(std::vector<std::int64_t> normalized_shape)  // NOLINT
      : normalized_shape_(std::move(normalized_shape)) {}
  SIGMA_ARG(std::vector<std::int64_t>, normalized_shape);  // the trailing dims (required)
  SIGMA_ARG(Tensor, weight) = {};                          // scale, normalized_shape (none)
  SIGMA_ARG(Tensor, bias) = {};                            // shift, normalized_shape (none)
  SIGMA_ARG(double, eps) = 1e-5;                           // added to the variance
};

// F::embedding's options: EmbeddingOptions without the table's sizes.
struct EmbeddingFuncOptions {
  EmbeddingFuncOptions() = default;
  SIGMA_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
  SIGMA_ARG(std::optional<double>, max_norm) = std::nullopt;
  SIGMA_ARG(double, norm_type) = 2.;
  SIGMA_ARG(bool, scale_grad_by_freq) = false;
  SIGMA_ARG(bool, sparse) = false;
};
}  // namespace functional

// ---- Activations.
struct ReLUOptions {
  /* implicit */ ReLUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT
  SIGMA_ARG(bool, inplace);  // overwrite the input (default false)
};

struct GELUOptions {
  GELUOptions() = default;
  // "none": x Phi(x) with erf; "tanh": the tanh approximation.
  SIGMA_ARG(std::string, approximate) = "none";
};

// softplus(x) = log(1 + exp(beta x)) / beta, and x where beta x > threshold.
struct SoftplusOptions {
  SoftplusOptions() = default;
  SIGMA_ARG(double, beta) = 1.0;
  SIGMA_ARG(double, threshold) = 20.0;
};

// ---- Softmax and the gated linear unit, along a dimension.
struct SoftmaxOptions {
  /* implicit */ SoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT
  SIGMA_ARG(std::int64_t, dim);  // the dimension the probabilities sum to 1 along (required)
};

struct LogSoftmaxOptions {
  /* implicit */ LogSoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT
  SIGMA_ARG(std::int64_t, dim);  // the dimension of the log-probabilities (required)
};

// a * sigmoid(b) for the halves a, b of the input along dim.
struct GLUOptions {
  /* implicit */ GLUOptions(std::int64_t dim = -1) : dim_(dim) {}  // NOLINT
  SIGMA_ARG(std::int64_t, dim);  // the dimension split in half (default -1)
};

// ---- Dropout: zeroes each element with probability p during training and
// scales the rest by 1 / (1 - p); the identity in eval mode.
struct DropoutOptions {
  /* implicit */ DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT
  SIGMA_ARG(double, p);                // probability of zeroing an element, in [0, 1]
  SIGMA_ARG(bool, inplace) = false;    // overwrite the input
};

// ---- Losses.
// loss = -w [pos_weight y log sigma(x) + (1 - y) log(1 - sigma(x))], computed
// from the logits x without forming sigma(x) (stable for any x).
struct BCEWithLogitsLossOptions {
  BCEWithLogitsLossOptions() = default;
  SIGMA_ARG(Tensor, weight) = {};           // rescales each element; broadcasts to the input (none)
  SIGMA_ARG(Reduction, reduction) = kMean;  // kNone, kMean or kSum
  SIGMA_ARG(Tensor, pos_weight) = {};  // weight of positive examples, along the last dim (none)
};

// loss = -w [y max(log x, -100) + (1 - y) max(log(1 - x), -100)] for
// probabilities x in [0, 1] (PyTorch clamps the logs at -100).
struct BCELossOptions {
  BCELossOptions() = default;
  SIGMA_ARG(Tensor, weight) = {};           // rescales each element; broadcasts to the input (none)
  SIGMA_ARG(Reduction, reduction) = kMean;  // kNone, kMean or kSum
};

// Multi-class losses on [N, C, ...] scores; see sigma::cross_entropy and
// sigma::nll_loss (sigma/ops.h) for the shapes and formulas.
struct CrossEntropyLossOptions {
  CrossEntropyLossOptions() = default;
  SIGMA_ARG(Tensor, weight) = {};              // one weight per class (none)
  SIGMA_ARG(std::int64_t, ignore_index) = -100;  // class-index targets equal to it add nothing
  SIGMA_ARG(Reduction, reduction) = kMean;     // kNone, kMean or kSum
  SIGMA_ARG(double, label_smoothing) = 0.0;    // in [0, 1]: mix of the uniform distribution
};

struct NLLLossOptions {
  NLLLossOptions() = default;
  SIGMA_ARG(Tensor, weight) = {};              // one weight per class (none)
  SIGMA_ARG(std::int64_t, ignore_index) = -100;  // targets equal to it add nothing
  SIGMA_ARG(Reduction, reduction) = kMean;     // kNone, kMean or kSum
};

// loss = (x - y)^2.
struct MSELossOptions {
  /* implicit */ MSELossOptions(Reduction reduction = kMean) : reduction_(reduction) {}  // NOLINT
  SIGMA_ARG(Reduction, reduction);  // kNone, kMean or kSum (default kMean)
};

namespace functional {

// Options of F::dropout: the module's options plus whether it is training.
struct DropoutFuncOptions {
  DropoutFuncOptions() = default;
  SIGMA_ARG(double, p) = 0.5;          // probability of zeroing an element, in [0, 1]
  SIGMA_ARG(bool, training) = true;    // false: return the input unchanged
  SIGMA_ARG(bool, inplace) = false;    // overwrite the input
};

// Options of F::softmax / F::log_softmax: the dimension and an optional
// dtype the input is cast to first.
struct SoftmaxFuncOptions {
  /* implicit */ SoftmaxFuncOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT
  SIGMA_ARG(std::int64_t, dim);                                 // (required)
  SIGMA_ARG(std::optional<ScalarType>, dtype) = std::nullopt;   // cast the input first
};

struct LogSoftmaxFuncOptions {
  /* implicit */ LogSoftmaxFuncOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT
  SIGMA_ARG(std::int64_t, dim);                                 // (required)
  SIGMA_ARG(std::optional<ScalarType>, dtype) = std::nullopt;   // cast the input first
};

using GLUFuncOptions = GLUOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using NLLLossFuncOptions = NLLLossOptions;
using BinaryCrossEntropyFuncOptions = BCELossOptions;
using MSELossFuncOptions = MSELossOptions;
using ReLUFuncOptions = ReLUOptions;
using GELUFuncOptions = GELUOptions;
using SoftplusFuncOptions = SoftplusOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;
}  // namespace functional

}  // namespace nn
}  // namespace sigma

// ---- layers: convolution, pooling, batch norm, leaky activations.
#include "sigma/nn/layer_options.h"  // IWYU pragma: export
