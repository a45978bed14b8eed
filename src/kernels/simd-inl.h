// Per-target SIMD helpers shared by the kernels (Highway). Included once per
// target by each kernel file through foreach_target.h.
//
// Bitwise reproducibility: every helper here is exactly rounded IEEE
// arithmetic on every target. Fma is a true fused multiply-add everywhere
// (hardware on AVX2/AVX-512, std::fma per lane elsewhere), and the kernels are
// compiled with -ffp-contract=off so the compiler never fuses what we keep
// separate. Identical operation sequences then give identical bits.

#ifndef SIGMA_UNARY_KERNELS
// Open and close sigma's per-target kernel namespace, with Highway's target
// attributes, around each kernel file's per-target part (hn is Highway's
// namespace for the target, declared below).
#define SIGMA_KERNELS_BEGIN \
  HWY_BEFORE_NAMESPACE();   \
  namespace sigma::kernels::HWY_NAMESPACE {
#define SIGMA_KERNELS_END \
  }                       \
  HWY_AFTER_NAMESPACE();

// KERNEL's f32 and f64 instances as plain functions NAME##F32 / NAME##F64, the
// form HWY_EXPORT takes (it cannot export a template). KERNEL(x, y, n).
#define SIGMA_UNARY_KERNELS(NAME, KERNEL)                                         \
  void NAME##F32(const float* x, float* y, std::size_t n) { KERNEL(x, y, n); }    \
  void NAME##F64(const double* x, double* y, std::size_t n) { KERNEL(x, y, n); }
// The same for KERNEL(dy, saved, dx, n).
#define SIGMA_BINARY_KERNELS(NAME, KERNEL)                                            \
  void NAME##F32(const float* dy, const float* s, float* dx, std::size_t n) {         \
    KERNEL(dy, s, dx, n);                                                             \
  }                                                                                   \
  void NAME##F64(const double* dy, const double* s, double* dx, std::size_t n) {      \
    KERNEL(dy, s, dx, n);                                                             \
  }
#endif

#if defined(SIGMA_KERNELS_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIGMA_KERNELS_SIMD_INL_H_
#undef SIGMA_KERNELS_SIMD_INL_H_
#else
#define SIGMA_KERNELS_SIMD_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstring>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sigma::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// a * b + c, rounded once.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Fma(D d, V a, V b, V c) {
#if HWY_NATIVE_FMA
  (void)d;
  return hn::MulAdd(a, b, c);
#else
  using T = hn::TFromD<D>;
  constexpr std::size_t kMax = hn::MaxLanes(D());
  alignas(64) T va[kMax], vb[kMax], vc[kMax];
  hn::Store(a, d, va);
  hn::Store(b, d, vb);
  hn::Store(c, d, vc);
  for (std::size_t i = 0; i < hn::Lanes(d); ++i) va[i] = std::fma(va[i], vb[i], vc[i]);
  return hn::Load(d, va);
#endif
}

// c - a * b, rounded once.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V FmaNeg(D d, V a, V b, V c) {
#if HWY_NATIVE_FMA
  (void)d;
  return hn::NegMulAdd(a, b, c);
#else
  return Fma(d, hn::Neg(a), b, c);
#endif
}

// a * b - c, rounded once.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V FmaSub(D d, V a, V b, V c) {
#if HWY_NATIVE_FMA
  (void)d;
  return hn::MulSub(a, b, c);
#else
  return Fma(d, a, b, hn::Neg(c));
#endif
}

// value = hi + lo, |lo| <= ulp(hi)/2 or so.
template <class D>
struct Pair {
  hn::Vec<D> hi, lo;
};

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

// c[0] + c[1] x + ... + c[K-1] x^(K-1), by Horner's rule with fma.
template <class D, std::size_t K>
HWY_INLINE hn::Vec<D> Horner(D d, const hn::Vec<D> (&c)[K], hn::Vec<D> x) {
  hn::Vec<D> r = c[K - 1];
  for (std::size_t i = K - 1; i-- > 0;) r = Fma(d, r, x, c[i]);
  return r;
}

// Broadcasts K coefficients, once per kernel call.
template <class D, class T, std::size_t K>
HWY_INLINE void SetAll(D d, hn::Vec<D> (&v)[K], const T (&c)[K]) {
  for (std::size_t i = 0; i < K; ++i) v[i] = hn::Set(d, c[i]);
}

// Applies f(d, v) to n elements of `in`, writing `out` (which may equal `in`).
// The tail is a masked vector, so every element goes through the same code.
template <class D, class F>
HWY_INLINE void MapUnary(D d, const hn::TFromD<D>* in, hn::TFromD<D>* out, std::size_t n, F f) {
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto a = hn::LoadU(d, in + i);
    const auto b = hn::LoadU(d, in + i + N);
    hn::StoreU(f(d, a), d, out + i);
    hn::StoreU(f(d, b), d, out + i + N);
  }
  for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, in + i)), d, out + i);
  if (i < n) {
    // Through a zero-padded local vector: masked loads/stores may touch bytes
    // past the end on some targets (SSE4/AVX2 BlendedStore is load-blend-store).
    using T = hn::TFromD<D>;
    alignas(64) T buf[hn::MaxLanes(D())] = {};
    std::memcpy(buf, in + i, (n - i) * sizeof(T));
    hn::Store(f(d, hn::Load(d, buf)), d, buf);
    std::memcpy(out + i, buf, (n - i) * sizeof(T));
  }
}

// out[i] = f(d, a[i], b[i]); out may equal a or b.
template <class D, class F>
HWY_INLINE void MapBinary(D d, const hn::TFromD<D>* a, const hn::TFromD<D>* b,
                          hn::TFromD<D>* out, std::size_t n, F f) {
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N)
    hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, out + i);
  if (i < n) {  // through zero-padded local vectors, as in MapUnary
    using T = hn::TFromD<D>;
    alignas(64) T ba[hn::MaxLanes(D())] = {};
    alignas(64) T bb[hn::MaxLanes(D())] = {};
    std::memcpy(ba, a + i, (n - i) * sizeof(T));
    std::memcpy(bb, b + i, (n - i) * sizeof(T));
    hn::Store(f(d, hn::Load(d, ba), hn::Load(d, bb)), d, ba);
    std::memcpy(out + i, ba, (n - i) * sizeof(T));
  }
}

}  // namespace sigma::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // SIGMA_KERNELS_SIMD_INL_H_ toggle
