// Every f32 input through the SIMD hardsigmoid (ctest label `exhaustive`):
// <= 0.5 ULP (correctly rounded) against a double-precision reference on the
// best target, NaN only for NaN (the same NaN); the other targets bitwise
// identical (see expect_targets_identical).
#include <gtest/gtest.h>

#include <vector>

#include "exhaustive.h"
#include "op_references.h"
#include "sigma/kernels.h"

namespace sigma::test {
namespace {

// The op's one reference (tools/sigma/op_references.h) in double: x + 3 is
// exact for |x| < 2^26 with x a float (the clamp decides outside), and the
// division rounds once, 2^-29 ULP of a float.
double ref(double x) { return sigma::cli::reference_value(sigma::Op::hardsigmoid, x); }

void run(const std::vector<float>& x, std::vector<float>& y) { sigma::hardsigmoid(x, y); }

TEST(KernelHardsigmoidExhaustive, EveryFloatCorrectlyRounded) {
  const UlpStats s = exhaustive_ulp("hardsigmoid", run, ref);
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_LE(s.max, 0.5 + 1e-6) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

TEST(KernelHardsigmoidExhaustive, EveryTargetBitwiseIdentical) {
  expect_targets_identical("hardsigmoid", run, 8);
}

}  // namespace
}  // namespace sigma::test
