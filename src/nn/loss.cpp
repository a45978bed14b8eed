// loss.cpp: the loss layers (BCEWithLogitsLoss, BCELoss, MSELoss) and their
// functional forms. binary_cross_entropy_with_logits is the op of ops.h (on
// the SIMD kernel); binary_cross_entropy is an op of its own here, forward and
// backward side by side, with PyTorch's clamps so it is finite at 0 and 1;
// mse_loss is composite (sub, square, mean or sum).
#include <algorithm>
#include <cmath>
#include <ostream>
#include <sstream>
#include <string>

#include "autograd/function.h"
#include "sigma/autograd.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/modules/loss.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/dense.h"
#include "core/compensated_sum.h"
#include "tensor/loops.h"

namespace sigma::nn {

namespace {

using autograd::SavedVariable;

void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  if (!input.defined() || !target.defined())
    throw Error(std::string(op) + ": input and target must be defined tensors");
  if (!(input.sizes() == target.sizes()))
    throw Error(std::string(op) + ": target shape " + shape_string(target.sizes()) +
                " must match input shape " + shape_string(input.sizes()));
}

using sigma::detail::data_of;
using sigma::detail::dense;

// ---- binary_cross_entropy: x probabilities in [0, 1], t targets, w weights.
//   loss = w [(t - 1) max(log1p(-x), -100) - t max(log x, -100)]
//   dL/dx = g w (x - t) / max((1 - x) x, eps), eps = float(1e-12)
//   dL/dt = g w (max(log1p(-x), -100) - max(log x, -100))
// dL/dx is PyTorch's formula (aten/src/ATen/native/Loss.cpp, with its float
// EPSILON). dL/dt is the derivative of the clamped loss as computed, so it
// stays finite at x = 0 and 1; PyTorch differentiates the unclamped logs there
// (-logit(x): +-inf at the endpoints, beyond 100 within e^-100 of them).
struct BinaryCrossEntropyBackward final : autograd::Node {
  SavedVariable x, t, w;  // w dense, broadcast to x's shape (or undefined)
  Reduction reduction;
  ScalarType input_dtype, target_dtype;
  BinaryCrossEntropyBackward(Reduction r, ScalarType it, ScalarType tt)
      : reduction(r), input_dtype(it), target_dtype(tt) {}
  std::string name() const override { return "BinaryCrossEntropyBackward"; }
  TensorList apply(TensorList&& g) override;
  void release_variables() override {
    x.reset();
    t.reset();
    w.reset();
  }
};

TensorList BinaryCrossEntropyBackward::apply(TensorList&& g) {
  const char* op = "binary_cross_entropy_backward";
  const ScalarType ct = sigma::detail::compute_type(promote_types(input_dtype, target_dtype));
  Tensor xc = dense(x.unpack(this), ct), tc = dense(t.unpack(this), ct);
  Tensor wc = w.defined() ? dense(w.unpack(this), ct) : Tensor();
  const bool need_x = next_edges()[0].is_valid(), need_t = next_edges()[1].is_valid();
  const std::int64_t n = xc.numel();
  Tensor gc;  // the incoming gradient per element, or one value for a reduction
  double g_all = 0;
  if (reduction == Reduction::None) {
    gc = dense(g[0], ct);
  } else {
    g_all = g[0].item<double>();
    if (reduction == Reduction::Mean) g_all /= static_cast<double>(n);
  }
  Tensor dx, dt;
  sigma::detail::dispatch_floating(op, ct, [&](auto tag) {
    using C = typename decltype(tag)::type;
    constexpr C kEpsilon = static_cast<C>(1e-12f);
    const C* xs = data_of<const C>(xc);
    const C* ts = data_of<const C>(tc);
    const C* ws = wc.defined() ? data_of<const C>(wc) : nullptr;
    const C* gs = gc.defined() ? data_of<const C>(gc) : nullptr;
    const C gv = static_cast<C>(g_all);
    auto grad_at = [&](std::int64_t i) {
      const C gi = gs ? gs[i] : gv;
      return ws ? gi * ws[i] : gi;
    };
    if (need_x) {
      dx = make_tensor(xc.sizes(), ct);
      C* o = data_of<C>(dx);
      for (std::int64_t i = 0; i < n; ++i)
        o[i] = grad_at(i) * (xs[i] - ts[i]) / std::max((C(1) - xs[i]) * xs[i], kEpsilon);
    }
    if (need_t) {
      dt = make_tensor(xc.sizes(), ct);
      C* o = data_of<C>(dt);
      for (std::int64_t i = 0; i < n; ++i)
        o[i] = grad_at(i) *
               (std::max(std::log1p(-xs[i]), C(-100)) - std::max(std::log(xs[i]), C(-100)));
    }
  });
  if (dx.defined() && dx.dtype() != input_dtype) dx = sigma::detail::cast_data(dx, input_dtype);
  if (dt.defined() && dt.dtype() != target_dtype) dt = sigma::detail::cast_data(dt, target_dtype);
  return {dx, dt};
}

Tensor binary_cross_entropy_op(const Tensor& input, const Tensor& target, const Tensor& weight,
                               Reduction red) {
  const char* op = "binary_cross_entropy";
  check_same_shape(op, input, target);
  for (const Tensor* t : {&input, &target, &weight})
    if (t->defined() && !t->is_floating_point())
      sigma::detail::throw_dtype(op, t->dtype(), "floating-point input, target and weight");
  if (GradMode::is_enabled() && autograd::requires_grad(weight))
    throw Error(std::string(op) +
                ": gradients with respect to weight are not supported (as in PyTorch); pass a "
                "tensor that does not require grad, e.g. detach() it");
  const ScalarType out_t = promote_types(input.dtype(), target.dtype());
  const ScalarType ct = sigma::detail::compute_type(out_t);
  Tensor w = weight.defined()
                 ? dense(sigma::detail::broadcast_to(op, weight.detach(), input.sizes()), ct)
                 : Tensor();
  Tensor xc = dense(input, ct), tc = dense(target, ct);
  const std::int64_t n = xc.numel();
  Tensor loss = make_tensor(input.sizes(), ct);
  Tensor out;
  sigma::detail::dispatch_floating(op, ct, [&](auto tag) {
    using C = typename decltype(tag)::type;
    const C* xs = data_of<const C>(xc);
    const C* ts = data_of<const C>(tc);
    const C* ws = w.defined() ? data_of<const C>(w) : nullptr;
    C* l = data_of<C>(loss);
    for (std::int64_t i = 0; i < n; ++i) {
      const C x = xs[i];
      if (!(x >= C(0) && x <= C(1))) {
        std::ostringstream m;
        m << op << ": all elements of input should be between 0 and 1, got " << x
          << " at flat index " << i << " of an input of shape " << shape_string(input.sizes());
        throw Error(m.str());
      }
      const C v = (ts[i] - C(1)) * std::max(std::log1p(-x), C(-100)) -
                  ts[i] * std::max(std::log(x), C(-100));
      l[i] = ws ? ws[i] * v : v;
    }
    if (red == Reduction::None) {
      out = loss;
      return;
    }
    double s = sigma::detail::compensated_sum(l, n);
    if (red == Reduction::Mean) s /= static_cast<double>(n);
    out = make_tensor({}, ct);
    *data_of<C>(out) = static_cast<C>(s);
  });
  if (out.dtype() != out_t) out = sigma::detail::cast_data(out, out_t);
  if (auto node = autograd::make_node<BinaryCrossEntropyBackward>({&input, &target}, red,
                                                                  input.dtype(), target.dtype())) {
    node->x = SavedVariable(input);
    node->t = SavedVariable(target);
    if (w.defined()) node->w = SavedVariable(w);
    autograd::set_history(out, node);
  }
  return out;
}

}  // namespace

// ---- Functional.

namespace functional {

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& options) {
  return sigma::binary_cross_entropy_with_logits(
      input, target, options.weight(), options.pos_weight(), options.reduction());
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options) {
  return binary_cross_entropy_op(input, target, options.weight(), options.reduction());
}

// (input - target)^2, reduced.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options) {
  check_same_shape("mse_loss", input, target);
  Tensor loss = (input - target).square();
  switch (options.reduction()) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return loss.sum();
    case Reduction::Mean:
      break;
  }
  return loss.mean();
}

}  // namespace functional

namespace F = functional;

// ---- Modules.

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options_)
    : options(options_) {
  weight = register_buffer("weight", options.weight());
  pos_weight = register_buffer("pos_weight", options.pos_weight());
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return sigma::binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                                 to_string(options.reduction()));
}

void BCEWithLogitsLossImpl::pretty_print(std::ostream& stream) const {
  stream << "BCEWithLogitsLoss()";
}

BCELossImpl::BCELossImpl(const BCELossOptions& options_) : options(options_) {
  weight = register_buffer("weight", options.weight());
}

Tensor BCELossImpl::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy_op(input, target, weight, options.reduction());
}

void BCELossImpl::pretty_print(std::ostream& stream) const { stream << "BCELoss()"; }

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::mse_loss(input, target, options);
}

void MSELossImpl::pretty_print(std::ostream& stream) const { stream << "MSELoss()"; }

}  // namespace sigma::nn
