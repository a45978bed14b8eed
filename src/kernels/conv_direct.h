// Direct convolution at stride 1 on zero-bordered "flat" planes: the
// micro-kernels behind conv2d's forward, input gradient and weight gradient
// (ops/conv.cpp builds the planes; these see pointers and counts only).
//
// A plane is one channel of one sample, zero-bordered to HP x WP and stored
// row after row (WP apart), followed by zeros. Output pixel (r, q) of a
// stride-1 convolution reads plane element (r + i dh) WP + (q + j dw) for tap
// (i, j): in flat indices, output p = r WP + q reads p + off(tap). So a whole
// convolution is, per output channel o and flat index p,
//   out[o][p] = sum over k of wt[k][o] src[off[k] + p],
// k running over (channel, tap) pairs with off[k] = channel * plane stride +
// i dh WP + j dw. Flat indices with q >= OW are junk (they mix two rows) and
// are dropped by the caller.
#pragma once

#include <cstdint>

namespace sigma::kernels {

// out[o * ld + p] = sum_{k < K, in order} wt[k * O + o] * src[off[k] + p]
// for o < O and p < round_up(L, 16), one fused multiply-add per term from 0:
// every output's bits are the same on every SIMD target. src must be
// readable (and initialised) at every off[k] + p read, ld >= round_up(L, 16).
template <class T>
struct ConvFlatArgs {
  const T* src = nullptr;
  const std::int64_t* off = nullptr;
  std::int64_t k = 0;
  const T* wt = nullptr;
  std::int64_t o = 0;
  T* out = nullptr;
  std::int64_t ld = 0;
  std::int64_t l = 0;
};

// dw[o * K + k] (= or +=, by `accumulate`) the sum over samples i < S,
// rows y < R and columns x < Q, in that order, of
//   dyt[i * dyt_s + (y Q + x) * ldo + o] * src[i * src_s + off[k] + y * src_r + x],
// dyt being dy transposed to pixels x channels, rows ldo apart (ldo a
// multiple of 16, readable there). One fused multiply-add per term from 0:
// every output's bits are the same on every SIMD target.
template <class T>
struct ConvFlatWeightArgs {
  const T* dyt = nullptr;
  std::int64_t dyt_s = 0, ldo = 0, o = 0;
  const T* src = nullptr;
  std::int64_t src_s = 0, src_r = 0;
  const std::int64_t* off = nullptr;
  std::int64_t k = 0;
  std::int64_t s = 0, r = 0, q = 0;
  T* dw = nullptr;
  bool accumulate = false;
};

void conv_flat(const ConvFlatArgs<float>& a);
void conv_flat(const ConvFlatArgs<double>& a);
void conv_flat_weight(const ConvFlatWeightArgs<float>& a);
void conv_flat_weight(const ConvFlatWeightArgs<double>& a);

// dst[p * dst_ld + o] = src[o * src_ld + p] for o < rows, p < cols (dy to
// conv_flat_weight's [pixel, channel] layout).
void transpose(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
               std::int64_t dst_ld);
void transpose(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
               std::int64_t dst_ld);

// dst[r * dst_ld + c] = src[r * src_ld + c] for r < rows, c < cols (images
// into planes and back); copy_rows_plus adds b to each. Rows must not overlap.
void copy_rows(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
               std::int64_t dst_ld);
void copy_rows(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
               std::int64_t dst_ld);
void copy_rows_plus(const float* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, float* dst,
                    std::int64_t dst_ld, float b);
void copy_rows_plus(const double* src, std::int64_t rows, std::int64_t cols, std::int64_t src_ld, double* dst,
                    std::int64_t dst_ld, double b);

}  // namespace sigma::kernels
