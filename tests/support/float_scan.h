// Parallel scans over float inputs by bit pattern, for exhaustive and strided
// accuracy/property tests. OpenMP splits the range; each thread keeps its own
// stats and they are merged at the end.
#pragma once

#include <omp.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "ulp.h"

namespace sigma::test {

inline constexpr std::uint64_t kAllF32Patterns = std::uint64_t{1} << 32;

// Calls body(x, stats) for every float whose bit pattern is first, first +
// stride, ... below last (patterns are uint32, NaN patterns included; bodies
// skip what they do not want). Returns merged stats.
template <class Body>
UlpStats scan_f32_bits(std::uint64_t first, std::uint64_t last, std::uint64_t stride,
                       Body&& body) {
  const std::int64_t n = static_cast<std::int64_t>((last - first + stride - 1) / stride);
  UlpStats total;
#pragma omp parallel
  {
    UlpStats local;
#pragma omp for schedule(static, 1 << 16) nowait
    for (std::int64_t i = 0; i < n; ++i) {
      const auto bits = static_cast<std::uint32_t>(first + std::uint64_t(i) * stride);
      body(std::bit_cast<float>(bits), local);
    }
#pragma omp critical
    total.merge(local);
  }
  return total;
}

// Every float in [lo, hi] (both finite, lo <= hi), in increasing order of value,
// via their ordered bit patterns; body(x, stats) as above.
inline std::int64_t f32_order(float x) {
  const auto b = std::bit_cast<std::int32_t>(x);
  return b >= 0 ? std::int64_t(b) : -std::int64_t(b & 0x7fffffff);
}
inline float f32_from_order(std::int64_t k) {
  return k >= 0 ? std::bit_cast<float>(std::uint32_t(k))
                : std::bit_cast<float>(std::uint32_t(-k) | 0x80000000u);
}

}  // namespace sigma::test
