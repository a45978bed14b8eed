// Every f32 input through the SIMD sigmoid (ctest label `exhaustive`): <= 1 ULP
// against a double-precision reference on the best target, NaN only for NaN
// (the same NaN), and every other compiled target bitwise identical to it on
// all 2^32 inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "exhaustive.h"
#include "sigma/kernels.h"

namespace sigma::test {
namespace {

// sigmoid in double: relative error ~2^-51, i.e. 2^-27 ULP of a float.
double ref(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

void run(const std::vector<float>& x, std::vector<float>& y) { sigma::sigmoid(x, y); }

TEST(KernelSigmoidExhaustive, EveryFloatWithinOneUlp) {
  const UlpStats s = exhaustive_ulp("sigmoid", run, ref);
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

TEST(KernelSigmoidExhaustive, EveryTargetBitwiseIdentical) { expect_targets_identical("sigmoid", run, 1); }

}  // namespace
}  // namespace sigma::test
