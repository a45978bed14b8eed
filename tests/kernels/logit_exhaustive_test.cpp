// Every f32 input through the SIMD logit (ctest label `exhaustive`): <= 1 ULP
// against a double-precision reference over the 2^30 + 1 floats of [0, 1]
// (and -0) on the best target, NaN for every other input (the same NaN for
// NaN); the other targets bitwise identical (see expect_targets_identical).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "exhaustive.h"
#include "op_references.h"
#include "sigma/kernels.h"

namespace sigma::test {
namespace {

// The op's one reference (tools/sigma/op_references.h) in double: about
// 2^-27 ULP of a float, NaN outside [0, 1].
double ref(double x) { return sigma::cli::ref_logit(x); }

void run(const std::vector<float>& x, std::vector<float>& y) { sigma::logit(x, y); }

TEST(KernelLogitExhaustive, EveryFloatWithinOneUlpAndNaNOutsideTheDomain) {
  const UlpStats s = exhaustive_ulp("logit", run, ref);
  EXPECT_EQ(s.count, kAllF32Patterns);
  EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
  // NaN for exactly the non-NaN inputs outside [0, 1]: (1, inf] and
  // [-inf, -denorm_min].
  const std::uint64_t above_one = 0x7f800000u - 0x3f800000u, below_zero = 0xff800000u - 0x80000000u;
  EXPECT_EQ(s.nan_out, above_one + below_zero);
}

TEST(KernelLogitExhaustive, EveryTargetBitwiseIdentical) { expect_targets_identical("logit", run, 8); }

}  // namespace
}  // namespace sigma::test
