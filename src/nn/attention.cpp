// attention.cpp: MultiheadAttention, PyTorch's module on sigma's attention
// op (src/ops/attention.h), with sigmoid weights and a per-head output gate
// as options.
//
// forward: the three projections (one product when query, key and value are
// the same tensor), heads split to [N, H, L, d], PyTorch's masks (true =
// excluded) merged into one additive mask of 0 / -inf, attention, the gate,
// heads merged and out_proj.
#include <cmath>
#include <limits>
#include <ostream>
#include <string>

#include "ops/attention.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/init.h"
#include "sigma/nn/modules/attention.h"
#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma::nn {

namespace F = functional;

MultiheadAttentionImpl::MultiheadAttentionImpl(const MultiheadAttentionOptions& options_)
    : options(options_) {
  const std::int64_t e = options.embed_dim(), h = options.num_heads();
  if (e <= 0 || h <= 0 || e % h != 0)
    throw Error("MultiheadAttention: embed_dim (" + std::to_string(e) +
                ") must be a positive multiple of num_heads (" + std::to_string(h) + ")");
  if (!(options.dropout() >= 0.0 && options.dropout() <= 1.0))
    throw Error("MultiheadAttention: dropout must be in [0, 1], got " +
                std::to_string(options.dropout()));
  head_dim = e / h;
  in_proj_weight = register_parameter("in_proj_weight", sigma::empty({3 * e, e}));
  in_proj_bias = register_parameter("in_proj_bias", options.bias() ? sigma::empty({3 * e}) : Tensor(),
                                    options.bias());
  out_proj = register_module("out_proj", Linear(LinearOptions(e, e).bias(options.bias())));
  if (options.gated()) gate_proj = register_module("gate_proj", Linear(e, e));
  reset_parameters();
}

void MultiheadAttentionImpl::reset_parameters() {
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) {
    init::zeros_(in_proj_bias);
    init::zeros_(out_proj->bias);
  }
}

namespace {

// An additive float mask [N or 1, H or 1, L, S] from PyTorch's module masks
// (bool true = excluded, float added), or undefined.
Tensor merged_mask(const Tensor& attn_mask, const Tensor& key_padding_mask, std::int64_t n,
                   std::int64_t h, std::int64_t l, std::int64_t s, ScalarType dt) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const auto additive = [&](const Tensor& m) {
    return m.dtype() == kBool ? where(m, sigma::full({}, -kInf, dt), sigma::zeros({}, dt))
                              : m.to(dt);
  };
  Tensor out;
  if (attn_mask.defined()) {
    const bool ok2 = attn_mask.dim() == 2 && attn_mask.size(0) == l && attn_mask.size(1) == s;
    const bool ok3 = attn_mask.dim() == 3 && attn_mask.size(0) == n * h && attn_mask.size(1) == l &&
                     attn_mask.size(2) == s;
    if (!ok2 && !ok3)
      throw Error("MultiheadAttention: attn_mask of shape " + shape_string(attn_mask.sizes()) +
                  " must be [L, S] = [" + std::to_string(l) + ", " + std::to_string(s) +
                  "] or [N*H, L, S] = [" + std::to_string(n * h) + ", " + std::to_string(l) +
                  ", " + std::to_string(s) + "]");
    out = additive(attn_mask);
    out = ok2 ? out.view({1, 1, l, s}) : out.view({n, h, l, s});
  }
  if (key_padding_mask.defined()) {
    if (key_padding_mask.dim() != 2 || key_padding_mask.size(0) != n ||
        key_padding_mask.size(1) != s)
      throw Error("MultiheadAttention: key_padding_mask of shape " +
                  shape_string(key_padding_mask.sizes()) + " must be [N, S] = [" +
                  std::to_string(n) + ", " + std::to_string(s) + "]");
    Tensor k = additive(key_padding_mask).view({n, 1, 1, s});
    out = out.defined() ? out + k : k;
  }
  return out;
}

}  // namespace

std::tuple<Tensor, Tensor> MultiheadAttentionImpl::forward(const Tensor& query, const Tensor& key,
                                                           const Tensor& value,
                                                           const Tensor& key_padding_mask,
                                                           bool need_weights,
                                                           const Tensor& attn_mask,
                                                           bool average_attn_weights) {
  const char* op = "MultiheadAttention";
  const std::int64_t e = options.embed_dim(), h = options.num_heads();
  sigma::check_defined(op, query, "query");
  sigma::check_defined(op, key, "key");
  sigma::check_defined(op, value, "value");
  const bool batched = query.dim() == 3;
  if ((query.dim() != 3 && query.dim() != 2) || key.dim() != query.dim() ||
      value.dim() != query.dim() || query.size(-1) != e || key.size(-1) != e ||
      value.size(-1) != e)
    throw Error(std::string(op) + ": expected query, key and value of shape " +
                (options.batch_first() ? "[N, L, E]" : "[L, N, E]") + " or [L, E] with E = " +
                std::to_string(e) + ", got query " + shape_string(query.sizes()) + ", key " +
                shape_string(key.sizes()) + ", value " + shape_string(value.sizes()));
  // To [N, L, E].
  const auto to_nle = [&](const Tensor& x) {
    if (!batched) return x.unsqueeze(0);
    return options.batch_first() ? x : x.transpose(0, 1);
  };
  const Tensor q_in = to_nle(query), k_in = to_nle(key), v_in = to_nle(value);
  const std::int64_t n = q_in.size(0), l = q_in.size(1), s = k_in.size(1);
  if (k_in.size(0) != n || v_in.size(0) != n || v_in.size(1) != s)
    throw Error(std::string(op) + ": query, key and value must share the batch size and key and "
                "value the length, got query " + shape_string(query.sizes()) + ", key " +
                shape_string(key.sizes()) + ", value " + shape_string(value.sizes()));
  Tensor q, k, v;
  if (query.is_same(key) && key.is_same(value)) {
    const auto qkv = F::linear(q_in, in_proj_weight, in_proj_bias).chunk(3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else {
    const auto w = in_proj_weight.chunk(3, 0);
    const auto b = in_proj_bias.defined() ? in_proj_bias.chunk(3, 0) : std::vector<Tensor>(3);
    q = F::linear(q_in, w[0], b[0]);
    k = F::linear(k_in, w[1], b[1]);
    v = F::linear(v_in, w[2], b[2]);
  }
  // [N, L, E] -> [N, H, L, d]
  const auto heads = [&](const Tensor& x, std::int64_t len) {
    return x.reshape({n, len, h, head_dim}).transpose(1, 2);
  };
  const Tensor mask = merged_mask(attn_mask, batched ? key_padding_mask
                                              : (key_padding_mask.defined() ? key_padding_mask.unsqueeze(0) : Tensor()),
                                  n, h, l, s, q.dtype());
  const bool sig = options.attention() == kSigmoidAttention;
  const double p = is_training() ? options.dropout() : 0.0;
  auto r = sigma::detail::attention(op, sig ? sigma::detail::AttentionKind::Sigmoid
                                            : sigma::detail::AttentionKind::Softmax,
                                    heads(q, l), heads(k, s), heads(v, s), mask, p, false,
                                    std::nullopt, options.sigmoid_bias());
  Tensor out = r.output.transpose(1, 2).reshape({n, l, e});
  if (options.gated()) out = out * gate_proj(q_in).sigmoid();
  out = out_proj(out);
  if (!batched) out = out.squeeze(0);
  else if (!options.batch_first()) out = out.transpose(0, 1);
  Tensor weights;
  if (need_weights) {
    weights = average_attn_weights ? r.weights.mean({1}) : r.weights;
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

void MultiheadAttentionImpl::pretty_print(std::ostream& stream) const {
  stream << "MultiheadAttention(embed_dim=" << options.embed_dim()
         << ", num_heads=" << options.num_heads();
  if (options.attention() == kSigmoidAttention) stream << ", attention=sigmoid";
  if (options.gated()) stream << ", gated=True";
  stream << ")";
}

}  // namespace sigma::nn
