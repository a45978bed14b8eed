// Exhaustive f32 scans shared by the kernels' `exhaustive` tests: every one of
// the 2^32 inputs in chunks of 65536, OpenMP across chunks (kernels run
// single-threaded inside), against a double-precision reference, on the
// target dispatch picks (the best one here); and the cross-target identity
// check by per-chunk checksums of the output bits, which covers all 2^32
// inputs for the fast targets but only every 8th chunk for SSE4 and EMU128
// (see expect_targets_identical).
#pragma once

#include <gtest/gtest.h>
#include <omp.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "float_scan.h"
#include "sigma/kernels.h"
#include "ulp.h"

namespace sigma::test {

inline constexpr std::size_t kChunk = std::size_t{1} << 16;
inline constexpr std::int64_t kChunks = std::int64_t(kAllF32Patterns / kChunk);

inline void fill_chunk(std::int64_t c, std::vector<float>& x) {
  for (std::size_t i = 0; i < kChunk; ++i) x[i] = std::bit_cast<float>(std::uint32_t(c * kChunk + i));
}

// run(const std::vector<float>& x, std::vector<float>& y); ref(double) -> double.
// NaN inputs must come back as the same NaN. Prints a one-line summary.
template <class Run, class Ref>
UlpStats exhaustive_ulp(const char* name, Run run, Ref ref) {
  sigma::set_num_threads(1);
  UlpStats total;
#pragma omp parallel
  {
    std::vector<float> x(kChunk), y(kChunk);
    UlpStats st;
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t c = 0; c < kChunks; ++c) {
      fill_chunk(c, x);
      run(x, y);
      for (std::size_t i = 0; i < kChunk; ++i) {
        if (std::isnan(x[i])) {
          const bool same = std::bit_cast<std::uint32_t>(x[i]) == std::bit_cast<std::uint32_t>(y[i]);
          st.add(same ? 0.0 : HUGE_VAL, x[i], false);
          continue;
        }
        st.add(ulp_error(y[i], ref(double(x[i]))), x[i], std::isnan(y[i]));
      }
    }
#pragma omp critical
    total.merge(st);
  }
  sigma::set_num_threads(0);
  std::printf("f32 %s [%s] over %llu inputs: max %.4f ULP at x = %.9g, mean %.5f, %llu above "
              "0.5 ULP, %llu above 1 ULP, %llu NaN for non-NaN\n",
              name, sigma::kernels::target().c_str(), (unsigned long long)total.count, total.max,
              double(total.worst_x), total.mean(), (unsigned long long)total.above_half,
              (unsigned long long)total.above_one, (unsigned long long)total.nan_out);
  return total;
}

// Checksums of the output bits of every `stride`-th chunk, with dispatch
// forced to `target`.
template <class Run>
std::vector<std::uint64_t> chunk_checksums(const std::string& target, Run run, std::int64_t stride) {
  sigma::kernels::set_target(target);
  std::vector<std::uint64_t> sums(std::size_t(kChunks), 0);
#pragma omp parallel
  {
    std::vector<float> x(kChunk), y(kChunk);
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t c = 0; c < kChunks; c += stride) {
      fill_chunk(c, x);
      run(x, y);
      // FNV-1a in four interleaved lanes (one multiply chain would cost its
      // latency per value, most of the scan's time), folded in lane order.
      constexpr std::uint64_t kPrime = 0x100000001b3ull;
      std::uint64_t h[4] = {0xcbf29ce484222325ull, 1, 2, 3};
      for (std::size_t i = 0; i < kChunk; i += 4)
        for (std::size_t u = 0; u < 4; ++u) h[u] = (h[u] ^ std::bit_cast<std::uint32_t>(y[i + u])) * kPrime;
      sums[std::size_t(c)] = (((h[0] * kPrime) ^ h[1]) * kPrime ^ h[2]) * kPrime ^ h[3];
    }
  }
  return sums;
}

// Every compiled target that this CPU supports against the best one (the
// first of available_targets()), by checksums of the output bits per chunk
// of 65536 inputs. AVX2 (when it is not itself the best) is compared on all
// 2^32 inputs; the slow targets SSE4 and EMU128 (per-lane fused
// multiply-adds) only on chunks 0, slow_stride, 2 slow_stride, ...: with
// slow_stride 8 that is 2^29 inputs, every sign and exponent but only the
// mantissas whose bits 16-18 are zero. A full comparison of those two
// targets would cost about 8x their share of the test's time, which CI does
// not have. Targets the CPU lacks are not compared at all.
template <class Run>
void expect_targets_identical(const char* name, Run run, std::int64_t slow_stride) {
  const auto targets = sigma::kernels::available_targets();
  sigma::set_num_threads(1);
  const auto best = chunk_checksums(targets.front(), run, 1);
  for (std::size_t t = 1; t < targets.size(); ++t) {
    const bool slow = targets[t] == "SSE4" || targets[t] == "EMU128";
    const std::int64_t stride = slow ? slow_stride : 1;
    const auto other = chunk_checksums(targets[t], run, stride);
    std::int64_t bad = 0, first_bad = -1, compared = 0;
    for (std::int64_t c = 0; c < kChunks; c += stride, ++compared)
      if (other[std::size_t(c)] != best[std::size_t(c)] && !bad++) first_bad = c;
    std::printf("%s: %s vs %s: %lld of %lld chunks (65536 inputs each) differ\n", name,
                targets[t].c_str(), targets.front().c_str(), (long long)bad, (long long)compared);
    if (first_bad >= 0) {  // name the first differing input
      std::vector<float> x(kChunk), a(kChunk), b(kChunk);
      fill_chunk(first_bad, x);
      sigma::kernels::set_target(targets.front());
      run(x, a);
      sigma::kernels::set_target(targets[t]);
      run(x, b);
      for (std::size_t i = 0; i < kChunk; ++i)
        if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
          ADD_FAILURE() << name << " on " << targets[t] << " differs at x = " << x[i] << ": "
                        << b[i] << " vs " << a[i];
          break;
        }
    }
    EXPECT_EQ(bad, 0) << targets[t];
  }
  sigma::kernels::reset_target();
  sigma::set_num_threads(0);
}

}  // namespace sigma::test
