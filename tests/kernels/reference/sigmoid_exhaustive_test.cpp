// Every one of the 2^32 float inputs through the reference sigmoid (ctest label
// `exhaustive`): max ULP against long double, NaN only for NaN, monotone over
// every consecutive pair in [-30, 30].
#include <gtest/gtest.h>

#include <cstdio>

#include "float_scan.h"
#include "sigma/reference.h"
#include "sigmoid_checks.h"

namespace sigma::test {
namespace {

TEST(ReferenceSigmoidExhaustive, EveryFloatWithinContract) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 1, check_sigmoid_f32);
  std::printf("f32 reference sigmoid over %llu inputs: max %.6f ULP at x = %.9g, mean %.6f, "
              "%llu above 0.5 ULP\n",
              (unsigned long long)s.count, s.max, double(s.worst_x), s.mean(),
              (unsigned long long)s.above_half);
  EXPECT_EQ(s.count, kAllF32Patterns);
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
