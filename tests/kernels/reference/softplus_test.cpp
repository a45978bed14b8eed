// Reference softplus: accuracy against long double / MPFR and PyTorch's
// beta/threshold semantics.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
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

// log(1 + e^(beta x)) / beta in long double, written differently from the
// kernel: log1p directly for z <= 0, z + log1p(e^-z) above.
long double ld_softplus(long double x, long double beta) {
  const long double z = x * beta;
  const long double l = z <= 0 ? std::log1p(std::exp(z)) : z + std::log1p(std::exp(-z));
  return l / beta;
}

TEST(ReferenceSoftplus, F32DefaultWithinContractBelowThreshold) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 251, [](float x, UlpStats& st) {
    if (std::isnan(x) || x > 20.0f) return;
    const float y = ref::softplus(x);
    st.add(ulp_error(y, ld_softplus(x, 1)), x, std::isnan(y));
  });
  EXPECT_LE(s.max, kF32Contract) << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

TEST(ReferenceSoftplus, ThresholdReturnsInputItself) {
  // PyTorch: x * beta > threshold -> x (not log1p(e^(beta x)) / beta).
  for (float x : {20.0001f, 21.0f, 1e10f, FLT_MAX, INFINITY}) EXPECT_EQ(ref::softplus(x), x);
  EXPECT_EQ(ref::softplus(5.5f, 4.0f, 20.0f), 5.5f);   // 22 > 20
  EXPECT_NE(ref::softplus(1.0f, 4.0f, 20.0f), 1.0f);   // 4 <= 20: the log form, 1.0045
  EXPECT_EQ(ref::softplus(1.0f, 4.0f, 3.0f), 1.0f);    // 4 > 3: x itself
  EXPECT_NE(ref::softplus(20.0), 20.0);                // 20 is not > 20: 20 + 2.1e-9 in f64
  EXPECT_LE(ulp_error(ref::softplus(20.0f), ld_softplus(20, 1)), kF32Contract);
  // A large threshold must not overflow e^(beta x).
  const float big = ref::softplus(500.0f, 1.0f, 1e6f);
  EXPECT_EQ(big, 500.0f);
  EXPECT_EQ(ref::softplus(1000.0, 1.0, 1e6), 1000.0);
}

TEST(ReferenceSoftplus, BetaAndSpecials) {
  UlpStats s;
  for (float beta : {0.5f, 2.0f, 3.0f, -1.0f}) {
    for (float x = -60.0f; x <= 60.0f; x += 0.0625f) {
      if (x * double(beta) > 20) continue;
      s.add(ulp_error(ref::softplus(x, beta, 20.0f), ld_softplus(x, beta)), x, false);
    }
  }
  EXPECT_LE(s.max, kF32Contract) << double(s.worst_x);
  EXPECT_EQ(ref::softplus(-INFINITY), 0.0f);
  EXPECT_TRUE(std::isnan(ref::softplus(NAN)));
  EXPECT_EQ(ref::softplus(-200.0f), 0.0f);  // e^-200 is below the least subnormal
  EXPECT_GT(ref::softplus(-100.0f), 0.0f);  // e^-100 is not
  EXPECT_EQ(ref::softplus(0.0f), 0.6931472f);
}

TEST(ReferenceSoftplus, F64WithinContractOnRandomInputs) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> d(-700.0, 20.0);
  UlpStats s;
  for (int i = 0; i < 200000; ++i) {
    const double x = d(rng), beta = (i % 3) + 0.5;
    if (x * beta > 20) continue;
    s.add(ulp_error(ref::softplus(x, beta), mp_softplus(x, beta)), x, false);
  }
  EXPECT_LE(s.max, kF64Contract) << double(s.worst_x);
}

TEST(ReferenceSoftplus, ArrayRejectsBadBetaAndMismatch) {
  std::vector<float> x = {-1, 0, 1}, y(3);
  ref::softplus(x, y, 2.0f, 10.0f);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(y[i], ref::softplus(x[i], 2.0f, 10.0f));
  try {
    ref::softplus(x, y, 0.0f);
    FAIL() << "beta = 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("softplus"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("beta"), std::string::npos);
  }
  EXPECT_THROW(ref::softplus(x, y, INFINITY), std::invalid_argument);
  EXPECT_THROW(ref::softplus(x, y, 1.0f, NAN), std::invalid_argument);
  std::vector<float> z(2);
  EXPECT_THROW(ref::softplus(x, z), std::invalid_argument);
}

}  // namespace
}  // namespace sigma::test
