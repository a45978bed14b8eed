// SIMD tanh and tanh_backward (src/kernels/tanh.cpp) on every compiled target:
// accuracy against independent references (double, MPFR), behaviour near 0
// and at saturation, specials, tails, targets and threads agreeing bitwise,
// 16-bit storage, errors. Full 2^32 scan: tanh_exhaustive_test.cpp.
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

double d_tanh(double x) { return std::tanh(x); }
long double mp_tanh(long double x) {
  Mp r(x);
  mpfr_tanh(r.get(), r.get(), MPFR_RNDN);
  return r.ld();
}
// dy (1 - y^2) exactly (160 bits), rounded to long double.
long double mp_dtanh(long double dy, long double y) {
  Mp r(y), g(dy);
  mpfr_sqr(r.get(), r.get(), MPFR_RNDN);
  mpfr_ui_sub(r.get(), 1, r.get(), MPFR_RNDN);
  mpfr_mul(r.get(), r.get(), g.get(), MPFR_RNDN);
  return r.ld();
}

std::vector<float> special_inputs() {
  return special_f32({1e-8f, -1e-8f, 0.375f, -0.375f, 0.37499997f, 0.37500003f, 9.0f, 9.02f, -9.02f, 40.0f, 41.0f, 0x1p-12f, 0.5f, 1.0f, -1.0f, 20.0f});
}

TEST(KernelTanh, F32StridedScanWithinOneUlpOnEveryTarget) {
  const std::vector<float> x = strided_f32(4099);
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::tanh(x, y);
    const UlpStats s = f32_stats(x, y, d_tanh);
    EXPECT_LE(s.max, 0.7) << "worst x = " << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
  });
}

// Every float with 0.25 <= |x| <= 0.5, the binade holding the f32 branch
// point |x| = 0.375 where the polynomial hands over to 1 - 2 sigmoid(-2z)
// (2 (2^23 + 1) inputs), on the best target; the other targets give the same
// bits (tanh_exhaustive_test.cpp).
TEST(KernelTanh, F32EveryFloatAroundTheBranchPoint) {
  std::vector<float> x;
  for (std::int64_t k = f32_order(0.25f); k <= f32_order(0.5f); ++k)
    x.push_back(f32_from_order(k)), x.push_back(-f32_from_order(k));
  ASSERT_EQ(x.size(), 2 * ((std::size_t{1} << 23) + 1));
  std::vector<float> y(x.size());
  sigma::tanh(x, y);
  const UlpStats s = f32_stats(x, y, d_tanh);
  EXPECT_LE(s.max, 0.7) << "worst x = " << double(s.worst_x);
}

TEST(KernelTanh, F64WithinOneUlpOnRandomAndEdgeInputs) {
  std::mt19937_64 rng(27);
  std::uniform_real_distribution<double> wide(-40.0, 40.0), mid(-2.0, 2.0), small(-0.3, 0.3);
  std::uniform_int_distribution<int> ex(-60, -1);
  std::vector<double> x;
  for (int i = 0; i < 120000; ++i) {
    const int k = i % 4;
    x.push_back(k == 0   ? wide(rng)
                : k == 1 ? mid(rng)
                : k == 2 ? small(rng)
                         : std::ldexp(mid(rng), ex(rng)));
  }
  for (double v : {0.0, -0.0, 0.25, -0.25, 0.24999999999999997, 19.0, 19.1, 350.0, 1e30, -1e30,
                   DBL_MAX, DBL_MIN, 1e-300})
    x.push_back(v);
  std::vector<long double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ref[i] = mp_tanh(x[i]);
  std::vector<double> y(x.size());
  for_each_target([&](const std::string& t) {
    sigma::tanh(x, y);
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i)
      s.add(ulp_error(y[i], ref[i]), x[i], std::isnan(y[i]));
    EXPECT_LE(s.max, 0.8) << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
    std::printf("f64 tanh [%s]: max %.4f ULP at x = %.17g\n", t.c_str(), s.max, double(s.worst_x));
  });
}

TEST(KernelTanh, SpecialInputsOnEveryTarget) {
  const std::vector<float> x = special_inputs();
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::tanh(x, y);
    for (std::size_t i = 0; i < x.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(x[i]));
      if (std::isnan(x[i])) {
        EXPECT_TRUE(same_bits(x[i], y[i]));
        continue;
      }
      EXPECT_LE(ulp_error(y[i], d_tanh(x[i])), 0.7);
      EXPECT_EQ(std::signbit(y[i]), std::signbit(x[i]));
    }
  });
  const auto at = [](float v) {
    float r;
    sigma::tanh(std::span<const float>(&v, 1), std::span<float>(&r, 1));
    return r;
  };
  EXPECT_TRUE(same_bits(at(0.0f), 0.0f));
  EXPECT_TRUE(same_bits(at(-0.0f), -0.0f));
  for (float v : {1e-30f, -1e-30f, 0x1p-13f, std::numeric_limits<float>::denorm_min(), FLT_MIN})
    EXPECT_TRUE(same_bits(at(v), v)) << v;  // tanh(x) = x for tiny x
  EXPECT_EQ(at(INFINITY), 1.0f);
  EXPECT_EQ(at(-INFINITY), -1.0f);
  EXPECT_EQ(at(9.02f), 1.0f);
  EXPECT_EQ(at(-9.02f), -1.0f);
  EXPECT_LT(at(8.9f), 1.0f);
  EXPECT_EQ(at(1e30f), 1.0f);
  const float payload = std::bit_cast<float>(0xffc01234u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(at(payload)), 0xffc01234u);
  double d = -20.0, r;
  sigma::tanh(std::span<const double>(&d, 1), std::span<double>(&r, 1));
  EXPECT_EQ(r, -1.0);
}

TEST(KernelTanh, EveryTailLengthGivesTheBodysBits) {
  expect_tails_match_body(special_inputs(), 2.0f, [](const float*, const float* x, float* y, std::size_t n) {
    sigma::tanh(std::span<const float>(x, n), std::span<float>(y, n));
  });
  expect_tails_match_body(special_inputs(), 2.0f, [](const float* dy, const float* x, float* y, std::size_t n) {
    sigma::tanh_backward(std::span<const float>(dy, n), std::span<const float>(x, n),
                         std::span<float>(y, n));
  });
}

TEST(KernelTanh, TargetsAgreeBitwise) {
  const std::vector<float> x = strided_f32(65537);
  std::vector<float> dy(x.size()), y(x.size());
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> g(-3.0f, 3.0f), yy(-1.0f, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) dy[i] = g(rng), y[i] = yy(rng);
  std::vector<double> xd(100000), dyd(xd.size());
  std::uniform_real_distribution<double> w(-25.0, 25.0);
  for (std::size_t i = 0; i < xd.size(); ++i) xd[i] = i % 2 ? w(rng) : w(rng) / 64, dyd[i] = g(rng);
  std::vector<float> f0(x.size()), b0(x.size()), f(x.size()), b(x.size());
  std::vector<double> fd0(xd.size()), fd(xd.size());
  std::string first;
  for_each_target([&](const std::string& t) {
    const bool is_first = first.empty();
    if (is_first) first = t;
    sigma::tanh(x, is_first ? f0 : f);
    sigma::tanh_backward(dy, y, is_first ? b0 : b);
    sigma::tanh(xd, is_first ? fd0 : fd);
    if (is_first) return;
    EXPECT_EQ(std::memcmp(f.data(), f0.data(), f.size() * 4), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(b.data(), b0.data(), b.size() * 4), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(fd.data(), fd0.data(), fd.size() * 8), 0) << t << " vs " << first;
  });
}

TEST(KernelTanh, ThreadCountDoesNotChangeBits) {
  expect_bits_independent_of_threads(-5.0f, 5.0f, [](const auto& x, auto& y) {
    sigma::tanh(x, y);
  });
}

// dy (1 - y^2) relative to the exact product of the given values, in ULP of
// T at the exact value: the spacing of subnormals where it is below T's
// smallest normal (the contract has no exception there), and exactly 0 where
// y = +-1.
template <class T>
void check_backward(const std::vector<T>& dy, const std::vector<T>& y, double bound) {
  std::vector<T> dx(y.size());
  std::vector<long double> ref(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) ref[i] = mp_dtanh(dy[i], y[i]);
  for_each_target([&](const std::string& t) {
    sigma::tanh_backward(std::span<const T>(dy), std::span<const T>(y), std::span<T>(dx));
    UlpStats s, sub;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double e = ulp_error(dx[i], ref[i]);
      s.add(e, y[i], std::isnan(dx[i]));
      if (ref[i] != 0 && std::fabs(ref[i]) < std::numeric_limits<T>::min())
        sub.add(e, y[i], std::isnan(dx[i]));
    }
    EXPECT_LE(s.max, bound) << "worst y = " << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
    std::printf("tanh_backward %s [%s]: max %.3f ULP over %llu results, %.3f over the %llu "
                "subnormal ones\n",
                sizeof(T) == 4 ? "f32" : "f64", t.c_str(), s.max, (unsigned long long)s.count,
                sub.max, (unsigned long long)sub.count);
  });
}

TEST(KernelTanhBackward, WithinTwoUlpOfTheExactProduct) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> yd(-1.0, 1.0), gd(-4.0, 4.0);
  std::vector<float> dy, y;
  std::vector<double> dyd, ydd;
  for (int i = 0; i < 200000; ++i) {
    const double v =
        i % 3 ? yd(rng) : std::copysign(1 - std::ldexp(std::fabs(yd(rng)), -(i % 40)), yd(rng));
    y.push_back(float(v)), dy.push_back(float(gd(rng)));
    ydd.push_back(v), dyd.push_back(gd(rng));
  }
  // Subnormal and zero results: dy from 2^-100 down to below the smallest
  // subnormal (itself subnormal, or 0, once rounded), with y spread over
  // (-1, 1) or close to +-1 (1 - y^2 down to 2^-23), and y = +-1 exactly.
  for (int i = 0; i < 40000; ++i) {
    const double v =
        i % 2 ? yd(rng) : std::copysign(1 - std::ldexp(std::fabs(yd(rng)), -(i % 24)), yd(rng));
    y.push_back(float(v)), dy.push_back(float(std::ldexp(gd(rng), -100 - i % 52)));
    ydd.push_back(v), dyd.push_back(std::ldexp(gd(rng), -1000 - i % 77));
  }
  for (float v : {1.0f, -1.0f}) y.push_back(v), dy.push_back(3.0f);
  for (double v : {1.0, -1.0}) ydd.push_back(v), dyd.push_back(3.0);
  check_backward(dy, y, 1.5);
  check_backward(dyd, ydd, 1.5);
  float g, one = 1.0f, half = 0.5f;
  sigma::tanh_backward(std::span<const float>(&one, 1), std::span<const float>(&half, 1),
                       std::span<float>(&g, 1));
  EXPECT_EQ(g, 0.75f);
}

TEST(KernelTanh, Bf16AndF16CorrectlyRounded) {
  expect_16bit_correctly_rounded([](auto x, auto y) { sigma::tanh(x, y); },
                                 [](float v) { return mp_tanh(v); }, true);
}

TEST(KernelTanhApi, SizesOverlapAndInPlace) {
  std::vector<float> x(8), y(7);
  expect_error<std::invalid_argument>([&] { sigma::tanh(x, y); },
                                      {"sigma::tanh", "8", "7"});
  expect_error<std::invalid_argument>(
      [&] {
        sigma::tanh_backward(std::span<const float>(x), std::span<const float>(y),
                             std::span<float>(x));
      },
      {"sigma::tanh_backward"});
  std::vector<float> buf(16, 1.0f);
  EXPECT_THROW(
      sigma::tanh(std::span<const float>(buf.data(), 8), std::span<float>(buf.data() + 4, 8)),
      std::invalid_argument);
  sigma::tanh(std::span<const float>(buf.data(), 8), std::span<float>(buf.data(), 8));
  EXPECT_EQ(buf[0], float(std::tanh(1.0)));
}

}  // namespace
}  // namespace sigma::test
