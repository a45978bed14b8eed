// Every f32 input through the SIMD sigmoid (ctest label `exhaustive`): <= 1 ULP
// against a double-precision reference on the best target, NaN only for NaN
// (the same NaN); AVX2 bitwise identical to the best target on all 2^32
// inputs, SSE4 and EMU128 on every 8th chunk of 65536 inputs (2^29 inputs).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
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

// AVX2 on every input; SSE4 and EMU128 on every 8th chunk of 65536: see
// expect_targets_identical.
TEST(KernelSigmoidExhaustive, EveryTargetBitwiseIdentical) { expect_targets_identical("sigmoid", run, 8); }

// f64: 10^8 random inputs (half over [-40, 40], half over [-760, 760]) against
// long double (relative error ~2^-62, i.e. 2^-9 ULP of a double).
TEST(KernelSigmoidExhaustive, F64HundredMillionRandomInputsWithinOneUlp) {
  constexpr std::int64_t kBlocks = 1526;  // 1526 * 65536 > 10^8
  sigma::set_num_threads(1);
  UlpStats total;
#pragma omp parallel
  {
    std::vector<double> x(kChunk), y(kChunk);
    UlpStats st;
#pragma omp for schedule(dynamic, 8)
    for (std::int64_t b = 0; b < kBlocks; ++b) {
      std::mt19937_64 rng(std::uint64_t(b) + 1);
      std::uniform_real_distribution<double> mid(-40, 40), wide(-760, 760);
      for (std::size_t i = 0; i < kChunk; ++i) x[i] = i % 2 ? mid(rng) : wide(rng);
      sigma::sigmoid(x, y);
      for (std::size_t i = 0; i < kChunk; ++i) {
        const long double lx = x[i];
        const long double exact = lx >= 0 ? 1.0L / (1.0L + std::exp(-lx)) : std::exp(lx) / (1.0L + std::exp(lx));
        st.add(ulp_error(y[i], exact), x[i], std::isnan(y[i]));
      }
    }
#pragma omp critical
    total.merge(st);
  }
  sigma::set_num_threads(0);
  std::printf("f64 sigmoid [%s] over %llu random inputs: max %.4f ULP at x = %.17g\n",
              sigma::kernels::target().c_str(), (unsigned long long)total.count, total.max,
              double(total.worst_x));
  EXPECT_GE(total.count, 100000000u);
  EXPECT_LE(total.max, 1.0) << double(total.worst_x);
  EXPECT_EQ(total.nan_out, 0u);
}

}  // namespace
}  // namespace sigma::test
