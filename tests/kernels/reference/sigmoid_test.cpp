// Properties and accuracy of the reference sigmoid and its backward forms,
// against long double and MPFR. The full 2^32 scans are in
// sigmoid_exhaustive_test.cpp (ctest label `exhaustive`).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "float_scan.h"
#include "mpfr_ref.h"
#include "sigma/reference.h"
#include "sigmoid_checks.h"
#include "ulp.h"

namespace sigma::test {
namespace {

namespace ref = sigma::reference;

TEST(ReferenceSigmoid, F32WithinContractOnEvery257thFloat) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 257, check_sigmoid_f32);
  EXPECT_LE(s.max, kF32Contract) << "worst x = " << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
  EXPECT_GT(s.count, 16000000u);
}

TEST(ReferenceSigmoid, F32MonotoneOnSampledConsecutivePairsIn30) {
  // Every 97th float in [-30, 30] and its successor, plus the sampled chain.
  const std::int64_t lo = f32_order(-30.0f), hi = f32_order(30.0f);
  std::int64_t bad = 0;
#pragma omp parallel for reduction(+ : bad)
  for (std::int64_t k = lo; k < hi; k += 97) {
    const float a = f32_from_order(k), b = f32_from_order(k + 1);
    const float c = f32_from_order(std::min(k + 97, hi));
    bad += ref::sigmoid(a) > ref::sigmoid(b);
    bad += ref::sigmoid(a) > ref::sigmoid(c);
  }
  EXPECT_EQ(bad, 0);
}

TEST(ReferenceSigmoid, ExactValuesAndSpecials) {
  EXPECT_EQ(ref::sigmoid(0.0f), 0.5f);
  EXPECT_EQ(ref::sigmoid(-0.0f), 0.5f);
  EXPECT_EQ(ref::sigmoid(0.0), 0.5);
  EXPECT_EQ(ref::sigmoid(INFINITY), 1.0f);
  EXPECT_EQ(ref::sigmoid(-INFINITY), 0.0f);
  EXPECT_EQ(ref::sigmoid(double(INFINITY)), 1.0);
  EXPECT_EQ(ref::sigmoid(-double(INFINITY)), 0.0);
  EXPECT_TRUE(std::isnan(ref::sigmoid(NAN)));
  EXPECT_TRUE(std::isnan(ref::sigmoid(double(NAN))));
  for (float x : {100.0f, -100.0f, 1000.0f, -1000.0f, FLT_MAX, -FLT_MAX}) {
    const float y = ref::sigmoid(x);
    EXPECT_TRUE(std::isfinite(y)) << x;
    EXPECT_LE(ulp_error(y, ld_sigmoid(x)), kF32Contract) << x;
  }
  for (double x : {100.0, -100.0, 1000.0, -1000.0, DBL_MAX, -DBL_MAX}) {
    const double y = ref::sigmoid(x);
    EXPECT_TRUE(std::isfinite(y)) << x;
    EXPECT_LE(ulp_error(y, mp_sigmoid(x)), kF64Contract) << x;
  }
  EXPECT_EQ(ref::sigmoid(100.0f), 1.0f);
  EXPECT_GT(ref::sigmoid(-100.0f), 0.0f);  // e^-100 = 3.7e-44 is a subnormal float
}

TEST(ReferenceSigmoid, F32SubnormalResultsAreProducedNotFlushed) {
  // Every float in [-103.9, -87.4]: the exact result is below FLT_MIN and at
  // least half the smallest subnormal, so a correct kernel returns a non-zero
  // subnormal.
  const std::int64_t lo = f32_order(-103.9f), hi = f32_order(-87.4f);
  std::int64_t not_subnormal = 0;
  UlpStats s;
  ASSERT_LT(lo, hi);
  for (std::int64_t k = lo; k <= hi; ++k) {
    const float x = f32_from_order(k);
    const float y = ref::sigmoid(x);
    not_subnormal += std::fpclassify(y) != FP_SUBNORMAL;
    s.add(ulp_error(y, ld_sigmoid(x)), x, std::isnan(y));
  }
  EXPECT_EQ(not_subnormal, 0);
  EXPECT_LE(s.max, kF32Contract) << double(s.worst_x);
  EXPECT_GT(s.count, 100000u);
}

TEST(ReferenceSigmoid, F64SubnormalResultsAreProducedNotFlushed) {
  for (double x = -745.0; x <= -708.5; x += 0.01) {
    const double y = ref::sigmoid(x);
    ASSERT_EQ(std::fpclassify(y), FP_SUBNORMAL) << x;
    ASSERT_LE(ulp_error(y, mp_sigmoid(x)), kF64Contract) << x;
  }
}

TEST(ReferenceSigmoid, F64WithinContractOnRandomInputs) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> wide(-760.0, 760.0), narrow(-40.0, 40.0);
  UlpStats s;
  for (int i = 0; i < 300000; ++i) {
    const double x = i % 2 ? wide(rng) : narrow(rng);
    const double y = ref::sigmoid(x);
    s.add(ulp_error(y, mp_sigmoid(x)), x, std::isnan(y));
  }
  EXPECT_LE(s.max, kF64Contract) << double(s.worst_x);
  EXPECT_EQ(s.nan_out, 0u);
}

TEST(ReferenceSigmoid, SymmetryWithinTwoHalfUlps) {
  // sigmoid(-x) = 1 - sigmoid(x): each side is rounded once, so they differ by
  // at most half an ULP of each (plus the contract's slack).
  const UlpStats s = scan_f32_bits(0, 0x7f800000u, 101, [](float x, UlpStats& st) {
    const float a = ref::sigmoid(-x), b = ref::sigmoid(x);
    const long double diff = std::fabs((long double)a - (1.0L - (long double)b));
    const long double bound = kF32Contract * (ulp_at<float>(a) + ulp_at<float>(b));
    st.add(double(diff / bound), x, false);
  });
  EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
  for (double x = 0; x < 800; x += 0.37) {
    const double a = ref::sigmoid(-x), b = ref::sigmoid(x);
    const long double diff = std::fabs((long double)a - (1.0L - (long double)b));
    EXPECT_LE(diff, kF64Contract * (ulp_at<double>(a) + ulp_at<double>(b))) << x;
  }
}

TEST(ReferenceSigmoid, EquivalentFormsAgree) {
  // 1/2 + tanh(x/2)/2 and e^x/(e^x+1), evaluated in long double, agree with the
  // kernel within its contract plus each form's own error: the tanh form loses
  // up to 2^-63 absolute to cancellation as tanh -> -1.
  for (float x = -40.0f; x <= 40.0f; x += 0.001953125f) {
    const float y = ref::sigmoid(x);
    const long double lx = x;
    const long double t = 0.5L + std::tanh(lx / 2) / 2;
    const long double ex = std::exp(lx) / (std::exp(lx) + 1);
    EXPECT_LE(std::fabs(y - t), kF32Contract * ulp_at<float>(t) + 0x1p-63L) << x;
    EXPECT_LE(ulp_error(y, ex), kF32Contract + 0x1p-20) << x;
  }
}

TEST(ReferenceSigmoid, OutputInClosedUnitIntervalAndOpenWhereRepresentable) {
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 263, [](float x, UlpStats& st) {
    if (std::isnan(x)) return;
    const float y = ref::sigmoid(x);
    bool bad = !(y >= 0.0f && y <= 1.0f);
    const long double exact = ld_sigmoid(x);
    if (y == 0.0f) bad |= exact > 0x1p-150L;          // 0 only below half the least subnormal
    if (y == 1.0f) bad |= exact < 1.0L - 0x1p-25L;    // 1 only within half an ULP of 1
    st.add(bad ? 1.0 : 0.0, x, false);
  });
  EXPECT_EQ(s.above_half, 0u) << "first bad x = " << double(s.worst_x);
}

TEST(ReferenceSigmoidBackward, MaximumIsQuarterAtZero) {
  EXPECT_EQ(ref::sigmoid_backward(1.0f, ref::sigmoid(0.0f)), 0.25f);
  EXPECT_EQ(ref::sigmoid_backward(1.0, ref::sigmoid(0.0)), 0.25);
  EXPECT_EQ(ref::sigmoid_backward_from_input(1.0f, 0.0f), 0.25f);
  EXPECT_EQ(ref::sigmoid_backward_from_input(1.0, 0.0), 0.25);
  const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 509, [](float x, UlpStats& st) {
    if (std::isnan(x)) return;
    const float a = ref::sigmoid_backward(1.0f, ref::sigmoid(x));
    const float b = ref::sigmoid_backward_from_input(1.0f, x);
    st.add(a > 0.25f || b > 0.25f || a < 0 || b < 0 ? 1.0 : 0.0, x, false);
  });
  EXPECT_EQ(s.above_half, 0u) << double(s.worst_x);
}

TEST(ReferenceSigmoidBackward, OutputFormMatchesProductOfGivenValues) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> ydist(0.0f, 1.0f), gdist(-10.0f, 10.0f);
  for (int i = 0; i < 200000; ++i) {
    const float dy = gdist(rng), y = ydist(rng);
    const long double exact = (long double)dy * y * (1.0L - y);
    EXPECT_LE(ulp_error(ref::sigmoid_backward(dy, y), exact), kF32Contract);
    const double dyd = dy * 1.000000123, yd = y;
    Mp p(yd), q(1.0L);
    mpfr_sub(q.get(), q.get(), p.get(), MPFR_RNDN);
    mpfr_mul(p.get(), p.get(), q.get(), MPFR_RNDN);
    Mp g(dyd);
    mpfr_mul(p.get(), p.get(), g.get(), MPFR_RNDN);
    EXPECT_LE(ulp_error(ref::sigmoid_backward(dyd, yd), p.ld()), kF64Contract);
  }
}

TEST(ReferenceSigmoidBackward, InputFormStaysAccurateWhereOutputRoundsToOne) {
  // At x = 20, y rounds to 1 in f32 and y(1-y) gives 0; the true derivative is
  // e^-20 / (1 + e^-20)^2 = 2.0611536e-9.
  EXPECT_EQ(ref::sigmoid_backward(1.0f, ref::sigmoid(20.0f)), 0.0f);
  const float g = ref::sigmoid_backward_from_input(1.0f, 20.0f);
  EXPECT_NEAR(g, 2.0611536e-9f, 1e-15f);
  UlpStats s;
  for (float x = -100.0f; x <= 100.0f; x += 0.0078125f) {
    const long double sx = ld_sigmoid(x), sm = ld_sigmoid(-x);
    const long double exact = 3.0L * sx * sm;
    s.add(ulp_error(ref::sigmoid_backward_from_input(3.0f, x), exact), x, false);
  }
  EXPECT_LE(s.max, kF32Contract) << double(s.worst_x);
  for (double x = -700; x <= 700; x += 0.173) {
    const long double exact = mp_sigmoid(x) * mp_sigmoid(-x);
    EXPECT_LE(ulp_error(ref::sigmoid_backward_from_input(1.0, x), exact), kF64Contract + 0.01)
        << x;
  }
}

TEST(ReferenceSigmoidArrays, MatchScalarAndAllowAliasing) {
  std::vector<float> x = {-3, -1, 0, 1, 3, NAN, INFINITY, -INFINITY, -95.5f};
  std::vector<float> y(x.size());
  ref::sigmoid(x, y);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float want = ref::sigmoid(x[i]);
    EXPECT_TRUE(y[i] == want || (std::isnan(y[i]) && std::isnan(want))) << i;
  }
  std::vector<float> inplace = x;
  ref::sigmoid(inplace, inplace);
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_TRUE(inplace[i] == y[i] || (std::isnan(y[i]) && std::isnan(inplace[i])));

  std::vector<float> dy(x.size(), 2.0f), dx(x.size());
  ref::sigmoid_backward(dy, y, dx);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(dx[i], ref::sigmoid_backward(2.0f, y[i]));
  ref::sigmoid_backward_from_input(dy, x, dy);  // dx aliases dy
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(dy[i], ref::sigmoid_backward_from_input(2.0f, x[i]));
}

TEST(ReferenceSigmoidArrays, SizeMismatchNamesOpAndBothSizes) {
  std::vector<float> x(5), y(4);
  try {
    ref::sigmoid(x, y);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("sigmoid"), std::string::npos) << m;
    EXPECT_NE(m.find("5"), std::string::npos) << m;
    EXPECT_NE(m.find("4"), std::string::npos) << m;
  }
  std::vector<double> a(3), b(3), c(2);
  EXPECT_THROW(ref::sigmoid_backward(a, b, c), std::invalid_argument);
  EXPECT_THROW(ref::sigmoid_backward_from_input(a, c, b), std::invalid_argument);
}

}  // namespace
}  // namespace sigma::test
