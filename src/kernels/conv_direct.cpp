// Direct stride-1 convolution on flat planes (contracts in conv_direct.h),
// compiled once per SIMD target.
//
// conv_flat keeps an OB x PB block of accumulators (OB output channels, PB
// vectors of flat pixels) in registers while k runs over (channel, tap):
// per k, PB unaligned loads of the source, OB broadcasts of the weights and
// OB PB fused multiply-adds. conv_flat_weight keeps a KB x 2 block of
// accumulators (KB (channel, tap) pairs, two vectors of output channels)
// while it runs over the pixels: per pixel two loads of the transposed dy,
// KB broadcasts of the source and 2 KB multiply-adds; no junk columns and
// no horizontal sums. (A first version, with vectors along the pixels, spent
// one vector load per two multiply-adds and ran at 70% of the forward's rate.)
// Block sizes follow the register file: 32 vector registers on AVX-512, 16
// below it. conv_flat takes the last output channels in blocks of 4, 2 and
// 1; conv_flat_weight's last block of taps repeats the last tap (computed,
// not stored) and its last channels are lanes of padded dy rows.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/conv_direct.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <cstdint>

#include "kernels/conv_direct.h"
#include "kernels/simd-inl.h"

SIGMA_KERNELS_BEGIN

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr int kFlatOB = 8, kFlatPB = 3, kWeightKB = 12;
#else
constexpr int kFlatOB = 4, kFlatPB = 3, kWeightKB = 6;
#endif

// out[o0 + i][p0 + j N ...] for i < OB, j < PB.
template <int OB, int PB, class D, class T = hn::TFromD<D>>
HWY_INLINE void FlatBlock(D d, const ConvFlatArgs<T>& a, std::int64_t o0, std::int64_t p0) {
  const std::size_t N = hn::Lanes(d);
  hn::Vec<D> acc[OB][PB];
  for (int i = 0; i < OB; ++i)
    for (int j = 0; j < PB; ++j) acc[i][j] = hn::Zero(d);
  const T* src = a.src + p0;
  const T* wt = a.wt + o0;
  for (std::int64_t k = 0; k < a.k; ++k, wt += a.o) {
    const T* s = src + a.off[k];
    hn::Vec<D> x[PB];
    for (int j = 0; j < PB; ++j) x[j] = hn::LoadU(d, s + j * N);
    for (int i = 0; i < OB; ++i) {
      const auto w = hn::Set(d, wt[i]);
      for (int j = 0; j < PB; ++j) acc[i][j] = Fma(d, w, x[j], acc[i][j]);
    }
  }
  for (int i = 0; i < OB; ++i)
    for (int j = 0; j < PB; ++j) hn::StoreU(acc[i][j], d, a.out + (o0 + i) * a.ld + p0 + j * N);
}

// Pixels [p0, p0 + PB N) of every output channel, OB channels at a time:
// the source block stays in the first-level cache across the channels.
template <int PB, class D, class T = hn::TFromD<D>>
HWY_INLINE void FlatColumns(D d, const ConvFlatArgs<T>& a, std::int64_t p0) {
  std::int64_t o0 = 0;
  for (; o0 + kFlatOB <= a.o; o0 += kFlatOB) FlatBlock<kFlatOB, PB>(d, a, o0, p0);
  if constexpr (kFlatOB > 4)
    for (; o0 + 4 <= a.o; o0 += 4) FlatBlock<4, PB>(d, a, o0, p0);
  for (; o0 + 2 <= a.o; o0 += 2) FlatBlock<2, PB>(d, a, o0, p0);
  if (o0 < a.o) FlatBlock<1, PB>(d, a, o0, p0);
}

template <class T>
void ConvFlat(const ConvFlatArgs<T>& a) {
  const hn::ScalableTag<T> d;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  const std::int64_t vectors = (a.l + N - 1) / N;
  std::int64_t v = 0;
  for (; v + kFlatPB <= vectors; v += kFlatPB) FlatColumns<kFlatPB>(d, a, v * N);
  // The last one or two vectors together: one vector a block costs as many
  // broadcasts as multiply-adds.
  switch (vectors - v) {
    case 5: if constexpr (kFlatPB > 5) FlatColumns<5>(d, a, v * N); break;
    case 4: if constexpr (kFlatPB > 4) FlatColumns<4>(d, a, v * N); break;
    case 3: if constexpr (kFlatPB > 3) FlatColumns<3>(d, a, v * N); break;
    case 2: FlatColumns<2>(d, a, v * N); break;
    case 1: FlatColumns<1>(d, a, v * N); break;
    default: break;
  }
}

// dw[o0 + lanes of OV vectors][k0 + j] for j < KB, over every pixel of
// every sample: per pixel OV loads of dyt, KB broadcasts of the source and
// OV KB multiply-adds, each output's terms in pixel order (so the bits do
// not depend on the vector width). k past K repeats the last tap, not stored.
template <int OV, int KB, class D, class T = hn::TFromD<D>>
HWY_INLINE void WeightBlock(D d, const ConvFlatWeightArgs<T>& a, std::int64_t o0, std::int64_t k0) {
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  hn::Vec<D> acc[KB][OV];
  for (int j = 0; j < KB; ++j)
    for (int v = 0; v < OV; ++v) acc[j][v] = hn::Zero(d);
  std::int64_t off[KB];
  for (int j = 0; j < KB; ++j) off[j] = a.off[std::min(k0 + j, a.k - 1)];
  // One loop over (sample, row, column): accumulators live across a nested
  // loop's boundary were spilled to the stack on every iteration by g++ 12.
  const T* g = a.dyt + o0;
  const T* sample = a.src;
  const T* x = sample;
  const std::int64_t pixels = a.s * a.r * a.q;
  std::int64_t q = 0, r = 0;
  for (std::int64_t i = 0; i < pixels; ++i) {
    hn::Vec<D> gv[OV];
    for (int v = 0; v < OV; ++v) gv[v] = hn::LoadU(d, g + v * N);
    for (int j = 0; j < KB; ++j) {
      const auto w = hn::Set(d, x[off[j] + q]);
      for (int v = 0; v < OV; ++v) acc[j][v] = Fma(d, w, gv[v], acc[j][v]);
    }
    g += a.ldo;
    if (++q == a.q) {
      q = 0;
      x += a.src_r;
      if (++r == a.r) {
        r = 0;
        sample += a.src_s;
        x = sample;
      }
    }
  }
  alignas(64) T lanes[KB][OV][hn::MaxLanes(D())];
  for (int j = 0; j < KB; ++j)
    for (int v = 0; v < OV; ++v) hn::Store(acc[j][v], d, lanes[j][v]);
  for (int j = 0; j < KB && k0 + j < a.k; ++j)
    for (std::int64_t o = o0; o < std::min(o0 + OV * N, a.o); ++o) {
      const T sum = lanes[j][(o - o0) / N][(o - o0) % N];
      T& out = a.dw[o * a.k + k0 + j];
      out = a.accumulate ? out + sum : sum;
    }
}

template <class T>
void ConvFlatWeight(const ConvFlatWeightArgs<T>& a) {
  const hn::ScalableTag<T> d;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  for (std::int64_t k0 = 0; k0 < a.k; k0 += kWeightKB) {
    std::int64_t o0 = 0;
    for (; o0 + N < a.o; o0 += 2 * N) WeightBlock<2, kWeightKB>(d, a, o0, k0);
    if (o0 < a.o) WeightBlock<1, kWeightKB>(d, a, o0, k0);
  }
}

// dst[p * dst_ld + o] = src[o * src_ld + p] for o < rows, p < cols: 4 x 4
// blocks of f32 (2 x 2 of f64) through 128-bit shuffles, tails one by one.
template <class T>
void TransposeImpl(const T* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, T* dst,
                   std::int64_t dst_ld) {
  constexpr std::int64_t B = 16 / sizeof(T);
  const hn::FixedTag<T, B> d;
  std::int64_t o = 0;
  for (; o + B <= rows; o += B) {
    std::int64_t p = 0;
    for (; p + B <= cols; p += B) {
      if constexpr (B == 4) {
        const auto r0 = hn::LoadU(d, src + o * src_ld + p), r1 = hn::LoadU(d, src + (o + 1) * src_ld + p);
        const auto r2 = hn::LoadU(d, src + (o + 2) * src_ld + p), r3 = hn::LoadU(d, src + (o + 3) * src_ld + p);
        const auto t0 = hn::InterleaveLower(d, r0, r1), t1 = hn::InterleaveLower(d, r2, r3);
        const auto t2 = hn::InterleaveUpper(d, r0, r1), t3 = hn::InterleaveUpper(d, r2, r3);
        hn::StoreU(hn::ConcatLowerLower(d, t1, t0), d, dst + p * dst_ld + o);
        hn::StoreU(hn::ConcatUpperUpper(d, t1, t0), d, dst + (p + 1) * dst_ld + o);
        hn::StoreU(hn::ConcatLowerLower(d, t3, t2), d, dst + (p + 2) * dst_ld + o);
        hn::StoreU(hn::ConcatUpperUpper(d, t3, t2), d, dst + (p + 3) * dst_ld + o);
      } else {
        const auto r0 = hn::LoadU(d, src + o * src_ld + p), r1 = hn::LoadU(d, src + (o + 1) * src_ld + p);
        hn::StoreU(hn::InterleaveLower(d, r0, r1), d, dst + p * dst_ld + o);
        hn::StoreU(hn::InterleaveUpper(d, r0, r1), d, dst + (p + 1) * dst_ld + o);
      }
    }
    for (; p < cols; ++p)
      for (std::int64_t i = 0; i < B; ++i) dst[p * dst_ld + o + i] = src[(o + i) * src_ld + p];
  }
  for (; o < rows; ++o)
    for (std::int64_t p = 0; p < cols; ++p) dst[p * dst_ld + o] = src[o * src_ld + p];
}

void TransposeF32(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
                  std::int64_t dst_ld) {
  TransposeImpl(src, rows, cols, src_ld, dst, dst_ld);
}
void TransposeF64(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld,
                  double* dst, std::int64_t dst_ld) {
  TransposeImpl(src, rows, cols, src_ld, dst, dst_ld);
}

// dst[r * dst_ld + c] = src[r * src_ld + c] (+ b when kAdd) for r < rows,
// c < cols: whole vectors, the last one of a row overlapping the one before
// it (the same values written twice); rows shorter than a vector one by one.
template <bool kAdd, class T>
void CopyRowsImpl(const T* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, T* dst,
                  std::int64_t dst_ld, T b) {
  const hn::ScalableTag<T> d;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  const auto vb = hn::Set(d, b);
  for (std::int64_t r = 0; r < rows; ++r, src += src_ld, dst += dst_ld) {
    if (cols < N) {
      for (std::int64_t c = 0; c < cols; ++c) dst[c] = kAdd ? src[c] + b : src[c];
      continue;
    }
    for (std::int64_t c = 0;; c += N) {
      c = std::min(c, cols - N);
      const auto v = hn::LoadU(d, src + c);
      hn::StoreU(kAdd ? hn::Add(v, vb) : v, d, dst + c);
      if (c == cols - N) break;
    }
  }
}

void CopyRowsF32(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
                 std::int64_t dst_ld) {
  CopyRowsImpl<false>(src, rows, cols, src_ld, dst, dst_ld, 0.0f);
}
void CopyRowsF64(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
                 std::int64_t dst_ld) {
  CopyRowsImpl<false>(src, rows, cols, src_ld, dst, dst_ld, 0.0);
}
void CopyRowsPlusF32(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
                     std::int64_t dst_ld, float b) {
  CopyRowsImpl<true>(src, rows, cols, src_ld, dst, dst_ld, b);
}
void CopyRowsPlusF64(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld,
                     double* dst, std::int64_t dst_ld, double b) {
  CopyRowsImpl<true>(src, rows, cols, src_ld, dst, dst_ld, b);
}

void ConvFlatF32(const ConvFlatArgs<float>& a) { ConvFlat(a); }
void ConvFlatF64(const ConvFlatArgs<double>& a) { ConvFlat(a); }
void ConvFlatWeightF32(const ConvFlatWeightArgs<float>& a) { ConvFlatWeight(a); }
void ConvFlatWeightF64(const ConvFlatWeightArgs<double>& a) { ConvFlatWeight(a); }

SIGMA_KERNELS_END

#if HWY_ONCE
#include "kernels/dispatch.h"

namespace sigma {
namespace kernels {
HWY_EXPORT(ConvFlatF32);
HWY_EXPORT(ConvFlatF64);
HWY_EXPORT(ConvFlatWeightF32);
HWY_EXPORT(ConvFlatWeightF64);
HWY_EXPORT(TransposeF32);
HWY_EXPORT(TransposeF64);
HWY_EXPORT(CopyRowsF32);
HWY_EXPORT(CopyRowsF64);
HWY_EXPORT(CopyRowsPlusF32);
HWY_EXPORT(CopyRowsPlusF64);

// The kernel for the chosen target, once SIGMA_TARGET has been read.
#define SIGMA_CONV_CALL(KERNEL, ...) (detail::init_dispatch(), HWY_DYNAMIC_DISPATCH(KERNEL)(__VA_ARGS__))

void conv_flat(const ConvFlatArgs<float>& a) { SIGMA_CONV_CALL(ConvFlatF32, a); }
void conv_flat(const ConvFlatArgs<double>& a) { SIGMA_CONV_CALL(ConvFlatF64, a); }
void conv_flat_weight(const ConvFlatWeightArgs<float>& a) { SIGMA_CONV_CALL(ConvFlatWeightF32, a); }
void conv_flat_weight(const ConvFlatWeightArgs<double>& a) { SIGMA_CONV_CALL(ConvFlatWeightF64, a); }
void transpose(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
               std::int64_t dst_ld) {
  SIGMA_CONV_CALL(TransposeF32, src, rows, cols, src_ld, dst, dst_ld);
}
void transpose(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
               std::int64_t dst_ld) {
  SIGMA_CONV_CALL(TransposeF64, src, rows, cols, src_ld, dst, dst_ld);
}
void copy_rows(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
               std::int64_t dst_ld) {
  SIGMA_CONV_CALL(CopyRowsF32, src, rows, cols, src_ld, dst, dst_ld);
}
void copy_rows(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
               std::int64_t dst_ld) {
  SIGMA_CONV_CALL(CopyRowsF64, src, rows, cols, src_ld, dst, dst_ld);
}
void copy_rows_plus(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
                    std::int64_t dst_ld, float b) {
  SIGMA_CONV_CALL(CopyRowsPlusF32, src, rows, cols, src_ld, dst, dst_ld, b);
}
void copy_rows_plus(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
                    std::int64_t dst_ld, double b) {
  SIGMA_CONV_CALL(CopyRowsPlusF64, src, rows, cols, src_ld, dst, dst_ld, b);
}
#undef SIGMA_CONV_CALL
}  // namespace kernels
}  // namespace sigma
#endif  // HWY_ONCE
