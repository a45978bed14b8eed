// The unrounded exp/log cores behind softplus, log_sigmoid, silu, tanh and
// bce_with_logits (per target). exp_core-inl.h rounds sigmoid(+-|x|) once; the
// ops here need the pieces before that rounding, so they finish with one
// rounding of their own.
//
// e^-z = (ph + pl) 2^-m exactly as in exp_core-inl.h (same tables; f32 uses a
//   degree-2 g, error 2^-36.5), with an optional low part: e^-(z + zlo).
// sigmoid: 1 + e^-z = dh + dl, sigmoid(z) = q0 (1 + c), sigmoid(-z) = w 2^-m.
// log1p(u), u = e^-z = uh + ul in (0, 1]: j = round(15 u), invc_j ~ 1/(1 + j/15),
//   log1p(u) = -log(invc_j) + log1p(r), r = (1 + u) invc_j - 1 in [-0.0295,
//   0.0341] as rh = uh invc_j + (invc_j - 1) (exact: a Sterbenz difference,
//   with invc_1 = 0.94 so it holds for j = 1) plus rl = the fma residual +
//   ul invc_j; a degree-3 (f32) / 8 (f64) polynomial. For j = 0, r = u itself,
//   so a tiny e^-z loses nothing.
// Scaling by 2^-m: one factor while 2^-m is normal ("fast": |x| <= kFastZ),
// else 2 factors (forward ops: one rounding into subnormals) or 4 factors
// (gradients: dy * sigmoid(-z) stays exact for any dy where it is normal;
// softplus with beta != 1 and bce, where a large factor may follow).
// Bitwise reproducibility: a lane's bits never depend on which path its
// vector took (slow paths compute lanes within kFastZ exactly as the fast one).
// Constants: mpmath (chebyfit, coefficients rounded to the type and checked),
// tools/gen/other_ops_constants.py.

#ifndef SIGMA_KERNELS_SOFTPLUS_CORE_CONSTS_
#define SIGMA_KERNELS_SOFTPLUS_CORE_CONSTS_

#include "kernels/exp_tables.h"

namespace sigma::kernels {

template <class T>
struct FamilyConsts;

// clang-format off

template <>
struct FamilyConsts<float> {
  // e^t - 1 = t + t^2 g(t): |error| <= 2^-36.5 on [-0.0218, 0.0218].
  static constexpr float kExpG[] = {0x1p-1f, 0x1.5556e4p-3f, 0x1.55566p-5f};
  // Below kFastZ every 2^-m and every partial product stays normal; beyond
  // it log1p(e^-z) = e^-z to 2^-100.
  static constexpr float kFastZ = 80.0f;
  // Beyond these |x| the forward results no longer change (0, or x itself).
  static constexpr float kZMaxLog = 104.5f;   // e^-104.5 < 2^-150
  static constexpr float kZMaxSilu = 112.0f;  // 112 e^-112 < 2^-150
  // Backward: FLT_MAX * (1 + z) e^-z < 2^-150 beyond this.
  static constexpr float kZMaxGrad = 200.0f;
  // At and beyond 2^24, z + log1p(e^-z) rounds to z.
  static constexpr float kLinear = 0x1p24f;
  // log1p(u) table: j = round(15 u), invc_j ~ 1/(1 + j/15) (0.94 for j = 1),
  // logc_j = -log(invc_j) as hi + lo.
  static constexpr float kLogScale = 15.0f;
  alignas(64) static constexpr float kInvC[16] = {
      0x1p+0f, 0x1.e147aep-1f, 0x1.c3c3c4p-1f, 0x1.aaaaaap-1f,
      0x1.9435e6p-1f, 0x1.8p-1f, 0x1.6db6dcp-1f, 0x1.5d1746p-1f,
      0x1.4de9bep-1f, 0x1.4p-1f, 0x1.333334p-1f, 0x1.276276p-1f,
      0x1.1c71c8p-1f, 0x1.124924p-1f, 0x1.08d3dcp-1f, 0x1p-1f};
  alignas(64) static constexpr float kLogCHi[16] = {
      0.0f, 0x1.fae222p-5f, 0x1.005588p-3f, 0x1.756504p-3f,
      0x1.e41fc8p-3f, 0x1.269622p-2f, 0x1.588c2cp-2f, 0x1.882f1ep-2f,
      0x1.b5b3ep-2f, 0x1.e148a2p-2f, 0x1.058aeep-1f, 0x1.199facp-1f,
      0x1.2cf25ep-1f, 0x1.3f9128p-1f, 0x1.5188a6p-1f, 0x1.62e43p-1f};
  alignas(64) static constexpr float kLogCLo[16] = {
      0.0f, -0x1.b5dccep-32f, -0x1.8f66d8p-29f, 0x1.45f26cp-29f,
      -0x1.561bdep-31f, -0x1.d9648ep-27f, -0x1.0cca0ap-31f, 0x1.bed93p-28f,
      -0x1.2183eap-29f, -0x1.76364cp-28f, 0x1.4aefcp-27f, 0x1.59f1ep-26f,
      0x1.3f5834p-29f, 0x1.8d464ap-27f, -0x1.4fa54ap-30f, -0x1.05c61p-29f};
  // log1p(r) = r + r^2 Q(r): relative error <= 2^-29.9 on [-0.0295, 0.0341].
  static constexpr float kLogQ[] = {-0x1.fffffep-2f, 0x1.555586p-2f, -0x1.002a68p-2f,
                                    0x1.96c61cp-3f};
  // tanh(z) = z + z^3 P(z^2) for z < kTanhSmall: relative error <= 2^-29.4.
  static constexpr float kTanhSmall = 0.375f;
  static constexpr float kTanhP[] = {-0x1.555556p-2f, 0x1.111102p-3f, -0x1.ba0d4cp-5f,
                                     0x1.640ccap-6f, -0x1.f936a6p-8f};
  // Beyond this, tanh rounds to 1 (and 2z stays in the fast exp range).
  static constexpr float kTanhOne = 40.0f;
  // silu'(x) = s(x)(1 + x s(-x)) vanishes at x0 = x0_hi + x0_lo; within
  // kSiluBand of x0 it is (x - x0) P(x - x0): relative error <= 2^-26.6.
  static constexpr float kSiluX0Hi = -0x1.474974p+0f;
  static constexpr float kSiluX0Lo = 0x1.bdf6fap-27f;
  static constexpr float kSiluBand = 0.0625f;
  static constexpr float kSiluBandP[] = {0x1.be141p-3f, 0x1.2c5634p-3f, 0x1.353eb2p-6f,
                                         -0x1.f2cbacp-7f, -0x1.b0b6c6p-8f};
};

template <>
struct FamilyConsts<double> {
  static constexpr const auto& kExpG = ExpConsts<double>::kG;  // error 2^-64.4
  static constexpr double kFastZ = 700.0;
  static constexpr double kZMaxLog = 745.5;  // e^-745.5 < 2^-1075
  static constexpr double kZMaxSilu = 753.0;
  static constexpr double kZMaxGrad = 1470.0;
  static constexpr double kLinear = 0x1p53;
  static constexpr double kLogScale = 15.0;
  alignas(64) static constexpr double kInvC[16] = {
      0x1p+0, 0x1.e147ae147ae14p-1, 0x1.c3c3c3c3c3c3cp-1, 0x1.aaaaaaaaaaaabp-1,
      0x1.9435e50d79436p-1, 0x1.8p-1, 0x1.6db6db6db6db7p-1, 0x1.5d1745d1745d1p-1,
      0x1.4de9bd37a6f4ep-1, 0x1.4p-1, 0x1.3333333333333p-1, 0x1.2762762762762p-1,
      0x1.1c71c71c71c72p-1, 0x1.1249249249249p-1, 0x1.08d3dcb08d3ddp-1, 0x1p-1};
  alignas(64) static constexpr double kLogCHi[16] = {
      0.0, 0x1.fae2206cabe4p-5, 0x1.005588ad375aep-3, 0x1.7565011e49675p-3,
      0x1.e41fccb76b0d7p-3, 0x1.269621134db92p-2, 0x1.588c2d913348fp-2, 0x1.882f1ef83ed45p-2,
      0x1.b5b3e24235e88p-2, 0x1.e148a1a2726cep-2, 0x1.058aefa811452p-1, 0x1.199fac68b4ab8p-1,
      0x1.2cf25fad8f1c3p-1, 0x1.3f91275240811p-1, 0x1.5188a4a02d7fep-1, 0x1.62e42fefa39efp-1};
  alignas(64) static constexpr double kLogCLo[16] = {
      0.0,                    -0x1.03b795ce1e11p-60,  -0x1.23dbdc498b285p-59,
      -0x1.81495b2eb862bp-57, -0x1.ef0a9ec21b972p-57, 0x1.e0efadd9db02bp-56,
      0x1.fafb06b03f0a5p-57,  0x1.d2273fd0174a6p-56,  -0x1.4e3e22530be1bp-60,
      -0x1.ac81cc8a4dfb8p-56, -0x1.c19f73d945334p-60, -0x1.0e0e34e56089ep-58,
      0x1.0a35884260cffp-56,  0x1.4d147676db21dp-55,  0x1.5cc1daef69b6ap-55,
      0x1.abc9e3b39803fp-56};
  // log1p(r) = r + r^2 Q(r): relative error <= 2^-60.5.
  static constexpr double kLogQ[] = {
      -0x1p-1,               0x1.5555555555527p-2, -0x1.000000000132dp-2, 0x1.9999999acd5f3p-3,
      -0x1.5555551d4492ap-3, 0x1.24923770afbf5p-3, -0x1.0001975c0fe8bp-3, 0x1.c7e1977fadca7p-4,
      -0x1.92bf48ff3dd21p-4};
  // tanh: relative error <= 2^-59.5
  static constexpr double kTanhSmall = 0.25;
  static constexpr double kTanhP[] = {-0x1.5555555555555p-2, 0x1.11111111110a0p-3,
                                      -0x1.ba1ba1b9f660bp-5, 0x1.664f485d6d4d4p-6,
                                      -0x1.226e22fa6f453p-7, 0x1.d6c9f446c47cbp-9,
                                      -0x1.7c2ad98792f89p-10, 0x1.17cd5b9306c04p-11};
  static constexpr double kTanhOne = 350.0;
  static constexpr double kSiluX0Hi = -0x1.474973c84120bp+0;
  static constexpr double kSiluX0Lo = -0x1.f8d74bc9ac154p-54;
  static constexpr double kSiluBand = 0.03125;  // relative error <= 2^-55.5
  static constexpr double kSiluBandP[] = {0x1.be1410460527fp-3,  0x1.2c563458cc0adp-3,
                                          0x1.353eb573c999ep-6,  -0x1.f2d0e32bc392ap-7,
                                          -0x1.b0f82c13f088ap-8, 0x1.098e9797e1a9dp-13,
                                          0x1.a29d1190a40d7p-11, 0x1.8555a485d8402p-13};
};

// clang-format on

}  // namespace sigma::kernels

#endif  // SIGMA_KERNELS_SOFTPLUS_CORE_CONSTS_

#if defined(SIGMA_KERNELS_SOFTPLUS_CORE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIGMA_KERNELS_SOFTPLUS_CORE_INL_H_
#undef SIGMA_KERNELS_SOFTPLUS_CORE_INL_H_
#else
#define SIGMA_KERNELS_SOFTPLUS_CORE_INL_H_
#endif

#include <cstddef>

#include "hwy/highway.h"
#include "kernels/exp_core-inl.h"
#include "kernels/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sigma::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D>
struct Pair {
  hn::Vec<D> hi, lo;  // value = hi + lo, |lo| <= ulp(hi)/2 or so
};

template <class D, std::size_t K>
HWY_INLINE hn::Vec<D> Horner(D d, const hn::Vec<D> (&c)[K], hn::Vec<D> x) {
  hn::Vec<D> r = c[K - 1];
  for (std::size_t i = K - 1; i-- > 0;) r = Fma(d, r, x, c[i]);
  return r;
}

template <class D, class T, std::size_t K>
HWY_INLINE void SetAll(D d, hn::Vec<D> (&v)[K], const T (&c)[K]) {
  for (std::size_t i = 0; i < K; ++i) v[i] = hn::Set(d, c[i]);
}

// a + b = s + e exactly, for any a, b (finite sum).
template <class D>
HWY_INLINE Pair<D> TwoSum(hn::Vec<D> a, hn::Vec<D> b) {
  const auto s = hn::Add(a, b);
  const auto bb = hn::Sub(s, a);
  const auto e = hn::Add(hn::Sub(a, hn::Sub(s, bb)), hn::Sub(b, bb));
  return {s, e};
}

// a + b = s + e exactly when |a| >= |b| (or a = 0).
template <class D>
HWY_INLINE Pair<D> FastTwoSum(hn::Vec<D> a, hn::Vec<D> b) {
  const auto s = hn::Add(a, b);
  return {s, hn::Add(hn::Sub(a, s), b)};
}

// Vector constants of the exp core, built once per kernel call.
template <class D>
struct ExpVecs {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  using F = FamilyConsts<T>;
  using VI = hn::Vec<hn::RebindToSigned<D>>;
  static constexpr std::size_t kDeg = sizeof(F::kExpG) / sizeof(F::kExpG[0]);
  // Where the second register of a 16-entry table starts: entry 8 when a
  // vector holds 8 lanes (TableLookup16 then permutes two registers).
  static constexpr std::size_t kUpper = hn::MaxLanes(D()) == 8 ? 8 : 0;

  explicit ExpVecs(D d)
      : inv_l(hn::Set(d, C::kInvL)),
        magic(hn::Set(d, C::kMagic)),
        l_hi(hn::Set(d, C::kLHi)),
        l_lo(hn::Set(d, C::kLLo)),
        one(hn::Set(d, T(1))),
        fast_z(hn::Set(d, F::kFastZ)),
        neg_fast_z(hn::Set(d, -F::kFastZ)),
        table_hi(hn::LoadU(d, C::kTabHi)),
        table_lo(hn::LoadU(d, C::kTabLo)),
        table_hi2(hn::LoadU(d, C::kTabHi + kUpper)),
        table_lo2(hn::LoadU(d, C::kTabLo + kUpper)),
        j_mask(hn::Set(hn::RebindToSigned<D>(), typename C::Bits{15})),
        m_mask(hn::Set(hn::RebindToSigned<D>(), C::kMagicMMask)),
        one_bits(hn::Set(hn::RebindToSigned<D>(), C::kOneBits)) {
    for (std::size_t i = 0; i < kDeg; ++i) g[i] = hn::Set(d, F::kExpG[i]);
  }
  hn::Vec<D> inv_l, magic, l_hi, l_lo, one, fast_z, neg_fast_z;
  hn::Vec<D> table_hi, table_lo, table_hi2, table_lo2;
  VI j_mask, m_mask, one_bits;
  hn::Vec<D> g[kDeg];
};

template <class D>
struct ExpParts {
  hn::Vec<D> ph, pl;                      // e^-z = (ph + pl) 2^-m, ph + pl exact pair
  hn::Vec<hn::RebindToSigned<D>> mfield;  // 16 m
};

// e^-(z + zlo) for z >= 0 (clamped by the caller), |zlo| <= 2^-16.
template <bool kLo, class D>
HWY_INLINE ExpParts<D> ExpNeg(D d, const ExpVecs<D>& k, hn::Vec<D> z, hn::Vec<D> zlo) {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  const hn::RebindToSigned<D> di;
  const auto nf = Fma(d, z, k.inv_l, k.magic);  // magic + N, N = round(16 z / ln2)
  const auto bits = hn::BitCast(di, nf);
  const auto n = hn::Sub(nf, k.magic);
  auto t = FmaSub(d, n, k.l_hi, z);  // exact
  t = Fma(d, n, k.l_lo, t);          // N ln2/16 - z
  if constexpr (kLo) t = hn::Sub(t, zlo);
  const auto p = Fma(d, hn::Mul(t, t), Horner(d, k.g, t), t);  // e^t - 1
  const auto j = hn::And(bits, k.j_mask);
  const auto th = TableLookup16(d, k.table_hi, k.table_hi2, C::kTabHi, j);
  const auto tl = TableLookup16(d, k.table_lo, k.table_lo2, C::kTabLo, j);
  const auto q = Fma(d, th, p, tl);
  ExpParts<D> r;
  r.ph = hn::Add(th, q);
  r.pl = hn::Add(hn::Sub(th, r.ph), q);
  r.mfield = hn::And(bits, k.m_mask);
  return r;
}

// 2^-m from 16 m, for m <= the largest normal exponent.
template <class D>
HWY_INLINE hn::Vec<D> Pow2Neg16(D d, const ExpVecs<D>& k, hn::Vec<hn::RebindToSigned<D>> m16) {
  using C = ExpConsts<hn::TFromD<D>>;
  return hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits - 4>(m16)));
}
template <class D>
HWY_INLINE hn::Vec<D> Pow2Neg(D d, const ExpVecs<D>& k, hn::Vec<hn::RebindToSigned<D>> m) {
  using C = ExpConsts<hn::TFromD<D>>;
  return hn::BitCast(d, hn::Sub(k.one_bits, hn::ShiftLeft<C::kMantBits>(m)));
}

// 2^-m as the product of 2 normal factors (m < 2 * max exponent).
template <class D>
struct Scale2 {
  hn::Vec<D> a, b;
};
template <class D>
HWY_INLINE Scale2<D> Split2(D d, const ExpVecs<D>& k, hn::Vec<hn::RebindToSigned<D>> m16) {
  const auto m = hn::ShiftRight<4>(m16);
  const auto m1 = hn::ShiftRight<1>(m);
  return {Pow2Neg(d, k, m1), Pow2Neg(d, k, hn::Sub(m, m1))};
}
template <class D>
HWY_INLINE hn::Vec<D> Scale(Scale2<D> s, hn::Vec<D> v) {
  return hn::Mul(hn::Mul(v, s.a), s.b);
}

// 2^-m = a^3 b with a and b normal (m < 4 * max exponent).
template <class D>
struct Scale4 {
  hn::Vec<D> a, b;
};
template <class D>
HWY_INLINE Scale4<D> Split4(D d, const ExpVecs<D>& k, hn::Vec<hn::RebindToSigned<D>> m16) {
  const auto m = hn::ShiftRight<4>(m16);
  const auto m1 = hn::ShiftRight<2>(m);
  const auto m4 = hn::Sub(m, hn::Add(m1, hn::Add(m1, m1)));
  return {Pow2Neg(d, k, m1), Pow2Neg(d, k, m4)};
}
template <class D>
HWY_INLINE hn::Vec<D> Scale(Scale4<D> s, hn::Vec<D> v) {
  return hn::Mul(hn::Mul(hn::Mul(hn::Mul(v, s.a), s.a), s.a), s.b);
}

// sigmoid(z) = q0 (1 + c), sigmoid(-z) = w 2^-m, from e^-z = (ph + pl) s with
// s = 2^-m (or its rounded value where that underflows: then 1 + e^-z = 1).
template <class D>
struct SigmoidSplit {
  hn::Vec<D> q0, c, ph, pl;
};
template <class D>
HWY_INLINE SigmoidSplit<D> SplitSigmoid(D d, const ExpVecs<D>& k, const ExpParts<D>& e,
                                        hn::Vec<D> s) {
  const auto u = hn::Mul(s, e.ph);
  const auto dh = hn::Add(k.one, u);
  auto dl = hn::Add(hn::Sub(k.one, dh), u);
  dl = Fma(d, s, e.pl, dl);
  SigmoidSplit<D> r;
  r.q0 = hn::Div(k.one, dh);
  const auto rho = FmaNeg(d, r.q0, dh, k.one);
  r.c = FmaNeg(d, r.q0, dl, rho);
  r.ph = e.ph;
  r.pl = e.pl;
  return r;
}
// sigmoid(z), rounded once.
template <class D>
HWY_INLINE hn::Vec<D> SigPos(D d, const SigmoidSplit<D>& s) {
  return Fma(d, s.q0, s.c, s.q0);
}
// w = sigmoid(-z) 2^m, rounded once.
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

// Vector constants of log1p(e^-z).
template <class D>
struct LogVecs {
  using T = hn::TFromD<D>;
  using F = FamilyConsts<T>;
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
// Relative error about 2^-28 (f32) / 2^-58 (f64).
template <class D>
HWY_INLINE Pair<D> Log1pExp(D d, const ExpVecs<D>& ek, const LogVecs<D>& k, hn::Vec<D> uh,
                            hn::Vec<D> ul) {
  using F = FamilyConsts<hn::TFromD<D>>;
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

// e^-z as a pair for z <= kFastZ (fast, exact scaling) or any clamped z (slow:
// two factors, so the scaling is exact wherever the result is normal).
template <bool kSlow, class D>
HWY_INLINE Pair<D> ExpPair(D d, const ExpVecs<D>& k, const ExpParts<D>& e) {
  if constexpr (kSlow) {
    const Scale2<D> s = Split2(d, k, e.mfield);
    return {Scale(s, e.ph), Scale(s, e.pl)};
  } else {
    const auto s = Pow2Neg16(d, k, e.mfield);
    return {hn::Mul(e.ph, s), hn::Mul(e.pl, s)};
  }
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
// |z| = 2 kZMaxLog, as e^z / beta matters further out for |beta| < 1; post is
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
  using F = FamilyConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto zmax = kSlow ? hn::Set(d, kLo ? 2 * F::kZMaxLog : F::kZMaxLog) : ek.fast_z;
  const auto za = hn::Min(hn::Abs(zh), zmax);
  const ExpParts<D> e = ExpNeg<kLo>(d, ek, za, AbsLo<kLo>(d, zh, zl, za));
  const auto pos = hn::Gt(zh, zero);
  SoftplusParts<kSlow, kLo, D> r;
  Pair<D> L;
  if constexpr (kSlow) {
    const auto far = hn::Gt(za, ek.fast_z);
    const auto far_neg = hn::AndNot(pos, far);
    Pair<D> u;
    if constexpr (kLo) {
      const Scale4<D> sc = Split4(d, ek, e.mfield);
      u = {Scale(sc, e.ph), Scale(sc, e.pl)};
      r.pa = hn::IfThenElse(far_neg, sc.a, ek.one);
      r.pb = hn::IfThenElse(far_neg, sc.b, ek.one);
    } else {
      const Scale2<D> sc = Split2(d, ek, e.mfield);
      u = {Scale(sc, e.ph), Scale(sc, e.pl)};
      r.pa = hn::IfThenElse(far_neg, sc.a, ek.one);
      r.pb = hn::IfThenElse(far_neg, sc.b, ek.one);
    }
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

// True when every lane is at least -kFastZ (false for NaN): the fast path's
// domain for uses of sigmoid(-|z|) at z <= 0 only.
template <class D>
HWY_INLINE bool AllFastFrom(D d, const ExpVecs<D>& k, hn::Vec<D> z) {
  return hn::AllTrue(d, hn::Ge(z, k.neg_fast_z));
}

// v 2^-m for the gradients: one exact scaling where 2^-m is normal (|z| <=
// kFastZ, the fast path's bits), else four, so v 2^-m is exact wherever it is
// normal whatever the size of v (e.g. dy = 1e30 times sigmoid(-150)).
template <bool kSlow, class D>
struct GradScale {
  hn::Vec<D> s;      // 2^-m where |z| <= kFastZ; rounded 2^-m in the slow path
  Scale4<D> s4;      // slow path only
  hn::Mask<D> near;  // slow path: |z| <= kFastZ
};
template <bool kSlow, class D>
HWY_INLINE GradScale<kSlow, D> MakeGradScale(D d, const ExpVecs<D>& k, hn::Vec<D> za,
                                             const ExpParts<D>& e) {
  GradScale<kSlow, D> g;
  if constexpr (kSlow) {
    g.s4 = Split4(d, k, e.mfield);
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
template <bool kSlow, bool kLo, class D>
HWY_INLINE hn::Vec<D> DyTimesSigmoid(D d, const ExpVecs<D>& k, hn::Vec<D> dy, hn::Vec<D> zh,
                                     hn::Vec<D> zl) {
  using F = FamilyConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto za = hn::Min(hn::Abs(zh), kSlow ? hn::Set(d, F::kZMaxGrad) : k.fast_z);
  const auto neg = hn::Lt(zh, zero);
  const ExpParts<D> e = ExpNeg<kLo>(d, k, za, AbsLo<kLo>(d, zh, zl, za));
  const GradScale<kSlow, D> g = MakeGradScale<kSlow>(d, k, za, e);
  const SigmoidSplit<D> sp = SplitSigmoid(d, k, e, g.s);
  const auto gneg = ScaleGrad(g, hn::Mul(dy, SigNegW(d, sp)));
  return hn::IfThenElse(neg, gneg, hn::Mul(dy, SigPos(d, sp)));
}

}  // namespace sigma::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // SIGMA_KERNELS_SOFTPLUS_CORE_INL_H_ toggle
