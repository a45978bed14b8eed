// log_sigmoid(x) = min(x, 0) - log1p(e^-|x|) = -softplus(-x), and its backward
// dy * sigmoid(-x): SIMD kernels (compiled once per target) and the public span
// API (contracts in sigma/kernels.h). Both terms have the sign of the result,
// so the sum of the unrounded pair from log1p_core-inl.h is rounded once:
// exact at huge |x| (log_sigmoid(-1e30) = -1e30, log_sigmoid(100) = -e^-100).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/log_sigmoid.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/simd-inl.h"
#include "kernels/exp_core-inl.h"
#include "kernels/log1p_core-inl.h"

SIGMA_KERNELS_BEGIN

template <class D>
HWY_INLINE hn::Vec<D> LogSigmoidVec(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk, hn::Vec<D> x) {
  using L = Log1pConsts<hn::TFromD<D>>;
  const auto z = hn::Neg(x);
  const auto zero = hn::Zero(d);
  // -x >= kLinear: -(-x + log1p(e^x)) rounds to x (also -inf).
  const auto is_x = hn::Ge(z, hn::Set(d, L::kLinear));
  if (HWY_LIKELY(AllFastFrom(d, ek, z))) {
    const auto p = Softplus<false, false>(d, ek, lk, z, zero);
    return hn::IfThenElse(is_x, x, hn::Neg(PostScale(p, hn::Add(p.s.hi, p.s.lo))));
  }
  const auto p = Softplus<true, false>(d, ek, lk, z, zero);
  const auto y = hn::IfThenElse(is_x, x, hn::Neg(PostScale(p, hn::Add(p.s.hi, p.s.lo))));
  return hn::IfThenElse(hn::Eq(x, x), y, x);  // NaN in, the same NaN out
}

template <class T>
void LogSigmoidKernel(const T* x, T* y, std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> ek(d);
  const LogVecs<hn::ScalableTag<T>> lk(d);
  MapUnary(d, x, y, n, [&](auto dd, auto v) { return LogSigmoidVec(dd, ek, lk, v); });
}
SIGMA_UNARY_KERNELS(LogSigmoid, LogSigmoidKernel)

// dx = dy * sigmoid(-x).
template <class D>
HWY_INLINE hn::Vec<D> LogSigmoidBackwardVec(D d, const ExpVecs<D>& k, hn::Vec<D> dy, hn::Vec<D> x) {
  const auto z = hn::Neg(x);
  const auto zero = hn::Zero(d);
  if (HWY_LIKELY(AllFastFrom(d, k, z))) return DyTimesSigmoid<false, false>(d, k, dy, z, zero);
  const auto g = DyTimesSigmoid<true, false>(d, k, dy, z, zero);
  return hn::IfThenElse(hn::Eq(x, x), g, x);
}

template <class T>
void LogSigmoidBackwardKernel(const T* dy, const T* x, T* dx, std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  MapBinary(d, dy, x, dx, n,
            [&](auto dd, auto g, auto v) { return LogSigmoidBackwardVec(dd, k, g, v); });
}
SIGMA_BINARY_KERNELS(LogSigmoidBackward, LogSigmoidBackwardKernel)

SIGMA_KERNELS_END

#if HWY_ONCE
#include "kernels/dispatch.h"
#include "sigma/kernels.h"
#include "sigma/reference.h"

namespace sigma {
SIGMA_DEFINE_UNARY(log_sigmoid, LogSigmoid, &reference::log_sigmoid)
SIGMA_DEFINE_BINARY(log_sigmoid_backward, "x", LogSigmoidBackward)

}  // namespace sigma
#endif  // HWY_ONCE
