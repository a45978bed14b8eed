// binary.cpp: broadcasting arithmetic (add, sub, mul, div, pow, maximum,
// minimum), the arithmetic operators and the in-place arithmetic members,
// each forward beside its backward node.
//
// Operands broadcast to one shape and promote to one dtype (detail::
// result_type); bf16/f16 compute in f32 and round once. int64 and bool keep
// their type for add/sub/mul (int64 wraps around on overflow, as PyTorch);
// true division of integers gives the default float dtype.
#include <cmath>
#include <sstream>

#include "ops/elementwise.h"

namespace sigma {

using autograd::InputInfo;
using autograd::make_node;
using autograd::needs_grad;
using autograd::SavedVariable;
using autograd::set_history;
using detail::Out;
using detail::scalar_as;
using detail::TypeTag;
using detail::Types;

namespace detail {

void check_inplace_operands(const char* op, const Tensor& self, const IntArrayRef* other,
                            ScalarType result) {
  if (other && !(self.sizes() == *other)) {
    const auto b = broadcast_shapes(op, self.sizes(), *other);
    if (!(IntArrayRef(b) == self.sizes()))
      throw Error(std::string(op) + ": output with shape " + shape_string(self.sizes()) +
                  " doesn't match the broadcast shape " + shape_string(b) + " of the operands " +
                  shape_string(self.sizes()) + " and " + shape_string(*other) +
                  " (in-place ops do not resize)");
  }
  if (!can_cast(result, self.dtype()))
    throw Error(std::string(op) + ": result type " + to_string(result) +
                " can't be cast to the desired output type " + to_string(self.dtype()));
  const IntArrayRef sizes = self.sizes(), strides = self.strides();
  for (std::size_t d = 0; d < sizes.size(); ++d)
    if (strides[d] == 0 && sizes[d] > 1)
      throw Error(std::string(op) + ": more than one element of the written-to tensor (shape " +
                  shape_string(sizes) + ", strides " + shape_string(strides) +
                  ") refers to a single memory location; clone() it first");
}

void finish_inplace(Tensor& self, const Tensor& r) {
  copy_elements(self, r);
  bump_version(self);
  autograd::rebase_history(self, r);
}

}  // namespace detail

namespace {

std::string scalar_string(const Scalar& s) {
  std::ostringstream o;
  if (s.is_floating_point()) o << s.to_double();
  else if (s.is_boolean()) o << (s.to<bool>() ? "true" : "false");
  else o << s.to_long();
  return o.str();
}

bool is_one(const Scalar& s) { return s.to_double() == 1.0; }

Scalar negate(const Scalar& s) {
  if (s.is_floating_point()) return -s.to_double();
  if (s.is_boolean()) return s;
  return static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(s.to_long()));
}

void check_alpha(const char* op, ScalarType common, const Scalar& alpha) {
  if (!is_floating_point(common) && alpha.is_floating_point())
    throw Error(std::string(op) + ": alpha must not be a floating point number for " +
                to_string(common) + " operands (got alpha=" + scalar_string(alpha) + ")");
  if (common != kBool && alpha.is_boolean())
    throw Error(std::string(op) + ": a bool alpha is only supported for bool operands (got " +
                to_string(common) + ")");
}

void check_not_bool(const char* op, ScalarType common, const char* use) {
  if (common == kBool)
    throw Error(std::string(op) + ": not supported for bool tensors; use " + use + " instead");
}

// ---- Element functions, as makers (see elementwise.h).

// x + alpha y (alpha * value already folded in for a scalar operand y).
auto add_maker(const Scalar& alpha) {
  return [&alpha](auto tag) {
    using C = typename decltype(tag)::type;
    const C al = scalar_as<C>(alpha);
    if constexpr (std::is_same_v<C, bool>)
      return [al](bool x, bool y) { return x || (al && y); };
    else if constexpr (std::is_same_v<C, std::int64_t>)
      return [al](C x, C y) { return detail::wrap_add(x, detail::wrap_mul(al, y)); };
    else
      return [al](C x, C y) { return x + al * y; };
  };
}

// x + alpha s for a scalar s.
auto add_scalar_maker(const Scalar& s, const Scalar& alpha) {
  return [&s, &alpha](auto tag) {
    using C = typename decltype(tag)::type;
    const C al = scalar_as<C>(alpha), v = scalar_as<C>(s);
    if constexpr (std::is_same_v<C, bool>) {
      const bool w = al && v;
      return [w](bool x) { return x || w; };
    } else if constexpr (std::is_same_v<C, std::int64_t>) {
      const C w = detail::wrap_mul(al, v);
      return [w](C x) { return detail::wrap_add(x, w); };
    } else {
      const C w = al * v;
      return [w](C x) { return x + w; };
    }
  };
}

// s - alpha x (rsub).
auto rsub_scalar_maker(const Scalar& s, const Scalar& alpha) {
  return [&s, &alpha](auto tag) {
    using C = typename decltype(tag)::type;
    const C al = scalar_as<C>(alpha), v = scalar_as<C>(s);
    if constexpr (std::is_same_v<C, std::int64_t>)
      return [al, v](C x) { return detail::wrap_sub(v, detail::wrap_mul(al, x)); };
    else
      return [al, v](C x) { return static_cast<C>(v - al * x); };
  };
}

auto mul_maker() {
  return [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, bool>)
      return [](bool x, bool y) { return x && y; };
    else if constexpr (std::is_same_v<C, std::int64_t>)
      return [](C x, C y) { return detail::wrap_mul(x, y); };
    else
      return [](C x, C y) { return x * y; };
  };
}

auto mul_scalar_maker(const Scalar& s) {
  return [&s](auto tag) {
    using C = typename decltype(tag)::type;
    const C v = scalar_as<C>(s);
    if constexpr (std::is_same_v<C, bool>)
      return [v](bool x) { return x && v; };
    else if constexpr (std::is_same_v<C, std::int64_t>)
      return [v](C x) { return detail::wrap_mul(x, v); };
    else
      return [v](C x) { return x * v; };
  };
}

auto div_maker() {
  return detail::element_fn([]<class C>(C x, C y) { return x / y; });
}

auto div_scalar_maker(const Scalar& s) {
  return [&s](auto tag) {
    using C = typename decltype(tag)::type;
    const C v = scalar_as<C>(s);
    return [v](C x) { return x / v; };
  };
}

auto neg_maker() {
  return [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, std::int64_t>)
      return [](C x) { return detail::wrap_sub(0, x); };
    else if constexpr (std::is_same_v<C, bool>)
      return [](bool x) { return x; };  // refused before dispatch
    else
      return [](C x) { return -x; };
  };
}

// ---- Backward nodes.

// add/sub of two tensors: dx = g, dy = alpha g (sub: -alpha g).
struct AddBackward final : autograd::Node {
  Scalar alpha;
  bool sub;
  InputInfo a, b;
  AddBackward(const Scalar& al, bool is_sub) : alpha(al), sub(is_sub) {}
  std::string name() const override { return sub ? "SubBackward" : "AddBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (needs_grad(*this, 0)) ga = a.reduce(g[0]);
    if (needs_grad(*this, 1)) {
      if (is_one(alpha)) gb = sub ? neg(g[0]) : g[0];
      else gb = g[0].mul(sub ? negate(alpha) : alpha);
      gb = b.reduce(gb);
    }
    return {ga, gb};
  }
};

// One tensor input whose gradient is g times a constant (add/sub/mul/div
// with a scalar, rsub).
struct ScaleBackward final : autograd::Node {
  const char* name_;
  Scalar factor;
  bool divide = false;
  ScaleBackward(const char* n, const Scalar& f, bool d) : name_(n), factor(f), divide(d) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override {
    if (divide) return {g[0].div(factor)};
    if (factor.to_double() == 1.0 && !factor.is_floating_point()) return {g[0]};
    if (factor.to_double() == -1.0 && !factor.is_floating_point()) return {neg(g[0])};
    return {g[0].mul(factor)};
  }
};

// One saved tensor v and a Scalar s: dx = g combined with v element-wise by
// Grad{}(tag, s), a maker of the element function (g, v) -> dx.
template <class Grad> struct SavedScalarBackward final : autograd::Node {
  const char* name_;
  SavedVariable saved;
  Scalar s;
  SavedScalarBackward(const char* n, const Scalar& v) : name_(n), s(v) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override {
    const Tensor v = saved.unpack(this);
    if (Grad::zero(s)) return {zeros_like(v)};
    return {detail::map_new<Types::Floating>(Grad::op, g[0].dtype(),
                                             [this](auto tag) { return Grad{}(tag, s); }, g[0], v)};
  }
  void release_variables() override { saved.reset(); }
};

// Records a SavedScalarBackward<Grad> for out = f(x, s), saving x.
template <class Grad>
void record_saved_scalar(const char* name, const Tensor& x, Tensor& out, const Scalar& s) {
  if (auto node = make_node<SavedScalarBackward<Grad>>({&x}, name, s)) {
    node->saved = SavedVariable(x);
    set_history(out, node);
  }
}

// Two tensor operands a and b: Grad::first / Grad::second give each one's
// gradient from g and the node (whose a() and b() unpack what was saved),
// reduced to the operand's shape. Grad::saves_a / saves_b(need_a, need_b)
// say which operands the backward reads, so nothing else is saved.
template <class Grad> struct PairBackward final : autograd::Node {
  SavedVariable sa, sb;
  InputInfo ia, ib;
  std::string name() const override { return Grad::name; }
  Tensor a() const { return sa.unpack(this); }
  Tensor b() const { return sb.unpack(this); }
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (needs_grad(*this, 0)) ga = ia.reduce(Grad::first(g[0], *this));
    if (needs_grad(*this, 1)) gb = ib.reduce(Grad::second(g[0], *this));
    return {ga, gb};
  }
  void release_variables() override {
    sa.reset();
    sb.reset();
  }
};

template <class Grad> void record_pair(const Tensor& a, const Tensor& b, Tensor& out) {
  if (auto node = make_node<PairBackward<Grad>>({&a, &b})) {
    const bool need_a = needs_grad(*node, 0), need_b = needs_grad(*node, 1);
    if (Grad::saves_a(need_a, need_b)) node->sa = SavedVariable(a);
    if (Grad::saves_b(need_a, need_b)) node->sb = SavedVariable(b);
    node->ia = InputInfo(a, out.sizes());
    node->ib = InputInfo(b, out.sizes());
    set_history(out, node);
  }
}

// d(ab)/da = b, d(ab)/db = a.
struct MulGrad {
  static constexpr const char* name = "MulBackward";
  static bool saves_a(bool, bool need_b) { return need_b; }
  static bool saves_b(bool need_a, bool) { return need_a; }
  template <class N> static Tensor first(const Tensor& g, const N& n) { return g * n.b(); }
  template <class N> static Tensor second(const Tensor& g, const N& n) { return g * n.a(); }
};

// d(a/b)/da = 1/b, d(a/b)/db = -a/b^2.
struct DivGrad {
  static constexpr const char* name = "DivBackward";
  static bool saves_a(bool, bool need_b) { return need_b; }
  static bool saves_b(bool, bool) { return true; }
  template <class N> static Tensor first(const Tensor& g, const N& n) { return g / n.b(); }
  template <class N> static Tensor second(const Tensor& g, const N& n) {
    return detail::map_new<Types::Floating>(
        "div_backward", g.dtype(),
        detail::element_fn([]<class C>(C gv, C x, C y) { return -gv * x / (y * y); }), g, n.a(),
        n.b());
  }
};

// s / x: d/dx = -s / x^2.
struct RdivGrad {
  static constexpr const char* op = "div_backward";
  static bool zero(const Scalar&) { return false; }
  template <class Tag> auto operator()(Tag, const Scalar& s) const {
    using C = typename Tag::type;
    const C sv = scalar_as<C>(s);
    return [sv](C gv, C v) { return -gv * sv / (v * v); };
  }
};

// Records a ScaleBackward for out = f(x) with dx = factor g (or g / factor).
void record_scale(const Tensor& x, Tensor& out, const char* name, const Scalar& factor,
                  bool divide = false) {
  if (auto node = make_node<ScaleBackward>({&x}, name, factor, divide)) set_history(out, node);
}

Tensor rsub(const Tensor& x, const Scalar& s, const Scalar& alpha) {
  check_defined("sub", x);
  const ScalarType common = detail::result_type(x, s);
  check_not_bool("sub", common, "ne() for a logical xor");
  check_alpha("sub", common, alpha);
  Tensor out = detail::unary_op<Types::All>("sub", x, common, rsub_scalar_maker(s, alpha));
  record_scale(x, out, "RsubBackward", negate(alpha));
  return out;
}

Tensor rdiv(const Scalar& s, const Tensor& x) {
  check_defined("div", x);
  const ScalarType common = detail::float_result(detail::result_type(x, s));
  Tensor out = detail::unary_op<Types::Floating>("div", x, common, [&s](auto tag) {
    using C = typename decltype(tag)::type;
    const C v = scalar_as<C>(s);
    return [v](C y) { return v / y; };
  });
  record_saved_scalar<RdivGrad>("DivBackward", x, out, s);
  return out;
}

// add and sub of two tensors (sub: alpha negated in the element function).
Tensor add_sub(const char* op, const Tensor& a, const Tensor& b, const Scalar& alpha, bool sub) {
  check_defined(op, a);
  check_defined(op, b);
  const ScalarType common = detail::result_type(a, b);
  if (sub) check_not_bool(op, common, "ne() for a logical xor");
  check_alpha(op, common, alpha);
  Tensor out = detail::binary_op<Types::All>(op, a, b, common, add_maker(sub ? negate(alpha) : alpha));
  if (auto node = make_node<AddBackward>({&a, &b}, alpha, sub)) {
    node->a = InputInfo(a, out.sizes());
    node->b = InputInfo(b, out.sizes());
    set_history(out, node);
  }
  return out;
}

}  // namespace

// ---- add, sub, mul, div.

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return add_sub("add", a, b, alpha, false);
}

Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return add_sub("sub", a, b, alpha, true);
}

Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_defined("add", a);
  const ScalarType common = detail::result_type(a, b);
  check_alpha("add", common, alpha);
  Tensor out = detail::unary_op<Types::All>("add", a, common, add_scalar_maker(b, alpha));
  record_scale(a, out, "AddBackward", 1);
  return out;
}

Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_defined("sub", a);
  const ScalarType common = detail::result_type(a, b);
  check_not_bool("sub", common, "ne() for a logical xor");
  check_alpha("sub", common, alpha);
  Tensor out = detail::unary_op<Types::All>("sub", a, common, add_scalar_maker(b, negate(alpha)));
  record_scale(a, out, "SubBackward", 1);
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_defined("mul", a);
  check_defined("mul", b);
  Tensor out = detail::binary_op<Types::All>("mul", a, b, detail::result_type(a, b), mul_maker());
  record_pair<MulGrad>(a, b, out);
  return out;
}

Tensor mul(const Tensor& a, const Scalar& b) {
  check_defined("mul", a);
  Tensor out = detail::unary_op<Types::All>("mul", a, detail::result_type(a, b), mul_scalar_maker(b));
  record_scale(a, out, "MulBackward", b);
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  check_defined("div", a);
  check_defined("div", b);
  const ScalarType common = detail::float_result(detail::result_type(a, b));
  Tensor out = detail::binary_op<Types::Floating>("div", a, b, common, div_maker());
  record_pair<DivGrad>(a, b, out);
  return out;
}

Tensor div(const Tensor& a, const Scalar& b) {
  check_defined("div", a);
  const ScalarType common = detail::float_result(detail::result_type(a, b));
  Tensor out = detail::unary_op<Types::Floating>("div", a, common, div_scalar_maker(b));
  record_scale(a, out, "DivBackward", b, /*divide=*/true);
  return out;
}

Tensor neg(const Tensor& x) {
  check_defined("neg", x);
  check_not_bool("neg", x.dtype(), "x == false to invert a mask");
  Tensor out = detail::unary_op<Types::All>("neg", x, x.dtype(), neg_maker());
  record_scale(x, out, "NegBackward", -1);
  return out;
}

// ---- pow.

namespace {

// b^e for int64 with wrap-around; negative e gives 0 except for b = +-1 (as PyTorch).
std::int64_t int_pow(std::int64_t b, std::int64_t e) noexcept {
  if (e < 0) {
    if (b == 1) return 1;
    if (b == -1) return (e % 2 != 0) ? -1 : 1;
    return 0;
  }
  std::uint64_t r = 1, base = static_cast<std::uint64_t>(b);
  auto u = static_cast<std::uint64_t>(e);
  while (u) {
    if (u & 1u) r *= base;
    base *= base;
    u >>= 1;
  }
  return static_cast<std::int64_t>(r);
}

auto pow_maker() {
  return [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, bool>)
      return [](bool x, bool e) { return x || !e; };
    else if constexpr (std::is_same_v<C, std::int64_t>)
      return [](C x, C e) { return int_pow(x, e); };
    else
      return [](C x, C e) { return std::pow(x, e); };
  };
}

// d(b^e)/db = e b^(e-1), 0 where e == 0 (also at b == 0).
struct PowScalarGrad {
  static constexpr const char* op = "pow_backward";
  static bool zero(const Scalar& e) { return e.to_double() == 0.0; }
  template <class Tag> auto operator()(Tag, const Scalar& e) const {
    using C = typename Tag::type;
    const double ed = e.to_double();
    const C ec = static_cast<C>(ed), em1 = static_cast<C>(ed - 1.0);
    return [ec, em1](C gv, C b) {
      if (em1 == C(1)) return gv * ec * b;
      return gv * ec * std::pow(b, em1);
    };
  }
};

// Tensor base and exponent: db = g e b^(e-1) (0 where e == 0),
// de = g b^e log(b) (0 where b == 0 and e >= 0).
struct PowGrad {
  static constexpr const char* name = "PowBackward";
  static bool saves_a(bool, bool) { return true; }
  static bool saves_b(bool, bool) { return true; }
  template <class N> static Tensor first(const Tensor& g, const N& n) {
    return detail::map_new<Types::Floating>(
        "pow_backward", g.dtype(), detail::element_fn([]<class C>(C gv, C x, C y) {
          return y == C(0) ? C(0) : gv * y * std::pow(x, y - C(1));
        }),
        g, n.a(), n.b());
  }
  template <class N> static Tensor second(const Tensor& g, const N& n) {
    return detail::map_new<Types::Floating>(
        "pow_backward", g.dtype(), detail::element_fn([]<class C>(C gv, C x, C y) {
          return (x == C(0) && y >= C(0)) ? C(0) : gv * std::pow(x, y) * std::log(x);
        }),
        g, n.a(), n.b());
  }
};

// Scalar base s: de = g s^e log(s) (0 where s == 0 and e >= 0).
struct PowScalarBaseGrad {
  static constexpr const char* op = "pow_backward";
  static bool zero(const Scalar&) { return false; }
  template <class Tag> auto operator()(Tag, const Scalar& s) const {
    using C = typename Tag::type;
    const C sv = scalar_as<C>(s), logs = std::log(sv);
    return [sv, logs](C gv, C y) {
      return (sv == C(0) && y >= C(0)) ? C(0) : gv * std::pow(sv, y) * logs;
    };
  }
};

}  // namespace

Tensor pow(const Tensor& base, const Scalar& exponent) {
  check_defined("pow", base);
  const ScalarType common = detail::result_type(base, exponent);
  if (!is_floating_point(common) && exponent.is_integral() && exponent.to_long() < 0)
    throw Error("pow: integers to negative integer powers are not allowed (" +
                std::string(to_string(common)) + " tensor, exponent " + scalar_string(exponent) +
                ")");
  const double ed = exponent.to_double();
  Tensor out;
  if (is_floating_point(common) && ed == 2.0) {
    out = detail::unary_op<Types::Floating>(
        "pow", base, common, detail::element_fn([]<class C>(C x) { return x * x; }));
  } else if (is_floating_point(common) && ed == 0.5) {
    out = detail::unary_op<Types::Floating>(
        "pow", base, common, detail::element_fn([]<class C>(C x) { return std::sqrt(x); }));
  } else {
    out = detail::unary_op<Types::All>("pow", base, common, [&exponent](auto tag) {
      using C = typename decltype(tag)::type;
      const C ec = scalar_as<C>(exponent);
      if constexpr (std::is_same_v<C, bool>)
        return [ec](bool x) { return x || !ec; };
      else if constexpr (std::is_same_v<C, std::int64_t>)
        return [ec](C x) { return int_pow(x, ec); };
      else
        return [ec](C x) { return std::pow(x, ec); };
    });
  }
  record_saved_scalar<PowScalarGrad>("PowBackward", base, out, exponent);
  return out;
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  check_defined("pow", base);
  check_defined("pow", exponent);
  Tensor out =
      detail::binary_op<Types::All>("pow", base, exponent, detail::result_type(base, exponent), pow_maker());
  record_pair<PowGrad>(base, exponent, out);
  return out;
}

Tensor pow(const Scalar& base, const Tensor& exponent) {
  check_defined("pow", exponent);
  const ScalarType common = detail::result_type(exponent, base);
  Tensor out = detail::unary_op<Types::All>("pow", exponent, common, [&base](auto tag) {
    using C = typename decltype(tag)::type;
    const C sv = scalar_as<C>(base);
    if constexpr (std::is_same_v<C, bool>)
      return [sv](bool e) { return sv || !e; };
    else if constexpr (std::is_same_v<C, std::int64_t>)
      return [sv](C e) { return int_pow(sv, e); };
    else
      return [sv](C e) { return std::pow(sv, e); };
  });
  record_saved_scalar<PowScalarBaseGrad>("PowBackward", exponent, out, base);
  return out;
}

// ---- maximum, minimum: NaN propagates; on ties the gradient is split evenly.

namespace {

template <bool is_max> auto extremum_maker() {
  return [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_same_v<C, bool>) {
      if constexpr (is_max) return [](bool x, bool y) { return x || y; };
      else return [](bool x, bool y) { return x && y; };
    } else if constexpr (std::is_same_v<C, std::int64_t>) {
      return [](C x, C y) { return (is_max ? x > y : x < y) ? x : y; };
    } else {
      return [](C x, C y) {
        if (x != x) return x;
        if (y != y) return y;
        return (is_max ? x > y : x < y) ? x : y;
      };
    }
  };
}

// The gradient goes to the larger (maximum) operand, split evenly on ties.
template <bool is_max> struct ExtremumGrad {
  static constexpr const char* name = is_max ? "MaximumBackward" : "MinimumBackward";
  static bool saves_a(bool, bool) { return true; }
  static bool saves_b(bool, bool) { return true; }
  // The gradient of operand x against the other one, y.
  static Tensor part(const Tensor& g, const Tensor& x, const Tensor& y) {
    return detail::map_new<Types::Floating>(
        is_max ? "maximum_backward" : "minimum_backward", g.dtype(),
        detail::element_fn([]<class C>(C gv, C u, C v) {
          if (u == v) return gv / C(2);
          return (is_max ? u < v : u > v) ? C(0) : gv;
        }),
        g, x, y);
  }
  template <class N> static Tensor first(const Tensor& g, const N& n) {
    return part(g, n.a(), n.b());
  }
  template <class N> static Tensor second(const Tensor& g, const N& n) {
    return part(g, n.b(), n.a());
  }
};

template <bool is_max> Tensor extremum(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  Tensor out = detail::binary_op<Types::All>(op, a, b, detail::result_type(a, b),
                                             extremum_maker<is_max>());
  record_pair<ExtremumGrad<is_max>>(a, b, out);
  return out;
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum<true>("maximum", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum<false>("minimum", a, b); }

// ---- Operators.

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator-(const Scalar& a, const Tensor& b) { return rsub(b, a, 1); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }
Tensor operator/(const Scalar& a, const Tensor& b) { return rdiv(a, b); }

// ---- In place: unrecorded, the result is computed straight into self;
// recorded, out of place from a clone of self, then copied back (see
// autograd::rebase_history). The one scheme: detail::run_inplace.

namespace {

// self = f(self[, o]) for the arithmetic ops: o is the tensor operand (none
// when the maker holds a scalar one), common the result dtype (checked
// castable to self's), out_of_place the recorded form on a clone of self.
template <Types types, class OutOfPlace, class Maker, class... O>
Tensor& arith_inplace(const char* op, Tensor& self, ScalarType common, OutOfPlace&& out_of_place,
                      Maker&& maker, const O&... o) {
  static_assert(sizeof...(O) <= 1, "one tensor operand at most");
  if constexpr (sizeof...(O) == 1) {
    const IntArrayRef os = (o.sizes(), ...);
    detail::check_inplace_operands(op, self, &os, common);
  } else {
    detail::check_inplace_operands(op, self, nullptr, common);
  }
  return detail::run_inplace(self, {&self, &o...}, out_of_place, [&] {
    detail::compute_inplace<types>(op, self, common, maker, o...);
  });
}

// The checks every in-place op with a tensor operand starts with, and its
// result dtype.
ScalarType inplace_common(const char* op, const Tensor& self, const Tensor& o) {
  detail::check_self(op, self);
  check_defined(op, o, "other");
  return detail::result_type(self, o);
}
ScalarType inplace_common(const char* op, const Tensor& self, const Scalar& o) {
  detail::check_self(op, self);
  return detail::result_type(self, o);
}

}  // namespace

Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) {
  const ScalarType common = inplace_common("add_", *this, o);
  check_alpha("add_", common, alpha);
  return arith_inplace<Types::All>(
      "add_", *this, common, [&](const Tensor& c) { return sigma::add(c, o, alpha); },
      add_maker(alpha), o);
}

Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) {
  const ScalarType common = inplace_common("sub_", *this, o);
  check_not_bool("sub_", common, "ne() for a logical xor");
  check_alpha("sub_", common, alpha);
  return arith_inplace<Types::All>(
      "sub_", *this, common, [&](const Tensor& c) { return sigma::sub(c, o, alpha); },
      add_maker(negate(alpha)), o);
}

Tensor& Tensor::add_(const Scalar& o, const Scalar& alpha) {
  const ScalarType common = inplace_common("add_", *this, o);
  check_alpha("add_", common, alpha);
  return arith_inplace<Types::All>(
      "add_", *this, common, [&](const Tensor& c) { return sigma::add(c, o, alpha); },
      add_scalar_maker(o, alpha));
}

Tensor& Tensor::sub_(const Scalar& o, const Scalar& alpha) {
  const ScalarType common = inplace_common("sub_", *this, o);
  check_not_bool("sub_", common, "ne() for a logical xor");
  check_alpha("sub_", common, alpha);
  return arith_inplace<Types::All>(
      "sub_", *this, common, [&](const Tensor& c) { return sigma::sub(c, o, alpha); },
      add_scalar_maker(o, negate(alpha)));
}

Tensor& Tensor::mul_(const Tensor& o) {
  return arith_inplace<Types::All>(
      "mul_", *this, inplace_common("mul_", *this, o),
      [&](const Tensor& c) { return sigma::mul(c, o); }, mul_maker(), o);
}

Tensor& Tensor::mul_(const Scalar& o) {
  return arith_inplace<Types::All>(
      "mul_", *this, inplace_common("mul_", *this, o),
      [&](const Tensor& c) { return sigma::mul(c, o); }, mul_scalar_maker(o));
}

Tensor& Tensor::div_(const Tensor& o) {
  return arith_inplace<Types::Floating>(
      "div_", *this, detail::float_result(inplace_common("div_", *this, o)),
      [&](const Tensor& c) { return sigma::div(c, o); }, div_maker(), o);
}

Tensor& Tensor::div_(const Scalar& o) {
  return arith_inplace<Types::Floating>(
      "div_", *this, detail::float_result(inplace_common("div_", *this, o)),
      [&](const Tensor& c) { return sigma::div(c, o); }, div_scalar_maker(o));
}

Tensor& Tensor::neg_() {
  detail::check_self("neg_", *this);
  check_not_bool("neg_", dtype(), "x == false to invert a mask");
  return arith_inplace<Types::All>(
      "neg_", *this, dtype(), [](const Tensor& c) { return sigma::neg(c); }, neg_maker());
}

}  // namespace sigma
