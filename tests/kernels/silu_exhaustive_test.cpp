// Every f32 input through the SIMD silu (ctest label `exhaustive`): <= 1.0 ULP
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

// x sigmoid(x) in double (-0 where it underflows even in double).
double ref(double x) {
  if (x < -800) return -0.0;
  return x >= 0 ? x / (1 + std::exp(-x)) : x * std::exp(x) / (1 + std::exp(x));
}

void run(const std::vector<float>& x, std::vector<float>& y) { sigma::silu(x, y); }

TEST(KernelSiluExhaustive, EveryFloatWithinOneUlp) {
  const UlpStats s = exhaustive_ulp("silu", run, ref);
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

// AVX2 on every input; SSE4 and EMU128 on every 8th chunk of 65536, as for
// every op (sigmoid included): see expect_targets_identical.
TEST(KernelSiluExhaustive, EveryTargetBitwiseIdentical) { expect_targets_identical("silu", run, 8); }

}  // namespace
}  // namespace sigma::test
