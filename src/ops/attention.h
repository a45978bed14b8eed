// attention.h: scaled dot-product attention with a softmax or a sigmoid
// over the scores (internal; used by the ops and by nn's attention modules).
#pragma once

#include <optional>

#include "sigma/tensor.h"

namespace sigma::detail {

enum class AttentionKind { Softmax, Sigmoid };

struct AttentionResult {
  Tensor output;   // [..., L, Ev]
  Tensor weights;  // [..., L, S], as multiplied with v (after dropout, as PyTorch's module)
};

// q [..., L, E], k [..., S, E], v [..., S, Ev] (batch dimensions broadcast).
// scores = q k^T scale (scale 1/sqrt(E) by default) + bias (sigmoid only;
// -log(S) by default); attn_mask bool (true takes part; false gives weight 0)
// or floating (added to the scores), broadcasting to [..., L, S]; is_causal
// masks key j > query i (an error together with attn_mask). Weights are
// softmax(scores) over the keys or sigmoid(scores) element-wise; dropout_p
// zeroes weights (scaling the rest by 1 / (1 - p)) before the product with v.
AttentionResult attention(const char* op, AttentionKind kind, const Tensor& q, const Tensor& k,
                          const Tensor& v, const Tensor& attn_mask, double dropout_p,
                          bool is_causal, std::optional<double> scale,
                          std::optional<double> bias);

}  // namespace sigma::detail
