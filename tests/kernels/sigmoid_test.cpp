// SIMD sigmoid kernels (src/kernels/sigmoid.cpp) on every compiled target:
// accuracy against independent references, specials, tails, threads, 16-bit
// storage types, errors. Full 2^32 scans: sigmoid_exhaustive_test.cpp.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
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
#include "kernels/table.h"
#include "sigma/error.h"
#include "targets.h"
#include "tensor_checks.h"
#include "ulp.h"

namespace sigma::test {
namespace {

// Stable sigmoid in long double (independent of the f32 SIMD arithmetic).
long double ld_sigmoid(long double x) {
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}


std::vector<float> special_inputs_f32() {
  return special_f32({87.0f, -87.0f, -87.0001f, -86.9999f, 16.6355f, 17.0f, -103.97f, -103.972f,
                      -104.5f, 1e-8f, -1e-8f, 0.0216608f, -0.0216608f});
}

TEST(KernelSigmoid, F32StridedScanWithinOneUlpOnEveryTarget) {
  for_each_target([](const std::string&) {
    const UlpStats s = scan_f32_bits(0, kAllF32Patterns, 4099, [](float x, UlpStats& st) {
      float y;
      sigma::sigmoid(std::span<const float>(&x, 1), std::span<float>(&y, 1));
      if (std::isnan(x)) return st.add(std::isnan(y) ? 0 : HUGE_VAL, x, false);
      st.add(ulp_error(y, ld_sigmoid(x)), x, std::isnan(y));
    });
    EXPECT_LE(s.max, 1.0) << "worst x = " << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
    EXPECT_GT(s.count, 1000000u);
  });
}

TEST(KernelSigmoid, F32DenseBlocksMatchReferenceWithinOneUlp) {
  // Whole arrays (vector body + tail) over the interesting range.
  std::vector<float> x;
  for (float v = -110.0f; v <= 30.0f; v += 0.00390625f) x.push_back(v);
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::sigmoid(x, y);
    double worst = 0;
    float worst_x = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double e = ulp_error(y[i], ld_sigmoid(x[i]));
      if (e > worst) worst = e, worst_x = x[i];
    }
    EXPECT_LE(worst, 1.0) << worst_x;
  });
}

TEST(KernelSigmoid, SpecialInputsOnEveryTarget) {
  const std::vector<float> x = special_inputs_f32();
  std::vector<float> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::sigmoid(x, y);
    for (std::size_t i = 0; i < x.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(x[i]));
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(y[i]));
        continue;
      }
      EXPECT_FALSE(std::isnan(y[i]));
      EXPECT_LE(ulp_error(y[i], ld_sigmoid(x[i])), 1.0);
    }
  });
  const auto at = [&](float v) {
    float r;
    sigma::sigmoid(std::span<const float>(&v, 1), std::span<float>(&r, 1));
    return r;
  };
  EXPECT_EQ(at(0.0f), 0.5f);
  EXPECT_EQ(at(INFINITY), 1.0f);
  EXPECT_EQ(at(-INFINITY), 0.0f);
  EXPECT_EQ(at(5e29f), 1.0f);
  EXPECT_EQ(at(-5e29f), 0.0f);
  EXPECT_EQ(std::fpclassify(at(-100.0f)), FP_SUBNORMAL);
  EXPECT_EQ(at(-104.0f), 0.0f);  // below half the least subnormal
  // NaN payload and sign pass through.
  const float payload = std::bit_cast<float>(0xffc01234u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(at(payload)), 0xffc01234u);
}

TEST(KernelSigmoid, EveryTailLengthGivesTheBodysBits) {
  // Element i must not depend on n or on its neighbours (fast/slow path mixing
  // inside a vector included).
  expect_tails_match_body(special_inputs_f32(), 120.0f, [](const float*, const float* x, float* y, std::size_t n) {
    sigma::sigmoid(std::span<const float>(x, n), std::span<float>(y, n));
  });
  expect_tails_match_body(special_inputs_f32(), 120.0f, [](const float* dy, const float* x, float* y, std::size_t n) {
    sigma::sigmoid_backward_from_input(std::span<const float>(dy, n), std::span<const float>(x, n),
                                       std::span<float>(y, n));
  });
}

TEST(KernelSigmoid, TargetsAgreeBitwiseOnStridedScan) {
  std::vector<float> x;
  for (std::uint64_t b = 0; b < kAllF32Patterns; b += 65537) x.push_back(std::bit_cast<float>(std::uint32_t(b)));
  std::vector<float> first(x.size()), y(x.size());
  std::string first_name;
  for_each_target([&](const std::string& t) {
    if (first_name.empty()) {
      first_name = t;
      sigma::sigmoid(x, first);
      return;
    }
    sigma::sigmoid(x, y);
    std::size_t diff = 0;
    for (std::size_t i = 0; i < x.size(); ++i) diff += !same_bits(y[i], first[i]);
    EXPECT_EQ(diff, 0u) << t << " vs " << first_name;
  });
}

TEST(KernelSigmoid, ThreadCountDoesNotChangeBits) {
  expect_bits_independent_of_threads(-110.0f, 30.0f, [](const auto& x, auto& y) {
    sigma::sigmoid(x, y);
  });
  EXPECT_GE(sigma::get_num_threads(), 1);
}

TEST(KernelSigmoid, F64WithinOneUlpOnRandomAndEdgeInputs) {
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> wide(-760.0, 760.0), mid(-40.0, 40.0), small(-1e-3, 1e-3);
  std::vector<double> x;
  for (int i = 0; i < 400000; ++i) x.push_back(i % 3 == 0 ? wide(rng) : i % 3 == 1 ? mid(rng) : small(rng));
  for (double v : {0.0, -0.0, 708.0, -708.0, -708.5, -745.0, -745.2, 745.2, DBL_MAX, -DBL_MAX,
                   DBL_MIN, 5e29, -5e29, 36.8, 37.5})
    x.push_back(v);
  std::vector<double> y(x.size());
  for_each_target([&](const std::string&) {
    sigma::sigmoid(x, y);
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i) s.add(ulp_error(y[i], mp_sigmoid(x[i])), x[i], std::isnan(y[i]));
    EXPECT_LE(s.max, 1.0) << double(s.worst_x);
    EXPECT_EQ(s.nan_out, 0u);
  });
  double nan = NAN, out;
  sigma::sigmoid(std::span<const double>(&nan, 1), std::span<double>(&out, 1));
  EXPECT_TRUE(std::isnan(out));
}

template <class H>
void check_all_16bit() {
  std::vector<H> x(65536), y(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) x[i].bits = std::uint16_t(i);
  for_each_target([&](const std::string&) {
    sigma::sigmoid(std::span<const H>(x), std::span<H>(y));
    int wrong = 0;
    std::uint32_t first_wrong = 0;
    for (std::uint32_t i = 0; i < 65536; ++i) {
      const float xf = to_float(x[i]);
      if (std::isnan(xf)) {
        EXPECT_TRUE(std::isnan(to_float(y[i]))) << i;
        continue;
      }
      if (y[i].bits != nearest16<H>(mp_sigmoid(to_float(x[i]))).bits && !wrong++) first_wrong = i;
    }
    EXPECT_EQ(wrong, 0) << "first misrounded input bits 0x" << std::hex << first_wrong;
    // Monotone: walk the finite inputs in increasing order.
    float prev = -1;
    std::vector<std::pair<float, float>> pts;
    for (std::uint32_t i = 0; i < 65536; ++i)
      if (!std::isnan(to_float(x[i]))) pts.push_back({to_float(x[i]), to_float(y[i])});
    std::sort(pts.begin(), pts.end());
    for (const auto& p : pts) {
      EXPECT_GE(p.second, prev) << "not monotone at x = " << p.first;
      prev = p.second;
    }
  });
}

TEST(KernelSigmoid, Bf16CorrectlyRoundedAndMonotoneForAllInputs) { check_all_16bit<bfloat16>(); }
TEST(KernelSigmoid, F16CorrectlyRoundedAndMonotoneForAllInputs) { check_all_16bit<float16>(); }

TEST(KernelSigmoidBackward, OutputFormWithinTwoUlpOfExactProduct) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> yd(0.0f, 1.0f), gd(-4.0f, 4.0f);
  std::vector<float> dy(100000), y(dy.size()), dx(dy.size());
  for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = gd(rng), y[i] = yd(rng);
  for_each_target([&](const std::string&) {
    sigma::sigmoid_backward(dy, y, dx);
    UlpStats s;
    for (std::size_t i = 0; i < dy.size(); ++i)
      s.add(ulp_error(dx[i], (long double)dy[i] * y[i] * (1.0L - y[i])), y[i], false);
    EXPECT_LE(s.max, 2.0) << double(s.worst_x);
  });
  float g0, y0 = 0.5f, one = 1.0f;
  sigma::sigmoid_backward(std::span<const float>(&one, 1), std::span<const float>(&y0, 1),
                          std::span<float>(&g0, 1));
  EXPECT_EQ(g0, 0.25f);
}

// On a grid of step 2^-7 over [-110, 110] (beyond it the exact result, at
// most 1.5 e^-110, is below half the smallest subnormal), and at x = 20.
TEST(KernelSigmoidBackward, InputFormAccurateOnAFineGridAndAtTwenty) {
  std::vector<float> x, dy;
  for (float v = -110.0f; v <= 110.0f; v += 0.0078125f) x.push_back(v), dy.push_back(1.5f);
  std::vector<float> dx(x.size());
  for_each_target([&](const std::string&) {
    sigma::sigmoid_backward_from_input(dy, x, dx);
    UlpStats s;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const long double exact = 1.5L * ld_sigmoid(x[i]) * ld_sigmoid(-(long double)x[i]);
      if (exact < FLT_MIN) {
        EXPECT_LE(std::fabs(dx[i] - exact), 2 * 0x1p-149L) << x[i];  // subnormal: absolute
        continue;
      }
      s.add(ulp_error(dx[i], exact), x[i], std::isnan(dx[i]));
    }
    EXPECT_LE(s.max, 3.0) << double(s.worst_x);
  });
  float g, x20 = 20.0f, one = 1.0f;
  sigma::sigmoid_backward_from_input(std::span<const float>(&one, 1), std::span<const float>(&x20, 1),
                                     std::span<float>(&g, 1));
  EXPECT_NEAR(g, 2.0611536e-9f, 2e-16f);
}

TEST(KernelSigmoidBackward, NaNInputsGiveTheFirstNaNOnEveryTarget) {
  const float n1 = std::bit_cast<float>(0x7fc00001u), n2 = std::bit_cast<float>(0xffc00002u);
  const std::vector<float> dy = {n1, n1, 1.0f, 2.0f}, s = {n2, 0.5f, n2, 3.0f};
  std::vector<float> a(4), b(4);
  for_each_target([&](const std::string&) {
    sigma::sigmoid_backward(dy, s, a);
    sigma::sigmoid_backward_from_input(dy, s, b);
    for (const auto* out : {&a, &b}) {
      EXPECT_EQ(std::bit_cast<std::uint32_t>((*out)[0]), 0x7fc00001u);
      EXPECT_EQ(std::bit_cast<std::uint32_t>((*out)[1]), 0x7fc00001u);
      EXPECT_EQ(std::bit_cast<std::uint32_t>((*out)[2]), 0xffc00002u);
    }
  });
}

TEST(KernelSigmoidApi, SizeMismatchAndPartialOverlapThrow) {
  std::vector<float> x(8), y(7);
  expect_error<std::invalid_argument>([&] { sigma::sigmoid(x, y); },
                                      {"sigma::sigmoid", "8", "7"});
  std::vector<float> buf(16, 1.0f);
  EXPECT_THROW(sigma::sigmoid(std::span<const float>(buf.data(), 8), std::span<float>(buf.data() + 4, 8)),
               std::invalid_argument);
  EXPECT_NO_THROW(sigma::sigmoid(std::span<const float>(buf.data(), 8), std::span<float>(buf.data(), 8)));
  EXPECT_EQ(buf[0], sigma::reference::sigmoid(1.0f));
  std::vector<double> a(3), b(4), c(3);
  EXPECT_THROW(sigma::sigmoid_backward(std::span<const double>(a), std::span<const double>(b), std::span<double>(c)),
               std::invalid_argument);
}

TEST(KernelTargets, NamingForcingAndErrors) {
  const auto avail = sigma::kernels::available_targets();
  ASSERT_FALSE(avail.empty());
  EXPECT_EQ(sigma::kernels::target(), avail.front());
  for (const auto& t : avail) {
    sigma::kernels::set_target(t);
    EXPECT_EQ(sigma::kernels::target(), t);
  }
  sigma::kernels::reset_target();
  EXPECT_EQ(sigma::kernels::target(), avail.front());
  try {
    sigma::kernels::set_target("NEON");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("NEON"), std::string::npos);
  }
}

// ---- sigmoid_and_derivative and sigmoid_backward_from_derivative
// (kernels/table.h): the recurrent cells' fused forward and its backward.
// Their promise is bit identity with kernels tested above against MPFR: y
// with sigmoid, g with sigmoid_backward_from_input at dy = 1, and dy * g with
// sigmoid_backward_from_input(dy, x).

template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// Inputs: a sweep of the type's bit patterns (every sign, exponent and NaN
// payload class), the fast path's boundary region, and the specials.
template <class T>
std::vector<T> fused_inputs() {
  using B = Bits<T>;
  std::vector<T> v;
  const B step = sizeof(T) == 4 ? B{4099} : (B{1} << 44) + 12345;
  for (B b = 0, i = 0; i < (sizeof(T) == 4 ? 1048000u : 1048576u); ++i, b += step)
    v.push_back(std::bit_cast<T>(b));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-200, 200);
  for (int i = 0; i < 20000; ++i) v.push_back(static_cast<T>(wide(rng)));
  for (T x : {T(0), -T(0), std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
              std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::signaling_NaN(),
              std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max(),
              -std::numeric_limits<T>::max()})
    v.push_back(x);
  return v;
}

template <class T>
void check_fused_matches_the_two_kernels() {
  const std::vector<T> x = fused_inputs<T>();
  const auto fused = sigma::detail::sigmoid_and_derivative_kernel<T>(sigma::kCPU);
  for_each_target([&](const std::string&) {
    // Every length up to 33 (the vector tails), then the whole array.
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{7},
                          std::size_t{15}, std::size_t{17}, std::size_t{33}, x.size()}) {
      const std::span<const T> xs(x.data() + x.size() - n, n);
      std::vector<T> y(n), g(n), want_y(n), want_g(n), ones(n, T(1));
      fused(xs, y, g);
      sigma::sigmoid(xs, std::span<T>(want_y));
      sigma::sigmoid_backward_from_input(std::span<const T>(ones), xs, std::span<T>(want_g));
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::memcmp(&y[i], &want_y[i], sizeof(T)), 0) << "y, x = " << xs[i];
        ASSERT_EQ(std::memcmp(&g[i], &want_g[i], sizeof(T)), 0) << "g, x = " << xs[i];
      }
      // The backward from g: the bits sigmoid_backward_from_input gives from x,
      // NaN dy (another payload) included.
      std::vector<T> dy(n), dx(n), want_dx(n);
      for (std::size_t i = 0; i < n; ++i)
        dy[i] = i % 97 == 5 ? std::bit_cast<T>(std::bit_cast<Bits<T>>(std::numeric_limits<T>::quiet_NaN()) | 3)
                            : static_cast<T>(0.25 * static_cast<double>(i % 13) - 1.5);
      sigma::detail::sigmoid_backward_from_derivative_kernel<T>(sigma::kCPU)(std::span<const T>(dy),
                                                                              std::span<const T>(g), dx);
      sigma::sigmoid_backward_from_input(std::span<const T>(dy), xs, std::span<T>(want_dx));
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(std::memcmp(&dx[i], &want_dx[i], sizeof(T)), 0) << "dx, x = " << xs[i] << ", dy = " << dy[i];
      // In place: g over x.
      std::vector<T> xg(xs.begin(), xs.end()), y2(n);
      fused(std::span<const T>(xg), y2, std::span<T>(xg));
      for (std::size_t i = 0; i < n; ++i) {  // (memcmp of n = 0 would pass null pointers)
        ASSERT_EQ(std::memcmp(&xg[i], &g[i], sizeof(T)), 0) << "in-place g, x = " << xs[i];
        ASSERT_EQ(std::memcmp(&y2[i], &y[i], sizeof(T)), 0) << "in-place y, x = " << xs[i];
      }
    }
  });
}

TEST(KernelSigmoidAndDerivative, SameBitsAsSigmoidAndItsBackwardF32) {
  check_fused_matches_the_two_kernels<float>();
}
TEST(KernelSigmoidAndDerivative, SameBitsAsSigmoidAndItsBackwardF64) {
  check_fused_matches_the_two_kernels<double>();
}

TEST(KernelSigmoidAndDerivative, BadSpansAndDevicesAreErrors) {
  const auto fused = sigma::detail::sigmoid_and_derivative_kernel<float>(sigma::kCPU);
  std::vector<float> a(8, 1.0f), b(8), c(7), buf(16, 0.5f);
  expect_error<std::invalid_argument>([&] { fused(a, b, c); }, {"sigmoid_and_derivative", "8", "7"});
  // y may not alias x or g; g may be x but not overlap it partly.
  expect_error<std::invalid_argument>(
      [&] { fused(std::span<const float>(buf.data(), 8), std::span<float>(buf.data(), 8), b); },
      {"sigmoid_and_derivative", "overlaps"});
  expect_error<std::invalid_argument>(
      [&] { fused(a, std::span<float>(buf.data(), 8), std::span<float>(buf.data() + 4, 8)); },
      {"sigmoid_and_derivative", "overlaps"});
  expect_error<std::invalid_argument>(
      [&] { fused(std::span<const float>(buf.data(), 8), b, std::span<float>(buf.data() + 2, 8)); },
      {"sigmoid_and_derivative", "partially overlaps"});
  expect_error<sigma::Error>([] { (void)sigma::detail::sigmoid_and_derivative_kernel<double>(sigma::kCUDA); },
                             {"sigmoid_and_derivative", "cuda"});
  expect_error<sigma::Error>(
      [] { (void)sigma::detail::sigmoid_backward_from_derivative_kernel<float>(sigma::kCUDA); },
      {"sigmoid_backward_from_derivative", "cuda"});
  const auto back = sigma::detail::sigmoid_backward_from_derivative_kernel<float>(sigma::kCPU);
  expect_error<std::invalid_argument>([&] { back(a, c, b); }, {"sigmoid_backward_from_derivative", "8", "7"});
}

}  // namespace
}  // namespace sigma::test
