// unary.cpp: element-wise math of one tensor (exp, log, log1p, abs, sqrt,
// square, reciprocal, clamp), each forward beside its backward node.
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
