// Every f32 input through the SIMD tanh (ctest label `exhaustive`): <= 1.0 ULP
// against a double-precision reference on the best target, NaN only for NaN
// (and the same NaN); AVX2 bitwise identical to the best target on all 2^32
// inputs, SSE4 and EMU128 on every 8th chunk of 65536 inputs (2^29 inputs).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "exhaustive.h"
#include "sigma/kernels.h"

namespace sigma::test {
namespace {

// glibc tanh in double: within 1 double ULP, i.e. 2^-29 ULP of a float.
double ref(double x) { return std::tanh(x); }

void run(const std::vector<float>& x, std::vector<float>& y) { sigma::tanh(x, y); }

TEST(KernelTanhExhaustive, EveryFloatWithinOneUlp) {
  const UlpStats s = exhaustive_ulp("tanh", run, ref);
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

// AVX2 on every input; SSE4 and EMU128 on every 8th chunk of 65536, as for
// every op (sigmoid included): see expect_targets_identical.
TEST(KernelTanhExhaustive, EveryTargetBitwiseIdentical) { expect_targets_identical("tanh", run, 8); }

}  // namespace
}  // namespace sigma::test
