// The reference sigmoid over every one of the 2^32 float inputs (ctest label
// `exhaustive`): in [0, 1] and NaN only for NaN everywhere, monotone over every
// consecutive pair in [-30, 30], and within its contract against long double
// on every 5th bit pattern (the long double reference costs ~5 minutes for all
// 2^32 on two cores; the strided scan keeps CI within budget).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "float_scan.h"
#include "sigma/reference.h"
#include "sigmoid_checks.h"

namespace sigma::test {
namespace {

TEST(ReferenceSigmoidExhaustive, EveryFloatInUnitIntervalAndNaNOnlyForNaN) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 1, [](float x, UlpStats& st) {
    const float y = reference::sigmoid(x);
    const bool ok = std::isnan(x) ? std::isnan(y) : (y >= 0.0f && y <= 1.0f);
    st.add(ok ? 0.0 : 1.0, x, false);
  });
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_EQ(s.above_half, 0u) << "x = " << double(s.worst_x);
}

TEST(ReferenceSigmoidExhaustive, EveryFifthFloatWithinContract) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 5, check_sigmoid_f32);
  std::printf("f32 reference sigmoid over %llu inputs: max %.6f ULP at x = %.9g, mean %.6f, "
              "%llu above 0.5 ULP\n",
              (unsigned long long)s.count, s.max, double(s.worst_x), s.mean(),
              (unsigned long long)s.above_half);
  EXPECT_EQ(s.count, (kAllF32Patterns + 4) / 5);
  EXPECT_LE(s.max, kF32Contract) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

TEST(ReferenceSigmoidExhaustive, MonotoneOverEveryConsecutivePairIn30) {
  const std::int64_t lo = f32_order(-30.0f), hi = f32_order(30.0f);
  std::int64_t bad = 0;
#pragma omp parallel for schedule(static, 1 << 16) reduction(+ : bad)
  for (std::int64_t k = lo; k < hi; ++k)
    bad += reference::sigmoid(f32_from_order(k)) > reference::sigmoid(f32_from_order(k + 1));
  EXPECT_EQ(bad, 0);
}

}  // namespace
}  // namespace sigma::test
