// logical.cpp: logical_not / logical_and / logical_or and isclose (bool
// results, no gradient), amax / amin over several dimensions (the gradient
// shared equally among tied extrema, as LibTorch) and count_nonzero (int64).
//
// amax / amin reduce one dimension at a time with max / min (exact: the
// extremum of extrema), under NoGradGuard; their node is below.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;
using detail::Out;
using detail::Types;

namespace {

// Nonzero is true; NaN is nonzero.
template <class C> bool truth(C v) noexcept {
  if constexpr (std::is_same_v<C, bool>) return v;
  else return v != C(0);
}

template <bool And> Tensor logical_binary(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b, "other");
  return detail::binary_op<Types::All, Out::Bool>(
      op, a, b, detail::result_type(a, b), detail::element_fn([]<class C>(C x, C y) {
        return And ? (truth(x) && truth(y)) : (truth(x) || truth(y));
      }));
}


std::vector<std::int64_t> mask_dims(const std::vector<bool>& mask) {
  std::vector<std::int64_t> d;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) d.push_back(static_cast<std::int64_t>(i));
  return d;
}

// g (the reduced shape) with the reduced dimensions put back as size 1.
Tensor keep_dims(Tensor g, const std::vector<std::int64_t>& dims, bool keepdim) {
  if (keepdim) return g;
  for (std::int64_t d : dims) g = g.unsqueeze(d);  // ascending: each lands where it was
  return g;
}

// d amax / dx: g where x equals the extremum, divided by how many do.
struct ExtremaBackward final : autograd::Node {
  std::string name_;
  SavedVariable x, y;  // y with keepdim
  std::vector<std::int64_t> dims;
  bool keepdim;
  ExtremaBackward(std::string n, std::vector<std::int64_t> d, bool k)
      : name_(std::move(n)), dims(std::move(d)), keepdim(k) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override {
    const Tensor xv = x.unpack(this), yv = y.unpack(this);
    const Tensor hit = xv.eq(yv).to(g[0].dtype());
    const Tensor count = hit.sum(dims, true);
    return {hit * keep_dims(g[0], dims, keepdim) / count};
  }
  void release_variables() override {
    x.reset();
    y.reset();
  }
};

template <bool IsMax> Tensor extrema(const char* op, const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_defined(op, x);
  const std::vector<bool> mask = detail::reduce_mask(op, x, dims);
  const std::vector<std::int64_t> reduced = mask_dims(mask);
  for (std::int64_t d : reduced)
    if (x.size(d) == 0)
      throw Error(std::string(op) + ": cannot reduce over dimension " + std::to_string(d) +
                  " of size 0 (shape " + shape_string(x.sizes()) + "): the " +
                  (IsMax ? "maximum" : "minimum") + " of no elements is undefined");
  Tensor kept;
  {
    NoGradGuard guard;
    kept = x.dim() == 0 ? x.clone() : x;
    for (std::int64_t d : reduced) kept = std::get<0>(IsMax ? kept.max(d, true) : kept.min(d, true));
  }
  Tensor out = kept;
  if (!keepdim)
    for (auto it = reduced.rbegin(); it != reduced.rend(); ++it) out = out.squeeze(*it);
  if (auto node = make_node<ExtremaBackward>({&x}, IsMax ? "AmaxBackward0" : "AminBackward0",
                                             reduced, keepdim)) {
    node->x = SavedVariable(x);
    node->y = SavedVariable(kept);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor logical_not(const Tensor& x) {
  check_defined("logical_not", x);
  return detail::unary_op<Types::All, Out::Bool>("logical_not", x, x.dtype(),
                                                 detail::element_fn([]<class C>(C v) { return !truth(v); }));
}
Tensor logical_and(const Tensor& a, const Tensor& b) { return logical_binary<true>("logical_and", a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return logical_binary<false>("logical_or", a, b); }

// As LibTorch: a == b, or both NaN (equal_nan), or |a - b| finite and at most
// atol + |rtol b|, computed in the operands' dtype (integral and bool: the
// default float dtype).
Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_defined("isclose", a);
  check_defined("isclose", b, "other");
  if (a.dtype() != b.dtype())
    throw Error(std::string("isclose: the tensors' dtypes must match, got ") + to_string(a.dtype()) +
                " and " + to_string(b.dtype()));
  if (!(rtol >= 0) || !(atol >= 0)) {
    std::ostringstream m;
    m << "isclose: rtol and atol must be greater than or equal to zero, got rtol = " << rtol
      << ", atol = " << atol;
    throw Error(m.str());
  }
  const ScalarType compute = detail::float_result(a.dtype());
  return detail::binary_op<Types::Floating, Out::Bool>(
      "isclose", a, b, compute, [rtol, atol, equal_nan](auto tag) {
        using C = typename decltype(tag)::type;
        const C r = static_cast<C>(rtol), t = static_cast<C>(atol);
        return [r, t, equal_nan](C x, C y) {
          if (x == y) return true;
          if (equal_nan && std::isnan(x) && std::isnan(y)) return true;
          const C err = std::abs(x - y);
          return std::isfinite(err) && err <= t + std::abs(r * y);
        };
      });
}

Tensor amax(const Tensor& x, IntArrayRef dim, bool keepdim) { return extrema<true>("amax", x, dim, keepdim); }
Tensor amin(const Tensor& x, IntArrayRef dim, bool keepdim) { return extrema<false>("amin", x, dim, keepdim); }

Tensor count_nonzero(const Tensor& x, IntArrayRef dim) {
  check_defined("count_nonzero", x);
  const std::vector<std::int64_t> dims = mask_dims(detail::reduce_mask("count_nonzero", x, dim));
  NoGradGuard guard;
  const Tensor nz = x.ne(0);
  if (x.dim() == 0) return nz.to(kLong);
  return nz.sum(dims, false).to(kLong);
}
Tensor count_nonzero(const Tensor& x, std::optional<std::int64_t> dim) {
  if (dim) return count_nonzero(x, IntArrayRef{*dim});
  return count_nonzero(x, IntArrayRef{});
}

Tensor Tensor::logical_not() const { return sigma::logical_not(*this); }
Tensor Tensor::logical_and(const Tensor& other) const { return sigma::logical_and(*this, other); }
Tensor Tensor::logical_or(const Tensor& other) const { return sigma::logical_or(*this, other); }
Tensor Tensor::isclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  return sigma::isclose(*this, other, rtol, atol, equal_nan);
}
Tensor Tensor::amax(IntArrayRef dim, bool keepdim) const { return sigma::amax(*this, dim, keepdim); }
Tensor Tensor::amin(IntArrayRef dim, bool keepdim) const { return sigma::amin(*this, dim, keepdim); }
Tensor Tensor::count_nonzero(IntArrayRef dim) const { return sigma::count_nonzero(*this, dim); }
Tensor Tensor::count_nonzero(std::optional<std::int64_t> dim) const {
  return sigma::count_nonzero(*this, dim);
}

}  // namespace sigma
