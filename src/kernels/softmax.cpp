// Row-wise softmax and log_softmax and their gradients: SIMD kernels (compiled
// once per target) and the public span API (contracts in sigma/kernels.h).
//
// Forward, per row of n elements (M the row max):
//   1. scan: M, the row min and whether any element is NaN. A NaN, M = +inf
//      or M = -inf (all -inf) makes the whole row NaN, as in LibTorch.
//   2. sum: x - M = -(z + zlo) exactly (TwoSum), e^-(z + zlo) = (ph + pl) 2^-m
//      from the exp core, kept as the exact pair (hi, lo) = (ph, pl) 2^(K-m):
//      the 2^K offset (K = 90 f32, 128 f64) keeps every term normal down to
//      the clamp, so subnormal results lose nothing. The terms with
//      x != M go into a compensated sum (TwoSum per addition) of T = S - c,
//      c the count of elements equal to M (each exactly 1): T keeps its
//      relative accuracy however small, which log_softmax needs near 0.
//      softmax stores (hi, lo) in y and a scratch row.
//   3. softmax: y = (hi + lo) / S' with S' = (c + T) 2^K as a pair, from a
//      reciprocal and the exact residual, rounded once;
//      log_softmax: y = (x - M) - log1p(c - 1 + T), the log taken once per row
//      in long double, rounded once.
// Row sums use kSlots partial sums (16 f32 / 8 f64: element i goes to slot
// i mod kSlots on every target) combined in slot order, so a row's result
// never depends on the vector width or the thread count; rows are split
// across threads whole.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/softmax.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/simd-inl.h"
#include "kernels/exp_core-inl.h"

#ifndef SIGMA_KERNELS_SOFTMAX_ONCE_
#define SIGMA_KERNELS_SOFTMAX_ONCE_
namespace sigma::kernels {

// Partial sums per row: one 64-byte vector's worth of lanes.
template <class T>
inline constexpr std::size_t kSoftmaxSlots = 64 / sizeof(T);
// log2 of the offset 2^K that keeps every exp term normal, down to the clamp
// kZMaxExp + kSoftmaxSumMargin (f32: 2^(90 - 194) = 2^-104).
template <class T>
inline constexpr int kSoftmaxScaleExp = sizeof(T) == 4 ? 90 : 128;
// Terms below e^-kZMaxExp are each too small for any result, but up to 2^31
// of them add up in a row sum (log_softmax of the max): the sum takes terms
// to e^-(kZMaxExp + 30), where 2^31 of them are below 2^-13 of the smallest
// subnormal.
inline constexpr double kSoftmaxSumMargin = 30;

// a + b = s + e exactly (scalar TwoSum), for the per-row combinations.
template <class T>
inline void TwoSumScalar(T a, T b, T& s, T& e) {
  s = a + b;
  const T bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// The slots' (s, c) pairs summed in slot order, as a renormalised pair.
template <class T>
inline void CombineSlots(const T* s, const T* c, T& hi, T& lo) {
  T h = 0, l = 0;
  for (std::size_t k = 0; k < kSoftmaxSlots<T>; ++k) {
    T e;
    TwoSumScalar(h, s[k], h, e);
    l = l + (e + c[k]);
  }
  hi = h + l;
  lo = (h - hi) + l;
}

}  // namespace sigma::kernels
#endif

SIGMA_KERNELS_BEGIN

template <class D>
struct RowScan {
  hn::TFromD<D> max, min;
  bool nan;
};

// The row's max, min and whether it holds a NaN (max and min are exact, so
// their order does not matter; NaN is tested separately as Max/Min treat it
// differently per target).
template <class D>
HWY_INLINE RowScan<D> ScanRow(D d, const hn::TFromD<D>* x, std::size_t n) {
  using T = hn::TFromD<D>;
  const std::size_t N = hn::Lanes(d);
  auto vmax = hn::Set(d, x[0]);
  auto vmin = vmax;
  auto nan = hn::FirstN(d, 0);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::LoadU(d, x + i);
    vmax = hn::Max(vmax, v);
    vmin = hn::Min(vmin, v);
    nan = hn::Or(nan, hn::IsNaN(v));
  }
  if (i < n) {
    alignas(64) T buf[hn::MaxLanes(D())];
    for (std::size_t j = 0; j < N; ++j) buf[j] = x[0];
    std::memcpy(buf, x + i, (n - i) * sizeof(T));
    const auto v = hn::Load(d, buf);
    vmax = hn::Max(vmax, v);
    vmin = hn::Min(vmin, v);
    nan = hn::Or(nan, hn::IsNaN(v));
  }
  // Lanes reduced here: EMU128's MaxOfLanes starts from -FLT_MAX, not -inf.
  alignas(64) T lmax[hn::MaxLanes(D())], lmin[hn::MaxLanes(D())];
  hn::Store(vmax, d, lmax);
  hn::Store(vmin, d, lmin);
  RowScan<D> r{lmax[0], lmin[0], !hn::AllFalse(d, nan)};
  for (std::size_t j = 1; j < N; ++j) {
    r.max = lmax[j] > r.max ? lmax[j] : r.max;
    r.min = lmin[j] < r.min ? lmin[j] : r.min;
  }
  return r;
}

// The per-row sums of the forward pass: kB vectors of slots.
template <class D>
struct RowSums {
  static constexpr std::size_t kB = kSoftmaxSlots<hn::TFromD<D>> / hn::MaxLanes(D());
  hn::Vec<D> s[kB], c[kB];
  std::size_t count = 0;  // elements equal to the max
};

// One vector of pass 2: the exact pair (hi, lo) = e^(x - M) 2^K, stored when
// kStore, and the terms with x != M added to slot vector b. kClamp: some
// element of the row lies beyond kFastZ below the max (then z is clamped to
// kZMaxExp and the terms beyond it are 0). valid: the tail's live lanes.
template <bool kClamp, bool kStore, bool kTail, class D>
HWY_INLINE void SumStep(D d, const ExpVecs<D>& k, hn::Vec<D> v, hn::Vec<D> max,
                        hn::Vec<D> zmax, hn::Vec<hn::RebindToSigned<D>> k16, hn::Mask<D> valid, RowSums<D>& acc,
                        std::size_t b, hn::TFromD<D>* y, hn::TFromD<D>* lo_out) {
  const auto zero = hn::Zero(d);
  // z + zlo = M - x exactly (TwoSum written as a difference), z >= 0
  auto z = hn::Sub(max, v);
  const auto bb = hn::Sub(z, max);
  auto zlo = hn::Sub(hn::Sub(max, hn::Sub(z, bb)), hn::Add(v, bb));
  const auto top = hn::Eq(z, zero);  // x == M: the term is exactly 1
  hn::Mask<D> beyond;
  if constexpr (kClamp) {
    beyond = hn::Gt(z, zmax);  // also M - x = +inf, where zlo is NaN
    z = hn::Min(z, zmax);
    zlo = hn::IfThenZeroElse(beyond, zlo);
  }
  const ExpParts<D> e = ExpNeg<true>(d, k, z, zlo);
  const auto s = Pow2Neg16(d, k, hn::Sub(e.mfield, k16));  // 2^(K - m), normal
  auto hi = hn::Mul(e.ph, s);                              // exact
  auto lo = hn::Mul(e.pl, s);                              // exact
  if constexpr (kClamp) {
    hi = hn::IfThenZeroElse(beyond, hi);
    lo = hn::IfThenZeroElse(beyond, lo);
  }
  if constexpr (kStore) {
    hn::StoreU(hi, d, y);
    hn::StoreU(lo, d, lo_out);
  }
  if constexpr (kTail) {
    const auto live_top = hn::And(top, valid);
    hi = hn::IfThenElseZero(valid, hi);
    lo = hn::IfThenElseZero(valid, lo);
    acc.count += hn::CountTrue(d, live_top);
  } else {
    (void)valid;
    acc.count += hn::CountTrue(d, top);
  }
  const Pair<D> t = TwoSum<D>(acc.s[b], hn::IfThenZeroElse(top, hi));
  acc.s[b] = t.hi;
  acc.c[b] = hn::Add(acc.c[b], hn::Add(t.lo, lo));
}

// Pass 2 over a row; y and lo_out (kStore) receive the pairs.
template <bool kClamp, bool kStore, class D>
HWY_INLINE void SumRow(D d, const ExpVecs<D>& k, const hn::TFromD<D>* x, std::size_t n,
                       hn::TFromD<D> max, hn::TFromD<D>* y, hn::TFromD<D>* lo_out,
                       hn::TFromD<D>& t_hi, hn::TFromD<D>& t_lo, std::size_t& count) {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  constexpr std::size_t kSlots = kSoftmaxSlots<T>;
  constexpr std::size_t kB = RowSums<D>::kB;
  const std::size_t N = hn::Lanes(d);
  const auto vmax = hn::Set(d, max);
  const auto zmax = hn::Set(d, static_cast<T>(C::kZMaxExp + kSoftmaxSumMargin));
  const auto k16 = hn::Set(hn::RebindToSigned<D>(), typename C::Bits{16 * kSoftmaxScaleExp<T>});
  const auto all = hn::FirstN(d, N);
  RowSums<D> acc;
  for (std::size_t b = 0; b < kB; ++b) acc.s[b] = acc.c[b] = hn::Zero(d);
  std::size_t i = 0;
  for (; i + kSlots <= n; i += kSlots) {
    for (std::size_t b = 0; b < kB; ++b) {
      const std::size_t j = i + b * N;
      SumStep<kClamp, kStore, false>(d, k, hn::LoadU(d, x + j), vmax, zmax, k16, all, acc,
                                     b, kStore ? y + j : nullptr, kStore ? lo_out + j : nullptr);
    }
  }
  if (i < n) {  // through padded local vectors, as in MapUnary
    const std::size_t r = n - i;
    alignas(64) T bx[kSlots], bh[kSlots], bl[kSlots];
    for (std::size_t j = 0; j < kSlots; ++j) bx[j] = max;
    std::memcpy(bx, x + i, r * sizeof(T));
    for (std::size_t b = 0; b < kB; ++b) {
      const std::size_t live = r > b * N ? r - b * N : 0;
      SumStep<kClamp, kStore, true>(d, k, hn::Load(d, bx + b * N), vmax, zmax, k16,
                                    hn::FirstN(d, live), acc, b, bh + b * N, bl + b * N);
    }
    if constexpr (kStore) {
      std::memcpy(y + i, bh, r * sizeof(T));
      std::memcpy(lo_out + i, bl, r * sizeof(T));
    }
  }
  alignas(64) T s[kSlots], c[kSlots];
  for (std::size_t b = 0; b < kB; ++b) {
    hn::Store(acc.s[b], d, s + b * N);
    hn::Store(acc.c[b], d, c + b * N);
  }
  CombineSlots(s, c, t_hi, t_lo);
  count = acc.count;
}

template <class T>
void FillNaN(T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::numeric_limits<T>::quiet_NaN();
}

// The row's max with -0 made +0 (so no result depends on which zero Max
// kept), or false for a row that is all NaN (NaN, +inf or only -inf).
template <class D>
HWY_INLINE bool RowMax(D d, const hn::TFromD<D>* x, std::size_t n, hn::TFromD<D>& max,
                       bool& clamp) {
  using T = hn::TFromD<D>;
  const RowScan<D> st = ScanRow(d, x, n);
  if (st.nan || !std::isfinite(st.max)) return false;
  max = st.max + T(0);
  clamp = !(max - st.min <= ExpConsts<T>::kFastZ);
  return true;
}

// The two passes both forward kernels share: the row's max, then its
// compensated sum of e^(x - max) (kStore: also the terms' pairs in y and
// scratch). False, with y filled with NaN, for a row that has no finite max.
template <bool kStore, class D, class K, class T = hn::TFromD<D>>
HWY_INLINE bool MaxAndSum(D d, const K& k, const T* xr, T* yr, std::size_t cols,
                          T* scratch, T& max, T& th, T& tl, std::size_t& count) {
  bool clamp;
  if (!RowMax(d, xr, cols, max, clamp)) {
    FillNaN(yr, cols);
    return false;
  }
  T* const ys = kStore ? yr : nullptr;
  if (clamp)
    SumRow<true, kStore>(d, k, xr, cols, max, ys, scratch, th, tl, count);
  else
    SumRow<false, kStore>(d, k, xr, cols, max, ys, scratch, th, tl, count);
  return true;
}

// rows x cols, row-major; scratch holds cols elements.
template <class T>
void SoftmaxRows(const T* x, T* y, std::size_t rows, std::size_t cols, T* scratch) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  const std::size_t N = hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T max, th, tl;
    std::size_t count;
    if (!MaxAndSum<true>(d, k, xr, yr, cols, scratch, max, th, tl, count)) continue;
    // S' = (count + T) 2^K as a pair (sh, sl); y = (hi + lo) / S'.
    T sh, sl, e;
    TwoSumScalar(std::ldexp(static_cast<T>(count), kSoftmaxScaleExp<T>), th, sh, e);
    sl = e + tl;
    const T h = sh + sl;
    sl = (sh - h) + sl;
    sh = h;
    const auto vr = hn::Set(d, T(1) / sh);
    const auto vsh = hn::Set(d, sh), vsl = hn::Set(d, sl);
    const auto divide = [&](auto hi, auto lo) {
      const auto q0 = hn::Mul(hi, vr);
      const auto rem = FmaNeg(d, q0, vsh, hi);  // exact: hi - q0 sh
      return Fma(d, vr, hn::Add(rem, FmaNeg(d, q0, vsl, lo)), q0);
    };
    std::size_t i = 0;
    for (; i + N <= cols; i += N)
      hn::StoreU(divide(hn::LoadU(d, yr + i), hn::LoadU(d, scratch + i)), d, yr + i);
    if (i < cols) {
      alignas(64) T bh[hn::MaxLanes(hn::ScalableTag<T>())] = {};
      alignas(64) T bl[hn::MaxLanes(hn::ScalableTag<T>())] = {};
      std::memcpy(bh, yr + i, (cols - i) * sizeof(T));
      std::memcpy(bl, scratch + i, (cols - i) * sizeof(T));
      hn::Store(divide(hn::Load(d, bh), hn::Load(d, bl)), d, bh);
      std::memcpy(yr + i, bh, (cols - i) * sizeof(T));
    }
  }
}

template <class T>
void LogSoftmaxRows(const T* x, T* y, std::size_t rows, std::size_t cols, T*) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  const std::size_t N = hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T max, th, tl;
    std::size_t count;
    if (!MaxAndSum<false>(d, k, xr, yr, cols, static_cast<T*>(nullptr), max, th, tl, count)) continue;
    // L = log S = log1p(count - 1 + T), T = (th + tl) 2^-K, in long double.
    const long double big = static_cast<long double>(count - 1);
    const long double tsum =
        std::ldexp(static_cast<long double>(th) + static_cast<long double>(tl), -kSoftmaxScaleExp<T>);
    const long double L = std::log1p(big + tsum);
    const T lh = static_cast<T>(L);
    const T ll = static_cast<T>(L - static_cast<long double>(lh));
    const auto neg_max = hn::Set(d, -max);
    const auto nlh = hn::Set(d, -lh), nll = hn::Set(d, -ll);
    // y = (x - M) - L, x - M and L as exact pairs, rounded once. Written as
    // sums of x - M <= 0 and -L <= 0, so x = M and L = 0 give +0 as LibTorch.
    const auto out = [&](auto v) {
      const auto xm = TwoSum<hn::ScalableTag<T>>(v, neg_max);
      const auto a = TwoSum<hn::ScalableTag<T>>(xm.hi, nlh);
      const auto res = hn::Add(a.hi, hn::Add(a.lo, hn::Add(xm.lo, nll)));
      return hn::IfThenElse(hn::IsFinite(a.hi), res, a.hi);  // -inf: x = -inf or overflow
    };
    std::size_t i = 0;
    for (; i + N <= cols; i += N) hn::StoreU(out(hn::LoadU(d, xr + i)), d, yr + i);
    if (i < cols) {
      alignas(64) T b[hn::MaxLanes(hn::ScalableTag<T>())];
      for (std::size_t j = 0; j < N; ++j) b[j] = max;
      std::memcpy(b, xr + i, (cols - i) * sizeof(T));
      hn::Store(out(hn::Load(d, b)), d, b);
      std::memcpy(yr + i, b, (cols - i) * sizeof(T));
    }
  }
}

// The compensated row sum of f(a_i, b_i) as a pair: f returns the exact pair
// (p, pe) of a term (a product or a plain value); padding lanes are zeros.
template <class D, class F>
HWY_INLINE void RowDot(D d, const hn::TFromD<D>* a, const hn::TFromD<D>* b, std::size_t n,
                       hn::TFromD<D>& hi, hn::TFromD<D>& lo, F f) {
  using T = hn::TFromD<D>;
  constexpr std::size_t kSlots = kSoftmaxSlots<T>;
  constexpr std::size_t kB = kSlots / hn::MaxLanes(D());
  const std::size_t N = hn::Lanes(d);
  hn::Vec<D> s[kB], c[kB];
  for (std::size_t j = 0; j < kB; ++j) s[j] = c[j] = hn::Zero(d);
  const auto add = [&](std::size_t j, hn::Vec<D> va, hn::Vec<D> vb) {
    const Pair<D> p = f(va, vb);
    const Pair<D> t = TwoSum<D>(s[j], p.hi);
    s[j] = t.hi;
    c[j] = hn::Add(c[j], hn::Add(t.lo, p.lo));
  };
  std::size_t i = 0;
  for (; i + kSlots <= n; i += kSlots)
    for (std::size_t j = 0; j < kB; ++j) add(j, hn::LoadU(d, a + i + j * N), hn::LoadU(d, b + i + j * N));
  if (i < n) {
    alignas(64) T ba[kSlots] = {}, bb[kSlots] = {};
    std::memcpy(ba, a + i, (n - i) * sizeof(T));
    std::memcpy(bb, b + i, (n - i) * sizeof(T));
    for (std::size_t j = 0; j < kB; ++j) add(j, hn::Load(d, ba + j * N), hn::Load(d, bb + j * N));
  }
  alignas(64) T sv[kSlots], cv[kSlots];
  for (std::size_t j = 0; j < kB; ++j) {
    hn::Store(s[j], d, sv + j * N);
    hn::Store(c[j], d, cv + j * N);
  }
  CombineSlots(sv, cv, hi, lo);
}

// Below this |dx| softmax_backward computes 2^64 dx (f32: 2^-100, f64: 2^-960).
template <class T>
inline constexpr T kSoftmaxTiny = sizeof(T) == 4 ? T(0x1p-100) : T(0x1p-960);

// dx = y (dy - D), D = sum(dy y) as a compensated pair; dy - D as a TwoSum.
template <class T>
void SoftmaxBackwardRows(const T* dy, const T* y, T* dx, std::size_t rows, std::size_t cols) {
  const hn::ScalableTag<T> d;
  using D = hn::ScalableTag<T>;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* g = dy + r * cols;
    const T* yr = y + r * cols;
    T dh, dl;
    RowDot(d, g, yr, cols, dh, dl, [&](auto a, auto b) {
      const auto p = hn::Mul(a, b);
      return Pair<D>{p, FmaSub(d, a, b, p)};
    });
    if (std::isnan(dh)) {  // NaN or inf in the row: NaN, the same bits on every target
      FillNaN(dx + r * cols, cols);
      continue;
    }
    const auto ndh = hn::Set(d, -dh), dlv = hn::Set(d, dl);
    const auto one = hn::Set(d, T(1)), tiny = hn::Set(d, kSoftmaxTiny<T>);
    const auto up = hn::Set(d, T(0x1p64)), down = hn::Set(d, T(0x1p-64));
    MapBinary(d, g, yr, dx + r * cols, cols, [&](auto dd, auto vg, auto vy) {
      (void)dd;
      const Pair<D> t = TwoSum<D>(vg, ndh);
      // y (t.hi + t.lo - dl), rounded once: computed 2^64 larger where the
      // result is tiny, so the partial product cannot round into subnormals.
      const auto small = hn::Lt(hn::Abs(hn::Mul(vy, t.hi)), tiny);
      const auto ys = hn::Mul(vy, hn::IfThenElse(small, up, one));
      const auto v = Fma(d, ys, t.hi, hn::Mul(ys, hn::Sub(t.lo, dlv)));
      return hn::Mul(v, hn::IfThenElse(small, down, one));
    });
  }
}

// dx = dy - e^y G, G = sum(dy) as a compensated pair; e^y G as a pair from
// the exp core's pieces, scaled exactly (four factors beyond kFastZ) and
// subtracted with a TwoSum: one rounding wherever the pair is normal.
template <bool kSlow, class D>
HWY_INLINE hn::Vec<D> LogSoftmaxBackwardVec(D d, const ExpVecs<D>& k, hn::Vec<D> g,
                                            hn::Vec<D> y, hn::Vec<D> gh, hn::Vec<D> gl) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  // z = -y >= 0; a positive y (not a log-probability) counts as 0.
  const auto za = hn::Min(hn::Max(hn::Neg(y), zero), kSlow ? hn::Set(d, C::kZMaxGrad) : k.fast_z);
  const ExpParts<D> e = ExpNeg<false>(d, k, za, zero);
  const GradScale<kSlow, D> gs = MakeGradScale<kSlow>(d, k, za, e);
  const auto ph = hn::Mul(e.ph, gh);
  const auto pl = Fma(d, e.ph, gl, Fma(d, e.pl, gh, FmaSub(d, e.ph, gh, ph)));
  const Pair<D> t = TwoSum<D>(g, hn::Neg(ScaleGrad(gs, ph)));
  auto dx = hn::Sub(t.hi, hn::Sub(ScaleGrad(gs, pl), t.lo));
  if constexpr (kSlow) dx = hn::IfThenElse(hn::Eq(y, y), dx, y);  // NaN y gives NaN
  return dx;
}

template <class T>
void LogSoftmaxBackwardRows(const T* dy, const T* y, T* dx, std::size_t rows, std::size_t cols) {
  const hn::ScalableTag<T> d;
  using D = hn::ScalableTag<T>;
  const ExpVecs<D> k(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* g = dy + r * cols;
    T gh, gl;
    RowDot(d, g, g, cols, gh, gl, [&](auto a, auto) { return Pair<D>{a, hn::Zero(d)}; });
    if (std::isnan(gh)) {
      FillNaN(dx + r * cols, cols);
      continue;
    }
    const auto vgh = hn::Set(d, gh), vgl = hn::Set(d, gl);
    MapBinary(d, g, y + r * cols, dx + r * cols, cols, [&](auto dd, auto vg, auto vy) {
      return HWY_LIKELY(hn::AllTrue(dd, hn::Ge(vy, k.neg_fast_z)))
                 ? LogSoftmaxBackwardVec<false>(dd, k, vg, vy, vgh, vgl)
                 : LogSoftmaxBackwardVec<true>(dd, k, vg, vy, vgh, vgl);
    });
  }
}

#define SIGMA_SOFTMAX_KERNELS(NAME, KERNEL)                                                   \
  void NAME##F32(const float* a, const float* b, float* out, std::size_t rows,               \
                 std::size_t cols, float* scratch) {                                         \
    KERNEL(a, b, out, rows, cols, scratch);                                                  \
  }                                                                                          \
  void NAME##F64(const double* a, const double* b, double* out, std::size_t rows,            \
                 std::size_t cols, double* scratch) {                                        \
    KERNEL(a, b, out, rows, cols, scratch);                                                  \
  }
// Forward kernels take (x, unused, y, rows, cols, scratch), backward ones
// (dy, saved, dx, rows, cols, unused): one shape for the one runner below.
template <class T>
HWY_INLINE void SoftmaxK(const T* x, const T*, T* y, std::size_t rows, std::size_t cols, T* s) {
  SoftmaxRows(x, y, rows, cols, s);
}
template <class T>
HWY_INLINE void LogSoftmaxK(const T* x, const T*, T* y, std::size_t rows, std::size_t cols, T* s) {
  LogSoftmaxRows(x, y, rows, cols, s);
}
template <class T>
HWY_INLINE void SoftmaxBackwardK(const T* g, const T* y, T* dx, std::size_t rows,
                                 std::size_t cols, T*) {
  SoftmaxBackwardRows(g, y, dx, rows, cols);
}
template <class T>
HWY_INLINE void LogSoftmaxBackwardK(const T* g, const T* y, T* dx, std::size_t rows,
                                    std::size_t cols, T*) {
  LogSoftmaxBackwardRows(g, y, dx, rows, cols);
}
SIGMA_SOFTMAX_KERNELS(Softmax, SoftmaxK)
SIGMA_SOFTMAX_KERNELS(LogSoftmax, LogSoftmaxK)
SIGMA_SOFTMAX_KERNELS(SoftmaxBackward, SoftmaxBackwardK)
SIGMA_SOFTMAX_KERNELS(LogSoftmaxBackward, LogSoftmaxBackwardK)

SIGMA_KERNELS_END

#if HWY_ONCE
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "sigma/kernels.h"

namespace sigma {
SIGMA_EXPORT_KERNELS(Softmax)
SIGMA_EXPORT_KERNELS(LogSoftmax)
SIGMA_EXPORT_KERNELS(SoftmaxBackward)
SIGMA_EXPORT_KERNELS(LogSoftmaxBackward)

namespace {

void check_cols(const char* op, std::size_t n, std::int64_t cols) {
  if (cols < 1)
    throw std::invalid_argument(std::string(op) + ": cols is " + std::to_string(cols) +
                                " (must be at least 1)");
  if (n % static_cast<std::size_t>(cols) != 0)
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(n) +
                                " elements are not a whole number of rows of " +
                                std::to_string(cols));
}

// Rows split across threads whole, by size only. kernel(a, b, out, rows,
// cols, scratch); b may be null (forward); scratch: cols elements per chunk
// when kScratch.
template <bool kScratch, class T, class K>
void run_rows(std::size_t n, std::int64_t cols, const T* a, const T* b, T* out, K kernel) {
  detail::init_dispatch();
  const auto c = static_cast<std::size_t>(cols);
  const std::int64_t rows = static_cast<std::int64_t>(n / c);
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kKernelGrain / cols);
  detail::parallel_for(rows, grain, [&](std::int64_t r0, std::int64_t r1) {
    std::vector<T> scratch(kScratch ? c : 0);
    const auto off = static_cast<std::size_t>(r0) * c;
    kernel(a + off, b ? b + off : nullptr, out + off, static_cast<std::size_t>(r1 - r0), c,
           scratch.data());
  });
}

template <bool kScratch, class T, class K>
void run_forward(const char* op, std::span<const T> x, std::span<T> y, std::int64_t cols,
                 K kernel) {
  check_cols(op, x.size(), cols);
  detail::check_same_size(op, "x", x.size(), "y", y.size());
  detail::check_no_partial_overlap(op, "x", x.data(), x.size(), "y", y.data(), y.size());
  run_rows<kScratch>(x.size(), cols, x.data(), static_cast<const T*>(nullptr), y.data(), kernel);
}

template <class T, class K>
void run_backward(const char* op, std::span<const T> dy, std::span<const T> y, std::span<T> dx,
                  std::int64_t cols, K kernel) {
  check_cols(op, dy.size(), cols);
  detail::check_same_size(op, "dy", dy.size(), "y", y.size());
  detail::check_same_size(op, "dy", dy.size(), "dx", dx.size());
  detail::check_no_partial_overlap(op, "dy", dy.data(), dy.size(), "dx", dx.data(), dx.size());
  detail::check_no_partial_overlap(op, "y", y.data(), y.size(), "dx", dx.data(), dx.size());
  run_rows<false>(dy.size(), cols, dy.data(), y.data(), dx.data(), kernel);
}

}  // namespace

void softmax(std::span<const float> x, std::span<float> y, std::int64_t cols) {
  run_forward<true>("sigma::softmax", x, y, cols, SIGMA_LAZY_DISPATCH(SoftmaxF32));
}
void softmax(std::span<const double> x, std::span<double> y, std::int64_t cols) {
  run_forward<true>("sigma::softmax", x, y, cols, SIGMA_LAZY_DISPATCH(SoftmaxF64));
}
void log_softmax(std::span<const float> x, std::span<float> y, std::int64_t cols) {
  run_forward<false>("sigma::log_softmax", x, y, cols, SIGMA_LAZY_DISPATCH(LogSoftmaxF32));
}
void log_softmax(std::span<const double> x, std::span<double> y, std::int64_t cols) {
  run_forward<false>("sigma::log_softmax", x, y, cols, SIGMA_LAZY_DISPATCH(LogSoftmaxF64));
}
void softmax_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx,
                      std::int64_t cols) {
  run_backward("sigma::softmax_backward", dy, y, dx, cols, SIGMA_LAZY_DISPATCH(SoftmaxBackwardF32));
}
void softmax_backward(std::span<const double> dy, std::span<const double> y,
                      std::span<double> dx, std::int64_t cols) {
  run_backward("sigma::softmax_backward", dy, y, dx, cols, SIGMA_LAZY_DISPATCH(SoftmaxBackwardF64));
}
void log_softmax_backward(std::span<const float> dy, std::span<const float> y,
                          std::span<float> dx, std::int64_t cols) {
  run_backward("sigma::log_softmax_backward", dy, y, dx, cols,
               SIGMA_LAZY_DISPATCH(LogSoftmaxBackwardF32));
}
void log_softmax_backward(std::span<const double> dy, std::span<const double> y,
                          std::span<double> dx, std::int64_t cols) {
  run_backward("sigma::log_softmax_backward", dy, y, dx, cols,
               SIGMA_LAZY_DISPATCH(LogSoftmaxBackwardF64));
}

}  // namespace sigma
#endif  // HWY_ONCE
