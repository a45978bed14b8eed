// compare.cpp: comparisons (bool results, no gradient), isnan, isfinite,
// where (gradient to the selected operand), equal and allclose.
//
// Comparisons broadcast and compare in the promoted dtype, as PyTorch
// (an int64 tensor against 2.5 compares in the default float dtype).
#include <cmath>

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

namespace {

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

template <Cmp c, class C> bool compare(C x, C y) noexcept {
  if constexpr (c == Cmp::Eq) return x == y;
  else if constexpr (c == Cmp::Ne) return x != y;
  else if constexpr (c == Cmp::Lt) return x < y;
  else if constexpr (c == Cmp::Le) return x <= y;
  else if constexpr (c == Cmp::Gt) return x > y;
  else return x >= y;
}

template <Cmp c> Tensor compare_tensors(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  return detail::binary_op<Types::All, Out::Bool>(
      op, a, b, detail::result_type(a, b),
      detail::element_fn([]<class C>(C x, C y) { return compare<c>(x, y); }));
}

template <Cmp c> Tensor compare_scalar(const char* op, const Tensor& a, const Scalar& s) {
  check_defined(op, a);
  return detail::unary_op<Types::All, Out::Bool>(op, a, detail::result_type(a, s), [&s](auto tag) {
    using C = typename decltype(tag)::type;
    const C v = scalar_as<C>(s);
    return [v](C x) { return compare<c>(x, v); };
  });
}

// Whether every element of a bool tensor made by this file (contiguous) is true.
bool all_true(const Tensor& t) {
  const bool* p = detail::data_of<const bool>(t);
  const std::int64_t n = t.numel();
  for (std::int64_t i = 0; i < n; ++i)
    if (!p[i]) return false;
  return true;
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare_tensors<Cmp::Eq>("eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare_tensors<Cmp::Ne>("ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare_tensors<Cmp::Lt>("lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare_tensors<Cmp::Le>("le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare_tensors<Cmp::Gt>("gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare_tensors<Cmp::Ge>("ge", a, b); }

Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, const Scalar& b) { return compare_scalar<Cmp::Eq>("eq", a, b); }
Tensor operator!=(const Tensor& a, const Scalar& b) { return compare_scalar<Cmp::Ne>("ne", a, b); }
Tensor operator<(const Tensor& a, const Scalar& b) { return compare_scalar<Cmp::Lt>("lt", a, b); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return compare_scalar<Cmp::Le>("le", a, b); }
Tensor operator>(const Tensor& a, const Scalar& b) { return compare_scalar<Cmp::Gt>("gt", a, b); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return compare_scalar<Cmp::Ge>("ge", a, b); }

Tensor isnan(const Tensor& x) {
  check_defined("isnan", x);
  return detail::unary_op<Types::All, Out::Bool>("isnan", x, x.dtype(), [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<C>) return [](C v) { return v != v; };
    else return [](C) { return false; };
  });
}

Tensor isfinite(const Tensor& x) {
  check_defined("isfinite", x);
  return detail::unary_op<Types::All, Out::Bool>("isfinite", x, x.dtype(), [](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<C>) return [](C v) { return std::isfinite(v); };
    else return [](C) { return true; };
  });
}

// ---- where.

namespace {

void check_condition(const Tensor& cond) {
  check_defined("where", cond);
  if (cond.dtype() != kBool)
    throw Error(std::string("where: expected a bool condition, got ") + to_string(cond.dtype()));
}

// g where cond == keep, else 0; g has the broadcast shape. The condition is
// read converted to g's dtype (exact: 0 or 1), as in where.
Tensor masked_grad(const Tensor& cond, const Tensor& g, bool keep) {
  return detail::map_new<Types::All>(
      "where_backward", g.dtype(),
      [keep](auto tag) {
        using C = typename decltype(tag)::type;
        return [keep](C c, C v) { return (c != C(0)) == keep ? v : C{}; };
      },
      cond, g);
}

struct WhereBackward final : autograd::Node {
  SavedVariable cond;
  InputInfo ia, ib;
  std::string name() const override { return "WhereBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor c = cond.unpack(this);
    Tensor ga, gb;
    if (needs_grad(*this, 0)) ga = ia.reduce(masked_grad(c, g[0], true));
    if (num_next() > 1 && needs_grad(*this, 1)) gb = ib.reduce(masked_grad(c, g[0], false));
    if (num_next() == 1) return {ga};
    return {ga, gb};
  }
  void release_variables() override { cond.reset(); }
  std::size_t num_next() const { return next_edges().size(); }
};

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_condition(cond);
  check_defined("where", a);
  check_defined("where", b);
  // The condition joins the element loop converted to the common dtype
  // (exactly 0 or 1) and selects; no arithmetic touches the values.
  Tensor out = detail::map_new<Types::All>(
      "where", detail::result_type(a, b),
      detail::element_fn([]<class C>(C c, C x, C y) { return c != C(0) ? x : y; }),
      cond, a, b);
  const IntArrayRef shape = out.sizes();
  if (auto node = make_node<WhereBackward>({&a, &b})) {
    node->cond = SavedVariable(cond);
    node->ia = InputInfo(a, shape);
    node->ib = InputInfo(b, shape);
    set_history(out, node);
  }
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  check_condition(cond);
  check_defined("where", a);
  Tensor out = detail::map_new<Types::All>(
      "where", detail::result_type(a, b),
      [&b](auto tag) {
        using C = typename decltype(tag)::type;
        const C v = scalar_as<C>(b);
        return [v](C c, C x) { return c != C(0) ? x : v; };
      },
      cond, a);
  const IntArrayRef shape = out.sizes();
  if (auto node = make_node<WhereBackward>({&a})) {
    node->cond = SavedVariable(cond);
    node->ia = InputInfo(a, shape);
    set_history(out, node);
  }
  return out;
}

// ---- equal, allclose. allclose: |a - b| <= atol + rtol |b| element-wise
// (broadcasting), or a == b; NaN is never close.

bool equal(const Tensor& a, const Tensor& b) {
  check_defined("equal", a);
  check_defined("equal", b);
  if (!(a.sizes() == b.sizes())) return false;
  NoGradGuard no_grad;
  return all_true(eq(a, b));
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  check_defined("allclose", a);
  check_defined("allclose", b);
  NoGradGuard no_grad;
  const Tensor close = detail::binary_op<Types::All, Out::Bool>(
      "allclose", a, b, detail::result_type(a, b), [rtol, atol](auto tag) {
        using C = typename decltype(tag)::type;
        return [rtol, atol](C x, C y) {
          const double u = static_cast<double>(x), v = static_cast<double>(y);
          if (u == v) return true;
          // As PyTorch: an infinite difference is never close (inf against -inf).
          const double d = std::abs(u - v);
          return std::isfinite(d) && d <= atol + rtol * std::abs(v);
        };
      });
  return all_true(close);
}

// all/any: whether every / some element is non-zero (NaN counts as non-zero),
// as a zero-dimensional bool tensor.
Tensor all(const Tensor& x) {
  check_defined("all", x);
  NoGradGuard no_grad;
  const Tensor nz = x.dtype() == kBool ? x.contiguous() : ne(x, scalar_tensor(0, dtype(x.dtype())));
  return scalar_tensor(all_true(nz), dtype(kBool));
}

Tensor any(const Tensor& x) {
  check_defined("any", x);
  NoGradGuard no_grad;
  const Tensor z = eq(x, scalar_tensor(0, dtype(x.dtype())));
  return scalar_tensor(!all_true(z), dtype(kBool));
}

Tensor Tensor::all() const { return sigma::all(*this); }
Tensor Tensor::any() const { return sigma::any(*this); }

}  // namespace sigma
