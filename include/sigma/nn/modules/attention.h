// sigma/nn/modules/attention.h: multi-head attention, as
// torch::nn::MultiheadAttention (PyTorch's parameter names, layouts, masks
// and initialisation), with sigma's two extensions from recent work: sigmoid
// attention weights (Ramapuram et al. 2024) and a sigmoid output gate per
// head (Qiu et al. 2025).
//   sigma::nn::MultiheadAttention mha(sigma::nn::MultiheadAttentionOptions(64, 4).batch_first(true));
//   auto [out, weights] = mha(x, x, x);   // x [N, L, 64]: out [N, L, 64], weights [N, L, L]
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <tuple>

#include "sigma/nn/module.h"
#include "sigma/nn/modules/linear.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// How attention weights come from the scores.
enum class AttentionKind : std::int8_t {
  Softmax,  // softmax over the keys: the weights of a query sum to 1 (PyTorch's)
  Sigmoid,  // sigmoid(score + bias) per key, independent of the other keys
};
inline constexpr AttentionKind kSoftmaxAttention = AttentionKind::Softmax;
inline constexpr AttentionKind kSigmoidAttention = AttentionKind::Sigmoid;

struct MultiheadAttentionOptions {
  MultiheadAttentionOptions(std::int64_t embed_dim, std::int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads) {}
  SIGMA_ARG(std::int64_t, embed_dim);   // model width E (required; keys and values too)
  SIGMA_ARG(std::int64_t, num_heads);   // heads H; E must be a multiple (required)
  SIGMA_ARG(double, dropout) = 0.0;     // dropout on the attention weights in training
  SIGMA_ARG(bool, bias) = true;         // in_proj_bias and out_proj.bias
  SIGMA_ARG(bool, batch_first) = false; // [N, L, E] instead of [L, N, E]
  // sigma's extensions (PyTorch has softmax, no gate):
  SIGMA_ARG(AttentionKind, attention) = kSoftmaxAttention;
  // The sigmoid's score bias; unset: -log(S) for S keys.
  SIGMA_ARG(std::optional<double>, sigmoid_bias) = std::nullopt;
  // Multiplies each head's output by sigmoid(query W_g^T + b_g), element-wise,
  // before out_proj (parameters gate_proj.weight [E, E], gate_proj.bias [E]).
  SIGMA_ARG(bool, gated) = false;
};

// Masks, as PyTorch's module: key_padding_mask [N, S] and a bool attn_mask
// [L, S] or [N*H, L, S] mark with true the keys a query must NOT attend to
// (the opposite of scaled_dot_product_attention's bool mask); a floating
// mask is added to the scores. Inputs [L, N, E] ([N, L, E] with
// batch_first), or unbatched [L, E]. need_weights returns the weights
// ([N, L, S], averaged over heads unless average_attn_weights is false: [N,
// H, L, S]); otherwise the second result is undefined.
class MultiheadAttentionImpl : public Module {
 public:
  MultiheadAttentionImpl(std::int64_t embed_dim, std::int64_t num_heads)
      : MultiheadAttentionImpl(MultiheadAttentionOptions(embed_dim, num_heads)) {}
  explicit MultiheadAttentionImpl(const MultiheadAttentionOptions& options);

  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = {}, bool need_weights = true,
                                     const Tensor& attn_mask = {},
                                     bool average_attn_weights = true);
  // PyTorch's initialisation: in_proj_weight xavier_uniform_, biases 0,
  // out_proj.weight as Linear's; gate_proj as Linear's.
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  MultiheadAttentionOptions options;
  Tensor in_proj_weight;  // [3E, E]: the query, key and value projections stacked
  Tensor in_proj_bias;    // [3E] (undefined without bias)
  Linear out_proj = nullptr;
  Linear gate_proj = nullptr;  // only when gated
  std::int64_t head_dim;
};
SIGMA_MODULE(MultiheadAttention);

}  // namespace sigma::nn
