// hardsigmoid(x) = min(max(x + 3, 0), 6) / 6 and its backward: SIMD kernels
// (compiled once per target) and the public span API (contracts in
// sigma/kernels.h).
//
// (x + 3) / 6 rounded once: x + 3 = s + e exactly (TwoSum), q = s / 6
// rounded, the division's residual s - 6 q exact by an fma, and
// y = q + (residual + e) / 6. The piecewise-linear shape itself needs no
// table or polynomial; this is the worked example of docs/ARCHITECTURE.md.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/hardsigmoid.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/simd-inl.h"

SIGMA_KERNELS_BEGIN

template <class T>
void HardsigmoidKernel(const T* x, T* y, std::size_t n) {
  const hn::ScalableTag<T> d;
  const auto three = hn::Set(d, T(3)), six = hn::Set(d, T(6));
  const auto zero = hn::Zero(d), one = hn::Set(d, T(1));
  MapUnary(d, x, y, n, [&](auto dd, auto v) {
    const Pair<decltype(dd)> t = TwoSum<decltype(dd)>(v, three);
    const auto q = hn::Div(t.hi, six);
    const auto res = FmaNeg(dd, q, six, t.hi);  // t.hi - 6 q, exact
    auto r = hn::Add(q, hn::Div(hn::Add(res, t.lo), six));
    r = hn::IfThenElse(hn::Le(v, hn::Neg(three)), zero, r);
    r = hn::IfThenElse(hn::Ge(v, three), one, r);
    return hn::IfThenElse(hn::Eq(v, v), r, v);  // NaN in, the same NaN out
  });
}
SIGMA_UNARY_KERNELS(Hardsigmoid, HardsigmoidKernel)

// dx = dy / 6 for -3 < x < 3, else 0 (PyTorch's open interval); NaN x gives
// NaN (PyTorch gives 0 there).
template <class T>
void HardsigmoidBackwardKernel(const T* dy, const T* x, T* dx, std::size_t n) {
  const hn::ScalableTag<T> d;
  const auto three = hn::Set(d, T(3)), six = hn::Set(d, T(6));
  MapBinary(d, dy, x, dx, n, [&](auto dd, auto g, auto v) {
    const auto inside = hn::And(hn::Gt(v, hn::Neg(three)), hn::Lt(v, three));
    const auto r = hn::IfThenElseZero(inside, hn::Div(g, six));
    (void)dd;
    return hn::IfThenElse(hn::Eq(v, v), r, v);
  });
}
SIGMA_BINARY_KERNELS(HardsigmoidBackward, HardsigmoidBackwardKernel)

SIGMA_KERNELS_END

#if HWY_ONCE
#include <algorithm>

#include "kernels/dispatch.h"
#include "sigma/kernels.h"

namespace sigma {
namespace {
// hardsigmoid in long double, for rounding 16-bit results correctly.
double hardsigmoid_exact(double x) noexcept {
  return double(std::clamp(((long double)x + 3) / 6, 0.0L, 1.0L));
}
}  // namespace
SIGMA_DEFINE_UNARY(hardsigmoid, Hardsigmoid, &hardsigmoid_exact)
SIGMA_DEFINE_BINARY(hardsigmoid_backward, "x", HardsigmoidBackward)

}  // namespace sigma
#endif  // HWY_ONCE
