// sigma/nn/functional.h: the functional forms of the nn layers, as
// torch::nn::functional (users write `namespace F = sigma::nn::functional;`).
// Each takes the options struct of its module (under a FuncOptions alias) and
// forwards to the op of sigma/ops.h, so F::sigmoid(x), torch-style
// sigma::sigmoid(x) and nn::Sigmoid()(x) are one computation.
#pragma once

#include <optional>
#include <tuple>

#include "sigma/nn/options.h"
#include "sigma/tensor.h"

namespace sigma::nn::functional {

Tensor sigmoid(const Tensor& input);
Tensor tanh(const Tensor& input);
// With options.inplace(true), input is overwritten and returned.
Tensor relu(Tensor input, const ReLUFuncOptions& options = {});
Tensor silu(const Tensor& input);
Tensor gelu(const Tensor& input, const GELUFuncOptions& options = {});
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options = {});
Tensor logsigmoid(const Tensor& input);
Tensor hardsigmoid(const Tensor& input);
// Along options.dim(), after casting to options.dtype() when it is set.
Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options);
Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options);
Tensor glu(const Tensor& input, const GLUFuncOptions& options = {});

// input [*, in] -> [*, out] = input weight^T + bias, for weight [out, in] and
// bias [out] (or undefined). sigma::Error naming both shapes when the last
// dimension of input is not in.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});

// Training: each element is zeroed with probability options.p() (drawn from
// sigma's global generator, so manual_seed makes it reproducible) and the
// others scaled by 1 / (1 - p); p = 1 gives zeros. Not training, or p = 0:
// the input itself. sigma::Error unless 0 <= p <= 1. With
// options.inplace(true) the input is overwritten and returned.
Tensor dropout(Tensor input, const DropoutFuncOptions& options = {});

// Layer normalization over the trailing options.normalized_shape() dims of
// input, with the optional weight and bias (sigma::layer_norm).
Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options);
// The rows of weight [num_embeddings, embedding_dim] at the int64 indices in
// input: input.shape + [embedding_dim] (sigma::embedding). padding_idx may be
// negative (counted from the end); with max_norm, the rows looked up are
// first renormalised in place (sigma::embedding_renorm_).
Tensor embedding(const Tensor& input, const Tensor& weight,
                 const EmbeddingFuncOptions& options = {});

// Losses: input and target of the same shape (sigma::Error naming both
// shapes otherwise); options.weight() broadcasts to it.
// -w [y max(log x, -100) + (1 - y) max(log(1 - x), -100)], x in [0, 1].
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options = {});
// (x - y)^2.
Tensor mse_loss(const Tensor& input, const Tensor& target,
                const MSELossFuncOptions& options = {});
Tensor binary_cross_entropy_with_logits(
    const Tensor& input, const Tensor& target,
    const BinaryCrossEntropyWithLogitsFuncOptions& options = {});
// Multi-class: input [N, C, ...] scores, target [N, ...] class indices (or,
// for cross_entropy, class probabilities of the input's shape); see
// sigma::cross_entropy and sigma::nll_loss.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyFuncOptions& options = {});
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options = {});

// Sigmoid attention (Ramapuram et al. 2024): sigmoid(q k^T scale + bias) v,
// each weight independent of the other keys (they need not sum to 1).
// bias defaults to -log(S) for S keys, which keeps the summed weights near
// what softmax gives early in training; scale to 1/sqrt(E). Shapes, masks
// and is_causal as sigma::scaled_dot_product_attention; a masked key gets
// weight 0.
Tensor sigmoid_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                         std::optional<double> bias = std::nullopt, const Tensor& attn_mask = {},
                         bool is_causal = false, std::optional<double> scale = std::nullopt);

// ---- layers: convolution, pooling, batch norm, leaky/bounded activations
// and Dropout2d, with LibTorch's FuncOptions (sigma/nn/layer_options.h).
// input [N, C, L] (conv1d) or [N, C, H, W] (conv2d), or without N; weight
// [O, C / groups, k...]; options.bias() [O] or undefined (sigma::conv2d).
Tensor conv1d(const Tensor& input, const Tensor& weight, const Conv1dFuncOptions& options = {});
Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options = {});
Tensor max_pool1d(const Tensor& input, const MaxPool1dFuncOptions& options);
Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options);
// (values, int64 flat indices h W + w within each plane).
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input,
                                                   const MaxPool1dFuncOptions& options);
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input,
                                                   const MaxPool2dFuncOptions& options);
Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options);
// A nullopt output size keeps the input's size in that dimension.
Tensor adaptive_avg_pool2d(const Tensor& input, const AdaptiveAvgPool2dFuncOptions& options);
// Normalization over dimension 1 with the given running stats (updated in
// place when training and defined); sigma::Error when training on a single
// value per channel, or with momentum nullopt (only the modules average).
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options = {});
// With options.inplace(true), input is overwritten and returned.
Tensor leaky_relu(Tensor input, const LeakyReLUFuncOptions& options = {});
Tensor elu(Tensor input, const ELUFuncOptions& options = {});
Tensor hardtanh(Tensor input, const HardtanhFuncOptions& options = {});
// Zeroes whole channels of [N, C, H, W] (or [C, H, W]) with probability p
// while training, scaling the others by 1 / (1 - p).
Tensor dropout2d(Tensor input, const Dropout2dFuncOptions& options = {});

}  // namespace sigma::nn::functional
