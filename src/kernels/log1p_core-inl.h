// The log1p core of the sigmoid family (per target): log1p(e^-z) as an
// unrounded pair, and log(1 + e^z) = max(z, 0) + log1p(e^-|z|) on top of it,
// for log_sigmoid, softplus and bce_with_logits (each rounds once at the end).
//
// log1p(u), u = e^-z = uh + ul in (0, 1] from exp_core-inl.h: j = round(15 u),
//   invc_j ~ 1/(1 + j/15), log1p(u) = -log(invc_j) + log1p(r),
//   r = (1 + u) invc_j - 1 in [-0.0295, 0.0341] as rh = uh invc_j + (invc_j - 1)
//   (exact: a Sterbenz difference, with invc_1 = 0.94 so it holds for j = 1)
//   plus rl = the fma residual + ul invc_j; a degree-3 (f32) / 8 (f64)
//   polynomial. For j = 0, r = u itself, so a tiny e^-z loses nothing.
// Constants: log1p_tables.h.

#if defined(SIGMA_KERNELS_LOG1P_CORE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIGMA_KERNELS_LOG1P_CORE_INL_H_
#undef SIGMA_KERNELS_LOG1P_CORE_INL_H_
#else
#define SIGMA_KERNELS_LOG1P_CORE_INL_H_
#endif

#include <cstddef>

#include "kernels/exp_core-inl.h"
#include "kernels/log1p_tables.h"
#include "kernels/simd-inl.h"

SIGMA_KERNELS_BEGIN

// Vector constants of log1p(e^-z), built once per kernel call.
template <class D>
struct LogVecs {
  using T = hn::TFromD<D>;
  using F = Log1pConsts<T>;
  static constexpr std::size_t kDeg = sizeof(F::kLogQ) / sizeof(F::kLogQ[0]);
  static constexpr std::size_t kUpper = ExpVecs<D>::kUpper;
  explicit LogVecs(D d)
      : scale(hn::Set(d, F::kLogScale)),
        invc(hn::LoadU(d, F::kInvC)),
        logc_hi(hn::LoadU(d, F::kLogCHi)),
        logc_lo(hn::LoadU(d, F::kLogCLo)),
        invc2(hn::LoadU(d, F::kInvC + kUpper)),
        logc_hi2(hn::LoadU(d, F::kLogCHi + kUpper)),
        logc_lo2(hn::LoadU(d, F::kLogCLo + kUpper)) {
    SetAll(d, q, F::kLogQ);
  }
  hn::Vec<D> scale, invc, logc_hi, logc_lo, invc2, logc_hi2, logc_lo2;
  hn::Vec<D> q[kDeg];
};

// log1p(u) as a pair, from u = e^-z = uh + ul in [0, 1] (|ul| <= ulp(uh)).
// Relative error about 2^-28 (f32) / 2^-58 (f64). ek lends its rounding
// constant and masks (round(15 u) uses the exp core's magic).
template <class D>
HWY_INLINE Pair<D> Log1pExp(D d, const ExpVecs<D>& ek, const LogVecs<D>& k, hn::Vec<D> uh,
                            hn::Vec<D> ul) {
  using F = Log1pConsts<hn::TFromD<D>>;
  const hn::RebindToSigned<D> di;
  const auto jbits = hn::BitCast(di, Fma(d, uh, k.scale, ek.magic));
  const auto j = hn::And(jbits, ek.j_mask);
  const auto invc = TableLookup16(d, k.invc, k.invc2, F::kInvC, j);
  const auto p = hn::Mul(uh, invc);
  const auto rh = hn::Add(p, hn::Sub(invc, ek.one));         // exact
  const auto rl = Fma(d, ul, invc, FmaSub(d, uh, invc, p));  // r = rh + rl
  // log1p(rh + rl) = rh + rh^2 Q(rh) + rl (1 - rh) + O(rl rh^2)
  const auto tail = Fma(d, hn::Mul(rh, rh), Horner(d, k.q, rh), FmaNeg(d, rh, rl, rl));
  const auto lch = TableLookup16(d, k.logc_hi, k.logc_hi2, F::kLogCHi, j);
  const auto lcl = TableLookup16(d, k.logc_lo, k.logc_lo2, F::kLogCLo, j);
  const Pair<D> s = FastTwoSum<D>(lch, rh);  // |lch| >= |rh| or lch = 0
  return {s.hi, hn::Add(s.lo, hn::Add(lcl, tail))};
}

// a + L for a >= 0 and L = log1p(...) > 0, as an unrounded pair (a < kLinear).
template <class D>
HWY_INLINE Pair<D> AddPositive(hn::Vec<D> a, const Pair<D>& L) {
  const Pair<D> s = FastTwoSum<D>(hn::Max(a, L.hi), hn::Min(a, L.hi));
  return {s.hi, hn::Add(s.lo, L.lo)};
}

// log(1 + e^z) = max(z, 0) + log1p(e^-|z|) for z = zh + zl (|zh| < kLinear)
// as (hi + lo) * post. post = 1 except in the slow path below z = -kFastZ,
// where log(1 + e^z) = e^z to 2^-100 and (hi + lo) = e^z 2^m is kept unscaled,
// so that a division by beta and the final scaling (into subnormals) round
// once between them. With a low part (beta != 1) the slow path reaches
// |z| = 2 kZMaxExp, as e^z / beta matters further out for |beta| < 1; post is
// then 4 factors. Relative error about 2^-28 (f32) / 2^-58 (f64).
template <bool kSlow, bool kLo, class D>
struct SoftplusParts {
  Pair<D> s;
  hn::Vec<D> pa, pb;  // post = 1 (fast), pa pb (slow), pa^3 pb (slow, kLo)
};
template <bool kSlow, bool kLo, class D>
HWY_INLINE hn::Vec<D> PostScale(const SoftplusParts<kSlow, kLo, D>& p, hn::Vec<D> v) {
  if constexpr (!kSlow) return v;
  if constexpr (kLo) v = hn::Mul(hn::Mul(v, p.pa), p.pa);
  return hn::Mul(hn::Mul(v, p.pa), p.pb);
}
template <bool kSlow, bool kLo, class D>
HWY_INLINE SoftplusParts<kSlow, kLo, D> Softplus(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk,
                                                 hn::Vec<D> zh, hn::Vec<D> zl) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto zmax = kSlow ? hn::Set(d, kLo ? 2 * C::kZMaxExp : C::kZMaxExp) : ek.fast_z;
  const auto za = hn::Min(hn::Abs(zh), zmax);
  const ExpParts<D> e = ExpNeg<kLo>(d, ek, za, AbsLo<kLo>(d, zh, zl, za));
  const auto pos = hn::Gt(zh, zero);
  SoftplusParts<kSlow, kLo, D> r{};  // {}: the fast path leaves pa and pb unused
  Pair<D> L;
  if constexpr (kSlow) {
    const auto far = hn::Gt(za, ek.fast_z);
    const auto far_neg = hn::AndNot(pos, far);
    const auto sc = SplitPow2<kLo ? 4 : 2>(d, ek, e.mfield);
    const Pair<D> u = {Scale(sc, e.ph), Scale(sc, e.pl)};
    r.pa = hn::IfThenElse(far_neg, sc.a, ek.one);
    r.pb = hn::IfThenElse(far_neg, sc.b, ek.one);
    L = Log1pExp(d, ek, lk, u.hi, u.lo);
    L.hi = hn::IfThenElse(far, hn::IfThenElseZero(far_neg, e.ph), L.hi);
    L.lo = hn::IfThenElse(far, hn::IfThenElseZero(far_neg, e.pl), L.lo);
  } else {
    const Pair<D> u = ExpPair<false>(d, ek, e);
    L = Log1pExp(d, ek, lk, u.hi, u.lo);
  }
  r.s = AddPositive<D>(hn::IfThenElseZero(pos, zh), L);
  if constexpr (kLo) r.s.lo = hn::Add(r.s.lo, hn::IfThenElseZero(pos, zl));
  return r;
}

SIGMA_KERNELS_END

#endif  // SIGMA_KERNELS_LOG1P_CORE_INL_H_ toggle
