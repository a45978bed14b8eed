// loss.cpp: the point-wise losses, forward and backward side by side:
// binary_cross_entropy_with_logits (on the bce_with_logits kernels) and
// binary_cross_entropy (on probabilities, with PyTorch's clamps).
//
// Both run through the element-wise pipeline's span loop (tensor/iterator.h):
// input and target in the compute dtype (float for bf16/f16), the weights
// broadcast to the input's shape, an element-wise loss, then the reduction
// (compensated, in double, rounded once). Their backwards spread the incoming
// gradient over the elements the same way (loss_grad).
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "core/compensated_sum.h"
#include "ops/elementwise.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/dense.h"
#include "tensor/iterator.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

// ---- What both losses share.

// The checks of a loss on (input, target[, weights]): defined operands of one
// shape (weights broadcast to it), floating dtypes, no gradient to a weight.
void check_loss(const char* op, const Tensor& input, const Tensor& target,
                std::initializer_list<std::pair<const Tensor*, const char*>> weights) {
  check_defined(op, input, "input");
  check_defined(op, target, "target");
  if (!(target.sizes() == input.sizes()))
    throw Error(std::string(op) + ": target shape " + shape_string(target.sizes()) +
                " must match input shape " + shape_string(input.sizes()));
  for (const Tensor* t : {&input, &target})
    if (!t->is_floating_point())
      detail::throw_dtype(op, t->dtype(), "floating-point input, target and weights");
  for (const auto& [w, name] : weights) {
    if (!w->defined()) continue;
    if (!w->is_floating_point())
      detail::throw_dtype(op, w->dtype(), "floating-point input, target and weights");
    if (GradMode::is_enabled() && autograd::requires_grad(*w))
      throw Error(std::string(op) + ": gradients with respect to " + name +
                  " are not supported (as in PyTorch); pass a tensor that does not require "
                  "grad, e.g. detach() it");
  }
}

// A weight as the iterator's operand: broadcast to the input's shape (an
// error naming op when it cannot be), no autograd; undefined stays undefined.
Tensor spread_weight(const char* op, const Tensor& w, const Tensor& input) {
  return w.defined() ? detail::broadcast_to(op, w.detach(), input.sizes()) : Tensor();
}

// The element-wise loss (dtype ct) reduced and returned in out_t.
Tensor reduce_loss(const char* op, const Tensor& loss, Reduction red, ScalarType out_t) {
  Tensor out = loss;
  if (red != Reduction::None) {
    detail::dispatch_floating(op, loss.dtype(), [&](auto tag) {
      using C = typename decltype(tag)::type;
      const std::int64_t n = loss.numel();
      double s = detail::compensated_sum(detail::data_of<const C>(loss), n);
      if (red == Reduction::Mean) s /= static_cast<double>(n);
      out = make_tensor({}, loss.dtype());
      *detail::data_of<C>(out) = static_cast<C>(s);
    });
  }
  return out.dtype() == out_t ? out : detail::cast_data(out, out_t);
}

// The gradient of the element-wise loss (shape, dtype ct) from the reduced
// loss's gradient g: g itself for kNone, else g (/ n for kMean) everywhere.
Tensor loss_grad(const Tensor& g, Reduction red, IntArrayRef shape, ScalarType ct) {
  if (red == Reduction::None) return g;
  double s = g.item<double>();
  if (red == Reduction::Mean) s /= static_cast<double>(checked_numel("loss_backward", shape));
  return full(shape, s, ct);
}

// The gradients in the operands' dtypes.
TensorList in_dtypes(Tensor dx, Tensor dt, ScalarType input_dtype, ScalarType target_dtype) {
  if (dx.defined() && dx.dtype() != input_dtype) dx = detail::cast_data(dx, input_dtype);
  if (dt.defined() && dt.dtype() != target_dtype) dt = detail::cast_data(dt, target_dtype);
  return {dx, dt};
}

// What a loss's backward keeps: the operands as given, the weights as the
// kernel read them, the reduction and the dtypes to return gradients in.
struct LossBackward : autograd::Node {
  SavedVariable x, t, w, pw;
  Reduction reduction;
  ScalarType input_dtype, target_dtype;
  LossBackward(Reduction r, ScalarType it, ScalarType tt)
      : reduction(r), input_dtype(it), target_dtype(tt) {}
  ScalarType compute_dtype() const { return detail::compute_type(promote_types(input_dtype, target_dtype)); }
  void release_variables() override {
    x.reset();
    t.reset();
    w.reset();
    pw.reset();
  }
};

template <class Node>
void record_loss(Tensor& out, const Tensor& input, const Tensor& target, Reduction red,
                 const detail::TensorIterator& it, std::size_t num_weights) {
  auto node = make_node<Node>({&input, &target}, red, input.dtype(), target.dtype());
  if (!node) return;
  node->x = SavedVariable(input);
  node->t = SavedVariable(target);
  if (num_weights > 0 && it.dense_input(2).defined()) node->w = SavedVariable(it.dense_input(2));
  if (num_weights > 1 && it.dense_input(3).defined()) node->pw = SavedVariable(it.dense_input(3));
  set_history(out, node);
}

// ---- binary_cross_entropy_with_logits: the kernels of sigma/kernels.h.

struct BinaryCrossEntropyWithLogitsBackward final : LossBackward {
  using LossBackward::LossBackward;
  std::string name() const override { return "BinaryCrossEntropyWithLogitsBackward"; }
  TensorList apply(TensorList&& g) override;
};

TensorList BinaryCrossEntropyWithLogitsBackward::apply(TensorList&& g) {
  const char* op = "binary_cross_entropy_with_logits_backward";
  const Tensor xv = x.unpack(this), tv = t.unpack(this);
  const Tensor wv = w.defined() ? w.unpack(this) : Tensor();
  const Tensor pwv = pw.defined() ? pw.unpack(this) : Tensor();
  const ScalarType ct = compute_dtype();
  const Tensor dl = loss_grad(g[0], reduction, xv.sizes(), ct);
  Tensor dx, dt;
  if (autograd::needs_grad(*this, 0)) {
    detail::TensorIterator it(op);
    it.add_input(dl, "grad_output").add_input(xv).add_input(tv, "target");
    it.add_optional_input(wv, "weight").add_optional_input(pwv, "pos_weight");
    it.compute_dtype(ct).build();
    it.for_each_compute_span<5>([](auto, auto out, auto d, auto xs, auto ts, auto ws, auto pws) {
      bce_with_logits_backward(d, xs, ts, out, ws, pws);
    });
    dx = it.output();
  }
  if (autograd::needs_grad(*this, 1)) {
    // dL/dt = dl w (pw softplus(-x) - softplus(x)), or -dl w x without
    // pos_weight (the same, exactly); a zero coefficient contributes 0.
    detail::TensorIterator it(op);
    it.add_input(dl, "grad_output").add_input(xv);
    it.add_optional_input(wv, "weight").add_optional_input(pwv, "pos_weight");
    it.compute_dtype(ct).build();
    it.for_each_compute_span<4>([](auto tag, auto o, auto d, auto xs, auto ws, auto pws) {
      using C = typename decltype(tag)::type;
      const std::size_t n = o.size();
      std::vector<C> sp_pos, sp_neg;
      if (!pws.empty()) {
        std::vector<C> neg(xs.begin(), xs.end());
        for (auto& v : neg) v = -v;
        sp_pos.resize(n);
        sp_neg.resize(n);
        // The exact softplus: no threshold.
        constexpr C kNoThreshold = std::numeric_limits<C>::infinity();
        softplus(xs, std::span<C>(sp_pos), C(1), kNoThreshold);
        softplus(std::span<const C>(neg), std::span<C>(sp_neg), C(1), kNoThreshold);
      }
      for (std::size_t k = 0; k < n; ++k) {
        const C wi = ws.empty() ? C(1) : ws[k];
        C v;
        if (pws.empty()) {
          v = -xs[k];
        } else {
          const C a = pws[k] == 0 ? C(0) : pws[k] * sp_neg[k];
          v = a - sp_pos[k];
        }
        o[k] = (wi == 0 || d[k] == 0) ? C(0) : d[k] * wi * v;
      }
    });
    dt = it.output();
  }
  return in_dtypes(dx, dt, input_dtype, target_dtype);
}

// ---- binary_cross_entropy: x probabilities in [0, 1], t targets, w weights.
//   loss = w [(t - 1) max(log1p(-x), -100) - t max(log x, -100)]
//   dL/dx = g w (x - t) / max((1 - x) x, eps), eps = float(1e-12)
//   dL/dt = g w (max(log1p(-x), -100) - max(log x, -100))
// dL/dx is PyTorch's formula (aten/src/ATen/native/Loss.cpp, with its float
// EPSILON). dL/dt is the derivative of the clamped loss as computed, so it
// stays finite at x = 0 and 1; PyTorch differentiates the unclamped logs there
// (-logit(x): +-inf at the endpoints, beyond 100 within e^-100 of them).

struct BinaryCrossEntropyBackward final : LossBackward {
  using LossBackward::LossBackward;
  std::string name() const override { return "BinaryCrossEntropyBackward"; }
  TensorList apply(TensorList&& g) override;
};

// One gradient of binary_cross_entropy: f(g w, x, t) element by element, g
// the incoming gradient and w the weight.
template <class F>
Tensor bce_grad(const Tensor& dl, const Tensor& x, const Tensor& t, const Tensor& w,
                ScalarType ct, F f) {
  detail::TensorIterator it("binary_cross_entropy_backward");
  it.add_input(dl, "grad_output").add_input(x).add_input(t, "target");
  it.add_optional_input(w, "weight").compute_dtype(ct).build();
  it.for_each_compute_span<4>([&f](auto, auto o, auto d, auto xs, auto ts, auto ws) {
    for (std::size_t i = 0; i < o.size(); ++i) {
      o[i] = f(ws.empty() ? d[i] : d[i] * ws[i], xs[i], ts[i]);
    }
  });
  return it.take_output();
}

TensorList BinaryCrossEntropyBackward::apply(TensorList&& g) {
  const Tensor xv = x.unpack(this), tv = t.unpack(this);
  const Tensor wv = w.defined() ? w.unpack(this) : Tensor();
  const ScalarType ct = compute_dtype();
  const Tensor dl = loss_grad(g[0], reduction, xv.sizes(), ct);
  Tensor dx, dt;
  if (autograd::needs_grad(*this, 0))
    dx = bce_grad(dl, xv, tv, wv, ct, [](auto gi, auto xi, auto ti) {
      using C = decltype(xi);
      constexpr C kEpsilon = static_cast<C>(1e-12f);
      return gi * (xi - ti) / std::max((C(1) - xi) * xi, kEpsilon);
    });
  if (autograd::needs_grad(*this, 1))
    dt = bce_grad(dl, xv, tv, wv, ct, [](auto gi, auto xi, auto) {
      using C = decltype(xi);
      return gi * (std::max(std::log1p(-xi), C(-100)) - std::max(std::log(xi), C(-100)));
    });
  return in_dtypes(dx, dt, input_dtype, target_dtype);
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        const std::string& reduction) {
  return binary_cross_entropy_with_logits(
      input, target, weight, pos_weight,
      parse_reduction("binary_cross_entropy_with_logits", reduction));
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        Reduction red) {
  const char* op = "binary_cross_entropy_with_logits";
  check_loss(op, input, target, {{&weight, "weight"}, {&pos_weight, "pos_weight"}});
  const ScalarType out_t = promote_types(input.dtype(), target.dtype());
  detail::TensorIterator it(op);
  it.add_input(input).add_input(target, "target");
  it.add_optional_input(spread_weight(op, weight, input), "weight");
  it.add_optional_input(spread_weight(op, pos_weight, input), "pos_weight");
  it.compute_dtype(detail::compute_type(out_t)).build();
  it.for_each_compute_span<4>([](auto, auto loss, auto xs, auto ts, auto ws, auto pws) {
    bce_with_logits(xs, ts, loss, ws, pws);
  });
  Tensor out = reduce_loss(op, it.output(), red, out_t);
  record_loss<BinaryCrossEntropyWithLogitsBackward>(out, input, target, red, it, 2);
  return out;
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction red) {
  const char* op = "binary_cross_entropy";
  check_loss(op, input, target, {{&weight, "weight"}});
  const ScalarType out_t = promote_types(input.dtype(), target.dtype());
  detail::TensorIterator it(op);
  it.add_input(input).add_input(target, "target");
  it.add_optional_input(spread_weight(op, weight, input), "weight");
  it.compute_dtype(detail::compute_type(out_t)).build();
  it.for_each_compute_span<3>([&](auto tag, auto l, auto xs, auto ts, auto ws) {
    using C = typename decltype(tag)::type;
    for (std::size_t i = 0; i < l.size(); ++i) {
      const C x = xs[i];
      if (!(x >= C(0) && x <= C(1))) {
        std::ostringstream m;
        m << op << ": all elements of input should be between 0 and 1, got " << x
          << " at flat index " << i << " of an input of shape " << shape_string(input.sizes());
        throw Error(m.str());
      }
      const C v = (ts[i] - C(1)) * std::max(std::log1p(-x), C(-100)) -
                  ts[i] * std::max(std::log(x), C(-100));
      l[i] = ws.empty() ? v : ws[i] * v;
    }
  });
  Tensor out = reduce_loss(op, it.output(), red, out_t);
  record_loss<BinaryCrossEntropyBackward>(out, input, target, red, it, 1);
  return out;
}

}  // namespace sigma
