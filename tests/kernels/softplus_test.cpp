// SIMD softplus and softplus_backward (src/kernels/softplus.cpp) on every
// compiled target, with PyTorch's beta/threshold semantics: accuracy against
// independent references (long double, MPFR), the exact shortcut test,
// specials, tails, targets and threads agreeing bitwise, 16-bit storage,
// argument errors. Full 2^32 scan: softplus_exhaustive_test.cpp.
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
#include "sigma/reference.h"
#include "kernel_checks.h"
#include "targets.h"
#include "tensor_checks.h"
#include "ulp.h"

namespace sigma::test {
namespace {

// softplus with the shortcut, in long double: beta x is exact for f32 inputs.
long double ld_softplus(long double x, long double beta = 1, long double thr = 20) {
  const long double z = x * beta;
  if (z > thr) return x;
  return (std::fmax(z, 0.0L) + std::log1p(std::exp(-std::fabs(z)))) / beta;
}
long double ld_sigmoid(long double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
// MPFR, stable form, for f64 (beta x exact at 160 bits).
long double mp_sp(double x, double beta = 1, double thr = 20) {
  Mp z(x), b(beta), r;
  mpfr_mul(z.get(), z.get(), b.get(), MPFR_RNDN);
  if (mpfr_cmp_d(z.get(), thr) > 0) return x;
  mpfr_abs(r.get(), z.get(), MPFR_RNDN);
  mpfr_neg(r.get(), r.get(), MPFR_RNDN);
  mpfr_exp(r.get(), r.get(), MPFR_RNDN);
  mpfr_log1p(r.get(), r.get(), MPFR_RNDN);
  if (mpfr_sgn(z.get()) > 0) mpfr_add(r.get(), r.get(), z.get(), MPFR_RNDN);
  mpfr_div(r.get(), r.get(), b.get(), MPFR_RNDN);
  return r.ld();
}

std::vector<float> special_inputs() {
  return special_f32({20.0f, 20.000002f, 19.999998f, -80.0f, -70.0f, -87.5f, -103.9f, -104.6f, 17.0f, -17.0f, 1e-8f, -1e-8f, 0x1p24f, -0x1p24f, 1.0f, -1.0f});
}

TEST(KernelSoftplus, F32StridedScanWithinOneUlpOnEveryTarget) {
  const std::vector<float> x = strided_f32(4099);
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::softplus(x, y);
    const UlpStats s = f32_stats(x, y, [](float v) { return ld_softplus(v); });
    EXPECT_LE(s.max, 0.8) << "worst x = " << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
  });
}

TEST(KernelSoftplus, F32OtherBetaAndThresholdWithinOneUlp) {
  const std::vector<float> x = strided_f32(8191);
  std::vector<float> y(x.size());
  for (float beta : {0.5f, 2.0f, 3.7f, -1.5f, 1e-3f, 1e3f, 0x1p-140f}) {
    for (float thr : {20.0f, 0.0f, 5.0f, INFINITY, -INFINITY}) {
      sigma::softplus(x, y, beta, thr);
      const UlpStats s = f32_stats(x, y, [&](float v) { return ld_softplus(v, beta, thr); });
      EXPECT_LE(s.max, 0.8) << "beta " << beta << " threshold " << thr
                            << " worst x = " << double(s.worst_x);
      EXPECT_EQ(s.nan_out, 0u);
      std::printf("f32 softplus beta %g threshold %g: max %.4f ULP at x = %.9g\n", beta, thr, s.max,
                  double(s.worst_x));
    }
  }
}

TEST(KernelSoftplus, ShortcutComparesTheExactProduct) {
  // 3x rounds to 20 in f32 while the exact 3x is just above / below 20: the
  // shortcut follows the exact product, as sigma::reference::softplus does.
  for (float x = 6.6666650f; x <= 6.6666680f; x = std::nextafter(x, 10.0f)) {
    float y;
    sigma::softplus(std::span<const float>(&x, 1), std::span<float>(&y, 1), 3.0f, 20.0f);
    const bool above = double(x) * 3.0 > 20.0;
    if (above) {
      EXPECT_EQ(y, x) << x;
    }
    EXPECT_LE(ulp_error(y, ld_softplus(x, 3, 20)), 0.8) << x;
    EXPECT_EQ(y, sigma::reference::softplus(x, 3.0f, 20.0f)) << x;
  }
}

TEST(KernelSoftplus, F64WithinOneUlpOnRandomAndEdgeInputs) {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> wide(-800.0, 800.0), mid(-40.0, 40.0), small(-1e-3, 1e-3);
  std::vector<double> x;
  for (int i = 0; i < 90000; ++i)
    x.push_back(i % 3 == 0 ? wide(rng) : i % 3 == 1 ? mid(rng) : small(rng));
  for (double v : {0.0, -0.0, 20.0, -700.0, -708.0, -709.0, -744.0, -745.2, -746.0, 1e30, -1e30,
                   DBL_MAX, -DBL_MAX, DBL_MIN, 0x1p53, -0x1p53, -36.0, -37.5})
    x.push_back(v);
  std::vector<double> y(x.size());
  for (double beta : {1.0, 0.5, -2.5}) {
    std::vector<long double> ref(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) ref[i] = mp_sp(x[i], beta);
    for_each_target([&](const std::string& t) {
      sigma::softplus(std::span<const double>(x), std::span<double>(y), beta);
      UlpStats s;
      for (std::size_t i = 0; i < x.size(); ++i)
        s.add(ulp_error(y[i], ref[i]), x[i], std::isnan(y[i]));
      EXPECT_LE(s.max, 0.8) << "beta " << beta << " x " << double(s.worst_x);
      EXPECT_EQ(s.nan_out, 0u);
      std::printf("f64 softplus beta %g [%s]: max %.4f ULP at x = %.17g\n", beta, t.c_str(), s.max,
                  double(s.worst_x));
    });
  }
}

TEST(KernelSoftplus, SpecialInputsOnEveryTarget) {
  const std::vector<float> x = special_inputs();
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    for (float beta : {1.0f, 2.0f, -0.5f}) {
      sigma::softplus(x, y, beta);
      for (std::size_t i = 0; i < x.size(); ++i) {
        SCOPED_TRACE("x = " + std::to_string(x[i]) + " beta " + std::to_string(beta));
        if (std::isnan(x[i])) {
          EXPECT_TRUE(same_bits(x[i], y[i]));
          continue;
        }
        EXPECT_LE(ulp_error(y[i], ld_softplus(x[i], beta)), 0.8);
      }
    }
  });
  const auto at = [](float v, float beta = 1.0f, float thr = 20.0f) {
    float r;
    sigma::softplus(std::span<const float>(&v, 1), std::span<float>(&r, 1), beta, thr);
    return r;
  };
  EXPECT_EQ(at(INFINITY), INFINITY);
  EXPECT_EQ(at(INFINITY, 1.0f, INFINITY), INFINITY);  // no shortcut, still x
  EXPECT_EQ(at(-INFINITY), 0.0f);
  EXPECT_EQ(at(1e30f, 1.0f, INFINITY), 1e30f);
  EXPECT_EQ(at(-1e30f), 0.0f);
  EXPECT_EQ(at(0.0f), 0.6931472f);
  EXPECT_EQ(at(0.0f, 2.0f), 0.3465736f);
  EXPECT_EQ(at(-100.0f), float(std::exp(-100.0)));  // subnormal, rounded once
  EXPECT_EQ(at(20.5f), 20.5f);
  EXPECT_EQ(at(1e30f, -2.0f), 0.0f);
  EXPECT_EQ(at(-1e30f, -2.0f), -1e30f);  // beta x = 2e30 > 20
  const float payload = std::bit_cast<float>(0x7fc01234u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(at(payload)), 0x7fc01234u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(at(payload, 3.0f)), 0x7fc01234u);
}

TEST(KernelSoftplus, EveryTailLengthGivesTheBodysBits) {
  for (float beta : {1.0f, 0.75f}) {
    expect_tails_match_body(special_inputs(), 130.0f, [beta](const float*, const float* x, float* y, std::size_t n) {
      sigma::softplus(std::span<const float>(x, n), std::span<float>(y, n), beta);
    });
    expect_tails_match_body(special_inputs(), 130.0f, [beta](const float* dy, const float* x, float* y, std::size_t n) {
      sigma::softplus_backward(std::span<const float>(dy, n), std::span<const float>(x, n),
                               std::span<float>(y, n), beta);
    });
  }
}

TEST(KernelSoftplus, TargetsAgreeBitwise) {
  const std::vector<float> x = strided_f32(65537);
  std::vector<float> dy(x.size());
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> g(-3.0f, 3.0f);
  for (auto& v : dy) v = g(rng);
  std::vector<double> xd(100000), dyd(xd.size());
  std::uniform_real_distribution<double> w(-760.0, 760.0);
  for (std::size_t i = 0; i < xd.size(); ++i) xd[i] = w(rng), dyd[i] = g(rng);
  for (float beta : {1.0f, 1.25f}) {
    std::vector<float> f0(x.size()), b0(x.size()), f(x.size()), b(x.size());
    std::vector<double> fd0(xd.size()), bd0(xd.size()), fd(xd.size()), bd(xd.size());
    std::string first;
    for_each_target([&](const std::string& t) {
      const bool is_first = first.empty();
      if (is_first) first = t;
      sigma::softplus(x, is_first ? f0 : f, beta);
      sigma::softplus_backward(dy, x, is_first ? b0 : b, beta);
      sigma::softplus(xd, is_first ? fd0 : fd, beta);
      sigma::softplus_backward(dyd, xd, is_first ? bd0 : bd, beta);
      if (is_first) return;
      EXPECT_EQ(std::memcmp(f.data(), f0.data(), f.size() * 4), 0) << t << " vs " << first;
      EXPECT_EQ(std::memcmp(b.data(), b0.data(), b.size() * 4), 0) << t << " vs " << first;
      EXPECT_EQ(std::memcmp(fd.data(), fd0.data(), fd.size() * 8), 0) << t << " vs " << first;
      EXPECT_EQ(std::memcmp(bd.data(), bd0.data(), bd.size() * 8), 0) << t << " vs " << first;
    });
  }
}

TEST(KernelSoftplus, ThreadCountDoesNotChangeBits) {
  expect_bits_independent_of_threads(-110.0f, 110.0f, [](const auto& x, auto& y) {
    sigma::softplus(x, y, 1.5f);
  });
}

// dy * sigmoid(beta x) (dy where beta x > threshold): <= 2 ULP wherever the
// exact value is normal, for any dy.
template <class T>
void check_backward(const std::vector<T>& dy, const std::vector<T>& x, T beta, double bound) {
  std::vector<T> dx(x.size());
  std::vector<long double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double z = (long double)x[i] * beta;  // exact for f32; 2^-64 for f64
    ref[i] = z > 20 ? (long double)dy[i] : dy[i] * ld_sigmoid(z);
  }
  for_each_target([&](const std::string& t) {
    sigma::softplus_backward(std::span<const T>(dy), std::span<const T>(x), std::span<T>(dx), beta);
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
    EXPECT_LE(s.max, bound) << "worst x = " << double(s.worst_x);
    std::printf("softplus_backward %s beta %g [%s]: max %.3f ULP over %llu normal results\n",
                sizeof(T) == 4 ? "f32" : "f64", double(beta), t.c_str(), s.max,
                (unsigned long long)s.count);
  });
}

TEST(KernelSoftplusBackward, F32WithinTwoUlpDenseAndExtremeDy) {
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
  for (float v : {INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, 20.0f, 20.000002f})
    x.push_back(v), dy.push_back(2.0f);
  for (float beta : {1.0f, 0.5f, -1.75f, 3.1f}) check_backward(dy, x, beta, 2.0);
}

TEST(KernelSoftplusBackward, F64WithinTwoUlpOnRandomInputs) {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> wide(-1500.0, 1500.0), mid(-40.0, 40.0), g(-4.0, 4.0);
  std::uniform_int_distribution<int> ex(-300, 300);
  std::vector<double> x, dy;
  for (int i = 0; i < 100000; ++i) {
    x.push_back(i % 2 ? wide(rng) : mid(rng));
    dy.push_back(std::ldexp(g(rng), i % 5 ? 0 : ex(rng)));
  }
  // f64 beta x is not exact in long double: keep beta a power of two here.
  for (double beta : {1.0, 0.5, -4.0}) check_backward(dy, x, beta, 2.0);
}

TEST(KernelSoftplus, Bf16AndF16CorrectlyRoundedAtDefaults) {
  const auto run = [](auto x, auto y) { sigma::softplus(x, y); };
  const auto exact = [](float v) { return mp_sp(v); };
  EXPECT_EQ(misrounded_16bit<bfloat16>(run, exact, false), 0);
  EXPECT_EQ(misrounded_16bit<float16>(run, exact, false), 0);
  std::vector<float16> x(2), y(2), dy(2), dx(2);
  x[0] = to_float16(1.0f), x[1] = to_float16(-2.0f), dy[0] = dy[1] = to_float16(1.0f);
  sigma::softplus(std::span<const float16>(x), std::span<float16>(y), 2.0f);
  EXPECT_EQ(y[0].bits, to_float16(float(std::log1p(std::exp(2.0)) / 2)).bits);
  sigma::softplus_backward(std::span<const float16>(dy), std::span<const float16>(x),
                           std::span<float16>(dx), 2.0f);
  EXPECT_EQ(dx[1].bits, to_float16(float(1 / (1 + std::exp(4.0)))).bits);
}

TEST(KernelSoftplusApi, ArgumentChecksNameTheOp) {
  std::vector<float> x(4), y(4);
  for (float beta : {0.0f, -0.0f, INFINITY, -INFINITY, NAN}) {
    SCOPED_TRACE(beta);
    expect_error<std::invalid_argument>(
        [&] { sigma::softplus(x, y, beta); },
        {"sigma::softplus: beta"});
    expect_error<std::invalid_argument>([&] { sigma::softplus_backward(x, x, y, beta); },
                                        {"sigma::softplus_backward: beta"});
  }
  EXPECT_THROW(sigma::softplus(x, y, 1.0f, NAN), std::invalid_argument);
  std::vector<double> xd(2), yd(2);
  EXPECT_THROW(sigma::softplus(std::span<const double>(xd), std::span<double>(yd), 1.0, NAN),
               std::invalid_argument);
  std::vector<float> z(3);
  expect_error<std::invalid_argument>(
      [&] { sigma::softplus(x, z); },
      {"sigma::softplus", "4", "3"});
  std::vector<float> buf = {-1, 0, 1, 2};
  sigma::softplus(std::span<const float>(buf), std::span<float>(buf));  // in place
  EXPECT_EQ(buf[1], 0.6931472f);
  EXPECT_THROW(
      sigma::softplus(std::span<const float>(buf.data(), 3), std::span<float>(buf.data() + 1, 3)),
      std::invalid_argument);
}

}  // namespace
}  // namespace sigma::test
