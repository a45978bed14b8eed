// Every f32 input through the SIMD sigmoid (ctest label `exhaustive`): <= 1 ULP
// against a double-precision reference on the best target, NaN only for NaN,
// and every other compiled target bitwise identical to it.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "float_scan.h"
#include "sigma/kernels.h"
#include "targets.h"
#include "ulp.h"

namespace sigma::test {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 16;
constexpr std::int64_t kChunks = std::int64_t(kAllF32Patterns / kChunk);

// sigmoid in double: relative error ~2^-51, i.e. 2^-27 ULP of a float.
double d_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

TEST(KernelSigmoidExhaustive, EveryFloatWithinOneUlp) {
  sigma::set_num_threads(1);
  UlpStats total;
#pragma omp parallel
  {
    std::vector<float> x(kChunk), y(kChunk);
    UlpStats st;
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t c = 0; c < kChunks; ++c) {
      for (std::size_t i = 0; i < kChunk; ++i) x[i] = std::bit_cast<float>(std::uint32_t(c * kChunk + i));
      sigma::sigmoid(x, y);
      for (std::size_t i = 0; i < kChunk; ++i) {
        if (std::isnan(x[i])) {
          st.add(std::isnan(y[i]) ? 0.0 : HUGE_VAL, x[i], false);
          continue;
        }
        st.add(ulp_error(y[i], d_sigmoid(x[i])), x[i], std::isnan(y[i]));
      }
    }
#pragma omp critical
    total.merge(st);
  }
  sigma::set_num_threads(0);
  std::printf("f32 sigmoid [%s] over %llu inputs: max %.4f ULP at x = %.9g, mean %.5f, "
              "%llu above 0.5 ULP, %llu above 1 ULP, %llu NaN for non-NaN\n",
              sigma::kernels::target().c_str(), (unsigned long long)total.count, total.max,
              double(total.worst_x), total.mean(), (unsigned long long)total.above_half,
              (unsigned long long)total.above_one, (unsigned long long)total.nan_out);
  EXPECT_EQ(total.count, kAllF32Patterns);
  EXPECT_LE(total.max, 1.0);
  EXPECT_EQ(total.nan_out, 0u);
}

// Per-chunk checksums of the output bits, computed in parallel with dispatch
// forced to one target.
std::vector<std::uint64_t> chunk_checksums(const std::string& target) {
  sigma::kernels::set_target(target);
  std::vector<std::uint64_t> sums(kChunks);
#pragma omp parallel
  {
    std::vector<float> x(kChunk), y(kChunk);
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t c = 0; c < kChunks; ++c) {
      for (std::size_t i = 0; i < kChunk; ++i) x[i] = std::bit_cast<float>(std::uint32_t(c * kChunk + i));
      sigma::sigmoid(x, y);
      std::uint64_t h = 0xcbf29ce484222325ull;
      for (std::size_t i = 0; i < kChunk; ++i) h = (h ^ std::bit_cast<std::uint32_t>(y[i])) * 0x100000001b3ull;
      sums[std::size_t(c)] = h;
    }
  }
  return sums;
}

TEST(KernelSigmoidExhaustive, EveryTargetBitwiseIdentical) {
  const auto targets = sigma::kernels::available_targets();
  sigma::set_num_threads(1);
  const auto best = chunk_checksums(targets.front());
  for (std::size_t t = 1; t < targets.size(); ++t) {
    const auto other = chunk_checksums(targets[t]);
    std::size_t bad_chunks = 0;
    std::int64_t first_bad = -1;
    for (std::int64_t c = 0; c < kChunks; ++c)
      if (other[std::size_t(c)] != best[std::size_t(c)] && !bad_chunks++) first_bad = c;
    std::printf("%s vs %s: %zu of %lld chunks of 65536 inputs differ\n", targets[t].c_str(),
                targets.front().c_str(), bad_chunks, (long long)kChunks);
    if (first_bad >= 0) {  // name the first differing input
      std::vector<float> x(kChunk), a(kChunk), b(kChunk);
      for (std::size_t i = 0; i < kChunk; ++i) x[i] = std::bit_cast<float>(std::uint32_t(first_bad * kChunk + i));
      sigma::kernels::set_target(targets.front());
      sigma::sigmoid(x, a);
      sigma::kernels::set_target(targets[t]);
      sigma::sigmoid(x, b);
      for (std::size_t i = 0; i < kChunk; ++i)
        if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
          ADD_FAILURE() << targets[t] << " differs at x = " << x[i] << ": " << b[i] << " vs " << a[i];
          break;
        }
    }
    EXPECT_EQ(bad_chunks, 0u) << targets[t];
  }
  sigma::kernels::reset_target();
  sigma::set_num_threads(0);
}

}  // namespace
}  // namespace sigma::test
