// The exp core of the sigmoid family (per target): the one range reduction of
// e^-z and the unrounded sigmoid pieces built on it. Its clients (sigmoid,
// silu, tanh, log_sigmoid, softplus, bce_with_logits and their backwards)
// finish with one rounding of their own; log1p_core-inl.h adds log1p(e^-z).
//
// Method: e^-z (z >= 0, clamped by the caller) = (ph + pl) 2^-m with 2^-m
// exact and ph + pl = 2^(-j/16) e^t renormalised (Fast2Sum) from the table's
// hi/lo pair and the polynomial for e^t - 1 (constants: exp_tables.h);
// optionally e^-(z + zlo) for a low part zlo. Then 1 + e^-z = dh + dl
// (Fast2Sum), 1/D = q0 (1 + c) with c from the exact residual of the division:
//   sigmoid(z)  = 1/D     = q0 + q0 c                     (one rounding)
//   sigmoid(-z) = e^-z/D  = 2^-m (ph q0 + q0 (ph c + pl))  (one rounding)
// each within 1 ULP everywhere, subnormal results included, with kGSigmoid;
// with kG (f32: 2^-36.5) the pieces are accurate enough to compute on.
// Scaling by 2^-m: one factor while 2^-m is normal ("fast": z <= kFastZ),
// else 2 factors (forward ops: one rounding into subnormals) or 4 factors
// (gradients and softplus with beta != 1 or bce, where a large factor may
// follow: v 2^-m stays exact wherever it is normal).
// Bitwise reproducibility: a lane's bits never depend on which path its
// vector took (slow paths compute lanes within kFastZ exactly as the fast one).

#if defined(SIGMA_KERNELS_EXP_CORE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIGMA_KERNELS_EXP_CORE_INL_H_
#undef SIGMA_KERNELS_EXP_CORE_INL_H_
#else
#define SIGMA_KERNELS_EXP_CORE_INL_H_
#endif

#include <cstddef>

#include "kernels/exp_tables.h"
#include "kernels/simd-inl.h"

SIGMA_KERNELS_BEGIN

// Which g(t) approximates e^t - 1 (exp_tables.h); a property of the constant
// set, so a kernel carries only the polynomial it uses.
enum class ExpPoly {
  kPieces,   // kG: for ops that compute on from the unrounded pieces
  kSigmoid,  // kGSigmoid: sigmoid(+-z) rounded straight from the pieces
};
template <class C, ExpPoly kPoly>
constexpr const auto& ExpGCoefs() {
  if constexpr (kPoly == ExpPoly::kSigmoid) {
    return C::kGSigmoid;
  } else {
    return C::kG;
  }
}

// Vector constants of the exp core, built once per kernel call so the loop
// keeps them in registers.
template <class D, ExpPoly kPoly = ExpPoly::kPieces>
struct ExpVecs {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  using VI = hn::Vec<hn::RebindToSigned<D>>;
  static constexpr std::size_t kDeg = sizeof(ExpGCoefs<C, kPoly>()) / sizeof(T);
  // Where the second register of a 16-entry table starts: entry 8 when a
  // vector holds 8 lanes (TableLookup16 then permutes two registers).
  static constexpr std::size_t kUpper = hn::MaxLanes(D()) == 8 ? 8 : 0;

  explicit ExpVecs(D d)
      : inv_l(hn::Set(d, C::kInvL)),
        magic(hn::Set(d, C::kMagic)),
        l_hi(hn::Set(d, C::kLHi)),
        l_lo(hn::Set(d, C::kLLo)),
        one(hn::Set(d, T(1))),
        fast_z(hn::Set(d, C::kFastZ)),
        neg_fast_z(hn::Set(d, -C::kFastZ)),
        table_hi(hn::LoadU(d, C::kTabHi)),
        table_lo(hn::LoadU(d, C::kTabLo)),
        table_hi2(hn::LoadU(d, C::kTabHi + kUpper)),
        table_lo2(hn::LoadU(d, C::kTabLo + kUpper)),
        j_mask(hn::Set(hn::RebindToSigned<D>(), typename C::Bits{15})),
        m_mask(hn::Set(hn::RebindToSigned<D>(), C::kMagicMMask)),
        one_bits(hn::Set(hn::RebindToSigned<D>(), C::kOneBits)) {
    SetAll(d, g, ExpGCoefs<C, kPoly>());
  }
  hn::Vec<D> inv_l, magic, l_hi, l_lo, one, fast_z, neg_fast_z;
  // The table in registers: one vector of 16 lanes, or two of 8 (entries 0-7
  // and 8-15); narrower targets gather from memory.
  hn::Vec<D> table_hi, table_lo, table_hi2, table_lo2;
  VI j_mask, m_mask, one_bits;
  hn::Vec<D> g[kDeg];
};

// table[j] for j in [0, 16): one permute where a vector holds 16 lanes, two
// permutes and a blend where it holds 8, four and three blends for 4-lane
// f64 (AVX2), a gather otherwise (gathers are slow on some CPUs). Same value
// every way.
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
  } else if constexpr (hn::MaxLanes(D()) == 4 && sizeof(hn::TFromD<D>) == 8) {
    // AVX2 f64: four quarters of the table, read from L1 (sixteen registers
    // cannot hold every table of a kernel), permuted and blended by j's bits
    // 2 and 3. A gather of four doubles took longer.
    (void)lo, (void)hi;
    const hn::RebindToSigned<D> di;
    const auto idx = hn::IndicesFromVec(d, hn::And(j, hn::Set(di, 3)));
    const auto bit2 = hn::RebindMask(d, hn::Ne(hn::And(j, hn::Set(di, 4)), hn::Zero(di)));
    const auto bit3 = hn::RebindMask(d, hn::Ne(hn::And(j, hn::Set(di, 8)), hn::Zero(di)));
    const auto q01 = hn::IfThenElse(bit2, hn::TableLookupLanes(hn::LoadU(d, table + 4), idx),
                                    hn::TableLookupLanes(hn::LoadU(d, table), idx));
    const auto q23 = hn::IfThenElse(bit2, hn::TableLookupLanes(hn::LoadU(d, table + 12), idx),
                                    hn::TableLookupLanes(hn::LoadU(d, table + 8), idx));
    return hn::IfThenElse(bit3, q23, q01);
  } else {
    (void)lo, (void)hi;
    return hn::GatherIndex(d, table, j);
  }
}

template <class D>
struct ExpParts {
  hn::Vec<D> ph, pl;                      // e^-z = (ph + pl) 2^-m, ph + pl exact pair
  hn::Vec<hn::RebindToSigned<D>> mfield;  // 16 m
};

// e^-(z + zlo) for z >= 0 (clamped by the caller), |zlo| <= 2^-16 (kLo only).
template <bool kLo, class D, ExpPoly P>
HWY_INLINE ExpParts<D> ExpNeg(D d, const ExpVecs<D, P>& k, hn::Vec<D> z, hn::Vec<D> zlo) {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  const hn::RebindToSigned<D> di;
  const auto nf = Fma(d, z, k.inv_l, k.magic);  // magic + N, N = round(16 z / ln2)
  const auto bits = hn::BitCast(di, nf);
  const auto n = hn::Sub(nf, k.magic);
  auto t = FmaSub(d, n, k.l_hi, z);  // exact: N * LHi - z
  t = Fma(d, n, k.l_lo, t);          // t = N ln2/16 - z in [-ln2/32, ln2/32]
  if constexpr (kLo) {
    t = hn::Sub(t, zlo);
  } else {
    (void)zlo;
  }
  const auto p = Fma(d, hn::Mul(t, t), Horner(d, k.g, t), t);  // e^t - 1 = t + t^2 g(t)
  const auto j = hn::And(bits, k.j_mask);
  const auto th = TableLookup16(d, k.table_hi, k.table_hi2, C::kTabHi, j);
  const auto tl = TableLookup16(d, k.table_lo, k.table_lo2, C::kTabLo, j);
  const auto q = Fma(d, th, p, tl);  // e^-z = 2^-m (th + q), |q| < 0.023 th
  ExpParts<D> r;
  r.ph = hn::Add(th, q);  // Fast2Sum: th + q = ph + pl exactly
  r.pl = hn::Add(hn::Sub(th, r.ph), q);
  r.mfield = hn::And(bits, k.m_mask);  // (N & ~15) = 16 m
  return r;
}

// 2^-m from 16 m, for m <= the largest normal exponent.
template <class D, ExpPoly P>
HWY_INLINE hn::Vec<D> Pow2Neg16(D d, const ExpVecs<D, P>& k,
                                 hn::Vec<hn::RebindToSigned<D>> m16) {
  using C = ExpConsts<hn::TFromD<D>>;
  return hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits - 4>(m16)));
}
template <class D, ExpPoly P>
HWY_INLINE hn::Vec<D> Pow2Neg(D d, const ExpVecs<D, P>& k,
                               hn::Vec<hn::RebindToSigned<D>> m) {
  using C = ExpConsts<hn::TFromD<D>>;
  return hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits>(m)));
}

// 2^-m = a^(K-1) b with a = 2^-(m / K) and b normal: K = 2 for m < 2 * max
// exponent (forward ops), K = 4 for m < 4 * max exponent (gradients, beta).
template <int K, class D>
struct Pow2Split {
  static_assert(K == 2 || K == 4);
  hn::Vec<D> a, b;
};
template <int K, class D, ExpPoly P>
HWY_INLINE Pow2Split<K, D> SplitPow2(D d, const ExpVecs<D, P>& k,
                                     hn::Vec<hn::RebindToSigned<D>> m16) {
  const auto m = hn::ShiftRight<4>(m16);
  const auto m1 = hn::ShiftRight<K == 2 ? 1 : 2>(m);
  // b's exponent m - (K - 1) m1. Written out, not as loops: GCC then still
  // inlines the kernels' per-vector lambdas (silu_backward on AVX2 f64).
  if constexpr (K == 2) {
    return {Pow2Neg(d, k, m1), Pow2Neg(d, k, hn::Sub(m, m1))};
  } else {
    return {Pow2Neg(d, k, m1), Pow2Neg(d, k, hn::Sub(m, hn::Add(m1, hn::Add(m1, m1))))};
  }
}
// v 2^-m = v a ... a b, exact wherever the result is normal.
template <int K, class D>
HWY_INLINE hn::Vec<D> Scale(const Pow2Split<K, D>& s, hn::Vec<D> v) {
  v = hn::Mul(v, s.a);
  if constexpr (K == 4) v = hn::Mul(hn::Mul(v, s.a), s.a);
  return hn::Mul(v, s.b);
}

// e^-z as a pair for z <= kFastZ (fast, exact scaling) or any clamped z (slow:
// two factors, so the scaling is exact wherever the result is normal).
template <bool kSlow, class D, ExpPoly P>
HWY_INLINE Pair<D> ExpPair(D d, const ExpVecs<D, P>& k, const ExpParts<D>& e) {
  if constexpr (kSlow) {
    const Pow2Split<2, D> s = SplitPow2<2>(d, k, e.mfield);
    return {Scale(s, e.ph), Scale(s, e.pl)};
  } else {
    const auto s = Pow2Neg16(d, k, e.mfield);
    return {hn::Mul(e.ph, s), hn::Mul(e.pl, s)};
  }
}

// sigmoid(z) = q0 (1 + c), sigmoid(-z) = w 2^-m, from e^-z = (ph + pl) s with
// s = 2^-m (or its rounded value where that underflows: then 1 + e^-z = 1).
template <class D>
struct SigmoidSplit {
  hn::Vec<D> q0, c, ph, pl;
};
template <class D, ExpPoly P>
HWY_INLINE SigmoidSplit<D> SplitSigmoid(D d, const ExpVecs<D, P>& k, const ExpParts<D>& e,
                                        hn::Vec<D> s) {
  const auto u = hn::Mul(s, e.ph);  // e^-z = u + s pl, u <= 1
  const auto dh = hn::Add(k.one, u);
  auto dl = hn::Add(hn::Sub(k.one, dh), u);  // Fast2Sum: 1 + u = dh + dl exactly
  dl = Fma(d, s, e.pl, dl);                  // D = 1 + e^-z = dh + dl
  SigmoidSplit<D> r;
  r.q0 = hn::Div(k.one, dh);
  const auto rho = FmaNeg(d, r.q0, dh, k.one);  // exact residual 1 - q0 dh
  r.c = FmaNeg(d, r.q0, dl, rho);               // 1/D = q0 (1 + c) + O(2^-46)
  r.ph = e.ph;
  r.pl = e.pl;
  return r;
}
// sigmoid(z), rounded once.
template <class D>
HWY_INLINE hn::Vec<D> SigPos(D d, const SigmoidSplit<D>& s) {
  return Fma(d, s.q0, s.c, s.q0);
}
// w = sigmoid(-z) 2^m, rounded once: e^-z / D = 2^-m (ph + pl) q0 (1 + c).
template <class D>
HWY_INLINE hn::Vec<D> SigNegW(D d, const SigmoidSplit<D>& s) {
  return Fma(d, s.ph, s.q0, hn::Mul(s.q0, Fma(d, s.ph, s.c, s.pl)));
}
// w as an unrounded pair.
template <class D>
HWY_INLINE Pair<D> SigNegWPair(D d, const SigmoidSplit<D>& s) {
  const auto hi = hn::Mul(s.ph, s.q0);
  const auto err = FmaSub(d, s.ph, s.q0, hi);
  return {hi, Fma(d, s.q0, Fma(d, s.ph, s.c, s.pl), err)};
}

// The sigmoid pieces of a clamped z >= 0 for the forward ops, with 2^-m as
// one factor (fast: z <= kFastZ) or two (slow: ToNeg rounds once into
// subnormals).
template <bool kSlow, class D>
struct SigmoidOfAbs {
  SigmoidSplit<D> sp;
  hn::Vec<D> s;  // 2^-m (rounded where it underflows)
  Pow2Split<2, D> sc;  // slow path only
  // v 2^-m: sigmoid(-z) from w, or x sigmoid(-z) from x w.
  HWY_INLINE hn::Vec<D> ToNeg(hn::Vec<D> v) const {
    if constexpr (kSlow) {
      return Scale(sc, v);
    } else {
      return hn::Mul(v, s);
    }
  }
};
template <bool kSlow, class D, ExpPoly P>
HWY_INLINE SigmoidOfAbs<kSlow, D> SigmoidPieces(D d, const ExpVecs<D, P>& k,
                                                hn::Vec<D> za) {
  const ExpParts<D> e = ExpNeg<false>(d, k, za, hn::Zero(d));
  SigmoidOfAbs<kSlow, D> r{};  // {}: the fast path leaves sc unused
  if constexpr (kSlow) {
    r.sc = SplitPow2<2>(d, k, e.mfield);
    r.s = Scale(r.sc, k.one);  // may underflow: then it is negligible next to 1
  } else {
    r.s = Pow2Neg16(d, k, e.mfield);
  }
  r.sp = SplitSigmoid(d, k, e, r.s);
  return r;
}

// The low part of |z| = |zh| + sign(zh) zl, dropped where |zh| was clamped to za
// (there the result no longer depends on z, and zl may be large).
template <bool kLo, class D>
HWY_INLINE hn::Vec<D> AbsLo(D d, hn::Vec<D> zh, hn::Vec<D> zl, hn::Vec<D> za) {
  if constexpr (!kLo) {
    (void)zh, (void)zl, (void)za;
    return hn::Zero(d);
  } else {
    const auto lo = hn::IfThenElse(hn::Lt(zh, hn::Zero(d)), hn::Neg(zl), zl);
    return hn::IfThenElseZero(hn::Eq(hn::Abs(zh), za), lo);
  }
}

// True when every lane is at least -kFastZ (false for NaN): the fast path's
// domain for uses of sigmoid(-|z|) at z <= 0 only.
template <class D, ExpPoly P>
HWY_INLINE bool AllFastFrom(D d, const ExpVecs<D, P>& k, hn::Vec<D> z) {
  return hn::AllTrue(d, hn::Ge(z, k.neg_fast_z));
}
// True when every |z| <= kFastZ (false for NaN): the fast path's domain for
// uses of sigmoid(-|z|) at either sign of z.
template <class D, ExpPoly P>
HWY_INLINE bool AllFastAbs(D d, const ExpVecs<D, P>& k, hn::Vec<D> z) {
  return hn::AllTrue(d, hn::Le(hn::Abs(z), k.fast_z));
}

// v 2^-m for the gradients: one exact scaling where 2^-m is normal (|z| <=
// kFastZ, the fast path's bits), else four, so v 2^-m is exact wherever it is
// normal whatever the size of v (e.g. dy = 1e30 times sigmoid(-150)).
template <bool kSlow, class D>
struct GradScale {
  hn::Vec<D> s;        // 2^-m where |z| <= kFastZ; rounded 2^-m in the slow path
  Pow2Split<4, D> s4;  // slow path only
  hn::Mask<D> near;    // slow path: |z| <= kFastZ
};
template <bool kSlow, class D, ExpPoly P>
HWY_INLINE GradScale<kSlow, D> MakeGradScale(D d, const ExpVecs<D, P>& k, hn::Vec<D> za,
                                             const ExpParts<D>& e) {
  GradScale<kSlow, D> g{};  // {}: the fast path leaves s4 and near unused
  if constexpr (kSlow) {
    g.s4 = SplitPow2<4>(d, k, e.mfield);
    g.near = hn::Le(za, k.fast_z);
    g.s = Scale(g.s4, k.one);
  } else {
    (void)za;
    g.s = Pow2Neg16(d, k, e.mfield);
  }
  return g;
}
template <bool kSlow, class D>
HWY_INLINE hn::Vec<D> ScaleGrad(const GradScale<kSlow, D>& g, hn::Vec<D> v) {
  if constexpr (kSlow) {
    return hn::IfThenElse(g.near, hn::Mul(v, g.s), Scale(g.s4, v));
  } else {
    return hn::Mul(v, g.s);
  }
}

// dy * sigmoid(z) for z = zh + zl (zl = 0 unless kLo): about two roundings,
// wherever the result is normal.
template <bool kSlow, bool kLo, class D, ExpPoly P>
HWY_INLINE hn::Vec<D> DyTimesSigmoid(D d, const ExpVecs<D, P>& k, hn::Vec<D> dy, hn::Vec<D> zh,
                                     hn::Vec<D> zl) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto za = hn::Min(hn::Abs(zh), kSlow ? hn::Set(d, C::kZMaxGrad) : k.fast_z);
  const auto neg = hn::Lt(zh, zero);
  const ExpParts<D> e = ExpNeg<kLo>(d, k, za, AbsLo<kLo>(d, zh, zl, za));
  const GradScale<kSlow, D> g = MakeGradScale<kSlow>(d, k, za, e);
  const SigmoidSplit<D> sp = SplitSigmoid(d, k, e, g.s);
  const auto gneg = ScaleGrad(g, hn::Mul(dy, SigNegW(d, sp)));
  return hn::IfThenElse(neg, gneg, hn::Mul(dy, SigPos(d, sp)));
}

SIGMA_KERNELS_END

#endif  // SIGMA_KERNELS_EXP_CORE_INL_H_ toggle
