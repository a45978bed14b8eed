// SIMD hardsigmoid and hardsigmoid_backward (src/kernels/hardsigmoid.cpp):
// values against MPFR, PyTorch's breakpoints and open gradient interval,
// specials, tails, threads, 16-bit storage, errors. ULP bounds and bitwise
// agreement of targets: kernel_contract_test; every f32 input:
// hardsigmoid_exhaustive_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel_checks.h"
#include "mpfr_ref.h"
#include "sigma/kernels.h"
#include "targets.h"
#include "ulp.h"

namespace sigma::test {
namespace {

// (x + 3) / 6 clamped to [0, 1], exactly (160 bits), rounded to long double.
long double mp_hardsigmoid(long double x) {
  if (x <= -3) return 0;
  if (x >= 3) return 1;
  Mp r(x);
  mpfr_add_ui(r.get(), r.get(), 3, MPFR_RNDN);
  mpfr_div_ui(r.get(), r.get(), 6, MPFR_RNDN);
  return r.ld();
}

TEST(KernelHardsigmoid, CorrectlyRoundedAroundTheRampOnEveryTarget) {
  std::vector<float> x;
  for (std::int64_t k = f32_order(-3.5f); k <= f32_order(3.5f); k += 97) x.push_back(f32_from_order(k));
  std::vector<double> xd;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-3.5, 3.5);
  for (int i = 0; i < 200000; ++i) xd.push_back(u(rng));
  std::vector<float> y(x.size());
  std::vector<double> yd(xd.size());
  for_each_target([&](const std::string&) {
    sigma::hardsigmoid(x, y);
    sigma::hardsigmoid(xd, yd);
    double worst = 0, worst_d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, ulp_error(y[i], mp_hardsigmoid(x[i])));
    for (std::size_t i = 0; i < xd.size(); ++i)
      worst_d = std::max(worst_d, ulp_error(yd[i], mp_hardsigmoid(xd[i])));
    // Correctly rounded: 0.5 ULP of the exact value, plus the reference's own
    // rounding to long double.
    EXPECT_LE(worst, 0.5001);
    EXPECT_LE(worst_d, 0.5001);
  });
}

TEST(KernelHardsigmoid, BreakpointsAndSpecials) {
  const std::vector<float> x = {-3.0f, 3.0f, -0.0f, 0.0f, -INFINITY, INFINITY, 1e30f, -1e30f,
                                std::nextafter(-3.0f, 0.0f), std::nextafter(3.0f, 0.0f), NAN};
  std::vector<float> y(x.size()), dx(x.size());
  const std::vector<float> dy(x.size(), 6.0f);
  sigma::hardsigmoid(x, y);
  sigma::hardsigmoid_backward(dy, x, dx);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_EQ(y[2], 0.5f);
  EXPECT_EQ(y[3], 0.5f);
  EXPECT_EQ(y[4], 0.0f);
  EXPECT_EQ(y[5], 1.0f);
  EXPECT_EQ(y[6], 1.0f);
  EXPECT_EQ(y[7], 0.0f);
  EXPECT_GT(y[8], 0.0f);
  EXPECT_LT(y[9], 1.0f);
  EXPECT_TRUE(same_bits(y[10], x[10]));
  // PyTorch's open interval: 0 at +-3, dy / 6 strictly inside.
  EXPECT_EQ(dx[0], 0.0f);
  EXPECT_EQ(dx[1], 0.0f);
  EXPECT_EQ(dx[2], 1.0f);
  EXPECT_EQ(dx[4], 0.0f);
  EXPECT_EQ(dx[8], 1.0f);
  EXPECT_EQ(dx[9], 1.0f);
  EXPECT_TRUE(std::isnan(dx[10]));
}

TEST(KernelHardsigmoidBackward, DyOverSixRoundedOnce) {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-2.9, 2.9);
  std::vector<double> x(50000), dy(x.size()), dx(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = u(rng), dy[i] = std::ldexp(u(rng), int(i % 200) - 100);
  sigma::hardsigmoid_backward(dy, x, dx);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(dx[i], dy[i] / 6) << i;
}

TEST(KernelHardsigmoid, TailsMatchBody) {
  expect_tails_match_body(special_f32({-3.0f, 3.0f, 2.9999998f}), 5.0f,
                          [](const float*, const float* x, float* y, std::size_t n) {
                            sigma::hardsigmoid(std::span<const float>(x, n), std::span<float>(y, n));
                          });
  expect_tails_match_body(special_f32(), 5.0f,
                          [](const float* dy, const float* x, float* dx, std::size_t n) {
                            sigma::hardsigmoid_backward(std::span<const float>(dy, n),
                                                        std::span<const float>(x, n),
                                                        std::span<float>(dx, n));
                          });
}

TEST(KernelHardsigmoid, ThreadCountDoesNotChangeBits) {
  std::vector<float> x(1 << 20), a(x.size()), b(x.size());
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-5.0f, 5.0f);
  for (auto& v : x) v = d(rng);
  sigma::set_num_threads(1);
  sigma::hardsigmoid(x, a);
  sigma::set_num_threads(3);
  sigma::hardsigmoid(x, b);
  sigma::set_num_threads(0);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
}

TEST(KernelHardsigmoid, Bf16AndF16CorrectlyRounded) {
  const auto run = [](auto x, auto y) { sigma::hardsigmoid(x, y); };
  const auto exact = [](float v) { return mp_hardsigmoid(v); };
  EXPECT_EQ(misrounded_16bit<bfloat16>(run, exact, true), 0);
  EXPECT_EQ(misrounded_16bit<float16>(run, exact, true), 0);
}

TEST(KernelHardsigmoidApi, SizeErrorsNameTheOp) {
  std::vector<float> x(8), y(7);
  try {
    sigma::hardsigmoid(x, y);
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("sigma::hardsigmoid"), std::string::npos) << m;
    EXPECT_NE(m.find('8'), std::string::npos) << m;
    EXPECT_NE(m.find('7'), std::string::npos) << m;
  }
  EXPECT_THROW(sigma::hardsigmoid_backward(std::span<const float>(x), std::span<const float>(y),
                                           std::span<float>(x)),
               std::invalid_argument);
}

}  // namespace
}  // namespace sigma::test
