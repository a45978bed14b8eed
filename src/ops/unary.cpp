// unary.cpp: element-wise math of one tensor (exp, log, log1p, abs, sqrt,
// square, reciprocal, sin, cos, tan, rsqrt, erf, log2, log10, exp2, sinh,
// cosh, asin, acos, atan, clamp; sign and the rounding functions floor,
// ceil, round, trunc, whose gradient is zero), each forward beside its
// backward node, with the in-place forms.
//
// Floating functions of int64 or bool tensors give the default float dtype,
// as PyTorch; bf16/f16 compute in f32 and round once.
#include <cmath>
#include <limits>

#include "ops/elementwise.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;
using detail::scalar_as;
using detail::Types;

namespace {

// f(x) for a floating f, in x's dtype or the default float dtype.
template <class Maker> Tensor float_unary(const char* op, const Tensor& x, Maker&& maker) {
  check_defined(op, x);
  return detail::unary_op<Types::Floating>(op, x, detail::float_result(x.dtype()),
                                           std::forward<Maker>(maker));
}

// g combined element-wise with a saved tensor v by f(g, v), in g's dtype.
template <class Maker>
Tensor grad_map(const char* op, const Tensor& g, const Tensor& v, Maker&& maker) {
  return detail::map_new<Types::Floating>(op, g.dtype(), std::forward<Maker>(maker), g, v);
}

// A node whose gradient is grad_fn(g, saved) for one saved tensor.
template <class GradFn> struct SavedOneBackward final : autograd::Node {
  const char* name_;
  SavedVariable saved;
  SavedOneBackward(const char* n, const Tensor& t) : name_(n), saved(t) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override { return {GradFn{}(g[0], saved.unpack(this))}; }
  void release_variables() override { saved.reset(); }
};

template <class GradFn> void record(const char* name, const Tensor& x, Tensor& out, const Tensor& saved) {
  if (auto node = make_node<SavedOneBackward<GradFn>>({&x}, name, saved)) set_history(out, node);
}

// The gradient formulas: g and the saved input x or output y.
struct ExpGrad {  // g y
  Tensor operator()(const Tensor& g, const Tensor& y) const { return g * y; }
};
struct LogGrad {  // g / x
  Tensor operator()(const Tensor& g, const Tensor& x) const { return g / x; }
};
struct Log1pGrad {  // g / (1 + x)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("log1p_backward", g, x,
                    detail::element_fn([]<class C>(C gv, C v) { return gv / (C(1) + v); }));
  }
};
struct AbsGrad {  // g sign(x), 0 at 0
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("abs_backward", g, x, detail::element_fn([]<class C>(C gv, C v) {
                      return v > C(0) ? gv : (v < C(0) ? -gv : C(0));
                    }));
  }
};
struct SqrtGrad {  // g / (2 y)
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return grad_map("sqrt_backward", g, y,
                    detail::element_fn([]<class C>(C gv, C v) { return gv / (C(2) * v); }));
  }
};
struct SinGrad {  // g cos(x)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("sin_backward", g, x,
                    detail::element_fn([]<class C>(C gv, C v) { return gv * std::cos(v); }));
  }
};
struct CosGrad {  // -g sin(x)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("cos_backward", g, x,
                    detail::element_fn([]<class C>(C gv, C v) { return -gv * std::sin(v); }));
  }
};
struct TanGrad {  // g (1 + y^2)
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return grad_map("tan_backward", g, y,
                    detail::element_fn([]<class C>(C gv, C v) { return gv * (C(1) + v * v); }));
  }
};
struct RsqrtGrad {  // -g y^3 / 2
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return grad_map("rsqrt_backward", g, y,
                    detail::element_fn([]<class C>(C gv, C v) { return C(-0.5) * gv * (v * v * v); }));
  }
};
struct ErfGrad {  // g 2 / sqrt(pi) exp(-x^2)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("erf_backward", g, x, detail::element_fn([]<class C>(C gv, C v) {
                      return gv * C(1.1283791670955126) * std::exp(-v * v);
                    }));
  }
};
struct Log2Grad {  // g / (x ln 2)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("log2_backward", g, x, detail::element_fn([]<class C>(C gv, C v) {
                      return gv / (v * C(0.6931471805599453));
                    }));
  }
};
struct Log10Grad {  // g / (x ln 10)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("log10_backward", g, x, detail::element_fn([]<class C>(C gv, C v) {
                      return gv / (v * C(2.302585092994046));
                    }));
  }
};
struct Exp2Grad {  // g y ln 2
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return grad_map("exp2_backward", g, y, detail::element_fn([]<class C>(C gv, C v) {
                      return gv * v * C(0.6931471805599453);
                    }));
  }
};
struct SinhGrad {  // g cosh(x)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("sinh_backward", g, x,
                    detail::element_fn([]<class C>(C gv, C v) { return gv * std::cosh(v); }));
  }
};
struct CoshGrad {  // g sinh(x)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("cosh_backward", g, x,
                    detail::element_fn([]<class C>(C gv, C v) { return gv * std::sinh(v); }));
  }
};
struct AsinGrad {  // g / sqrt(1 - x^2)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("asin_backward", g, x, detail::element_fn([]<class C>(C gv, C v) {
                      return gv / std::sqrt(C(1) - v * v);
                    }));
  }
};
struct AcosGrad {  // -g / sqrt(1 - x^2)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("acos_backward", g, x, detail::element_fn([]<class C>(C gv, C v) {
                      return -gv / std::sqrt(C(1) - v * v);
                    }));
  }
};
struct AtanGrad {  // g / (1 + x^2)
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return grad_map("atan_backward", g, x,
                    detail::element_fn([]<class C>(C gv, C v) { return gv / (C(1) + v * v); }));
  }
};
struct ReciprocalGrad {  // -g y^2
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return grad_map("reciprocal_backward", g, y,
                    detail::element_fn([]<class C>(C gv, C v) { return -gv * (v * v); }));
  }
};

// A floating unary op: y = f(x) element-wise (f a templated lambda on the
// compute type), its gradient GradFn of the saved input (kSavesInput) or
// output.
constexpr bool kSavesInput = true, kSavesOutput = false;
template <class GradFn, bool saves_input, class F>
Tensor float_unary_op(const char* op, const char* backward, const Tensor& x, F f) {
  Tensor y = float_unary(op, x, detail::element_fn(f));
  record<GradFn>(backward, x, y, saves_input ? x : y);
  return y;
}

// The node of a piecewise-constant function (sign, floor, ...): a zero
// gradient of the input's shape.
struct ZeroGradBackward final : autograd::Node {
  const char* name_;
  explicit ZeroGradBackward(const char* n) : name_(n) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override { return {zeros_like(g[0])}; }
};

// A rounding function (floor, ceil, round, trunc): f on floating dtypes, a
// copy of integral and bool inputs (already integers), as LibTorch.
template <class F> Tensor rounding_op(const char* op, const char* backward, const Tensor& x, F f) {
  check_defined(op, x);
  if (x.dtype() == kBool) throw Error(std::string(op) + ": not supported for bool tensors");
  if (!is_floating_point(x.dtype())) return x.clone(MemoryFormat::Contiguous);
  Tensor y = detail::unary_op<Types::Floating>(op, x, x.dtype(), detail::element_fn(f));
  if (auto node = make_node<ZeroGradBackward>({&x}, backward)) set_history(y, node);
  return y;
}

// An in-place unary op: out_of_place(self) recorded on a clone, or maker's
// element function written straight into self. result is the out-of-place
// op's dtype, which must be castable to self's (sin_ of an int64 tensor is
// an error, as LibTorch).
template <class OutOfPlace, class Maker>
Tensor& unary_inplace(const char* op, Tensor& self, ScalarType result, OutOfPlace&& out_of_place,
                      Maker&& maker) {
  detail::check_self(op, self);
  detail::check_inplace_operands(op, self, nullptr, result);
  return detail::run_inplace(self, {&self}, out_of_place, [&] {
    detail::compute_inplace<Types::Floating>(op, self, result, maker);
  });
}

// The element functions, shared by the out-of-place and in-place forms.
// round: halves to even (nearbyint in the default rounding mode).
constexpr auto kFloor = []<class C>(C v) { return std::floor(v); };
constexpr auto kCeil = []<class C>(C v) { return std::ceil(v); };
constexpr auto kRound = []<class C>(C v) { return std::nearbyint(v); };
constexpr auto kTrunc = []<class C>(C v) { return std::trunc(v); };
constexpr auto kSin = []<class C>(C v) { return std::sin(v); };
constexpr auto kCos = []<class C>(C v) { return std::cos(v); };
constexpr auto kTan = []<class C>(C v) { return std::tan(v); };
constexpr auto kRsqrt = []<class C>(C v) { return C(1) / std::sqrt(v); };
constexpr auto kErf = []<class C>(C v) { return std::erf(v); };
constexpr auto kLog2 = []<class C>(C v) { return std::log2(v); };
constexpr auto kLog10 = []<class C>(C v) { return std::log10(v); };
constexpr auto kExp2 = []<class C>(C v) { return std::exp2(v); };
constexpr auto kSinh = []<class C>(C v) { return std::sinh(v); };
constexpr auto kCosh = []<class C>(C v) { return std::cosh(v); };
constexpr auto kAsin = []<class C>(C v) { return std::asin(v); };
constexpr auto kAcos = []<class C>(C v) { return std::acos(v); };
constexpr auto kAtan = []<class C>(C v) { return std::atan(v); };
constexpr auto kExp = []<class C>(C v) { return std::exp(v); };
constexpr auto kSqrt = []<class C>(C v) { return std::sqrt(v); };

// abs in x's dtype: int64 wraps (abs of the lowest value is itself).
auto abs_maker() {
  return [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, std::int64_t>)
      return [](C v) { return v < 0 ? detail::wrap_sub(0, v) : v; };
    else if constexpr (std::is_same_v<C, bool>)
      return [](bool v) { return v; };
    else
      return [](C v) { return std::abs(v); };
  };
}

// round(x, decimals) as LibTorch computes it, in the compute type:
// nearbyint(x * 10^d) / 10^d, or nearbyint(x / 10^-d) * 10^-d for d < 0.
auto round_decimals_maker(std::int64_t decimals) {
  return [decimals](auto tag) {
    using C = typename decltype(tag)::type;
    const bool negative = decimals < 0;
    const C scale = static_cast<C>(std::pow(10.0, static_cast<double>(negative ? -decimals : decimals)));
    return [scale, negative](C v) {
      return negative ? std::nearbyint(v / scale) * scale : std::nearbyint(v * scale) / scale;
    };
  };
}

void check_round_decimals(const char* op, const Tensor& x, std::int64_t decimals) {
  if (!is_floating_point(x.dtype()))
    throw Error(std::string(op) + ": decimals is only supported for floating-point tensors, got " +
                to_string(x.dtype()) + " with decimals = " + std::to_string(decimals));
}

// sign: (0 < x) - (x < 0) in x's dtype, so NaN gives 0; bool is its own sign.
auto sign_maker() {
  return [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, bool>)
      return [](bool v) { return v; };
    else
      return [](C v) { return static_cast<C>((C(0) < v) - (v < C(0))); };
  };
}

}  // namespace

Tensor exp(const Tensor& x) {
  return float_unary_op<ExpGrad, kSavesOutput>("exp", "ExpBackward", x, kExp);
}

Tensor log(const Tensor& x) {
  return float_unary_op<LogGrad, kSavesInput>("log", "LogBackward", x,
      []<class C>(C v) { return std::log(v); });
}

Tensor log1p(const Tensor& x) {
  return float_unary_op<Log1pGrad, kSavesInput>("log1p", "Log1pBackward", x,
      []<class C>(C v) { return std::log1p(v); });
}

Tensor sqrt(const Tensor& x) {
  return float_unary_op<SqrtGrad, kSavesOutput>("sqrt", "SqrtBackward", x, kSqrt);
}

Tensor reciprocal(const Tensor& x) {
  return float_unary_op<ReciprocalGrad, kSavesOutput>("reciprocal", "ReciprocalBackward", x,
      []<class C>(C v) { return C(1) / v; });
}

Tensor abs(const Tensor& x) {
  check_defined("abs", x);
  if (x.dtype() == kBool) throw Error("abs: not supported for bool tensors");
  Tensor y = detail::unary_op<Types::All>("abs", x, x.dtype(), abs_maker());
  record<AbsGrad>("AbsBackward", x, y, x);
  return y;
}

Tensor sin(const Tensor& x) {
  return float_unary_op<SinGrad, kSavesInput>("sin", "SinBackward", x, kSin);
}

Tensor cos(const Tensor& x) {
  return float_unary_op<CosGrad, kSavesInput>("cos", "CosBackward", x, kCos);
}

Tensor tan(const Tensor& x) {
  return float_unary_op<TanGrad, kSavesOutput>("tan", "TanBackward", x, kTan);
}
Tensor rsqrt(const Tensor& x) {
  return float_unary_op<RsqrtGrad, kSavesOutput>("rsqrt", "RsqrtBackward", x, kRsqrt);
}
Tensor erf(const Tensor& x) {
  return float_unary_op<ErfGrad, kSavesInput>("erf", "ErfBackward", x, kErf);
}
Tensor log2(const Tensor& x) {
  return float_unary_op<Log2Grad, kSavesInput>("log2", "Log2Backward", x, kLog2);
}
Tensor log10(const Tensor& x) {
  return float_unary_op<Log10Grad, kSavesInput>("log10", "Log10Backward", x, kLog10);
}
Tensor exp2(const Tensor& x) {
  return float_unary_op<Exp2Grad, kSavesOutput>("exp2", "Exp2Backward", x, kExp2);
}
Tensor sinh(const Tensor& x) {
  return float_unary_op<SinhGrad, kSavesInput>("sinh", "SinhBackward", x, kSinh);
}
Tensor cosh(const Tensor& x) {
  return float_unary_op<CoshGrad, kSavesInput>("cosh", "CoshBackward", x, kCosh);
}
Tensor asin(const Tensor& x) {
  return float_unary_op<AsinGrad, kSavesInput>("asin", "AsinBackward", x, kAsin);
}
Tensor acos(const Tensor& x) {
  return float_unary_op<AcosGrad, kSavesInput>("acos", "AcosBackward", x, kAcos);
}
Tensor atan(const Tensor& x) {
  return float_unary_op<AtanGrad, kSavesInput>("atan", "AtanBackward", x, kAtan);
}

Tensor sign(const Tensor& x) {
  check_defined("sign", x);
  Tensor y = detail::unary_op<Types::All>("sign", x, x.dtype(), sign_maker());
  if (auto node = make_node<ZeroGradBackward>({&x}, "SignBackward")) set_history(y, node);
  return y;
}

Tensor floor(const Tensor& x) { return rounding_op("floor", "FloorBackward", x, kFloor); }
Tensor ceil(const Tensor& x) { return rounding_op("ceil", "CeilBackward", x, kCeil); }
Tensor round(const Tensor& x) { return rounding_op("round", "RoundBackward", x, kRound); }
Tensor trunc(const Tensor& x) { return rounding_op("trunc", "TruncBackward", x, kTrunc); }

Tensor round(const Tensor& x, std::int64_t decimals) {
  check_defined("round", x);
  check_round_decimals("round", x, decimals);
  Tensor y = detail::unary_op<Types::Floating>("round", x, x.dtype(), round_decimals_maker(decimals));
  if (auto node = make_node<ZeroGradBackward>({&x}, "RoundBackward")) set_history(y, node);
  return y;
}

// ---- In-place forms. The rounding functions leave integral tensors as they are.

Tensor& Tensor::sign_() {
  detail::check_self("sign_", *this);
  detail::check_inplace_operands("sign_", *this, nullptr, dtype());
  return detail::run_inplace(*this, {this}, [](const Tensor& c) { return sigma::sign(c); }, [&] {
    detail::compute_inplace<Types::All>("sign_", *this, dtype(), sign_maker());
  });
}

namespace {

template <class F, class OutOfPlace>
Tensor& rounding_inplace(const char* op, Tensor& self, OutOfPlace&& out_of_place, F f) {
  detail::check_self(op, self);
  if (self.dtype() == kBool) throw Error(std::string(op) + ": not supported for bool tensors");
  if (!is_floating_point(self.dtype())) return self;
  return unary_inplace(op, self, self.dtype(), out_of_place, detail::element_fn(f));
}

}  // namespace

Tensor& Tensor::floor_() {
  return rounding_inplace("floor_", *this, [](const Tensor& c) { return sigma::floor(c); }, kFloor);
}
Tensor& Tensor::ceil_() {
  return rounding_inplace("ceil_", *this, [](const Tensor& c) { return sigma::ceil(c); }, kCeil);
}
Tensor& Tensor::round_() {
  return rounding_inplace("round_", *this, [](const Tensor& c) { return sigma::round(c); }, kRound);
}
Tensor& Tensor::trunc_() {
  return rounding_inplace("trunc_", *this, [](const Tensor& c) { return sigma::trunc(c); }, kTrunc);
}
Tensor& Tensor::round_(std::int64_t decimals) {
  detail::check_self("round_", *this);
  check_round_decimals("round_", *this, decimals);
  return unary_inplace("round_", *this, dtype(),
                       [decimals](const Tensor& c) { return sigma::round(c, decimals); },
                       round_decimals_maker(decimals));
}
Tensor& Tensor::sin_() {
  return unary_inplace("sin_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::sin(c); }, detail::element_fn(kSin));
}
Tensor& Tensor::cos_() {
  return unary_inplace("cos_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::cos(c); }, detail::element_fn(kCos));
}

Tensor& Tensor::tan_() {
  return unary_inplace("tan_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::tan(c); }, detail::element_fn(kTan));
}
Tensor& Tensor::rsqrt_() {
  return unary_inplace("rsqrt_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::rsqrt(c); }, detail::element_fn(kRsqrt));
}
Tensor& Tensor::erf_() {
  return unary_inplace("erf_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::erf(c); }, detail::element_fn(kErf));
}
Tensor& Tensor::log2_() {
  return unary_inplace("log2_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::log2(c); }, detail::element_fn(kLog2));
}
Tensor& Tensor::log10_() {
  return unary_inplace("log10_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::log10(c); }, detail::element_fn(kLog10));
}
Tensor& Tensor::exp2_() {
  return unary_inplace("exp2_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::exp2(c); }, detail::element_fn(kExp2));
}
Tensor& Tensor::sinh_() {
  return unary_inplace("sinh_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::sinh(c); }, detail::element_fn(kSinh));
}
Tensor& Tensor::cosh_() {
  return unary_inplace("cosh_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::cosh(c); }, detail::element_fn(kCosh));
}
Tensor& Tensor::asin_() {
  return unary_inplace("asin_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::asin(c); }, detail::element_fn(kAsin));
}
Tensor& Tensor::acos_() {
  return unary_inplace("acos_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::acos(c); }, detail::element_fn(kAcos));
}
Tensor& Tensor::atan_() {
  return unary_inplace("atan_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::atan(c); }, detail::element_fn(kAtan));
}
Tensor& Tensor::exp_() {
  return unary_inplace("exp_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::exp(c); }, detail::element_fn(kExp));
}
Tensor& Tensor::sqrt_() {
  return unary_inplace("sqrt_", *this, detail::float_result(dtype()),
                       [](const Tensor& c) { return sigma::sqrt(c); }, detail::element_fn(kSqrt));
}
Tensor& Tensor::abs_() {
  detail::check_self("abs_", *this);
  if (dtype() == kBool) throw Error("abs_: not supported for bool tensors");
  detail::check_inplace_operands("abs_", *this, nullptr, dtype());
  return detail::run_inplace(*this, {this}, [](const Tensor& c) { return sigma::abs(c); }, [&] {
    detail::compute_inplace<Types::All>("abs_", *this, dtype(), abs_maker());
  });
}
// pow_: the out-of-place pow (its checks, dtype rules and gradient), written
// back into self, whose dtype and shape must hold the result.
Tensor& Tensor::pow_(const Scalar& exponent) {
  detail::check_self("pow_", *this);
  detail::check_inplace_operands("pow_", *this, nullptr, detail::result_type(*this, exponent));
  return detail::run_inplace(
      *this, {this}, [&](const Tensor& c) { return sigma::pow(c, exponent); },
      [&] { copy_(sigma::pow(*this, exponent)); });
}
Tensor& Tensor::pow_(const Tensor& exponent) {
  detail::check_self("pow_", *this);
  check_defined("pow_", exponent);
  const IntArrayRef other = exponent.sizes();
  detail::check_inplace_operands("pow_", *this, &other, detail::result_type(*this, exponent));
  return detail::run_inplace(
      *this, {this, &exponent}, [&](const Tensor& c) { return sigma::pow(c, exponent); },
      [&] { copy_(sigma::pow(*this, exponent)); });
}

Tensor Tensor::sign() const { return sigma::sign(*this); }
Tensor Tensor::floor() const { return sigma::floor(*this); }
Tensor Tensor::ceil() const { return sigma::ceil(*this); }
Tensor Tensor::round() const { return sigma::round(*this); }
Tensor Tensor::round(std::int64_t decimals) const { return sigma::round(*this, decimals); }
Tensor Tensor::trunc() const { return sigma::trunc(*this); }
Tensor Tensor::sin() const { return sigma::sin(*this); }
Tensor Tensor::cos() const { return sigma::cos(*this); }
Tensor Tensor::tan() const { return sigma::tan(*this); }
Tensor Tensor::rsqrt() const { return sigma::rsqrt(*this); }
Tensor Tensor::erf() const { return sigma::erf(*this); }
Tensor Tensor::log2() const { return sigma::log2(*this); }
Tensor Tensor::log10() const { return sigma::log10(*this); }
Tensor Tensor::exp2() const { return sigma::exp2(*this); }
Tensor Tensor::sinh() const { return sigma::sinh(*this); }
Tensor Tensor::cosh() const { return sigma::cosh(*this); }
Tensor Tensor::asin() const { return sigma::asin(*this); }
Tensor Tensor::acos() const { return sigma::acos(*this); }
Tensor Tensor::atan() const { return sigma::atan(*this); }
Tensor& tan_(Tensor& x) { return x.tan_(); }
Tensor& rsqrt_(Tensor& x) { return x.rsqrt_(); }
Tensor& erf_(Tensor& x) { return x.erf_(); }
Tensor& log2_(Tensor& x) { return x.log2_(); }
Tensor& log10_(Tensor& x) { return x.log10_(); }
Tensor& exp2_(Tensor& x) { return x.exp2_(); }
Tensor& sinh_(Tensor& x) { return x.sinh_(); }
Tensor& cosh_(Tensor& x) { return x.cosh_(); }
Tensor& asin_(Tensor& x) { return x.asin_(); }
Tensor& acos_(Tensor& x) { return x.acos_(); }
Tensor& atan_(Tensor& x) { return x.atan_(); }
Tensor& exp_(Tensor& x) { return x.exp_(); }
Tensor& abs_(Tensor& x) { return x.abs_(); }
Tensor& sqrt_(Tensor& x) { return x.sqrt_(); }
Tensor& floor_(Tensor& x) { return x.floor_(); }
Tensor& ceil_(Tensor& x) { return x.ceil_(); }
Tensor& round_(Tensor& x) { return x.round_(); }
Tensor& round_(Tensor& x, std::int64_t decimals) { return x.round_(decimals); }
Tensor& trunc_(Tensor& x) { return x.trunc_(); }
Tensor& sin_(Tensor& x) { return x.sin_(); }
Tensor& cos_(Tensor& x) { return x.cos_(); }

// As PyTorch: pow(x, 2), with its gradient.
Tensor square(const Tensor& x) { return pow(x, 2); }

// ---- clamp: min(max(x, lo), hi); NaN inputs stay NaN. The gradient flows
// where lo <= x <= hi.

namespace {

template <class C> C lowest_value() noexcept {
  if constexpr (std::numeric_limits<C>::has_infinity) return -std::numeric_limits<C>::infinity();
  else return std::numeric_limits<C>::lowest();
}
template <class C> C highest_value() noexcept {
  if constexpr (std::numeric_limits<C>::has_infinity) return std::numeric_limits<C>::infinity();
  else return std::numeric_limits<C>::max();
}

struct Bounds {
  std::optional<Scalar> lo, hi;
  template <class C> C low() const noexcept { return lo ? scalar_as<C>(*lo) : lowest_value<C>(); }
  template <class C> C high() const noexcept { return hi ? scalar_as<C>(*hi) : highest_value<C>(); }
};

auto clamp_maker(const Bounds& b) {
  return [&b](auto tag) {
    using C = typename decltype(tag)::type;
    const C lo = b.low<C>(), hi = b.high<C>();
    return [lo, hi](C v) {
      const C r = v < lo ? lo : v;
      return hi < r ? hi : r;
    };
  };
}

ScalarType clamp_type(const char* op, const Tensor& x, const Bounds& b) {
  if (!b.lo && !b.hi) throw Error(std::string(op) + ": at least one of min and max must be given");
  ScalarType t = x.dtype();
  if (b.lo) t = promote_types(t, detail::result_type(x, *b.lo));
  if (b.hi) t = promote_types(t, detail::result_type(x, *b.hi));
  return t;
}

struct ClampBackward final : autograd::Node {
  SavedVariable x;
  Bounds bounds;
  explicit ClampBackward(Bounds b) : bounds(std::move(b)) {}
  std::string name() const override {
    if (!bounds.hi) return "ClampMinBackward";
    if (!bounds.lo) return "ClampMaxBackward";
    return "ClampBackward";
  }
  TensorList apply(TensorList&& g) override {
    return {grad_map("clamp_backward", g[0], x.unpack(this), [this](auto tag) {
      using C = typename decltype(tag)::type;
      const C lo = bounds.low<C>(), hi = bounds.high<C>();
      return [lo, hi](C gv, C v) { return (v >= lo && v <= hi) ? gv : C(0); };
    })};
  }
  void release_variables() override { x.reset(); }
};

Tensor clamp_impl(const char* op, const Tensor& x, Bounds b) {
  check_defined(op, x);
  const ScalarType common = clamp_type(op, x, b);
  Tensor y = detail::unary_op<Types::All>(op, x, common, clamp_maker(b));
  if (auto node = make_node<ClampBackward>({&x}, std::move(b))) {
    node->x = SavedVariable(x);
    set_history(y, node);
  }
  return y;
}

}  // namespace

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  return clamp_impl("clamp", x, Bounds{min, max});
}
Tensor clamp_min(const Tensor& x, const Scalar& min) {
  return clamp_impl("clamp_min", x, Bounds{min, std::nullopt});
}
Tensor clamp_max(const Tensor& x, const Scalar& max) {
  return clamp_impl("clamp_max", x, Bounds{std::nullopt, max});
}

Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  detail::check_self("clamp_", *this);
  const Bounds b{min, max};
  const ScalarType common = clamp_type("clamp_", *this, b);
  detail::check_inplace_operands("clamp_", *this, nullptr, common);
  if (autograd::compute_requires_grad({this}))
    detail::finish_inplace(*this, clamp_impl("clamp", clone(), b));
  else
    detail::compute_inplace<Types::All>("clamp_", *this, common, clamp_maker(b));
  return *this;
}

}  // namespace sigma
