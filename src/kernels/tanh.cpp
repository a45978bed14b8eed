// tanh(x) and its backward dy * (1 - y^2) from the output: SIMD kernels
// (compiled once per target) and the public span API (contracts in
// sigma/kernels.h).
//
// tanh is odd: computed at z = |x| and given x's sign (so tanh(-0) = -0).
//   z <  kTanhSmall: z + z^3 P(z^2), an odd minimax polynomial (tanh(x) = x
//                    for tiny x; no exp, no cancellation);
//   z >= kTanhSmall: 1 - 2 sigmoid(-2z) from the unrounded sigmoid pieces of
//                    exp_core-inl.h, 1 - v as an exact pair, rounded once.
// 2z is clamped at 2 kTanhOne, where tanh has long rounded to 1.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/tanh.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/simd-inl.h"
#include "kernels/exp_core-inl.h"

SIGMA_KERNELS_BEGIN

template <class T>
struct TanhConsts;
// clang-format off
template <>
struct TanhConsts<float> {
  // tanh(z) = z + z^3 P(z^2) for z < kTanhSmall: relative error <= 2^-29.4.
  static constexpr float kTanhSmall = 0.375f;
  static constexpr float kTanhP[] = {-0x1.555556p-2f, 0x1.111102p-3f, -0x1.ba0d4cp-5f,
                                     0x1.640ccap-6f, -0x1.f936a6p-8f};
  // Beyond this, tanh rounds to 1 (and 2z stays in the fast exp range).
  static constexpr float kTanhOne = 40.0f;
};
template <>
struct TanhConsts<double> {
  // relative error <= 2^-59.5
  static constexpr double kTanhSmall = 0.25;
  static constexpr double kTanhP[] = {-0x1.5555555555555p-2, 0x1.11111111110a0p-3,
                                      -0x1.ba1ba1b9f660bp-5, 0x1.664f485d6d4d4p-6,
                                      -0x1.226e22fa6f453p-7, 0x1.d6c9f446c47cbp-9,
                                      -0x1.7c2ad98792f89p-10, 0x1.17cd5b9306c04p-11};
  static constexpr double kTanhOne = 350.0;
};
// clang-format on

template <class D>
struct TanhVecs {
  using F = TanhConsts<hn::TFromD<D>>;
  static constexpr std::size_t kDeg = sizeof(F::kTanhP) / sizeof(F::kTanhP[0]);
  explicit TanhVecs(D d)
      : small(hn::Set(d, F::kTanhSmall)), two_z_max(hn::Set(d, 2 * F::kTanhOne)) {
    SetAll(d, p, F::kTanhP);
  }
  hn::Vec<D> small, two_z_max;
  hn::Vec<D> p[kDeg];
};

template <class D>
HWY_INLINE hn::Vec<D> TanhSmall(D d, const TanhVecs<D>& t, hn::Vec<D> z) {
  const auto z2 = hn::Mul(z, z);
  return Fma(d, hn::Mul(z2, z), Horner(d, t.p, z2), z);
}

template <class D>
HWY_INLINE hn::Vec<D> TanhLarge(D d, const ExpVecs<D>& k, const TanhVecs<D>& t, hn::Vec<D> z) {
  const auto z2 = hn::Min(hn::Add(z, z), t.two_z_max);
  const ExpParts<D> e = ExpNeg<false>(d, k, z2, hn::Zero(d));
  const auto s = Pow2Neg16(d, k, e.mfield);
  const SigmoidSplit<D> sp = SplitSigmoid(d, k, e, s);
  const Pair<D> w = SigNegWPair(d, sp);  // sigmoid(-2z) = (w.hi + w.lo) s
  const auto s2 = hn::Add(s, s);
  const Pair<D> r = FastTwoSum<D>(k.one, hn::Neg(hn::Mul(w.hi, s2)));
  return hn::Add(r.hi, hn::Sub(r.lo, hn::Mul(w.lo, s2)));
}

template <class D>
HWY_INLINE hn::Vec<D> TanhVec(D d, const ExpVecs<D>& k, const TanhVecs<D>& t, hn::Vec<D> x) {
  const auto z = hn::Abs(x);
  const auto is_small = hn::Lt(z, t.small);
  hn::Vec<D> y;
  if (hn::AllTrue(d, is_small)) {
    y = TanhSmall(d, t, z);
  } else if (hn::AllFalse(d, is_small)) {
    y = TanhLarge(d, k, t, z);
  } else {
    y = hn::IfThenElse(is_small, TanhSmall(d, t, z), TanhLarge(d, k, t, z));
  }
  y = hn::CopySignToAbs(y, x);
  return hn::IfThenElse(hn::Eq(x, x), y, x);  // NaN in, the same NaN out
}

template <class T>
void TanhKernel(const T* x, T* y, std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  const TanhVecs<hn::ScalableTag<T>> t(d);
  MapUnary(d, x, y, n, [&](auto dd, auto v) { return TanhVec(dd, k, t, v); });
}
SIGMA_UNARY_KERNELS(Tanh, TanhKernel)

template <class T>
void TanhBackwardKernel(const T* dy, const T* y, T* dx, std::size_t n) {
  const hn::ScalableTag<T> d;
  const auto one = hn::Set(d, T(1));
  MapBinary(d, dy, y, dx, n, [&](auto dd, auto g, auto v) {
    const auto r = hn::Mul(g, FmaNeg(dd, v, v, one));  // dy * (1 - y^2)
    // NaN y gives that NaN (fma(-y, y, 1) has two NaN operands, whose choice
    // differs between hardware and software fma).
    return hn::IfThenElse(hn::Eq(v, v), r, v);
  });
}
SIGMA_BINARY_KERNELS(TanhBackward, TanhBackwardKernel)

SIGMA_KERNELS_END

#if HWY_ONCE
#include <cmath>

#include "kernels/dispatch.h"
#include "sigma/kernels.h"

namespace sigma {
namespace {
// tanh in long double, for rounding 16-bit results correctly.
double tanh_exact(double x) noexcept { return double(std::tanh((long double)x)); }
}  // namespace
SIGMA_DEFINE_UNARY(tanh, Tanh, &tanh_exact)
SIGMA_DEFINE_BINARY(tanh_backward, "y", TanhBackward)

}  // namespace sigma
#endif  // HWY_ONCE
