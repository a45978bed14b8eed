// Tests of src/kernels/conv_direct.cpp: conv_flat, conv_flat_weight,
// transpose and copy_rows against loops written here (long double sums), on every SIMD
// target compiled in and supported here, and the same bits on every target
// (each output is one chain of fused multiply-adds in a fixed order).
#include "kernels/conv_direct.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "targets.h"

namespace {

using sigma::kernels::ConvFlatArgs;
using sigma::kernels::ConvFlatWeightArgs;
using sigma::test::for_each_target;

// A stride-1 convolution's geometry on flat planes: C channels of [hp, wp]
// planes `stride` apart, a kh x kw kernel dilated (dh, dw), output [oh, ow].
struct Geom {
  std::int64_t c, o, oh, ow, kh, kw, dh, dw;
  std::int64_t hp() const { return oh + (kh - 1) * dh; }
  std::int64_t wp() const { return ow + (kw - 1) * dw; }
  std::int64_t stride() const { return (hp() * wp() + (kw - 1) * dw + 16 + 15) / 16 * 16; }
  std::int64_t k() const { return c * kh * kw; }
  std::vector<std::int64_t> offsets() const {
    std::vector<std::int64_t> off;
    for (std::int64_t ci = 0; ci < c; ++ci)
      for (std::int64_t i = 0; i < kh; ++i)
        for (std::int64_t j = 0; j < kw; ++j) off.push_back(ci * stride() + i * dh * wp() + j * dw);
    return off;
  }
};

const std::vector<Geom> kGeoms = {
    {1, 1, 5, 5, 3, 3, 1, 1},     // one channel each way
    {3, 17, 7, 9, 3, 2, 2, 1},    // output channels past every block size
    {16, 32, 28, 28, 3, 3, 1, 1}, // the benchmark's layer
    {5, 9, 4, 30, 1, 5, 1, 2},    // a wide row, dilated columns
    {2, 40, 3, 1, 2, 1, 3, 1},    // a single column
};

template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist;
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

// |got - want| within (terms + 2) ulp of the sum of |terms| (a chain of
// `terms` roundings, each within half an ulp of a partial sum below it).
template <class T>
void expect_close(T got, long double want, long double abs_sum, std::int64_t terms, const std::string& what) {
  const long double tol = static_cast<long double>(terms + 2) * std::numeric_limits<T>::epsilon() * abs_sum;
  ASSERT_LE(std::fabs(static_cast<long double>(got) - want), tol)
      << what << ": got " << got << ", want " << static_cast<double>(want);
}

template <class T>
void check_conv_flat() {
  std::uint64_t seed = 1;
  for (const Geom& g : kGeoms) {
    SCOPED_TRACE("C " + std::to_string(g.c) + " O " + std::to_string(g.o) + " out " + std::to_string(g.oh) + "x" +
                 std::to_string(g.ow));
    const std::int64_t K = g.k(), l = g.oh * g.wp(), ld = (l + 15) / 16 * 16;
    std::vector<T> src = random_values<T>(static_cast<std::size_t>(g.c * g.stride()), seed++);
    for (std::int64_t ci = 0; ci < g.c; ++ci)  // the tail past the plane is zero, as the contract asks
      std::fill(src.begin() + ci * g.stride() + g.hp() * g.wp(), src.begin() + (ci + 1) * g.stride(), T(0));
    const std::vector<T> wt = random_values<T>(static_cast<std::size_t>(K * g.o), seed++);
    const std::vector<std::int64_t> off = g.offsets();
    std::vector<long double> want(static_cast<std::size_t>(g.o * l)), abs_sum(want.size());
    for (std::int64_t o = 0; o < g.o; ++o)
      for (std::int64_t p = 0; p < l; ++p)
        for (std::int64_t k = 0; k < K; ++k) {
          const long double t = static_cast<long double>(wt[k * g.o + o]) * src[off[k] + p];
          want[o * l + p] += t;
          abs_sum[o * l + p] += std::fabs(t);
        }
    std::vector<T> first;
    for_each_target([&](const std::string& target) {
      std::vector<T> out(static_cast<std::size_t>(g.o * ld), T(-7));
      sigma::kernels::conv_flat(ConvFlatArgs<T>{src.data(), off.data(), K, wt.data(), g.o, out.data(), ld, l});
      for (std::int64_t o = 0; o < g.o; ++o)
        for (std::int64_t p = 0; p < l; ++p)
          expect_close(out[o * ld + p], want[o * l + p], abs_sum[o * l + p], K,
                       "out[" + std::to_string(o) + "][" + std::to_string(p) + "]");
      if (first.empty()) {
        first = out;
        return;
      }
      for (std::int64_t o = 0; o < g.o; ++o)
        ASSERT_EQ(std::memcmp(&first[o * ld], &out[o * ld], static_cast<std::size_t>(l) * sizeof(T)), 0)
            << "channel " << o << " differs from the first target's on " << target;
    });
  }
}

TEST(KernelConvFlat, MatchesLongDoubleWithTheSameBitsOnEveryTargetF32) { check_conv_flat<float>(); }
TEST(KernelConvFlat, MatchesLongDoubleWithTheSameBitsOnEveryTargetF64) { check_conv_flat<double>(); }

template <class T>
void check_conv_flat_weight(bool accumulate) {
  std::uint64_t seed = 100;
  for (const Geom& g : kGeoms) {
    SCOPED_TRACE("C " + std::to_string(g.c) + " O " + std::to_string(g.o));
    const std::int64_t K = g.k(), S = 3, P = g.oh * g.ow, ldo = (g.o + 15) / 16 * 16;
    const std::vector<T> src = random_values<T>(static_cast<std::size_t>(S * g.c * g.stride()), seed++);
    const std::vector<T> dyt = random_values<T>(static_cast<std::size_t>(S * P * ldo), seed++);
    const std::vector<T> start = random_values<T>(static_cast<std::size_t>(g.o * K), seed++);
    const std::vector<std::int64_t> off = g.offsets();
    std::vector<long double> want(static_cast<std::size_t>(g.o * K)), abs_sum(want.size());
    for (std::int64_t o = 0; o < g.o; ++o)
      for (std::int64_t k = 0; k < K; ++k)
        for (std::int64_t s = 0; s < S; ++s)
          for (std::int64_t y = 0; y < g.oh; ++y)
            for (std::int64_t x = 0; x < g.ow; ++x) {
              const long double t = static_cast<long double>(dyt[(s * P + y * g.ow + x) * ldo + o]) *
                                    src[s * g.c * g.stride() + off[k] + y * g.wp() + x];
              want[o * K + k] += t;
              abs_sum[o * K + k] += std::fabs(t);
            }
    std::vector<T> first;
    for_each_target([&](const std::string& target) {
      std::vector<T> dw = start;
      ConvFlatWeightArgs<T> a;
      a.dyt = dyt.data(), a.dyt_s = P * ldo, a.ldo = ldo, a.o = g.o;
      a.src = src.data(), a.src_s = g.c * g.stride(), a.src_r = g.wp();
      a.off = off.data(), a.k = K, a.s = S, a.r = g.oh, a.q = g.ow;
      a.dw = dw.data(), a.accumulate = accumulate;
      sigma::kernels::conv_flat_weight(a);
      for (std::int64_t o = 0; o < g.o; ++o)
        for (std::int64_t k = 0; k < K; ++k) {
          const std::size_t i = static_cast<std::size_t>(o * K + k);
          const std::string what = "dw[" + std::to_string(o) + "][" + std::to_string(k) + "]";
          if (accumulate)  // the kernel's own sum added once: its bound plus one rounding
            expect_close(dw[i], want[i] + start[i], abs_sum[i] + std::fabs(start[i]), S * P + 1, what);
          else
            expect_close(dw[i], want[i], abs_sum[i], S * P, what);
        }
      if (first.empty()) {
        first = dw;
        return;
      }
      ASSERT_EQ(std::memcmp(first.data(), dw.data(), dw.size() * sizeof(T)), 0)
          << "dw differs from the first target's on " << target;
    });
  }
}

TEST(KernelConvFlatWeight, MatchesLongDoubleWithTheSameBitsOnEveryTargetF32) {
  check_conv_flat_weight<float>(false);
  check_conv_flat_weight<float>(true);
}
TEST(KernelConvFlatWeight, MatchesLongDoubleWithTheSameBitsOnEveryTargetF64) {
  check_conv_flat_weight<double>(false);
  check_conv_flat_weight<double>(true);
}

template <class T>
void check_transpose() {
  std::uint64_t seed = 200;
  for (const auto& [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {5, 7}, {16, 64}, {33, 3}, {4, 17}, {2, 2}, {9, 50}}) {
    const std::int64_t src_ld = cols + 3, dst_ld = rows + 5;
    const std::vector<T> src = random_values<T>(static_cast<std::size_t>(rows * src_ld), seed++);
    for_each_target([&](const std::string&) {
      std::vector<T> dst(static_cast<std::size_t>(cols * dst_ld), T(-9));
      sigma::kernels::transpose(src.data(), rows, cols, src_ld, dst.data(), dst_ld);
      for (std::int64_t p = 0; p < cols; ++p)
        for (std::int64_t o = 0; o < dst_ld; ++o)
          ASSERT_EQ(dst[p * dst_ld + o], o < rows ? src[o * src_ld + p] : T(-9))
              << rows << "x" << cols << " at [" << p << "][" << o << "]";
    });
  }
}

TEST(KernelTranspose, EveryElementOnceAndNothingElseF32) { check_transpose<float>(); }
TEST(KernelTranspose, EveryElementOnceAndNothingElseF64) { check_transpose<double>(); }

template <class T>
void check_copy_rows() {
  std::uint64_t seed = 300;
  for (const auto& [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {3, 7}, {4, 16}, {5, 17}, {2, 28}, {3, 33}, {1, 64}}) {
    const std::int64_t src_ld = cols + 2, dst_ld = cols + 3;
    std::vector<T> src = random_values<T>(static_cast<std::size_t>(rows * src_ld), seed++);
    src[0] = T(-0.0);  // copied with its sign; -0 + 0.5 is 0.5
    for_each_target([&](const std::string&) {
      for (bool plus : {false, true}) {
        std::vector<T> dst(static_cast<std::size_t>(rows * dst_ld), T(-9));
        if (plus)
          sigma::kernels::copy_rows_plus(src.data(), rows, cols, src_ld, dst.data(), dst_ld, T(0.5));
        else
          sigma::kernels::copy_rows(src.data(), rows, cols, src_ld, dst.data(), dst_ld);
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t c = 0; c < dst_ld; ++c) {
            const T got = dst[r * dst_ld + c];
            if (c >= cols) {
              ASSERT_EQ(got, T(-9)) << "wrote past the row at [" << r << "][" << c << "]";
              continue;
            }
            const T want = plus ? src[r * src_ld + c] + T(0.5) : src[r * src_ld + c];
            ASSERT_EQ(std::memcmp(&got, &want, sizeof(T)), 0)
                << rows << "x" << cols << (plus ? " plus" : "") << " at [" << r << "][" << c << "]";
          }
      }
    });
  }
}

TEST(KernelCopyRows, EveryRowExactlyAndNothingBesideF32) { check_copy_rows<float>(); }
TEST(KernelCopyRows, EveryRowExactlyAndNothingBesideF64) { check_copy_rows<double>(); }

}  // namespace
