// layer_activation.cpp: leaky_relu, elu and hardtanh, element-wise ops with
// one or more scalar parameters, each forward beside its backward (both from
// the saved input, as PyTorch's):
//   leaky_relu: y = x > 0 ? x : slope x;          dx = dy (x > 0 ? 1 : slope)
//   elu:        y = x > 0 ? s x : s a (e^(i x) - 1); dx = dy (x > 0 ? s : s a i e^(i x))
//   hardtanh:   y = min(max(x, lo), hi);          dx = dy where lo < x < hi, else 0
// Computed in the input's floating dtype through the element loop; in-place
// forms (leaky_relu_, elu_, hardtanh_) on the shared in-place scheme.
#include <cmath>
#include <string>

#include "autograd/function.h"
#include "ops/elementwise.h"
#include "sigma/ops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

enum class Kind { LeakyRelu, Elu, Hardtanh };

struct Params {
  double a = 0, b = 0, c = 0;  // leaky: slope; elu: alpha, scale, input_scale; hardtanh: lo, hi
};

template <class C> C forward_value(Kind k, const Params& p, C v) {
  switch (k) {
    case Kind::LeakyRelu: return v > C(0) ? v : v * C(p.a);
    case Kind::Elu:
      return v > C(0) ? v * C(p.b) : C(p.b) * C(p.a) * std::expm1(v * C(p.c));
    case Kind::Hardtanh: return v < C(p.a) ? C(p.a) : (v > C(p.b) ? C(p.b) : v);
  }
  return v;
}

template <class C> C backward_value(Kind k, const Params& p, C d, C v) {
  switch (k) {
    case Kind::LeakyRelu: return v > C(0) ? d : d * C(p.a);
    case Kind::Elu:
      return v > C(0) ? d * C(p.b) : d * C(p.b) * C(p.a) * C(p.c) * std::exp(v * C(p.c));
    case Kind::Hardtanh: return (v > C(p.a) && v < C(p.b)) ? d : C(0);
  }
  return d;
}

const char* op_name(Kind k) {
  switch (k) {
    case Kind::LeakyRelu: return "leaky_relu";
    case Kind::Elu: return "elu";
    case Kind::Hardtanh: return "hardtanh";
  }
  return "";
}

struct ParamActivationBackward final : autograd::Node {
  SavedVariable x;
  Kind kind;
  Params p;
  ParamActivationBackward(Kind k, Params q) : kind(k), p(q) {}
  std::string name() const override {
    switch (kind) {
      case Kind::LeakyRelu: return "LeakyReluBackward";
      case Kind::Elu: return "EluBackward";
      case Kind::Hardtanh: return "HardtanhBackward";
    }
    return "";
  }
  TensorList apply(TensorList&& g) override {
    const Tensor xv = x.unpack(this);
    const Kind k = kind;
    const Params q = p;
    return {detail::map_new<detail::Types::Floating>(
        "activation_backward", xv.dtype(),
        detail::element_fn([k, q]<class C>(C d, C v) { return backward_value<C>(k, q, d, v); }),
        g[0], xv)};
  }
  void release_variables() override { x.reset(); }
};

void check_floating(Kind k, const Tensor& x) {
  check_defined(op_name(k), x);
  if (!x.is_floating_point()) detail::throw_dtype(op_name(k), x.dtype(), "a floating-point input");
}

Tensor values(Kind k, const Params& p, const Tensor& x) {
  return detail::map_new<detail::Types::Floating>(
      op_name(k), x.dtype(),
      detail::element_fn([k, p]<class C>(C v) { return forward_value<C>(k, p, v); }), x);
}

Tensor forward(Kind k, const Params& p, const Tensor& x) {
  check_floating(k, x);
  Tensor y = values(k, p, x);
  if (auto node = make_node<ParamActivationBackward>({&x}, k, p)) {
    node->x = SavedVariable(x);
    set_history(y, node);
  }
  return y;
}

Tensor& forward_(Kind k, const Params& p, Tensor& self, const char* op) {
  detail::check_self(op, self);
  check_floating(k, self);
  detail::check_inplace_operands(op, self, nullptr, self.dtype());
  return detail::run_inplace(
      self, {&self}, [&](const Tensor& x) { return forward(k, p, x); },
      [&] {
        detail::compute_inplace<detail::Types::Floating>(
            op, self, self.dtype(),
            detail::element_fn([k, p]<class C>(C v) { return forward_value<C>(k, p, v); }));
        bump_version(self);
      });
}

Params hardtanh_params(const Scalar& min_val, const Scalar& max_val) {
  const double lo = min_val.to<double>(), hi = max_val.to<double>();
  if (!(lo <= hi))
    throw Error("hardtanh: min_val (" + std::to_string(lo) + ") must be at most max_val (" +
                std::to_string(hi) + ")");
  return {lo, hi, 0};
}

}  // namespace

Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope) {
  return forward(Kind::LeakyRelu, {negative_slope.to<double>(), 0, 0}, x);
}
Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope) {
  return forward_(Kind::LeakyRelu, {negative_slope.to<double>(), 0, 0}, x, "leaky_relu_");
}
Tensor elu(const Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return forward(Kind::Elu, {alpha.to<double>(), scale.to<double>(), input_scale.to<double>()}, x);
}
Tensor& elu_(Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return forward_(Kind::Elu, {alpha.to<double>(), scale.to<double>(), input_scale.to<double>()}, x,
                  "elu_");
}
Tensor hardtanh(const Tensor& x, const Scalar& min_val, const Scalar& max_val) {
  return forward(Kind::Hardtanh, hardtanh_params(min_val, max_val), x);
}
Tensor& hardtanh_(Tensor& x, const Scalar& min_val, const Scalar& max_val) {
  return forward_(Kind::Hardtanh, hardtanh_params(min_val, max_val), x, "hardtanh_");
}

}  // namespace sigma
