// nll_loss.cpp: the multi-class losses, nll_loss (forward beside backward)
// and cross_entropy (log_softmax followed by nll_loss, or the expectation of
// -log_softmax under a target distribution), with PyTorch's weight,
// ignore_index, label_smoothing and reductions.
//
// Shapes, as PyTorch: input [C] with a zero-dimensional target, or [N, C,
// d1, ...] with a target [N, d1, ...]; the classes are dimension 1 (0 for a
// 1-D input). nll_loss moves them last and reads rows of C: an element's loss
// is -w[t] x[t], 0 where t == ignore_index. "mean" divides by the summed
// weights of the targets taken (0/0 = NaN when every target is ignored, as
// PyTorch). Sums are compensated, in double, and rounded once.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "core/compensated_sum.h"
#include "sigma/ops.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

using Shape = std::vector<std::int64_t>;

// The class dimension of an input (0 for 1-D, else 1).
std::int64_t class_dim(const Tensor& input) { return input.dim() == 1 ? 0 : 1; }

// The shape a class-index target must have for input: input's without the
// class dimension.
Shape index_target_shape(const Tensor& input) {
  Shape s = input.sizes().vec();
  s.erase(s.begin() + class_dim(input));
  return s;
}

void check_input(const char* op, const Tensor& input) {
  check_defined(op, input, "input");
  if (input.dim() < 1)
    throw Error(std::string(op) + ": expected an input of shape [C] or [N, C, ...], got a "
                "zero-dimensional tensor");
  if (!input.is_floating_point())
    detail::throw_dtype(op, input.dtype(), "a floating-point input");
}

// weight: undefined, or a 1-D floating tensor of C elements without grad.
void check_weight(const char* op, const Tensor& weight, std::int64_t classes) {
  if (!weight.defined()) return;
  if (weight.dim() != 1 || weight.size(0) != classes)
    throw Error(std::string(op) + ": weight of shape " + shape_string(weight.sizes()) +
                " must be 1-D with one element per class (" + std::to_string(classes) + ")");
  if (!weight.is_floating_point())
    detail::throw_dtype(op, weight.dtype(), "a floating-point weight");
  if (GradMode::is_enabled() && autograd::requires_grad(weight))
    throw Error(std::string(op) + ": gradients with respect to weight are not supported (as in "
                "PyTorch); pass a tensor that does not require grad, e.g. detach() it");
}

void check_index_target(const char* op, const Tensor& input, const Tensor& target) {
  check_defined(op, target, "target");
  if (target.dtype() != kInt64)
    detail::throw_dtype(op, target.dtype(), "int64 class indices for target");
  const Shape want = index_target_shape(input);
  if (!(target.sizes() == IntArrayRef(want)))
    throw Error(std::string(op) + ": expected a target of shape " + shape_string(want) +
                " for an input of shape " + shape_string(input.sizes()) + ", got " +
                shape_string(target.sizes()));
}

// The permutation that moves dimension d of a rank-r tensor last, keeping
// the others in order (so rows follow the target's order), and its inverse.
std::vector<std::int64_t> class_last(std::int64_t r, std::int64_t d) {
  std::vector<std::int64_t> p;
  for (std::int64_t i = 0; i < r; ++i)
    if (i != d) p.push_back(i);
  p.push_back(d);
  return p;
}
std::vector<std::int64_t> inverse(const std::vector<std::int64_t>& p) {
  std::vector<std::int64_t> q(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) q[static_cast<std::size_t>(p[i])] = static_cast<std::int64_t>(i);
  return q;
}

// The per-element weights w[t] (0 where ignored) after checking every
// target against the class count.
std::vector<double> target_weights(const char* op, const std::vector<std::int64_t>& t,
                                   const std::vector<double>& w, std::int64_t classes,
                                   std::int64_t ignore_index) {
  std::vector<double> out(t.size());
  for (std::size_t m = 0; m < t.size(); ++m) {
    if (t[m] == ignore_index) continue;
    if (t[m] < 0 || t[m] >= classes)
      throw Error(std::string(op) + ": target " + std::to_string(t[m]) + " at flat index " +
                  std::to_string(m) + " is out of bounds for " + std::to_string(classes) +
                  " classes (ignore_index " + std::to_string(ignore_index) + ")");
    out[m] = w.empty() ? 1.0 : w[static_cast<std::size_t>(t[m])];
  }
  return out;
}

struct NllLossBackward final : autograd::Node {
  std::vector<std::int64_t> target;  // flat, in row order
  std::vector<double> weight;        // w[t] per row, 0 where ignored
  double total_weight;
  Reduction reduction;
  Shape input_shape;
  ScalarType input_dtype;
  NllLossBackward(std::vector<std::int64_t> t, std::vector<double> w, double tw, Reduction r,
                  Shape s, ScalarType dt)
      : target(std::move(t)), weight(std::move(w)), total_weight(tw), reduction(r),
        input_shape(std::move(s)), input_dtype(dt) {}
  std::string name() const override { return "NllLossBackward"; }
  TensorList apply(TensorList&& g) override;
};

TensorList NllLossBackward::apply(TensorList&& g) {
  const std::int64_t cd = input_shape.size() == 1 ? 0 : 1;
  const std::int64_t classes = input_shape[static_cast<std::size_t>(cd)];
  const ScalarType ct = detail::compute_type(input_dtype);
  // The rows' layout: input_shape with the class dimension moved last.
  const std::vector<std::int64_t> perm = class_last(static_cast<std::int64_t>(input_shape.size()), cd);
  Shape rows_shape;
  for (std::int64_t i : perm) rows_shape.push_back(input_shape[static_cast<std::size_t>(i)]);
  Tensor dx = zeros(rows_shape, TensorOptions(ct));
  const Tensor gd = reduction == Reduction::None ? detail::dense(g[0], kFloat64) : Tensor();
  const double scale = reduction == Reduction::None ? 0.0
                       : g[0].item<double>() / (reduction == Reduction::Mean ? total_weight : 1.0);
  detail::dispatch_floating("nll_loss_backward", ct, [&](auto tag) {
    using C = typename decltype(tag)::type;
    C* out = detail::data_of<C>(dx);
    const double* gs = gd.defined() ? detail::data_of<const double>(gd) : nullptr;
    for (std::size_t m = 0; m < target.size(); ++m) {
      if (weight[m] == 0) continue;
      const double gm = gs ? gs[m] : scale;
      out[static_cast<std::int64_t>(m) * classes + target[m]] = static_cast<C>(-weight[m] * gm);
    }
  });
  Tensor back = cd == static_cast<std::int64_t>(input_shape.size()) - 1
                    ? dx : dx.permute(inverse(perm)).contiguous();
  return {back.dtype() == input_dtype ? back : detail::cast_data(back, input_dtype)};
}

}  // namespace

namespace {

// nll_loss, its errors naming op (nll_loss, or cross_entropy calling it);
// total_weight_out, when given, receives the summed w[t] of the targets kept.
Tensor nll_loss_impl(const char* op, const Tensor& input, const Tensor& target,
                     const Tensor& weight, Reduction reduction, std::int64_t ignore_index,
                     double* total_weight_out = nullptr) {
  check_input(op, input);
  check_index_target(op, input, target);
  const std::int64_t cd = class_dim(input), classes = input.size(cd);
  check_weight(op, weight, classes);
  const ScalarType ct = detail::compute_type(input.dtype());
  const Tensor rows = detail::dense(input.permute(class_last(input.dim(), cd)), ct);
  const std::vector<std::int64_t> t = target.contiguous().to_vector<std::int64_t>();
  const std::vector<double> wc = weight.defined() ? weight.to_vector<double>() : std::vector<double>();
  std::vector<double> wt = target_weights(op, t, wc, classes, ignore_index);
  // The rows are in target order: moving the class dimension last keeps
  // the other dimensions' order.
  Tensor out;
  double total_weight = 0;
  detail::dispatch_floating(op, ct, [&](auto tag) {
    using C = typename decltype(tag)::type;
    const C* x = detail::data_of<const C>(rows);
    std::vector<double> loss(t.size());
    for (std::size_t m = 0; m < t.size(); ++m)
      if (wt[m] != 0)
        loss[m] = -wt[m] * static_cast<double>(x[static_cast<std::int64_t>(m) * classes + t[m]]);
    total_weight = detail::compensated_sum(wt.data(), static_cast<std::int64_t>(wt.size()));
    if (reduction == Reduction::None) {
      out = make_tensor(target.sizes(), ct);
      C* o = detail::data_of<C>(out);
      for (std::size_t m = 0; m < t.size(); ++m) o[m] = static_cast<C>(loss[m]);
    } else {
      double s = detail::compensated_sum(loss.data(), static_cast<std::int64_t>(loss.size()));
      if (reduction == Reduction::Mean) s /= total_weight;
      out = make_tensor({}, ct);
      *detail::data_of<C>(out) = static_cast<C>(s);
    }
  });
  if (out.dtype() != input.dtype()) out = detail::cast_data(out, input.dtype());
  if (total_weight_out != nullptr) *total_weight_out = total_weight;
  if (auto node = make_node<NllLossBackward>({&input}, t, std::move(wt), total_weight, reduction,
                                             input.sizes().vec(), input.dtype()))
    set_history(out, node);
  return out;
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                Reduction reduction, std::int64_t ignore_index) {
  return nll_loss_impl("nll_loss", input, target, weight, reduction, ignore_index);
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                const std::string& reduction, std::int64_t ignore_index) {
  return nll_loss(input, target, weight, parse_reduction("nll_loss", reduction), ignore_index);
}

// Class indices: (1 - eps) nll_loss(log_softmax(x), t) + eps / C * smooth,
// smooth being -sum_c w_c log_softmax(x)_c per element (0 where ignored),
// reduced as the nll term ("mean" divides by the same summed w[t]).
// Probabilities: -sum_c w_c p_c log_softmax(x)_c with p = (1 - eps) t +
// eps / C, "mean" dividing by the number of elements N d1 ... (not by the
// weights), as PyTorch.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     Reduction reduction, std::int64_t ignore_index, double label_smoothing) {
  const char* op = "cross_entropy";
  check_input(op, input);
  check_defined(op, target, "target");
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw Error(std::string(op) + ": label_smoothing must be between 0.0 and 1.0, got " +
                std::to_string(label_smoothing));
  const std::int64_t cd = class_dim(input), classes = input.size(cd);
  check_weight(op, weight, classes);
  const Tensor logp = log_softmax(input, cd);
  Shape wshape(static_cast<std::size_t>(input.dim()), 1);
  wshape[static_cast<std::size_t>(cd)] = classes;
  const Tensor wv = weight.defined() ? weight.to(input.dtype()).view(wshape) : Tensor();
  const double eps = label_smoothing;

  if (target.is_floating_point()) {
    if (!(target.sizes() == input.sizes()))
      throw Error(std::string(op) + ": a target of class probabilities must have the input's "
                  "shape " + shape_string(input.sizes()) + ", got " + shape_string(target.sizes()));
    const Tensor p = eps > 0 ? target * (1 - eps) + eps / static_cast<double>(classes) : target;
    Tensor prod = logp * p;
    if (wv.defined()) prod = prod * wv;
    switch (reduction) {
      case Reduction::None: return -prod.sum({cd});
      case Reduction::Sum: return -prod.sum();
      case Reduction::Mean:
        return -prod.sum() / static_cast<double>(input.numel() / std::max<std::int64_t>(classes, 1));
    }
  }
  check_index_target(op, input, target);
  double total_weight = 0;
  const Tensor nll = nll_loss_impl(op, logp, target, weight, reduction, ignore_index, &total_weight);
  if (eps == 0) return nll;
  Tensor smooth = -(wv.defined() ? logp * wv : logp).sum({cd});
  const Tensor ignored = target == ignore_index;
  smooth = where(ignored, zeros_like(smooth), smooth);
  Tensor ret;
  switch (reduction) {
    case Reduction::None: ret = smooth; break;
    case Reduction::Sum: ret = smooth.sum(); break;
    case Reduction::Mean: ret = smooth.sum() / total_weight; break;
  }
  return nll * (1 - eps) + ret * (eps / static_cast<double>(classes));
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     const std::string& reduction, std::int64_t ignore_index,
                     double label_smoothing) {
  return cross_entropy(input, target, weight, parse_reduction("cross_entropy", reduction),
                       ignore_index, label_smoothing);
}

}  // namespace sigma
