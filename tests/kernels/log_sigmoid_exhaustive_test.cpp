// Every f32 input through the SIMD log_sigmoid (ctest label `exhaustive`): <= 1.0 ULP
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

// log(sigmoid(x)) in double without cancellation: relative error ~2^-51.
double ref(double x) { return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x)); }

void run(const std::vector<float>& x, std::vector<float>& y) { sigma::log_sigmoid(x, y); }

TEST(KernelLogSigmoidExhaustive, EveryFloatWithinOneUlp) {
  const UlpStats s = exhaustive_ulp("log_sigmoid", run, ref);
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

// AVX2 on every input; SSE4 and EMU128 on every 8th chunk of 65536, as for
// every op (sigmoid included): see expect_targets_identical.
TEST(KernelLogSigmoidExhaustive, EveryTargetBitwiseIdentical) { expect_targets_identical("log_sigmoid", run, 8); }

}  // namespace
}  // namespace sigma::test
