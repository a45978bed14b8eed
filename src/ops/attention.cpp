// attention.cpp: scaled dot-product attention, softmax (PyTorch's
// scaled_dot_product_attention) and sigmoid (Ramapuram et al. 2024:
// sigmoid(q k^T / sqrt(d) + b) v with b = -log(n) for n keys).
//
// Composed from ops (matmul, softmax / sigmoid, where), so the backward is
// theirs; masked scores are -inf, which both weightings map to exactly 0
// with a zero gradient. A query whose every key is masked gets NaN weights
// under softmax (0/0, as PyTorch's reference implementation) and zero
// weights under sigmoid.
#include "ops/attention.h"

#include <cmath>
#include <limits>
#include <string>

#include "sigma/ops.h"
#include "tensor/loops.h"

namespace sigma {
namespace detail {

namespace {

// The causal mask [L, S]: key j takes part for query i when j <= i.
Tensor causal_mask(std::int64_t l, std::int64_t s) {
  return arange(s).unsqueeze(0).le(arange(l).unsqueeze(1));
}

void check_operands(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
  check_defined(op, q, "query");
  check_defined(op, k, "key");
  check_defined(op, v, "value");
  const auto shapes = [&] {
    return "query " + shape_string(q.sizes()) + ", key " + shape_string(k.sizes()) +
           ", value " + shape_string(v.sizes());
  };
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2)
    throw Error(std::string(op) + ": expected query, key and value of at least 2 dimensions "
                "[..., L, E], [..., S, E], [..., S, Ev], got " + shapes());
  if (q.size(-1) != k.size(-1))
    throw Error(std::string(op) + ": query and key must have the same last dimension E, got " +
                shapes());
  if (k.size(-2) != v.size(-2))
    throw Error(std::string(op) + ": key and value must have the same number of keys S, got " +
                shapes());
  for (const Tensor* t : {&q, &k, &v})
    if (!t->is_floating_point())
      throw_dtype(op, t->dtype(), "floating-point query, key and value");
}

}  // namespace

AttentionResult attention(const char* op, AttentionKind kind, const Tensor& q, const Tensor& k,
                          const Tensor& v, const Tensor& attn_mask, double dropout_p,
                          bool is_causal, std::optional<double> scale,
                          std::optional<double> bias) {
  check_operands(op, q, k, v);
  if (!(dropout_p >= 0.0 && dropout_p <= 1.0))
    throw Error(std::string(op) + ": dropout_p must be in [0, 1], got " + std::to_string(dropout_p));
  if (is_causal && attn_mask.defined())
    throw Error(std::string(op) + ": pass either attn_mask or is_causal, not both");
  const std::int64_t l = q.size(-2), s = k.size(-2), e = q.size(-1);
  const double sc = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(e));
  Tensor scores = matmul(q * sc, k.transpose(-2, -1));
  if (kind == AttentionKind::Sigmoid) {
    const double b = bias ? *bias : -std::log(static_cast<double>(s));
    if (b != 0) scores = scores + b;
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Tensor mask = is_causal ? causal_mask(l, s) : attn_mask;
  if (mask.defined()) {
    const auto bad = [&] {
      throw Error(std::string(op) + ": attn_mask of shape " + shape_string(mask.sizes()) +
                  " does not broadcast to the scores' shape " + shape_string(scores.sizes()) +
                  " [..., L, S]");
    };
    if (mask.dim() > scores.dim()) bad();
    for (std::int64_t i = 1; i <= mask.dim(); ++i)
      if (mask.size(-i) != 1 && mask.size(-i) != scores.size(-i)) bad();
    if (mask.dtype() == kBool)
      scores = where(mask, scores, -kInf);
    else if (mask.is_floating_point())
      scores = scores + mask;
    else
      throw_dtype(op, mask.dtype(), "a bool or floating-point attn_mask");
  }
  Tensor w = kind == AttentionKind::Softmax ? softmax(scores, -1) : sigmoid(scores);
  Tensor wd = w;
  if (dropout_p > 0) {
    if (dropout_p == 1.0) {
      wd = w * 0.0;
    } else {
      const Tensor keep = rand(w.sizes(), kDouble).lt(1.0 - dropout_p).to(w.dtype());
      wd = w * (keep * (1.0 / (1.0 - dropout_p)));
    }
  }
  return {matmul(wd, v), wd};
}

}  // namespace detail

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  return detail::attention("scaled_dot_product_attention", detail::AttentionKind::Softmax, query,
                           key, value, attn_mask, dropout_p, is_causal, scale, std::nullopt)
      .output;
}

}  // namespace sigma
