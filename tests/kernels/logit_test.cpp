// SIMD logit and logit_backward (src/kernels/logit.cpp): values against
// MPFR near the branch points of the kernel and near 0, 1/2 and 1, PyTorch's
// eps semantics forward and backward, the domain, specials, tails, threads,
// 16-bit storage, errors. ULP bounds and bitwise agreement of targets:
// kernel_contract_test; every f32 input: logit_exhaustive_test.cpp.
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
#include "tensor_checks.h"
#include "ulp.h"

namespace sigma::test {
namespace {

// log(x / (1 - x)) for x in (0, 1), to 160 bits.
long double mp_logit(long double x) {
  if (x == 0) return -INFINITY;
  if (x == 1) return INFINITY;
  Mp r(x), d(x);
  mpfr_ui_sub(d.get(), 1, d.get(), MPFR_RNDN);
  mpfr_div(r.get(), r.get(), d.get(), MPFR_RNDN);
  mpfr_log(r.get(), r.get(), MPFR_RNDN);
  return r.ld();
}

// n values of T on each side of c (c itself included).
template <class T>
void around(std::vector<T>& v, T c, int n) {
  T a = c, b = c;
  v.push_back(c);
  for (int i = 0; i < n; ++i) v.push_back(a = std::nextafter(a, T(0))), v.push_back(b = std::nextafter(b, T(1)));
}

template <class T>
std::vector<T> near_branch_points() {
  std::vector<T> x;
  for (T c : {T(0.34), T(0.66), T(0.5), T(0.25), T(0.75), T(1) / 3, T(2) / 3}) around(x, c, 4000);
  T t = T(1);
  for (int i = 0; i < 20000; ++i) x.push_back(t = std::nextafter(t, T(0)));  // just below 1
  for (int e = -1; e > std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits; --e)
    x.push_back(std::ldexp(T(1), e)), x.push_back(std::ldexp(T(1.37), e));  // down to subnormals
  return x;
}

template <class T>
void check_against_mpfr(double bound) {
  const std::vector<T> x = near_branch_points<T>();
  std::vector<T> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::logit(std::span<const T>(x), std::span<T>(y));
    double worst = 0;
    T worst_x = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double e = ulp_error(y[i], mp_logit(x[i]));
      if (!(e <= worst)) worst = e, worst_x = x[i];
    }
    EXPECT_LE(worst, bound) << "worst x = " << worst_x;
  });
}

TEST(KernelLogit, F32NearBranchPointsAndEndsAgainstMpfr) { check_against_mpfr<float>(0.55); }
TEST(KernelLogit, F64NearBranchPointsAndEndsAgainstMpfr) { check_against_mpfr<double>(0.55); }

TEST(KernelLogit, DomainAndSpecials) {
  const std::vector<float> x = {0.0f, -0.0f, 1.0f, -1e-30f, std::nextafter(1.0f, 2.0f), 2.0f,
                                INFINITY, -INFINITY, 0.5f, NAN};
  std::vector<float> y(x.size());
  sigma::logit(x, y);
  EXPECT_EQ(y[0], -INFINITY);
  EXPECT_EQ(y[1], -INFINITY);
  EXPECT_EQ(y[2], INFINITY);
  for (int i : {3, 4, 5, 6, 7}) EXPECT_TRUE(std::isnan(y[i])) << x[i];
  EXPECT_EQ(y[8], 0.0f);
  EXPECT_TRUE(same_bits(y[9], x[9]));
  // Sigmoid's inverse: logit(sigmoid(v)) = v wherever sigmoid(v) is not
  // rounded too coarsely to hold v (|v| < 1/2 here, f64).
  std::vector<double> v, s(2001), back(2001);
  for (int i = -1000; i <= 1000; ++i) v.push_back(i / 2048.0);
  sigma::sigmoid(v, s);
  sigma::logit(s, back);
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(back[i], v[i], 4e-16) << v[i];
}

// PyTorch: eps clamps x to [eps, 1 - eps] (both in T) before the logit; the
// gradient is 0 outside that interval (and NaN outside [0, 1] without eps).
TEST(KernelLogit, EpsClampsForwardAndZeroesTheGradientOutside) {
  const double eps = 0.01;
  const std::vector<float> x = {-0.5f, 0.0f, 0.005f, 0.01f, 0.3f, 0.99f, 0.995f, 1.0f, 1.5f, NAN};
  std::vector<float> y(x.size()), dx(x.size()), plain_dx(x.size());
  const std::vector<float> dy(x.size(), 1.0f);
  sigma::logit(x, y, eps);
  sigma::logit_backward(dy, x, dx, eps);
  sigma::logit_backward(dy, x, plain_dx);
  const float lo = float(mp_logit(0.01f)), hi = float(mp_logit(1.0f - 0.01f));
  for (int i : {0, 1, 2, 3}) EXPECT_EQ(y[i], lo) << x[i];
  for (int i : {5, 6, 7, 8}) EXPECT_EQ(y[i], hi) << x[i];
  EXPECT_EQ(y[4], float(mp_logit(0.3f)));
  EXPECT_TRUE(std::isnan(y[9]));
  for (int i : {0, 1, 2, 6, 7, 8}) EXPECT_EQ(dx[i], 0.0f) << x[i];
  for (int i : {3, 4, 5})
    EXPECT_LE(ulp_error(dx[i], 1 / ((long double)x[i] * (1 - (long double)x[i]))), 0.51) << x[i];
  EXPECT_TRUE(std::isnan(dx[9]));  // a NaN x is inside, as PyTorch
  for (int i : {0, 8}) EXPECT_TRUE(std::isnan(plain_dx[i])) << x[i];
  EXPECT_EQ(plain_dx[1], INFINITY);  // 1 / 0
  EXPECT_EQ(plain_dx[7], INFINITY);
}

TEST(KernelLogitBackward, WithinOneUlpOfTheExactQuotientForAnyDy) {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(0, 1), g(-4, 4);
  std::vector<double> x, dy;
  for (int i = 0; i < 100000; ++i)
    x.push_back(i % 2 ? u(rng) : std::ldexp(u(rng), -(i % 900))), dy.push_back(std::ldexp(g(rng), i % 50 - 25));
  std::vector<double> dx(x.size());
  for_each_target([&](const std::string&) {
    sigma::logit_backward(dy, x, dx);
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      Mp r(x[i]), d(x[i]), n(dy[i]);
      mpfr_ui_sub(d.get(), 1, d.get(), MPFR_RNDN);
      mpfr_mul(r.get(), r.get(), d.get(), MPFR_RNDN);
      mpfr_div(r.get(), n.get(), r.get(), MPFR_RNDN);
      worst = std::max(worst, ulp_error(dx[i], r.ld()));
    }
    EXPECT_LE(worst, 1.0);
  });
}

TEST(KernelLogit, TailsMatchBody) {
  expect_tails_match_body(special_f32({0.34f, 0.66f, 0.5f, 0.999f, 1e-20f}), 1.0f,
                          [](const float*, const float* x, float* y, std::size_t n) {
                            sigma::logit(std::span<const float>(x, n), std::span<float>(y, n), -1.0);
                          });
  expect_tails_match_body(special_f32({0.3f, 0.7f}), 1.0f,
                          [](const float* dy, const float* x, float* dx, std::size_t n) {
                            sigma::logit_backward(std::span<const float>(dy, n),
                                                  std::span<const float>(x, n),
                                                  std::span<float>(dx, n), 0.01);
                          });
}

TEST(KernelLogit, ThreadCountDoesNotChangeBits) {
  expect_bits_independent_of_threads(0.0f, 1.0f,
                                     [](const auto& x, auto& y) { sigma::logit(x, y); });
}

TEST(KernelLogit, Bf16AndF16CorrectlyRounded) {
  const auto exact = [](float v) -> long double {
    return v < 0 || v > 1 ? std::numeric_limits<long double>::quiet_NaN() : mp_logit(v);
  };
  expect_16bit_correctly_rounded([](auto x, auto y) { sigma::logit(x, y); }, exact, true);
}

TEST(KernelLogitApi, ErrorsNameTheOp) {
  std::vector<float> x(8), y(7);
  expect_error<std::invalid_argument>([&] { sigma::logit(x, y); },
                                      {"sigma::logit", "8"});
  std::vector<float> z(8);
  expect_error<std::invalid_argument>(
      [&] {
        sigma::logit_backward(std::span<const float>(x), std::span<const float>(x),
                              std::span<float>(z), std::nan(""));
      },
      {"sigma::logit_backward: eps is NaN"});
}

}  // namespace
}  // namespace sigma::test
