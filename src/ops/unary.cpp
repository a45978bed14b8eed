// unary.cpp: element-wise math of one tensor (exp, log, log1p, abs, sqrt,
// square, reciprocal, sin, cos, clamp; sign and the rounding functions floor,
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
  return float_unary_op<ExpGrad, kSavesOutput>("exp", "ExpBackward", x,
      []<class C>(C v) { return std::exp(v); });
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
  return float_unary_op<SqrtGrad, kSavesOutput>("sqrt", "SqrtBackward", x,
      []<class C>(C v) { return std::sqrt(v); });
}

Tensor reciprocal(const Tensor& x) {
  return float_unary_op<ReciprocalGrad, kSavesOutput>("reciprocal", "ReciprocalBackward", x,
      []<class C>(C v) { return C(1) / v; });
}

Tensor abs(const Tensor& x) {
  check_defined("abs", x);
  if (x.dtype() == kBool) throw Error("abs: not supported for bool tensors");
  Tensor y = detail::unary_op<Types::All>("abs", x, x.dtype(), [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, std::int64_t>)
      return [](C v) { return v < 0 ? detail::wrap_sub(0, v) : v; };
    else if constexpr (std::is_same_v<C, bool>)
      return [](bool v) { return v; };
    else
      return [](C v) { return std::abs(v); };
  });
  record<AbsGrad>("AbsBackward", x, y, x);
  return y;
}

Tensor sin(const Tensor& x) {
  return float_unary_op<SinGrad, kSavesInput>("sin", "SinBackward", x, kSin);
}

Tensor cos(const Tensor& x) {
  return float_unary_op<CosGrad, kSavesInput>("cos", "CosBackward", x, kCos);
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

Tensor Tensor::sign() const { return sigma::sign(*this); }
Tensor Tensor::floor() const { return sigma::floor(*this); }
Tensor Tensor::ceil() const { return sigma::ceil(*this); }
Tensor Tensor::round() const { return sigma::round(*this); }
Tensor Tensor::round(std::int64_t decimals) const { return sigma::round(*this, decimals); }
Tensor Tensor::trunc() const { return sigma::trunc(*this); }
Tensor Tensor::sin() const { return sigma::sin(*this); }
Tensor Tensor::cos() const { return sigma::cos(*this); }
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
