// The exp core of the sigmoid family (per target). One evaluation gives both
// sigmoid(|x|) and sigmoid(-|x|) to about 2^-26 relative error before their
// single final rounding, so each is within 1 ULP everywhere, including
// subnormal results.
//
// Method: e^-z (z = |x|) = s * (ph + pl) with s = 2^-m exact and ph + pl =
// 2^(-j/16) * e^t renormalised from the table's hi/lo pair and the polynomial
// for e^t - 1. Then D = 1 + e^-z is formed as dh + dl (Fast2Sum), 1/D as
// q0 * (1 + c) with c from the exact residual of the division, and
//   sigmoid(|x|)  = 1/D        = q0 + q0 c                    (one rounding)
//   sigmoid(-|x|) = e^-z / D   = s * (ph q0 + q0 (ph c + pl))  (one rounding)
// The "fast" variant assumes x >= kFastMin (normal results); the "slow" one
// scales by 2^-m in two exact steps so subnormal results round once more at
// most, and covers every input.

#if defined(SIGMA_KERNELS_EXP_CORE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIGMA_KERNELS_EXP_CORE_INL_H_
#undef SIGMA_KERNELS_EXP_CORE_INL_H_
#else
#define SIGMA_KERNELS_EXP_CORE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/exp_tables.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sigma::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D>
struct SigmoidPair {
  hn::Vec<D> pos;  // sigmoid(|x|) in [0.5, 1]
  hn::Vec<D> neg;  // sigmoid(-|x|) in [0, 0.5]
};

// Constants as vectors, built once per kernel call so the loop keeps them in
// registers instead of re-broadcasting them per vector.
template <class D>
struct ExpCoreConsts {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  using VI = hn::Vec<hn::RebindToSigned<D>>;
  static constexpr std::size_t kDeg = sizeof(C::kG) / sizeof(C::kG[0]) - 1;

  explicit ExpCoreConsts(D d)
      : zmax_fast(hn::Set(d, C::kZMaxFast)),
        zmax_slow(hn::Set(d, C::kZMaxSlow)),
        fast_min(hn::Set(d, C::kFastMin)),
        inv_l(hn::Set(d, C::kInvL)),
        magic(hn::Set(d, C::kMagic)),
        l_hi(hn::Set(d, C::kLHi)),
        l_lo(hn::Set(d, C::kLLo)),
        one(hn::Set(d, T(1))),
        table_hi(hn::LoadU(d, C::kTabHi)),
        table_lo(hn::LoadU(d, C::kTabLo)),
        table_hi2(hn::LoadU(d, C::kTabHi + (hn::MaxLanes(D()) == 8 ? 8 : 0))),
        table_lo2(hn::LoadU(d, C::kTabLo + (hn::MaxLanes(D()) == 8 ? 8 : 0))),
        j_mask(hn::Set(hn::RebindToSigned<D>(), typename C::Bits{15})),
        m_mask(hn::Set(hn::RebindToSigned<D>(), C::kMagicMMask)),
        one_bits(hn::Set(hn::RebindToSigned<D>(), C::kOneBits)) {
    for (std::size_t k = 0; k <= kDeg; ++k) g[k] = hn::Set(d, C::kG[k]);
  }
  hn::Vec<D> zmax_fast, zmax_slow, fast_min, inv_l, magic, l_hi, l_lo, one;
  // The table in registers: one vector of 16 lanes, or two of 8 (entries 0-7
  // and 8-15); narrower targets gather from memory.
  hn::Vec<D> table_hi, table_lo, table_hi2, table_lo2;
  VI j_mask, m_mask, one_bits;
  hn::Vec<D> g[kDeg + 1];
};

// table[j] for j in [0, 16): one permute where a vector holds 16 lanes, two
// permutes and a blend where it holds 8, a gather otherwise (gathers are slow
// on some CPUs). Same value every way.
template <class D, class VI>
HWY_INLINE hn::Vec<D> TableLookup16(D d, hn::Vec<D> lo, hn::Vec<D> hi,
                                    const hn::TFromD<D>* table, VI j) {
  if constexpr (hn::MaxLanes(D()) == 16) {
    (void)hi, (void)table;
    return hn::TableLookupLanes(lo, hn::IndicesFromVec(d, j));
  } else if constexpr (hn::MaxLanes(D()) == 8) {
    (void)table;
    const hn::RebindToSigned<D> di;
    const auto j7 = hn::And(j, hn::Set(di, 7));
    const auto idx = hn::IndicesFromVec(d, j7);
    const auto upper = hn::RebindMask(d, hn::Ne(j, j7));
    return hn::IfThenElse(upper, hn::TableLookupLanes(hi, idx), hn::TableLookupLanes(lo, idx));
  } else {
    (void)lo, (void)hi;
    return hn::GatherIndex(d, table, j);
  }
}


template <bool kSlow, class D>
HWY_INLINE SigmoidPair<D> SigmoidAbs(D d, const ExpCoreConsts<D>& k, hn::Vec<D> x) {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  const hn::RebindToSigned<D> di;
  using V = hn::Vec<D>;

  const V z = hn::Min(hn::Abs(x), kSlow ? k.zmax_slow : k.zmax_fast);
  const V nf = Fma(d, z, k.inv_l, k.magic);  // magic + N, N = round(z 16/ln2)
  const auto bits = hn::BitCast(di, nf);
  const V n = hn::Sub(nf, k.magic);
  V t = FmaSub(d, n, k.l_hi, z);        // exact: N * LHi - z
  t = Fma(d, n, k.l_lo, t);             // t = N ln2/16 - z in [-ln2/32, ln2/32]

  // p = e^t - 1 = t + t^2 g(t)
  V g = k.g[ExpCoreConsts<D>::kDeg];
  for (std::size_t i = ExpCoreConsts<D>::kDeg; i-- > 0;) g = Fma(d, g, t, k.g[i]);
  const V p = Fma(d, hn::Mul(t, t), g, t);

  const auto j = hn::And(bits, k.j_mask);
  const V th = TableLookup16(d, k.table_hi, k.table_hi2, C::kTabHi, j);
  const V tl = TableLookup16(d, k.table_lo, k.table_lo2, C::kTabLo, j);
  const V q = Fma(d, th, p, tl);  // e^-z = s * (th + q), |q| < 0.023 th
  const V ph = hn::Add(th, q);    // Fast2Sum: th + q = ph + pl exactly
  const V pl = hn::Add(hn::Sub(th, ph), q);

  const auto mfield = hn::And(bits, k.m_mask);  // (N & ~15) = 16 m
  V s, s1, s2;
  if constexpr (!kSlow) {
    s = hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits - 4>(mfield)));
  } else {
    const auto m = hn::ShiftRight<4>(mfield);
    const auto m1 = hn::ShiftRight<1>(m);
    s1 = hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits>(m1)));
    s2 = hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits>(hn::Sub(m, m1))));
    s = hn::Mul(s1, s2);  // may underflow: then it is negligible next to 1
  }

  const V one = k.one;
  const V u = hn::Mul(s, ph);           // e^-z = u + s pl, u <= 1
  const V dh = hn::Add(one, u);
  V dl = hn::Add(hn::Sub(one, dh), u);  // Fast2Sum: 1 + u = dh + dl exactly
  dl = Fma(d, s, pl, dl);               // D = 1 + e^-z = dh + dl, |dl| <= 2^-23 dh

  const V q0 = hn::Div(one, dh);
  const V rho = FmaNeg(d, q0, dh, one);  // exact residual 1 - q0 dh
  const V c = FmaNeg(d, q0, dl, rho);    // 1/D = q0 (1 + c) + O(2^-46)

  SigmoidPair<D> r;
  r.pos = Fma(d, q0, c, q0);
  // e^-z / D = s (ph + pl) q0 (1 + c) = s (ph q0 + q0 (ph c + pl)) + O(2^-47)
  const V w = Fma(d, ph, q0, hn::Mul(q0, Fma(d, ph, c, pl)));
  r.neg = kSlow ? hn::Mul(hn::Mul(w, s1), s2) : hn::Mul(w, s);
  return r;
}

// True when every lane is in the fast path's domain for sigmoid(x): normal
// results, no NaN (x >= kFastMin; larger x clamp harmlessly to sigmoid = 1).
// For uses of sigmoid(-|x|) at either sign of x (derivatives): |x| <= kZMaxFast.
template <class D>
HWY_INLINE bool AllFastAbs(D d, const ExpCoreConsts<D>& k, hn::Vec<D> x) {
  return hn::AllTrue(d, hn::Le(hn::Abs(x), k.zmax_fast));
}

template <class D>
HWY_INLINE bool AllFast(D d, const ExpCoreConsts<D>& k, hn::Vec<D> x) {
  return hn::AllTrue(d, hn::Ge(x, k.fast_min));
}

}  // namespace sigma::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // SIGMA_KERNELS_EXP_CORE_INL_H_ toggle
