// activation.cpp: the activations of the sigmoid family (sigmoid, tanh, silu,
// log_sigmoid, softplus, hardsigmoid, logit) on the SIMD kernels
// of sigma/kernels.h, plus relu and gelu, each forward beside its backward.
//
// The kernel ops run through the element-wise pipeline: TensorIterator
// (tensor/iterator.h) makes the operands dense spans of one dtype and
// provides the output, and the op's kernel comes from the kernel table
// (kernels/table.h), so an op here is its node plus a call. A backward from the saved output, y (1 - y)
// or 1 - y^2, cancels once |y| > 1/2: 1 - y keeps only the bits y lacks, and
// none at all once y has rounded to 1 (f32 sigmoid from x = 17.33). Those
// elements are computed from the input instead, so the gradient stays within
// a few ULP of the true derivative for every x (2.06e-9 at x = 20, not 0).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <vector>

#include "autograd/function.h"
#include "core/compensated_sum.h"
#include "kernels/table.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "ops/elementwise.h"
#include "tensor/convert.h"
#include "tensor/dense.h"
#include "tensor/iterator.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;
using detail::KernelParams;
using detail::TypeTag;

namespace {

// ---- Helpers: dense operands and spans over them (tensor/dense.h).
using detail::dense;
using detail::in_span;
using detail::out_span;

using detail::dispatch_floating_storage;

// The input as a floating tensor: integer and bool inputs become the default
// dtype where PyTorch promotes them (sigmoid, tanh), else sigma::Error.
Tensor floating_input(const char* op, const Tensor& x, bool promote_integral) {
  check_defined(op, x);
  if (x.is_floating_point()) return x;
  if (promote_integral) return detail::cast_data(x, get_default_dtype());
  detail::throw_dtype(op, x.dtype(), "a floating-point dtype");
}

// ---- The kernel ops through the element-wise pipeline: tensors in, the
// op's kernel from the table (kernels/table.h), a tensor out.

// y = op(x); int64 and bool x compute in the default dtype where promote
// (sigmoid, tanh, as PyTorch), else they are an error. With out, the result
// is written there (in place when out is x).
Tensor kernel_forward(Op op, const Tensor& x, bool promote, const KernelParams& p = {},
                      const Tensor& out = {}) {
  detail::TensorIterator it(op_name(op).data());
  if (out.defined()) it.add_output(out);
  it.add_input(x).promote_integer_inputs_to_float(promote).build();
  it.for_each_span<1>([&](auto tag, auto y, auto xs) {
    using T = typename decltype(tag)::type;
    detail::unary_kernel<T>(op, it.device())(xs, y, p);
  });
  return it.take_output();
}

// dx = op(dy, s) for a backward kernel, s being the saved input or output;
// computed in dtype t (s's by default).
Tensor kernel_backward(Op op, const Tensor& dy, const Tensor& s, const KernelParams& p = {},
                       std::optional<ScalarType> t = std::nullopt) {
  detail::TensorIterator it(op_name(op).data());
  it.add_input(dy, "grad_output").add_input(s, "saved").compute_dtype(t ? *t : s.dtype()).build();
  it.for_each_span<2>([&](auto tag, auto dx, auto dys, auto ss) {
    using T = typename decltype(tag)::type;
    detail::binary_kernel<T>(op, it.device())(dys, ss, dx, p);
  });
  return it.take_output();
}

using detail::compute_t;

// Whether the backward from y cancels at v = y: v > 1/2 (|v| > 1/2 for tanh).
template <class C> bool cancels(C v, bool two_sided) {
  return two_sided ? (v > C(0.5) || v < C(-0.5)) : v > C(0.5);
}

// Whether any element of y (of dtype y.dtype(), contiguous) cancels.
bool any_saturated(const Tensor& y, bool two_sided) {
  return dispatch_floating_storage("saturated", y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = detail::data_of<const T>(y);
    const std::int64_t n = y.numel();
    bool any = false;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto v = static_cast<compute_t<T>>(detail::to_double_value(p[i]));
      any |= cancels(v, two_sided);
    }
    return any;
  });
}

// Recomputes tanh's dx where 1 - y^2 cancels (|y| > 1/2) from the saved
// input x with sigmoid_backward_from_input: dx = 4 dy s(2x) s(-2x) =
// dy (1 - tanh(x)^2). Only those elements are gathered, in the compute type
// (f32 for bf16/f16), so the result is rounded once to the storage type.
void recompute_tanh_saturated(const Tensor& dx, const Tensor& grad, const Tensor& yv,
                              const Tensor& x) {
  const Tensor dyc = dense(grad, dx.dtype()), yc = dense(yv, dx.dtype());
  dispatch_floating_storage("tanh_backward", dx.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = compute_t<T>;
    const T* y = detail::data_of<const T>(yc);
    const T* dy = detail::data_of<const T>(dyc);
    T* out = detail::data_of<T>(dx);
    Tensor xc = dense(x, x.dtype());
    const T* xs = detail::data_of<const T>(xc);
    const std::int64_t n = dx.numel();
    std::vector<std::int64_t> idx;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto v = static_cast<C>(detail::to_double_value(y[i]));
      if (cancels(v, /*two_sided=*/true)) idx.push_back(i);
    }
    if (idx.empty()) return;
    std::vector<C> g(idx.size()), xv(idx.size()), r(idx.size());
    std::vector<char> scale_after(idx.size(), 0);
    constexpr C kMaxPrescaled = std::numeric_limits<C>::max() / 4;
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const auto i = idx[j];
      g[j] = static_cast<C>(detail::to_double_value(dy[i]));
      xv[j] = static_cast<C>(detail::to_double_value(xs[i]));
      // 2x overflowing to inf gives 0, the (underflowed) true value.
      xv[j] *= 2;
      if (std::fabs(g[j]) <= kMaxPrescaled) g[j] *= 4;
      else scale_after[j] = 1;  // 4 dy would overflow; scale the small result instead
    }
    sigmoid_backward_from_input(std::span<const C>(g), std::span<const C>(xv), std::span<C>(r));
    for (std::size_t j = 0; j < idx.size(); ++j)
      out[idx[j]] = detail::convert_value<T>(scale_after[j] ? r[j] * 4 : r[j]);
  });
}

// ---- sigmoid: y = 1 / (1 + e^-x); dx = dy y (1 - y) when every y <= 1/2,
// else dy s(x) s(-x) for the whole tensor: one SIMD pass from the input is
// cheaper than gathering the elements above 1/2.
struct SigmoidBackward final : autograd::Node {
  SavedVariable y, x;  // x only when some y > 1/2
  std::string name() const override { return "SigmoidBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor yv = y.unpack(this);
    if (x.defined())
      return {kernel_backward(Op::sigmoid_backward_from_input, g[0], x.unpack(this), {}, yv.dtype())};
    return {kernel_backward(Op::sigmoid_backward, g[0], yv)};
  }
  void release_variables() override {
    y.reset();
    x.reset();
  }
};

// ---- tanh: dx = dy (1 - y^2), from x where |y| > 1/2.
struct TanhBackward final : autograd::Node {
  SavedVariable y, x;  // x only when some |y| > 1/2
  std::string name() const override { return "TanhBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor yv = y.unpack(this);
    Tensor dx = kernel_backward(Op::tanh_backward, g[0], yv);
    if (x.defined()) recompute_tanh_saturated(dx, g[0], yv, x.unpack(this));
    return {dx};
  }
  void release_variables() override {
    y.reset();
    x.reset();
  }
};

// Forward of sigmoid / tanh with its node.
template <class N> Tensor saturating_forward(Op op, const Tensor& x, bool two_sided) {
  Tensor y = kernel_forward(op, x, /*promote=*/true);
  if (auto node = make_node<N>({&x})) {
    node->y = SavedVariable(y);
    if (any_saturated(y, two_sided)) node->x = SavedVariable(x);
    set_history(y, node);
  }
  return y;
}

Tensor sigmoid_impl(const Tensor& x) { return saturating_forward<SigmoidBackward>(Op::sigmoid, x, false); }
Tensor tanh_impl(const Tensor& x) { return saturating_forward<TanhBackward>(Op::tanh, x, true); }

// ---- relu: y = max(x, 0) (NaN stays NaN); dx = dy where y > 0, else 0.
// Through the pipeline's element loop (no kernel: the compiler vectorises it).
struct ReluBackward final : autograd::Node {
  SavedVariable y;
  std::string name() const override { return "ReluBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor yv = y.unpack(this);
    return {detail::map_new<detail::Types::Floating>(
        "relu_backward", yv.dtype(),
        detail::element_fn([]<class C>(C d, C v) { return v > C(0) ? d : C(0); }),
        g[0], yv)};
  }
  void release_variables() override { y.reset(); }
};

Tensor relu_values(const Tensor& x) {
  if (x.dtype() == kBool) detail::throw_dtype("relu", kBool, "a floating-point or int64 dtype");
  return detail::map_new<detail::Types::All>("relu", x.dtype(), [](auto tag) {
    using C = typename decltype(tag)::type;
    return [](C v) {
      if constexpr (std::is_floating_point_v<C>) return (v > C(0) || std::isnan(v)) ? v : C(0);
      else return v > C(0) ? v : C(0);
    };
  }, x);
}

// An in-place activation, on the one in-place scheme (detail::run_inplace):
// recorded, f on a clone of self; unrecorded, the kernel op through the
// pipeline with self as its output (the kernels allow y == x), or f(self)
// copied back for an op without a kernel (relu).
template <class F>
Tensor& inplace(const char* op, Tensor& self, bool floating_only, F&& f,
                std::optional<Op> kernel_op) {
  detail::check_self(op, self);
  if (floating_only && !self.is_floating_point())
    detail::throw_dtype(op, self.dtype(),
                        "a floating-point dtype (the result is written in place)");
  return detail::run_inplace(self, {&self}, f, [&] {
    if (kernel_op) {
      kernel_forward(*kernel_op, self, false, {}, self);
    } else {
      detail::copy_elements(self, f(self));
      bump_version(self);
    }
  });
}

// ---- silu, log_sigmoid, softplus: kernels forward and backward, from x.
// The backward is the op's backward kernel on (dy, x).
struct KernelBackward final : autograd::Node {
  SavedVariable x;
  const char* name_;
  Op backward_op;
  KernelParams params;
  KernelBackward(const char* n, Op b, const KernelParams& p) : name_(n), backward_op(b), params(p) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override {
    return {kernel_backward(backward_op, g[0], x.unpack(this), params)};
  }
  void release_variables() override { x.reset(); }
};

Tensor input_saving_forward(Op op, Op backward_op, const char* name, const Tensor& x,
                            const KernelParams& p = {}, bool promote = false) {
  Tensor y = kernel_forward(op, x, promote, p);
  if (auto node = make_node<KernelBackward>({&x}, name, backward_op, p)) {
    node->x = SavedVariable(x);
    set_history(y, node);
  }
  return y;
}

// ---- gelu. "none": y = x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2 (erfc keeps
// the tail accurate where 1 + erf(x / sqrt 2) cancels), dx = dy (Phi(x) + x
// phi(x)). "tanh": PyTorch's y = x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x +
// 0.044715 x^3), evaluated as x s(2u) with s the sigmoid (the same value,
// without the cancellation for x < 0), dx = dy (s(2u) + 2 x s(2u) s(-2u) u').
// R is the evaluation type: double for f32/bf16/f16, long double for f64
// (erfc's argument error is amplified ~2x^2 times in the tail); the result is
// rounded once to the storage type.
constexpr long double kSqrtHalf = 0.707106781186547524400844362104849039L;
constexpr long double kInvSqrt2Pi = 0.398942280401432677939946059934381868L;
constexpr long double kBeta = 0.797884560802865355879892119868763737L;  // sqrt(2 / pi)
constexpr long double kKappa = 0.044715L;

template <class R> R sigmoid_eval(R z) { return 1 / (1 + std::exp(-z)); }

template <class R> R gelu_value(R x, bool tanh_form) {
  if (std::isinf(x)) return x > 0 ? x : R(-0.0);
  if (!tanh_form) return x * R(0.5) * std::erfc(-x * R(kSqrtHalf));
  const R u = R(kBeta) * (x + R(kKappa) * x * x * x);
  return x * sigmoid_eval(2 * u);
}

template <class R> R gelu_derivative(R x, bool tanh_form) {
  if (std::isinf(x)) return x > 0 ? R(1) : R(0);
  if (!tanh_form) {
    const R phi = R(kInvSqrt2Pi) * std::exp(R(-0.5) * x * x);
    return R(0.5) * std::erfc(-x * R(kSqrtHalf)) + (phi == 0 ? R(0) : x * phi);
  }
  const R u = R(kBeta) * (x + R(kKappa) * x * x * x);
  const R st = sigmoid_eval(2 * u) * sigmoid_eval(-2 * u);
  const R du = R(kBeta) * (1 + 3 * R(kKappa) * x * x);
  return sigmoid_eval(2 * u) + (st == 0 ? R(0) : 2 * x * st * du);
}

template <class T>
using gelu_eval_t = std::conditional_t<std::is_same_v<T, double>, long double, double>;

struct GeluBackward final : autograd::Node {
  SavedVariable x;
  bool tanh_form;
  explicit GeluBackward(bool t) : tanh_form(t) {}
  std::string name() const override { return "GeluBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor xv = x.unpack(this);
    const bool tf = tanh_form;
    // The derivative in double (long double for f64), rounded once.
    const Tensor dx = detail::map_new<detail::Types::Floating>(
        "gelu_backward", xv.dtype(),
        [tf](auto tag) {
          using C = typename decltype(tag)::type;
          return [tf](C d, C v) {
            using R = gelu_eval_t<C>;
            return static_cast<double>(static_cast<R>(d) * gelu_derivative(static_cast<R>(v), tf));
          };
        },
        g[0], xv);
    return {dx};
  }
  void release_variables() override { x.reset(); }
};

}  // namespace

Tensor sigmoid(const Tensor& x) { return sigmoid_impl(x); }
Tensor tanh(const Tensor& x) { return tanh_impl(x); }

Tensor relu(const Tensor& x) {
  check_defined("relu", x);
  Tensor y = relu_values(x);
  if (auto node = make_node<ReluBackward>({&x})) {
    node->y = SavedVariable(y);
    set_history(y, node);
  }
  return y;
}

Tensor& Tensor::sigmoid_() {
  return inplace("sigmoid_", *this, true, [](const Tensor& x) { return sigmoid_impl(x); },
                 Op::sigmoid);
}
Tensor& Tensor::tanh_() {
  return inplace("tanh_", *this, true, [](const Tensor& x) { return tanh_impl(x); }, Op::tanh);
}
Tensor& Tensor::relu_() {
  return inplace("relu_", *this, false, [](const Tensor& x) { return sigma::relu(x); },
                 std::nullopt);
}


Tensor silu(const Tensor& x) {
  return input_saving_forward(Op::silu, Op::silu_backward, "SiluBackward", x);
}

Tensor log_sigmoid(const Tensor& x) {
  return input_saving_forward(Op::log_sigmoid, Op::log_sigmoid_backward, "LogSigmoidBackward", x);
}

Tensor softplus(const Tensor& x, const Scalar& beta, const Scalar& threshold) {
  const double b = beta.to_double(), th = threshold.to_double();
  if (!std::isfinite(b) || b == 0 || std::isnan(th)) {
    std::ostringstream m;
    m << "softplus: beta must be finite and non-zero and threshold not NaN (got beta=" << b
      << ", threshold=" << th << ")";
    throw Error(m.str());
  }
  return input_saving_forward(Op::softplus, Op::softplus_backward, "SoftplusBackward", x, {b, th});
}

// ---- hardsigmoid and logit: the worked example of docs/ARCHITECTURE.md,
// "Adding an op". Each is a pair of rows in SIGMA_OP_LIST, its kernels, and
// these lines.
Tensor hardsigmoid(const Tensor& x) {
  return input_saving_forward(Op::hardsigmoid, Op::hardsigmoid_backward, "HardsigmoidBackward", x);
}

// Integer and bool inputs compute in the default dtype, as PyTorch's logit.
Tensor logit(const Tensor& x, std::optional<double> eps) {
  if (eps && std::isnan(*eps)) throw Error("logit: eps is NaN (give a number in [0, 0.5] or none)");
  KernelParams p;
  p.eps = eps.value_or(-1.0);  // negative: no clamping, as PyTorch's eps < 0
  return input_saving_forward(Op::logit, Op::logit_backward, "LogitBackward", x, p,
                              /*promote=*/true);
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate != "none" && approximate != "tanh")
    throw Error("gelu: approximate must be \"none\" or \"tanh\", got \"" + approximate + "\"");
  const bool tf = approximate == "tanh";
  const Tensor xf = floating_input("gelu", x, false);
  // In double (long double for f64), rounded once.
  Tensor y = detail::map_new<detail::Types::Floating>("gelu", xf.dtype(), [tf](auto tag) {
    using C = typename decltype(tag)::type;
    return [tf](C v) {
      using R = gelu_eval_t<C>;
      return static_cast<double>(gelu_value(static_cast<R>(v), tf));
    };
  }, xf);
  if (auto node = make_node<GeluBackward>({&xf}, tf)) {
    node->x = SavedVariable(xf);
    set_history(y, node);
  }
  return y;
}

// ---- glu: a * sigmoid(b) for the halves a, b of x along dim, composed
// from chunk, sigmoid and mul (so its gradient is theirs).
Tensor glu(const Tensor& x, std::int64_t dim) {
  check_defined("glu", x);
  if (x.dim() == 0) throw Error("glu: expected an input of at least 1 dimension, got a scalar");
  const std::int64_t d = wrap_dim("glu", dim, x.dim());
  if (x.size(d) % 2 != 0)
    throw Error("glu: the halved dimension must have an even size, but dimension " +
                std::to_string(d) + " of shape " + shape_string(x.sizes()) + " has size " +
                std::to_string(x.size(d)));
  if (!x.is_floating_point()) detail::throw_dtype("glu", x.dtype(), "a floating-point input");
  const std::vector<Tensor> h = x.chunk(2, d);
  return h[0] * sigmoid(h[1]);
}

}  // namespace sigma
