// sigma/nn/modules/transformer.h: the Transformer encoder layer, as
// torch::nn::TransformerEncoderLayer (PyTorch's submodule names, so state
// dicts load from PyTorch's keys: self_attn.in_proj_weight, linear1.weight,
// norm1.weight, ...), with PyTorch's norm_first, batch_first and
// layer_norm_eps, and the attention kinds of MultiheadAttention: softmax,
// sigmoid, and a sigmoid output gate per head.
//   auto layer = sigma::nn::TransformerEncoderLayer(
//       sigma::nn::TransformerEncoderLayerOptions(64, 4).dim_feedforward(256).dropout(0.0)
//           .norm_first(true).batch_first(true).gated(true));
//   auto y = layer(x);   // x [N, L, 64] -> y [N, L, 64]
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <variant>

#include "sigma/nn/module.h"
#include "sigma/nn/modules/attention.h"
#include "sigma/nn/modules/dropout.h"
#include "sigma/nn/modules/linear.h"
#include "sigma/nn/modules/normalization.h"
#include "sigma/nn/options.h"

namespace sigma {

// The feed-forward activation of a Transformer layer: sigma::kReLU,
// sigma::kGELU or any function of a tensor (LibTorch's activation_t).
struct GELUActivation {};
inline constexpr GELUActivation kGELU{};

namespace nn {

class TransformerActivation {
 public:
  /* implicit */ TransformerActivation(Nonlinearity n);  // NOLINT: kReLU only
  /* implicit */ TransformerActivation(GELUActivation) : kind_(Kind::GELU) {}  // NOLINT
  /* implicit */ TransformerActivation(std::function<Tensor(const Tensor&)> f)  // NOLINT
      : kind_(Kind::Function), fn_(std::move(f)) {}
  Tensor operator()(const Tensor& x) const;
  const char* name() const noexcept;  // "relu", "gelu" or "function"

 private:
  enum class Kind { ReLU, GELU, Function } kind_ = Kind::ReLU;
  std::function<Tensor(const Tensor&)> fn_;
};

struct TransformerEncoderLayerOptions {
  TransformerEncoderLayerOptions(std::int64_t d_model, std::int64_t nhead)
      : d_model_(d_model), nhead_(nhead) {}
  SIGMA_ARG(std::int64_t, d_model);             // model width (required)
  SIGMA_ARG(std::int64_t, nhead);               // attention heads (required)
  SIGMA_ARG(std::int64_t, dim_feedforward) = 2048;  // hidden width of the feed-forward block
  SIGMA_ARG(double, dropout) = 0.1;             // after attention, inside and after the feed-forward
  SIGMA_ARG(TransformerActivation, activation) = kReLU;
  SIGMA_ARG(double, layer_norm_eps) = 1e-5;
  SIGMA_ARG(bool, batch_first) = false;         // [N, L, E] instead of [L, N, E]
  SIGMA_ARG(bool, norm_first) = false;          // pre-norm: x + f(norm(x)); else norm(x + f(x))
  // sigma's extensions, passed to self_attn (see MultiheadAttentionOptions):
  SIGMA_ARG(AttentionKind, attention) = kSoftmaxAttention;
  SIGMA_ARG(std::optional<double>, sigmoid_bias) = std::nullopt;
  SIGMA_ARG(bool, gated) = false;
};

// Post-norm (PyTorch's default):  x = norm1(x + sa(x)); x = norm2(x + ff(x))
// pre-norm (norm_first):          x = x + sa(norm1(x)); x = x + ff(norm2(x))
// sa(x) = dropout1(self_attn(x, x, x)), ff(x) = dropout2(linear2(dropout(
// activation(linear1(x))))). With a gated self_attn, the gate is computed
// from the attention's own input (norm1(x) in pre-norm), as Qiu et al.
class TransformerEncoderLayerImpl : public Module {
 public:
  TransformerEncoderLayerImpl(std::int64_t d_model, std::int64_t nhead)
      : TransformerEncoderLayerImpl(TransformerEncoderLayerOptions(d_model, nhead)) {}
  explicit TransformerEncoderLayerImpl(const TransformerEncoderLayerOptions& options);

  // src_mask [L, L] and src_key_padding_mask [N, L]: true = excluded (or
  // float, added), as MultiheadAttention's.
  Tensor forward(const Tensor& src, const Tensor& src_mask = {},
                 const Tensor& src_key_padding_mask = {});
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  TransformerEncoderLayerOptions options;
  MultiheadAttention self_attn = nullptr;
  Linear linear1 = nullptr, linear2 = nullptr;
  Dropout dropout = nullptr, dropout1 = nullptr, dropout2 = nullptr;
  LayerNorm norm1 = nullptr, norm2 = nullptr;
};
SIGMA_MODULE(TransformerEncoderLayer);

}  // namespace nn
}  // namespace sigma
