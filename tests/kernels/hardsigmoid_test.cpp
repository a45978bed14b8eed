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
#include "sweep.h"
#include "targets.h"
#include "tensor_checks.h"
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
  const std::int64_t step = 97 * (1000 / sigma::test::sweep(1000));
  for (std::int64_t k = f32_order(-3.5f); k <= f32_order(3.5f); k += step) x.push_back(f32_from_order(k));
  std::vector<double> xd;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-3.5, 3.5);
  for (std::int64_t i = 0; i < sigma::test::sweep(200000); ++i) xd.push_back(u(rng));
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
  // x, hardsigmoid(x), and the gradient for dy = 6 (PyTorch's open interval:
  // 0 at +-3 and beyond, 1 strictly inside).
  const float below3 = std::nextafter(-3.0f, 0.0f), above3 = std::nextafter(3.0f, 0.0f);
  const struct {
    float x, y, dx;
  } rows[] = {{-3.0f, 0.0f, 0.0f},     {3.0f, 1.0f, 0.0f},   {-0.0f, 0.5f, 1.0f},
              {0.0f, 0.5f, 1.0f},      {-INFINITY, 0.0f, 0.0f}, {INFINITY, 1.0f, 0.0f},
              {1e30f, 1.0f, 0.0f},     {-1e30f, 0.0f, 0.0f},
              {below3, float((double(below3) + 3) / 6), 1.0f},
              {above3, float((double(above3) + 3) / 6), 1.0f}};
  for (const auto& r : rows) {
    float y, dx;
    const float six = 6.0f;
    sigma::hardsigmoid(std::span<const float>(&r.x, 1), std::span<float>(&y, 1));
    sigma::hardsigmoid_backward(std::span<const float>(&six, 1), std::span<const float>(&r.x, 1),
                                std::span<float>(&dx, 1));
    EXPECT_EQ(y, r.y) << r.x;
    EXPECT_EQ(dx, r.dx) << r.x;
  }
  const float nan = NAN, one = 1.0f;
  float y, dx;
  sigma::hardsigmoid(std::span<const float>(&nan, 1), std::span<float>(&y, 1));
  sigma::hardsigmoid_backward(std::span<const float>(&one, 1), std::span<const float>(&nan, 1),
                              std::span<float>(&dx, 1));
  EXPECT_TRUE(same_bits(y, nan));
  EXPECT_TRUE(std::isnan(dx));
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
  expect_bits_independent_of_threads(-5.0f, 5.0f,
                                     [](const auto& x, auto& y) { sigma::hardsigmoid(x, y); });
}

TEST(KernelHardsigmoid, Bf16AndF16CorrectlyRounded) {
  expect_16bit_correctly_rounded([](auto x, auto y) { sigma::hardsigmoid(x, y); },
                                 [](float v) { return mp_hardsigmoid(v); }, true);
}

TEST(KernelHardsigmoidApi, SizeErrorsNameTheOp) {
  std::vector<float> x(8), y(7);
  expect_error<std::invalid_argument>([&] { sigma::hardsigmoid(x, y); },
                                      {"sigma::hardsigmoid", "8", "7"});
  EXPECT_THROW(sigma::hardsigmoid_backward(std::span<const float>(x), std::span<const float>(y),
                                           std::span<float>(x)),
               std::invalid_argument);
}

}  // namespace
}  // namespace sigma::test
