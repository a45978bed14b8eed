// silu(x) = x * sigmoid(x) and its backward dy * s * (1 + x (1 - s)): SIMD
// kernels (compiled once per target) and the public span API (contracts in
// sigma/kernels.h).
//
// Forward: x times the unrounded sigmoid pieces of exp_core-inl.h,
// x q0 (1 + c) for x >= 0 and x (wh + wl) 2^-m for x < 0, rounded once.
// Backward, with z = |x|:
//   x >= 0: s (1 + z sigmoid(-z)), all terms positive;
//   x < 0:  sigmoid(-z) F, F = 1 - z sigmoid(z) = (1 - z q0) - z q0 c, the
//           product z q0 fused into the subtraction, so F only loses what
//           sigmoid(z)'s own 2^-28 error costs near F's root.
// That root, x0 = -1.2785 (silu's minimum), is where the derivative vanishes;
// within kSiluBand of it the derivative is a polynomial in x - x0 instead
// (x - x0hi is exact there), so the relative error stays bounded. The factor
// 2^-m of sigmoid(-z) is applied last (after dy) beyond kFastZ.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/silu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/simd-inl.h"
#include "kernels/exp_core-inl.h"

SIGMA_KERNELS_BEGIN

template <class T>
struct SiluConsts;
// clang-format off
template <>
struct SiluConsts<float> {
  // Beyond this x, x * sigmoid(x) rounds to x (from 17.4).
  static constexpr float kIsX = 20.0f;
  // Below -kZMaxSilu, x sigmoid(x) rounds to -0 (112 e^-112 < 2^-150).
  static constexpr float kZMaxSilu = 112.0f;
  // silu'(x) = s(x)(1 + x s(-x)) vanishes at x0 = x0_hi + x0_lo; within
  // kSiluBand of x0 it is (x - x0) P(x - x0): relative error <= 2^-26.6.
  static constexpr float kSiluX0Hi = -0x1.474974p+0f;
  static constexpr float kSiluX0Lo = 0x1.bdf6fap-27f;
  static constexpr float kSiluBand = 0.0625f;
  static constexpr float kSiluBandP[] = {0x1.be141p-3f, 0x1.2c5634p-3f, 0x1.353eb2p-6f,
                                         -0x1.f2cbacp-7f, -0x1.b0b6c6p-8f};
};
template <>
struct SiluConsts<double> {
  static constexpr double kIsX = 40.0;  // from 37.5
  static constexpr double kZMaxSilu = 753.0;
  static constexpr double kSiluX0Hi = -0x1.474973c84120bp+0;
  static constexpr double kSiluX0Lo = -0x1.f8d74bc9ac154p-54;
  static constexpr double kSiluBand = 0.03125;  // relative error <= 2^-55.5
  static constexpr double kSiluBandP[] = {0x1.be1410460527fp-3,  0x1.2c563458cc0adp-3,
                                          0x1.353eb573c999ep-6,  -0x1.f2d0e32bc392ap-7,
                                          -0x1.b0f82c13f088ap-8, 0x1.098e9797e1a9dp-13,
                                          0x1.a29d1190a40d7p-11, 0x1.8555a485d8402p-13};
};
// clang-format on

template <bool kSlow, class D>
HWY_INLINE hn::Vec<D> SiluVec(D d, const ExpVecs<D>& k, hn::Vec<D> x) {
  using T = hn::TFromD<D>;
  using F = SiluConsts<T>;
  const auto zero = hn::Zero(d);
  const auto za = hn::Min(hn::Abs(x), kSlow ? hn::Set(d, F::kZMaxSilu) : k.fast_z);
  const auto r = SigmoidPieces<kSlow>(d, k, za);
  const SigmoidSplit<D>& sp = r.sp;
  const auto yp = Fma(d, x, sp.q0, hn::Mul(hn::Mul(x, sp.q0), sp.c));
  const Pair<D> w = SigNegWPair(d, sp);
  const auto yn = r.ToNeg(Fma(d, x, w.hi, hn::Mul(x, w.lo)));
  auto y = hn::IfThenElse(hn::Lt(x, zero), yn, yp);
  y = hn::IfThenElse(hn::Gt(x, hn::Set(d, F::kIsX)), x, y);
  if constexpr (kSlow) {
    y = hn::IfThenElse(hn::Lt(x, hn::Set(d, -F::kZMaxSilu)), hn::Set(d, T(-0.0)), y);
    y = hn::IfThenElse(hn::Eq(x, x), y, x);  // NaN in, the same NaN out
  }
  return y;
}

template <class T>
void SiluKernel(const T* x, T* y, std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  MapUnary(d, x, y, n, [&](auto dd, auto v) {
    return HWY_LIKELY(AllFastFrom(dd, k, v)) ? SiluVec<false>(dd, k, v) : SiluVec<true>(dd, k, v);
  });
}
SIGMA_UNARY_KERNELS(Silu, SiluKernel)

template <class D>
struct SiluBandVecs {
  using F = SiluConsts<hn::TFromD<D>>;
  static constexpr std::size_t kDeg = sizeof(F::kSiluBandP) / sizeof(F::kSiluBandP[0]);
  explicit SiluBandVecs(D d)
      : x0_hi(hn::Set(d, F::kSiluX0Hi)),
        x0_lo(hn::Set(d, F::kSiluX0Lo)),
        band(hn::Set(d, F::kSiluBand)) {
    SetAll(d, p, F::kSiluBandP);
  }
  hn::Vec<D> x0_hi, x0_lo, band;
  hn::Vec<D> p[kDeg];
};

template <bool kSlow, class D>
HWY_INLINE hn::Vec<D> SiluBackwardVec(D d, const ExpVecs<D>& k, const SiluBandVecs<D>& b,
                                      hn::Vec<D> dy, hn::Vec<D> x) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto one = k.one;
  const auto za = hn::Min(hn::Abs(x), kSlow ? hn::Set(d, C::kZMaxGrad) : k.fast_z);
  const ExpParts<D> e = ExpNeg<false>(d, k, za, zero);
  const GradScale<kSlow, D> g = MakeGradScale<kSlow>(d, k, za, e);
  const SigmoidSplit<D> sp = SplitSigmoid(d, k, e, g.s);
  const auto wn = SigNegW(d, sp);  // sigmoid(-z) 2^m
  const auto xneg = hn::Lt(x, zero);
  // x >= 0: sigmoid(z) (1 + z sigmoid(-z))
  const auto gp = hn::Mul(SigPos(d, sp), Fma(d, za, hn::Mul(wn, g.s), one));
  // x < 0: sigmoid(-z) F, F = 1 - z sigmoid(z) = (1 - z q0) - z q0 c
  const auto fm = FmaNeg(d, hn::Mul(za, sp.q0), sp.c, FmaNeg(d, za, sp.q0, one));
  const auto gm = hn::Mul(hn::Mul(wn, fm), g.s);
  auto r = hn::Mul(dy, hn::IfThenElse(xneg, gm, gp));
  if constexpr (kSlow) {  // beyond kFastZ: scale last, so dy e^-z stays exact where normal
    const auto far_neg = hn::AndNot(g.near, xneg);
    r = hn::IfThenElse(far_neg, ScaleGrad(g, hn::Mul(hn::Mul(dy, wn), fm)), r);
  }
  // Near the root: (x - x0) P(x - x0), x - x0 = dh + dl with dh exact.
  const auto dh = hn::Sub(x, b.x0_hi);
  const auto near = hn::Lt(hn::Abs(dh), b.band);
  if (HWY_UNLIKELY(!hn::AllFalse(d, near))) {
    const auto p = Horner(d, b.p, dh);
    const auto dl = hn::Neg(b.x0_lo);
    r = hn::IfThenElse(near, hn::Mul(dy, Fma(d, dh, p, hn::Mul(dl, p))), r);
  }
  if constexpr (kSlow) r = hn::IfThenElse(hn::Eq(x, x), r, x);
  return r;
}

template <class T>
void SiluBackwardKernel(const T* dy, const T* x, T* dx, std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  const SiluBandVecs<hn::ScalableTag<T>> b(d);
  MapBinary(d, dy, x, dx, n, [&](auto dd, auto g, auto v) {
    return HWY_LIKELY(AllFastFrom(dd, k, v)) ? SiluBackwardVec<false>(dd, k, b, g, v)
                                             : SiluBackwardVec<true>(dd, k, b, g, v);
  });
}
SIGMA_BINARY_KERNELS(SiluBackward, SiluBackwardKernel)

SIGMA_KERNELS_END

#if HWY_ONCE
#include <cmath>

#include "kernels/dispatch.h"
#include "sigma/kernels.h"

namespace sigma {
namespace {
// silu in long double, for rounding 16-bit results correctly.
double silu_exact(double x) noexcept {
  const long double v = x;
  return double(v >= 0 ? v / (1 + std::exp(-v)) : v * std::exp(v) / (1 + std::exp(v)));
}
}  // namespace
SIGMA_DEFINE_UNARY(silu, Silu, &silu_exact)
SIGMA_DEFINE_BINARY(silu_backward, "x", SiluBackward)

}  // namespace sigma
#endif  // HWY_ONCE
