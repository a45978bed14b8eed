// SIMD silu and silu_backward (src/kernels/silu.cpp) on every compiled target:
// accuracy against independent references (double, long double, MPFR), the
// backward near its root x0 = -1.2785 (every f32 within 1/8 of it), specials,
// tails, targets and threads agreeing bitwise, 16-bit storage, errors. Full
// 2^32 scan: silu_exhaustive_test.cpp.
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

double d_silu(double x) {
  if (x < -800) return -0.0;
  return x >= 0 ? x / (1 + std::exp(-x)) : x * std::exp(x) / (1 + std::exp(x));
}
// MPFR: x sigmoid(x) and sigmoid(x) (1 + x sigmoid(-x)), 160 bits.
void mp_sig(Mp& r, long double x) {  // r = sigmoid(x)
  mpfr_set_ld(r.get(), -x, MPFR_RNDN);
  mpfr_exp(r.get(), r.get(), MPFR_RNDN);
  mpfr_add_ui(r.get(), r.get(), 1, MPFR_RNDN);
  mpfr_ui_div(r.get(), 1, r.get(), MPFR_RNDN);
}
long double mp_silu(long double x) {
  Mp r, lx(x);
  mp_sig(r, x);
  mpfr_mul(r.get(), r.get(), lx.get(), MPFR_RNDN);
  return r.ld();
}
long double mp_dsilu(long double x, long double dy = 1) {
  if (std::isinf(x)) return x > 0 ? dy : 0 * dy;
  Mp s, t, lx(x), g(dy);
  mp_sig(s, x);
  mp_sig(t, -x);
  mpfr_mul(t.get(), t.get(), lx.get(), MPFR_RNDN);
  mpfr_add_ui(t.get(), t.get(), 1, MPFR_RNDN);
  mpfr_mul(s.get(), s.get(), t.get(), MPFR_RNDN);
  mpfr_mul(s.get(), s.get(), g.get(), MPFR_RNDN);
  return s.ld();
}

std::vector<float> special_inputs() {
  return special_f32({-80.0f, -87.5f, -100.0f, -111.0f, -112.0f, -113.0f, 17.0f, 20.5f, -1.2784646f, -1.278464f, -1.34f, -1.21f, 1e-8f, -1e-8f, 1.0f, -1.0f});
}

TEST(KernelSilu, F32StridedScanWithinOneUlpOnEveryTarget) {
  const std::vector<float> x = strided_f32(4099);
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::silu(x, y);
    const UlpStats s = f32_stats(x, y, d_silu);
    EXPECT_LE(s.max, 0.8) << "worst x = " << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
  });
}

TEST(KernelSilu, F64WithinOneUlpOnRandomAndEdgeInputs) {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> wide(-800.0, 800.0), mid(-40.0, 40.0), small(-1e-3, 1e-3);
  std::vector<double> x;
  for (int i = 0; i < 120000; ++i)
    x.push_back(i % 3 == 0 ? wide(rng) : i % 3 == 1 ? mid(rng) : small(rng));
  for (double v : {0.0, -0.0, -700.0, -708.0, -709.0, -744.0, -745.2, -750.0, -752.0, -753.5, 1e30,
                   -1e30, DBL_MAX, -DBL_MAX, DBL_MIN, -36.0, 37.5, 40.5})
    x.push_back(v);
  std::vector<long double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ref[i] = mp_silu(x[i]);
  std::vector<double> y(x.size());
  for_each_target([&](const std::string& t) {
    sigma::silu(x, y);
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i)
      s.add(ulp_error(y[i], ref[i]), x[i], std::isnan(y[i]));
    EXPECT_LE(s.max, 0.8) << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
    std::printf("f64 silu [%s]: max %.4f ULP at x = %.17g\n", t.c_str(), s.max, double(s.worst_x));
  });
}

TEST(KernelSilu, SpecialInputsOnEveryTarget) {
  const std::vector<float> x = special_inputs();
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::silu(x, y);
    for (std::size_t i = 0; i < x.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(x[i]));
      if (std::isnan(x[i])) {
        EXPECT_TRUE(same_bits(x[i], y[i]));
        continue;
      }
      EXPECT_LE(ulp_error(y[i], d_silu(x[i])), 0.8);
    }
  });
  const auto at = [](float v) {
    float r;
    sigma::silu(std::span<const float>(&v, 1), std::span<float>(&r, 1));
    return r;
  };
  EXPECT_EQ(at(INFINITY), INFINITY);
  EXPECT_EQ(at(-INFINITY), 0.0f);
  EXPECT_TRUE(std::signbit(at(-INFINITY)));
  EXPECT_EQ(at(-1e30f), 0.0f);
  EXPECT_TRUE(std::signbit(at(-0.0f)));
  EXPECT_EQ(at(0.0f), 0.0f);
  EXPECT_EQ(at(1e30f), 1e30f);
  EXPECT_EQ(at(2.0f), float(2.0 / (1 + std::exp(-2.0))));
  EXPECT_EQ(at(-100.0f), float(-100.0 * std::exp(-100.0)));  // subnormal
  const float payload = std::bit_cast<float>(0xffc01234u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(at(payload)), 0xffc01234u);
}

TEST(KernelSilu, EveryTailLengthGivesTheBodysBits) {
  expect_tails_match_body(special_inputs(), 130.0f, [](const float*, const float* x, float* y, std::size_t n) {
    sigma::silu(std::span<const float>(x, n), std::span<float>(y, n));
  });
  expect_tails_match_body(special_inputs(), 130.0f, [](const float* dy, const float* x, float* y, std::size_t n) {
    sigma::silu_backward(std::span<const float>(dy, n), std::span<const float>(x, n),
                         std::span<float>(y, n));
  });
}

TEST(KernelSilu, TargetsAgreeBitwise) {
  std::vector<float> x = strided_f32(65537);
  for (float v = -1.5f; v < -1.0f; v += 0x1p-10f) x.push_back(v);  // the backward's band
  std::vector<float> dy(x.size());
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> g(-3.0f, 3.0f);
  for (auto& v : dy) v = g(rng);
  std::vector<double> xd(100000), dyd(xd.size());
  std::uniform_real_distribution<double> w(-760.0, 760.0), n(-1.5, -1.0);
  for (std::size_t i = 0; i < xd.size(); ++i) xd[i] = i % 4 ? w(rng) : n(rng), dyd[i] = g(rng);
  std::vector<float> f0(x.size()), b0(x.size()), f(x.size()), b(x.size());
  std::vector<double> fd0(xd.size()), bd0(xd.size()), fd(xd.size()), bd(xd.size());
  std::string first;
  for_each_target([&](const std::string& t) {
    const bool is_first = first.empty();
    if (is_first) first = t;
    sigma::silu(x, is_first ? f0 : f);
    sigma::silu_backward(dy, x, is_first ? b0 : b);
    sigma::silu(xd, is_first ? fd0 : fd);
    sigma::silu_backward(dyd, xd, is_first ? bd0 : bd);
    if (is_first) return;
    EXPECT_EQ(std::memcmp(f.data(), f0.data(), f.size() * 4), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(b.data(), b0.data(), b.size() * 4), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(fd.data(), fd0.data(), fd.size() * 8), 0) << t << " vs " << first;
    EXPECT_EQ(std::memcmp(bd.data(), bd0.data(), bd.size() * 8), 0) << t << " vs " << first;
  });
}

TEST(KernelSilu, ThreadCountDoesNotChangeBits) {
  expect_bits_independent_of_threads(-110.0f, 30.0f, [](const auto& x, auto& y) {
    sigma::silu_backward(x, x, y);
  });
}

// <= 4 ULP (contract) wherever the exact dy * silu'(x) is normal.
template <class T>
void check_backward(const char* what, const std::vector<T>& dy, const std::vector<T>& x,
                    double bound) {
  std::vector<long double> ref(x.size());
  // MPFR keeps its state per thread (built with TLS), so the references run
  // in parallel.
#pragma omp parallel for schedule(static, 4096)
  for (std::size_t i = 0; i < x.size(); ++i)
    ref[i] = std::isnan(x[i]) ? NAN : mp_dsilu(x[i], dy[i]);
  std::vector<T> dx(x.size());
  for_each_target([&](const std::string& t) {
    sigma::silu_backward(std::span<const T>(dy), std::span<const T>(x), std::span<T>(dx));
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(dx[i]));
        continue;
      }
      if (std::fabs(ref[i]) < std::numeric_limits<T>::min()) {
        EXPECT_LE(std::fabs(dx[i] - ref[i]), 2 * std::numeric_limits<T>::denorm_min())
            << x[i] << " " << dy[i];
        continue;
      }
      s.add(ulp_error(dx[i], ref[i]), x[i], std::isnan(dx[i]));
    }
    EXPECT_LE(s.max, bound) << what << " worst x = " << double(s.worst_x);
    std::printf("silu_backward %s %s [%s]: max %.3f ULP at x = %.17g over %llu normal results\n",
                sizeof(T) == 4 ? "f32" : "f64", what, t.c_str(), s.max, double(s.worst_x),
                (unsigned long long)s.count);
  });
}

TEST(KernelSiluBackward, F32WithinFourUlpDenseAndExtremeDy) {
  std::vector<float> x, dy;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-30, 30);
  for (float v = -210.0f; v <= 60.0f; v += 0.0078125f) {
    x.push_back(v);
    const int k = x.size() % 4;
    dy.push_back((k == 0   ? 1.0f
                  : k == 1 ? std::ldexp(mant(rng), ex(rng))
                  : k == 2 ? 1e30f
                           : -3e-30f) *
                 (x.size() % 3 ? 1.0f : -1.0f));
  }
  for (float v : {INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX}) x.push_back(v), dy.push_back(2.0f);
  check_backward("dense", dy, x, 4.0);
}

TEST(KernelSiluBackward, F32EveryFloatNearTheRoot) {
  // Every float in [x0 - 1/8, x0 + 1/8] (the polynomial band and both sides of
  // its edges), dy = 1: the relative error stays bounded through the root.
  const float x0 = -1.2784645f;
  std::vector<float> x, dy;
  for (std::int64_t k = f32_order(x0 - 0.125f); k <= f32_order(x0 + 0.125f); ++k)
    x.push_back(f32_from_order(k)), dy.push_back(1.0f);
  ASSERT_EQ(x.size(), std::size_t(f32_order(x0 + 0.125f) - f32_order(x0 - 0.125f) + 1));
  check_backward("near root", dy, x, 4.0);
}

TEST(KernelSiluBackward, F64WithinFourUlpOnRandomAndNearRootInputs) {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> wide(-1500.0, 1500.0), mid(-40.0, 40.0), g(-4.0, 4.0),
      band(-0.07, 0.07);
  std::uniform_int_distribution<int> ex(-300, 300), tiny(5, 45);
  const double x0 = -1.2784645427610738;
  std::vector<double> x, dy;
  for (int i = 0; i < 60000; ++i) {
    const int k = i % 4;
    x.push_back(k == 0   ? wide(rng)
                : k == 1 ? mid(rng)
                : k == 2 ? x0 + band(rng)
                         : x0 + std::ldexp(g(rng), -tiny(rng)));
    dy.push_back(std::ldexp(g(rng), i % 5 ? 0 : ex(rng)));
  }
  check_backward("random", dy, x, 4.0);
}

TEST(KernelSilu, Bf16AndF16CorrectlyRounded) {
  const auto run = [](auto x, auto y) { sigma::silu(x, y); };
  const auto exact = [](float v) { return mp_silu(v); };
  EXPECT_EQ(misrounded_16bit<bfloat16>(run, exact, false), 0);
  EXPECT_EQ(misrounded_16bit<float16>(run, exact, false), 0);
  std::vector<bfloat16> dy(1), x(1), dx(1);
  dy[0] = to_bfloat16(1.0f), x[0] = to_bfloat16(2.0f);
  sigma::silu_backward(std::span<const bfloat16>(dy), std::span<const bfloat16>(x),
                       std::span<bfloat16>(dx));
  EXPECT_EQ(dx[0].bits, to_bfloat16(float(mp_dsilu(2.0L))).bits);
}

TEST(KernelSiluApi, SizesOverlapAndInPlace) {
  std::vector<float> x(8), y(7);
  expect_error<std::invalid_argument>([&] { sigma::silu(x, y); },
                                      {"sigma::silu", "8", "7"});
  expect_error<std::invalid_argument>(
      [&] {
        sigma::silu_backward(std::span<const float>(x), std::span<const float>(y),
                             std::span<float>(x));
      },
      {"sigma::silu_backward"});
  std::vector<float> buf(16, 1.0f);
  EXPECT_THROW(
      sigma::silu(std::span<const float>(buf.data(), 8), std::span<float>(buf.data() + 4, 8)),
      std::invalid_argument);
  sigma::silu(std::span<const float>(buf.data(), 8), std::span<float>(buf.data(), 8));
  EXPECT_EQ(buf[0], float(d_silu(1.0)));
}

}  // namespace
}  // namespace sigma::test
