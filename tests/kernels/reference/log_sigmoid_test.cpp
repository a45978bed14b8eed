// Accuracy and specials of the reference log-sigmoid, against long double and
// MPFR.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "float_scan.h"
#include "mpfr_ref.h"
#include "sigma/reference.h"
#include "ulp.h"

namespace sigma::test {
namespace {

namespace ref = sigma::reference;
constexpr double kF32Contract = 0.5 + 0x1p-26;
constexpr double kF64Contract = 0.5 + 0x1p-8;

long double ld_log_sigmoid(long double x) {
  return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));
}

TEST(ReferenceLogSigmoid, F32WithinContractOnEvery263rdFloat) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 263, [](float x, UlpStats& st) {
    const float y = ref::log_sigmoid(x);
    if (std::isnan(x)) return st.add(std::isnan(y) ? 0 : HUGE_VAL, x, false);
    st.add(ulp_error(y, ld_log_sigmoid(x)), x, std::isnan(y));
  });
  EXPECT_LE(s.max, kF32Contract) << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

TEST(ReferenceLogSigmoid, F64WithinContractOnRandomInputs) {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> d(-800.0, 800.0), n(-30.0, 30.0);
  UlpStats s;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 ? d(rng) : n(rng);
    const double y = ref::log_sigmoid(x);
    s.add(ulp_error(y, mp_log_sigmoid(x)), x, std::isnan(y));
  }
  EXPECT_LE(s.max, kF64Contract) << double(s.worst_x);
}

TEST(ReferenceLogSigmoid, Specials) {
  EXPECT_EQ(ref::log_sigmoid(-INFINITY), -INFINITY);
  EXPECT_EQ(ref::log_sigmoid(INFINITY), 0.0f);
  EXPECT_TRUE(std::signbit(ref::log_sigmoid(INFINITY)));
  EXPECT_TRUE(std::isnan(ref::log_sigmoid(NAN)));
  EXPECT_EQ(ref::log_sigmoid(-FLT_MAX), -FLT_MAX);
  EXPECT_EQ(ref::log_sigmoid(-1e30f), -1e30f);
  EXPECT_EQ(ref::log_sigmoid(-DBL_MAX), -DBL_MAX);
  // log(1/2) at 0, and log(sigmoid(-100)) = -100 - log1p(e^-100) = -100 in f32.
  EXPECT_EQ(ref::log_sigmoid(0.0f), -0.6931472f);
  EXPECT_EQ(ref::log_sigmoid(-100.0f), -100.0f);
  // Large positive x: -e^-x, tiny but not zero until e^-x underflows.
  EXPECT_LT(ref::log_sigmoid(50.0f), 0.0f);
  EXPECT_LE(ulp_error(ref::log_sigmoid(50.0f), -std::exp(-50.0L)), kF32Contract);
}

TEST(ReferenceLogSigmoid, ArrayAndMismatch) {
  std::vector<double> x = {-2, 0, 2}, y(3);
  ref::log_sigmoid(x, y);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(y[i], ref::log_sigmoid(x[i]));
  ref::log_sigmoid(x, x);
  EXPECT_EQ(x, y);
  std::vector<float> a(2), b(3);
  EXPECT_THROW(ref::log_sigmoid(a, b), std::invalid_argument);
}

}  // namespace
}  // namespace sigma::test
