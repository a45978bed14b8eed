// transformer.cpp: TransformerEncoderLayer, composed of MultiheadAttention,
// Linear, Dropout and LayerNorm as PyTorch's (same submodules, same order).
#include <ostream>
#include <string>

#include "sigma/nn/functional.h"
#include "sigma/nn/modules/transformer.h"
#include "sigma/ops.h"

namespace sigma::nn {

TransformerActivation::TransformerActivation(Nonlinearity n) : kind_(Kind::ReLU) {
  if (n != Nonlinearity::ReLU)
    throw Error("TransformerEncoderLayer: activation must be kReLU, kGELU or a function");
}

Tensor TransformerActivation::operator()(const Tensor& x) const {
  switch (kind_) {
    case Kind::ReLU: return sigma::relu(x);
    case Kind::GELU: return sigma::gelu(x);
    case Kind::Function: break;
  }
  return fn_(x);
}

const char* TransformerActivation::name() const noexcept {
  return kind_ == Kind::ReLU ? "relu" : kind_ == Kind::GELU ? "gelu" : "function";
}

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(
    const TransformerEncoderLayerOptions& options_)
    : options(options_) {
  const std::int64_t d = options.d_model();
  self_attn = register_module(
      "self_attn", MultiheadAttention(MultiheadAttentionOptions(d, options.nhead())
                                          .dropout(options.dropout())
                                          .batch_first(options.batch_first())
                                          .attention(options.attention())
                                          .sigmoid_bias(options.sigmoid_bias())
                                          .gated(options.gated())));
  linear1 = register_module("linear1", Linear(d, options.dim_feedforward()));
  dropout = register_module("dropout", Dropout(options.dropout()));
  linear2 = register_module("linear2", Linear(options.dim_feedforward(), d));
  norm1 = register_module("norm1", LayerNorm(LayerNormOptions({d}).eps(options.layer_norm_eps())));
  norm2 = register_module("norm2", LayerNorm(LayerNormOptions({d}).eps(options.layer_norm_eps())));
  dropout1 = register_module("dropout1", Dropout(options.dropout()));
  dropout2 = register_module("dropout2", Dropout(options.dropout()));
}

void TransformerEncoderLayerImpl::reset_parameters() {
  self_attn->reset_parameters();
  linear1->reset_parameters();
  linear2->reset_parameters();
  norm1->reset_parameters();
  norm2->reset_parameters();
}

Tensor TransformerEncoderLayerImpl::forward(const Tensor& src, const Tensor& src_mask,
                                            const Tensor& src_key_padding_mask) {
  const auto sa = [&](const Tensor& x) {
    return dropout1(std::get<0>(
        self_attn(x, x, x, src_key_padding_mask, /*need_weights=*/false, src_mask)));
  };
  const auto ff = [&](const Tensor& x) {
    return dropout2(linear2(dropout(options.activation()(linear1(x)))));
  };
  Tensor x = src;
  if (options.norm_first()) {
    x = x + sa(norm1(x));
    x = x + ff(norm2(x));
  } else {
    x = norm1(x + sa(x));
    x = norm2(x + ff(x));
  }
  return x;
}

void TransformerEncoderLayerImpl::pretty_print(std::ostream& stream) const {
  stream << "TransformerEncoderLayer(d_model=" << options.d_model()
         << ", nhead=" << options.nhead() << ", dim_feedforward=" << options.dim_feedforward()
         << ", activation=" << options.activation().name()
         << (options.norm_first() ? ", norm_first=True" : "") << ")";
}

}  // namespace sigma::nn
