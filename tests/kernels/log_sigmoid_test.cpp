// SIMD log_sigmoid and log_sigmoid_backward (src/kernels/log_sigmoid.cpp) on
// every compiled target: accuracy against independent references (double,
// long double, MPFR), specials, tails, targets and threads agreeing bitwise,
// 16-bit storage, errors. Full 2^32 scan: log_sigmoid_exhaustive_test.cpp.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "float_scan.h"
#include "mpfr_ref.h"
#include "sigma/dtypes.h"
#include "sigma/kernels.h"
#include "kernel_checks.h"
#include "targets.h"
#include "tensor_checks.h"
#include "ulp.h"

namespace sigma::test {
namespace {

// log(sigmoid(x)) in double / long double, no cancellation.
double d_log_sigmoid(double x) {
  return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));
}
long double ld_sigmoid(long double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}

// MPFR (160 bits), stable form: x - log1p(e^x) for x < 0, -log1p(e^-x) otherwise
// (mp_log_sigmoid overflows e^-x at x = -1e30).
long double mp_ls(long double x) {
  Mp r(x < 0 ? x : -x), lx(x);
  mpfr_exp(r.get(), r.get(), MPFR_RNDN);
  mpfr_log1p(r.get(), r.get(), MPFR_RNDN);
  if (x < 0) {
    mpfr_sub(r.get(), lx.get(), r.get(), MPFR_RNDN);
  } else {
    mpfr_neg(r.get(), r.get(), MPFR_RNDN);
  }
  return r.ld();
}

std::vector<float> special_inputs() {
  return special_f32({80.0f, -80.0f, 70.0f, 87.5f, 103.9f, 104.6f, 17.0f, -17.0f, 1e-8f, -1e-8f, 0x1p24f, -0x1p24f, -0x1.fffffep23f, 1.0f, -1.0f, 2.5f, -2.5f});
}

// Max ULP error of y against ref over x (NaN inputs must give the same NaN).
TEST(KernelLogSigmoid, F32StridedScanWithinOneUlpOnEveryTarget) {
  const std::vector<float> x = strided_f32(4099);
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::log_sigmoid(x, y);
    const UlpStats s = f32_stats(x, y, d_log_sigmoid);
    EXPECT_LE(s.max, 0.8) << "worst x = " << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
  });
}

TEST(KernelLogSigmoid, F32DenseRangeWithinOneUlp) {
  std::vector<float> x;
  for (float v = -120.0f; v <= 120.0f; v += 0.00390625f) x.push_back(v);
  std::vector<float> y(x.size());
  sigma::log_sigmoid(x, y);
  const UlpStats s = f32_stats(x, y, d_log_sigmoid);
  EXPECT_LE(s.max, 0.8) << "worst x = " << double(s.worst_x);
}

TEST(KernelLogSigmoid, F64WithinOneUlpOnRandomAndEdgeInputs) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-800.0, 800.0), mid(-40.0, 40.0), small(-1e-3, 1e-3);
  std::vector<double> x;
  for (int i = 0; i < 150000; ++i)
    x.push_back(i % 3 == 0 ? wide(rng) : i % 3 == 1 ? mid(rng) : small(rng));
  for (double v : {0.0, -0.0, 700.0, 708.0, 709.0, 744.0, 745.2, 746.0, -700.0, -1e30, DBL_MAX,
                   -DBL_MAX, DBL_MIN, 0x1p53, -0x1p53, 36.0, 37.5})
    x.push_back(v);
  std::vector<long double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ref[i] = mp_ls(x[i]);
  std::vector<double> y(x.size());
  for_each_target([&](const std::string& t) {
    sigma::log_sigmoid(x, y);
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i)
      s.add(ulp_error(y[i], ref[i]), x[i], std::isnan(y[i]));
    EXPECT_LE(s.max, 0.8) << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
    std::printf("f64 log_sigmoid [%s]: max %.4f ULP at x = %.17g\n", t.c_str(), s.max,
                double(s.worst_x));
  });
}

TEST(KernelLogSigmoid, SpecialInputsOnEveryTarget) {
  const std::vector<float> x = special_inputs();
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::log_sigmoid(x, y);
    for (std::size_t i = 0; i < x.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(x[i]));
      if (std::isnan(x[i])) {
        EXPECT_TRUE(same_bits(x[i], y[i]));  // the same NaN
        continue;
      }
      EXPECT_LE(ulp_error(y[i], d_log_sigmoid(x[i])), 0.8);
    }
  });
  const auto at = [](float v) {
    float r;
    sigma::log_sigmoid(std::span<const float>(&v, 1), std::span<float>(&r, 1));
    return r;
  };
  EXPECT_EQ(at(-1e30f), -1e30f);
  EXPECT_EQ(at(-FLT_MAX), -FLT_MAX);
  EXPECT_EQ(at(-INFINITY), -INFINITY);
  EXPECT_EQ(at(INFINITY), 0.0f);
  EXPECT_TRUE(std::signbit(at(INFINITY)));
  EXPECT_EQ(at(0.0f), -0.6931472f);
  EXPECT_EQ(at(-100.0f), -100.0f);
  EXPECT_EQ(at(100.0f), -float(std::exp(-100.0)));  // subnormal, rounded once
  EXPECT_EQ(at(104.0f), -0.0f);
  const float payload = std::bit_cast<float>(0xffc01234u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(at(payload)), 0xffc01234u);
  double d = -1e300, r;
  sigma::log_sigmoid(std::span<const double>(&d, 1), std::span<double>(&r, 1));
  EXPECT_EQ(r, -1e300);
}

// Element i must not depend on n, on its position or on its neighbours (fast
// and slow paths mixed inside one vector included).
TEST(KernelLogSigmoid, EveryTailLengthGivesTheBodysBits) {
  expect_tails_match_body(special_inputs(), 130.0f, [](const float*, const float* x, float* y, std::size_t n) {
    sigma::log_sigmoid(std::span<const float>(x, n), std::span<float>(y, n));
  });
  expect_tails_match_body(special_inputs(), 130.0f, [](const float* dy, const float* x, float* y, std::size_t n) {
    sigma::log_sigmoid_backward(std::span<const float>(dy, n), std::span<const float>(x, n),
                                std::span<float>(y, n));
  });
}

TEST(KernelLogSigmoid, TargetsAgreeBitwise) {
  const std::vector<float> x = strided_f32(65537);
  std::vector<float> dy(x.size());
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> g(-3.0f, 3.0f);
  for (auto& v : dy) v = g(rng);
  std::vector<double> xd(100000), dyd(xd.size());
  std::uniform_real_distribution<double> w(-760.0, 760.0);
  for (std::size_t i = 0; i < xd.size(); ++i) xd[i] = w(rng), dyd[i] = g(rng);
  std::vector<float> f0(x.size()), b0(x.size()), f(x.size()), b(x.size());
  std::vector<double> fd0(xd.size()), bd0(xd.size()), fd(xd.size()), bd(xd.size());
  std::string first;
  for_each_target([&](const std::string& t) {
    const bool is_first = first.empty();
    if (is_first) first = t;
    sigma::log_sigmoid(x, is_first ? f0 : f);
    sigma::log_sigmoid_backward(dy, x, is_first ? b0 : b);
    sigma::log_sigmoid(xd, is_first ? fd0 : fd);
    sigma::log_sigmoid_backward(dyd, xd, is_first ? bd0 : bd);
    if (is_first) return;
    EXPECT_EQ(std::memcmp(f.data(), f0.data(), f.size() * 4), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(b.data(), b0.data(), b.size() * 4), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(fd.data(), fd0.data(), fd.size() * 8), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(bd.data(), bd0.data(), bd.size() * 8), 0) << t << " vs " << first;
  });
}

TEST(KernelLogSigmoid, ThreadCountDoesNotChangeBits) {
  expect_bits_independent_of_threads(-110.0f, 110.0f, [](const auto& x, auto& y) {
    sigma::log_sigmoid(x, y);
  });
}

// dy * sigmoid(-x): <= 2 ULP wherever the exact value is normal, for any dy.
template <class T>
void check_backward(const std::vector<T>& dy, const std::vector<T>& x, double bound) {
  std::vector<T> dx(x.size());
  for_each_target([&](const std::string&) {
    sigma::log_sigmoid_backward(std::span<const T>(dy), std::span<const T>(x), std::span<T>(dx));
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const long double exact = (long double)dy[i] * ld_sigmoid(-(long double)x[i]);
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(dx[i]));
        continue;
      }
      if (std::fabs(exact) < std::numeric_limits<T>::min() ||
          std::fabs(exact) > std::numeric_limits<T>::max()) {
        EXPECT_LE(std::fabs(dx[i] - exact), 2 * std::numeric_limits<T>::denorm_min())
            << x[i] << " " << dy[i];
        continue;
      }
      s.add(ulp_error(dx[i], exact), x[i], std::isnan(dx[i]));
    }
    EXPECT_LE(s.max, bound) << "worst x = " << double(s.worst_x);
    std::printf("log_sigmoid_backward %s: max %.3f ULP over %llu normal results\n",
                sizeof(T) == 4 ? "f32" : "f64", s.max, (unsigned long long)s.count);
  });
}

TEST(KernelLogSigmoidBackward, F32WithinTwoUlpDenseAndExtremeDy) {
  std::vector<float> x, dy;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-30, 30);
  for (float v = -200.0f; v <= 200.0f; v += 0.0078125f) {
    x.push_back(v);
    const int k = x.size() % 4;
    dy.push_back((k == 0   ? 1.0f
                  : k == 1 ? std::ldexp(mant(rng), ex(rng))
                  : k == 2 ? 1e30f
                           : -3e-30f) *
                 (x.size() % 3 ? 1.0f : -1.0f));
  }
  for (float v : {INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX}) x.push_back(v), dy.push_back(2.0f);
  check_backward(dy, x, 2.0);
  float g, x100 = 100.0f, one = 1.0f;
  sigma::log_sigmoid_backward(std::span<const float>(&one, 1), std::span<const float>(&x100, 1),
                              std::span<float>(&g, 1));
  EXPECT_EQ(g, float(std::exp(-100.0)));
  float big = 1e30f;
  sigma::log_sigmoid_backward(std::span<const float>(&big, 1), std::span<const float>(&x100, 1),
                              std::span<float>(&g, 1));
  EXPECT_NEAR(g, 1e30 * std::exp(-100.0), 1e-6 * 1e30 * std::exp(-100.0));
}

TEST(KernelLogSigmoidBackward, F64WithinTwoUlpOnRandomInputs) {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> wide(-1500.0, 1500.0), mid(-40.0, 40.0), g(-4.0, 4.0);
  std::uniform_int_distribution<int> ex(-300, 300);
  std::vector<double> x, dy;
  for (int i = 0; i < 200000; ++i) {
    x.push_back(i % 2 ? wide(rng) : mid(rng));
    dy.push_back(std::ldexp(g(rng), i % 5 ? 0 : ex(rng)));
  }
  check_backward(dy, x, 2.0);
}

template <class H>
void check_16bit() {
  std::vector<H> x(65536), y(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) x[i].bits = std::uint16_t(i);
  sigma::log_sigmoid(std::span<const H>(x), std::span<H>(y));
  int wrong = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const float xf = to_float(x[i]);
    if (std::isnan(xf)) {
      EXPECT_TRUE(std::isnan(to_float(y[i])));
      continue;
    }
    const long double e = mp_ls(xf);
    const H want = nearest16<H>(e);
    if (y[i].bits != want.bits && to_float(y[i]) != to_float(want)) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
}

TEST(KernelLogSigmoid, Bf16AndF16CorrectlyRounded) {
  check_16bit<bfloat16>();
  check_16bit<float16>();
  std::vector<bfloat16> dy(3), x(3), dx(3);
  for (int i = 0; i < 3; ++i) dy[i] = to_bfloat16(1.0f), x[i] = to_bfloat16(float(i) - 1.0f);
  sigma::log_sigmoid_backward(std::span<const bfloat16>(dy), std::span<const bfloat16>(x),
                              std::span<bfloat16>(dx));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(dx[i].bits, to_bfloat16(float(1 / (1 + std::exp(double(i) - 1.0)))).bits);
}

TEST(KernelLogSigmoidApi, SizesOverlapAndInPlace) {
  std::vector<float> x(8), y(7);
  expect_error<std::invalid_argument>([&] { sigma::log_sigmoid(x, y); },
                                      {"sigma::log_sigmoid", "8", "7"});
  std::vector<float> buf(16, 1.0f);
  EXPECT_THROW(sigma::log_sigmoid(std::span<const float>(buf.data(), 8),
                                  std::span<float>(buf.data() + 4, 8)),
               std::invalid_argument);
  sigma::log_sigmoid(std::span<const float>(buf.data(), 8), std::span<float>(buf.data(), 8));
  EXPECT_EQ(buf[0], float(d_log_sigmoid(1.0)));
  std::vector<double> a(3), b(4), c(3);
  EXPECT_THROW(sigma::log_sigmoid_backward(std::span<const double>(a), std::span<const double>(b),
                                           std::span<double>(c)),
               std::invalid_argument);
  std::vector<double> g = {1, 1, 1}, xs = {-1, 0, 1};
  sigma::log_sigmoid_backward(std::span<const double>(g), std::span<const double>(xs),
                              std::span<double>(g));
  EXPECT_EQ(g[1], 0.5);
}

}  // namespace
}  // namespace sigma::test
