// Row-wise softmax, log_softmax and their backwards (src/kernels/softmax.cpp)
// on every compiled target (kernel_softmax_test, and 40 times the random rows
// in kernel_softmax_exhaustive_test): per-element accuracy against long double
// references over many seeded random rows, LibTorch's special cases (+-inf,
// all -inf, NaN, huge values, subnormal outputs, cols = 1), targets and
// threads agreeing bitwise, size and overlap errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sigma/kernels.h"
#include "sweep.h"
#include "targets.h"
#include "ulp.h"

namespace sigma::test {
namespace {

using L = long double;

// How many times the default number of random rows to check: 1 here, more in
// kernel_softmax_exhaustive_test (this file built with SIGMA_SOFTMAX_SWEEP).
#ifndef SIGMA_SOFTMAX_SWEEP
#define SIGMA_SOFTMAX_SWEEP 1
#endif
constexpr int kSweep = SIGMA_SOFTMAX_SWEEP;

// The contract bounds of sigma/kernels.h, in ULP.
constexpr double kForwardUlp = 1.0;
constexpr double kBackwardUlp = 1.0;

// x - m as an exact pair (hi + lo) in long double (TwoSum).
void ld_diff(L x, L m, L& hi, L& lo) {
  hi = x - m;
  const L bb = hi - x;
  lo = (x - (hi - bb)) + (-m - bb);
}

struct RowRef {
  std::vector<L> soft, log;
};

// Long double references of one row (x finite or -inf, finite max): e_i =
// e^(x_i - M) from the exact difference, S - 1 summed without the max terms.
RowRef reference_row(const L* x, std::size_t n) {
  L m = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) m = std::fmax(m, x[i]);
  std::vector<L> e(n), dh(n), dl(n);
  L rest = 0, rest_err = 0;  // Neumaier-compensated: long rows stay exact enough for f64
  long count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isinf(x[i])) {
      e[i] = 0;
      dh[i] = -INFINITY;
      dl[i] = 0;
      continue;
    }
    ld_diff(x[i], m, dh[i], dl[i]);
    e[i] = std::exp(dh[i]) * (1 + dl[i]);
    if (x[i] == m)
      ++count;
    else {
      L hi, lo;
      ld_diff(rest, -e[i], hi, lo);  // rest + e = hi + lo exactly
      rest = hi;
      rest_err += lo;
    }
  }
  rest += rest_err;
  const L s = static_cast<L>(count) + rest;
  const L log_s = std::log1p(static_cast<L>(count - 1) + rest);
  RowRef r;
  for (std::size_t i = 0; i < n; ++i) {
    r.soft.push_back(e[i] / s);
    r.log.push_back(std::isinf(dh[i]) ? -INFINITY : (dh[i] - log_s) + dl[i]);
  }
  return r;
}

// Seeded random rows: varied lengths (odd tails included), scales 1e-3 to
// 1e3, and mixtures with huge values, -inf, repeated maxima and elements far
// enough below the max to give subnormal softmax outputs.
template <class T>
std::vector<std::vector<T>> random_rows(std::uint64_t seed, int count, std::size_t max_cols) {
  std::mt19937_64 rng(seed);
  const std::size_t fixed[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100,
                               127, 128, 129, 255, 257, 1000, 1023, 1024, 1025, 2047, 3001};
  const double scales[] = {1e-3, 1e-2, 0.1, 1, 3, 10, 30, 100, 1e3};
  std::uniform_real_distribution<double> u(-1, 1), unit(0, 1);
  const T huge = std::numeric_limits<T>::max() / 2;
  std::vector<std::vector<T>> rows;
  for (int r = 0; r < count; ++r) {
    std::size_t n = r < int(std::size(fixed)) ? fixed[r] : 1 + rng() % max_cols;
    n = std::min(n, max_cols);
    const double scale = scales[rng() % std::size(scales)];
    const int kind = static_cast<int>(rng() % 6);
    std::vector<T> x(n);
    for (auto& v : x) v = static_cast<T>(scale * u(rng));
    if (kind == 1) {  // huge values mixed in
      for (auto& v : x)
        if (unit(rng) < 0.1) v = static_cast<T>(u(rng) * static_cast<double>(huge));
    } else if (kind == 2) {  // -inf entries (not all)
      for (std::size_t i = 1; i < n; ++i)
        if (unit(rng) < 0.3) x[i] = -std::numeric_limits<T>::infinity();
    } else if (kind == 3) {  // repeated maxima
      const T top = *std::max_element(x.begin(), x.end());
      for (auto& v : x)
        if (unit(rng) < 0.2) v = top;
    } else if (kind == 4) {  // far below the max: tiny and subnormal outputs
      const double depth = sizeof(T) == 4 ? 110 : 760;
      for (std::size_t i = 1; i < n; ++i) x[i] = static_cast<T>(-depth * unit(rng));
      x[0] = 0;
    } else if (kind == 5) {  // one dominant element: log_softmax of it near 0
      for (std::size_t i = 1; i < n; ++i) x[i] = static_cast<T>(-40 - 30 * unit(rng));
    }
    rows.push_back(std::move(x));
  }
  return rows;
}

struct Maxima {
  double soft = 0, log = 0;
};

// Every row on every target; returns the largest errors seen.
template <class T>
Maxima check_rows(const std::vector<std::vector<T>>& rows) {
  std::vector<RowRef> refs;
  for (const auto& x : rows) {
    std::vector<L> xl(x.begin(), x.end());
    refs.push_back(reference_row(xl.data(), xl.size()));
  }
  Maxima m;
  for_each_target([&](const std::string&) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto& x = rows[r];
      std::vector<T> y(x.size()), z(x.size());
      const auto cols = static_cast<std::int64_t>(x.size());
      sigma::softmax(std::span<const T>(x), std::span<T>(y), cols);
      sigma::log_softmax(std::span<const T>(x), std::span<T>(z), cols);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double es = ulp_error<T>(y[i], refs[r].soft[i]);
        const double el = ulp_error<T>(z[i], refs[r].log[i]);
        m.soft = std::max(m.soft, es);
        m.log = std::max(m.log, el);
        if (es > kForwardUlp || el > kForwardUlp) {
          ADD_FAILURE() << "row " << r << " (cols " << x.size() << ") element " << i << " x "
                        << double(x[i]) << ": softmax " << double(y[i]) << " vs "
                        << double(refs[r].soft[i]) << " (" << es << " ulp), log_softmax "
                        << double(z[i]) << " vs " << double(refs[r].log[i]) << " (" << el
                        << " ulp)";
          return;
        }
      }
    }
  });
  return m;
}

template <class T>
Maxima check_random_rows(std::uint64_t seed, int count, std::size_t max_cols) {
  return check_rows(random_rows<T>(seed, count, max_cols));
}

// Long rows: many terms in each slot of the compensated sums.
template <class T>
void check_long_rows() {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> nd;
  std::vector<std::vector<T>> rows;
  for (const std::size_t n : {65537, 200003}) {
    std::vector<T> x(n), dominant(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = static_cast<T>(3 * nd(rng));
      dominant[i] = static_cast<T>(-45 + nd(rng));  // T = S - 1 about 1e-15
    }
    dominant[n / 3] = 0;
    rows.push_back(x);
    rows.push_back(dominant);
  }
  const Maxima m = check_rows(rows);
  std::printf("long rows max error: softmax %.3f ulp, log_softmax %.3f ulp\n", m.soft, m.log);
}
TEST(KernelSoftmax, LongRowsWithinOneUlpF32) { check_long_rows<float>(); }
TEST(KernelSoftmax, LongRowsWithinOneUlpF64) { check_long_rows<double>(); }

TEST(KernelSoftmax, RandomRowsWithinOneUlpF32) {
  const Maxima m = check_random_rows<float>(1, 700 * kSweep, 3000);
  std::printf("f32 max error: softmax %.3f ulp, log_softmax %.3f ulp\n", m.soft, m.log);
}
TEST(KernelSoftmax, RandomRowsWithinOneUlpF64) {
  const Maxima m = check_random_rows<double>(2, 500 * kSweep, 3000);
  std::printf("f64 max error: softmax %.3f ulp, log_softmax %.3f ulp\n", m.soft, m.log);
}

// LibTorch 1.13's results, checked in a scratch program: a row with a NaN or
// +inf, or only -inf, is NaN throughout.
template <class T>
void check_special_rows() {
  const T inf = std::numeric_limits<T>::infinity();
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<std::vector<T>> nan_rows = {
      {1, inf, 2, -inf}, {inf, inf, 1}, {-inf, -inf, -inf}, {1, nan, 2}, {nan, -inf, inf},
      {-inf},            {inf},         {nan},              {-inf, -inf}};
  for_each_target([&](const std::string&) {
    for (const auto& x : nan_rows) {
      std::vector<T> y(x.size()), z(x.size());
      sigma::softmax(std::span<const T>(x), std::span<T>(y), std::int64_t(x.size()));
      sigma::log_softmax(std::span<const T>(x), std::span<T>(z), std::int64_t(x.size()));
      for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_TRUE(std::isnan(y[i])) << "softmax element " << i << " of row with " << x[0];
        EXPECT_TRUE(std::isnan(z[i])) << "log_softmax element " << i << " of row with " << x[0];
      }
    }
    const auto run = [](std::vector<T> x, std::vector<T>& y, std::vector<T>& z) {
      y.assign(x.size(), 0);
      z.assign(x.size(), 0);
      sigma::softmax(std::span<const T>(x), std::span<T>(y), std::int64_t(x.size()));
      sigma::log_softmax(std::span<const T>(x), std::span<T>(z), std::int64_t(x.size()));
    };
    std::vector<T> y, z;
    // -inf next to a finite max: exactly 0 and -inf.
    run({1, 2, -inf, 3}, y, z);
    EXPECT_EQ(y[2], T(0));
    EXPECT_FALSE(std::signbit(y[2]));
    EXPECT_EQ(z[2], -inf);
    EXPECT_LE(ulp_error<T>(y[3], 1 / (1 + std::exp(-1.0L) + std::exp(-2.0L))), kForwardUlp);
    // Huge finite values of both signs: no overflow, no NaN; x - M overflows.
    const T big = std::numeric_limits<T>::max() * T(0.9);
    run({big, -big, 0}, y, z);
    EXPECT_EQ(y[0], T(1));
    EXPECT_EQ(y[1], T(0));
    EXPECT_EQ(y[2], T(0));
    EXPECT_EQ(z[0], T(0));
    EXPECT_FALSE(std::signbit(z[0]));
    EXPECT_EQ(z[1], -inf);
    EXPECT_EQ(z[2], -big);
    // cols = 1: 1 and +0 for every finite value.
    for (T v : {T(0), T(-0.0), big, -big, T(1e-30), std::numeric_limits<T>::denorm_min()}) {
      run({v}, y, z);
      EXPECT_EQ(y[0], T(1)) << v;
      EXPECT_EQ(z[0], T(0)) << v;
      EXPECT_FALSE(std::signbit(z[0])) << v;
    }
    // Signed zeros, equal elements: exact halves and n-ths.
    run({T(-0.0), T(0)}, y, z);
    EXPECT_EQ(y[0], T(0.5));
    EXPECT_EQ(y[1], T(0.5));
    EXPECT_EQ(z[0], z[1]);
    EXPECT_LE(ulp_error<T>(z[0], -std::log(2.0L)), kForwardUlp);
    run(std::vector<T>(37, T(-7.25)), y, z);
    for (std::size_t i = 0; i < 37; ++i) {
      EXPECT_EQ(y[i], y[0]);
      EXPECT_EQ(z[i], z[0]);
    }
    EXPECT_LE(ulp_error<T>(y[0], 1.0L / 37), kForwardUlp);
    EXPECT_LE(ulp_error<T>(z[0], -std::log(37.0L)), kForwardUlp);
    // Subnormal outputs, produced and rounded once: e^-90 / (1 + ...) in f32,
    // e^-720 in f64; log_softmax of the max is then -e^-90 (tiny, not -0).
    const T deep = sizeof(T) == 4 ? T(90) : T(720);
    run({0, -deep, -deep - 10}, y, z);
    const L e1 = std::exp(-static_cast<L>(deep)), e2 = std::exp(-static_cast<L>(deep) - 10);
    EXPECT_LE(ulp_error<T>(y[1], e1 / (1 + e1 + e2)), kForwardUlp);
    EXPECT_LE(ulp_error<T>(y[2], e2 / (1 + e1 + e2)), kForwardUlp);
    EXPECT_GT(y[2], T(0));
    EXPECT_LT(y[1], std::numeric_limits<T>::min());
    EXPECT_LE(ulp_error<T>(z[0], -std::log1p(e1 + e2)), kForwardUlp);
    EXPECT_LT(z[0], T(0));
  });
}
TEST(KernelSoftmax, SpecialRowsF32) { check_special_rows<float>(); }
TEST(KernelSoftmax, SpecialRowsF64) { check_special_rows<double>(); }

// Backward against long double for the given dy and saved y.
template <class T>
void check_backward(std::uint64_t seed, double* soft_max, double* log_max) {
  const auto rows = random_rows<T>(seed, 200 * kSweep, 2100);
  std::mt19937_64 rng(seed + 100);
  std::uniform_real_distribution<double> gd(-2, 2);
  for_each_target([&](const std::string&) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto& x = rows[r];
      const auto n = x.size();
      const auto cols = static_cast<std::int64_t>(n);
      std::vector<T> y(n), ly(n), dy(n), dx(n), ldx(n);
      for (auto& g : dy) g = static_cast<T>(gd(rng));
      sigma::softmax(std::span<const T>(x), std::span<T>(y), cols);
      sigma::log_softmax(std::span<const T>(x), std::span<T>(ly), cols);
      sigma::softmax_backward(std::span<const T>(dy), std::span<const T>(y), std::span<T>(dx),
                              cols);
      sigma::log_softmax_backward(std::span<const T>(dy), std::span<const T>(ly),
                                  std::span<T>(ldx), cols);
      L dot = 0, abs_dot = 0, gsum = 0;
      for (std::size_t i = 0; i < n; ++i) {
        dot += L(dy[i]) * y[i];
        abs_dot += std::fabs(L(dy[i]) * y[i]);
        gsum += dy[i];
      }
      for (std::size_t i = 0; i < n; ++i) {
        const L ref = L(y[i]) * (L(dy[i]) - dot);
        // contract: 1 ULP of dx plus 2^-44 y sum|dy y| absolute
        const L slack = std::ldexp(L(y[i]) * abs_dot, -44);
        const L err = std::fabs(L(dx[i]) - ref);
        const double e = static_cast<double>(std::max<L>(0, err - slack) / ulp_at<T>(ref));
        *soft_max = std::max(*soft_max, e);
        ASSERT_LE(e, kBackwardUlp) << "softmax_backward row " << r << " element " << i;
        const L term = std::exp(L(ly[i])) * gsum;
        const L lref = L(dy[i]) - term;
        const L scale = std::max(std::fabs(lref), std::fabs(term));
        const double le = static_cast<double>(std::fabs(L(ldx[i]) - lref) / ulp_at<T>(scale));
        *log_max = std::max(*log_max, le);
        ASSERT_LE(le, kBackwardUlp) << "log_softmax_backward row " << r << " element " << i;
      }
    }
  });
}
TEST(KernelSoftmaxBackward, AccurateF32) {
  double s = 0, l = 0;
  check_backward<float>(3, &s, &l);
  std::printf("f32 backward max error: softmax %.3f ulp, log_softmax %.3f ulp\n", s, l);
}
TEST(KernelSoftmaxBackward, AccurateF64) {
  double s = 0, l = 0;
  check_backward<double>(4, &s, &l);
  std::printf("f64 backward max error: softmax %.3f ulp, log_softmax %.3f ulp\n", s, l);
}

// The four kernels' outputs over a batch of rows, as bits.
template <class T>
std::vector<T> all_outputs(const std::vector<T>& x, const std::vector<T>& dy, std::int64_t cols) {
  const std::size_t n = x.size();
  std::vector<T> out(4 * n);
  std::span<T> o(out);
  sigma::softmax(std::span<const T>(x), o.subspan(0, n), cols);
  sigma::log_softmax(std::span<const T>(x), o.subspan(n, n), cols);
  sigma::softmax_backward(std::span<const T>(dy), std::span<const T>(o.subspan(0, n)),
                          o.subspan(2 * n, n), cols);
  sigma::log_softmax_backward(std::span<const T>(dy), std::span<const T>(o.subspan(n, n)),
                              o.subspan(3 * n, n), cols);
  return out;
}

template <class T>
void check_bitwise() {
  for (const std::int64_t cols : {1, 7, 33, 1000, 3001}) {
    const std::int64_t rows = std::max<std::int64_t>(2, sigma::test::sweep(400000) / cols);
    std::mt19937_64 rng(static_cast<std::uint64_t>(cols));
    std::uniform_real_distribution<double> u(-20, 20);
    std::vector<T> x(static_cast<std::size_t>(rows * cols)), dy(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<T>(u(rng));
      if (i % 97 == 5) x[i] = -std::numeric_limits<T>::infinity();
      if (i % 89 == 3) x[i] = static_cast<T>(u(rng) * (sizeof(T) == 4 ? 6 : 40));
      dy[i] = static_cast<T>(u(rng) / 10);
    }
    std::vector<T> first;
    for_each_target([&](const std::string& t) {
      for (const int threads : {1, 2, 5}) {
        sigma::set_num_threads(threads);
        const auto out = all_outputs(x, dy, cols);
        if (first.empty()) {
          first = out;
          continue;
        }
        ASSERT_EQ(std::memcmp(first.data(), out.data(), out.size() * sizeof(T)), 0)
            << "target " << t << ", " << threads << " threads, cols " << cols;
      }
    });
    sigma::set_num_threads(0);
  }
}
TEST(KernelSoftmax, TargetsAndThreadsAgreeBitwiseF32) { check_bitwise<float>(); }
TEST(KernelSoftmax, TargetsAndThreadsAgreeBitwiseF64) { check_bitwise<double>(); }

// In place: the bits of the out-of-place result.
TEST(KernelSoftmaxApi, InPlaceGivesTheSameBits) {
  std::vector<float> x(5 * 300), y(x.size());
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-30, 30);
  for (auto& v : x) v = u(rng);
  for (const bool log : {false, true}) {
    std::vector<float> a = x;
    if (log) {
      sigma::log_softmax(std::span<const float>(x), std::span<float>(y), 300);
      sigma::log_softmax(std::span<const float>(a), std::span<float>(a), 300);
    } else {
      sigma::softmax(std::span<const float>(x), std::span<float>(y), 300);
      sigma::softmax(std::span<const float>(a), std::span<float>(a), 300);
    }
    EXPECT_EQ(std::memcmp(a.data(), y.data(), y.size() * sizeof(float)), 0) << log;
  }
}

std::string message_of(void (*f)()) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(KernelSoftmaxApi, ErrorsNameTheOpAndTheSizes) {
  static std::vector<float> a(12), b(12), c(11);
  EXPECT_EQ(message_of([] { sigma::softmax(std::span<const float>(a), std::span<float>(b), 0); }),
            "sigma::softmax: cols is 0 (must be at least 1)");
  EXPECT_EQ(message_of([] {
              sigma::log_softmax(std::span<const float>(a), std::span<float>(b), 5);
            }),
            "sigma::log_softmax: 12 elements are not a whole number of rows of 5");
  EXPECT_EQ(message_of([] { sigma::softmax(std::span<const float>(a), std::span<float>(c), 1); }),
            "sigma::softmax: x has 12 elements but y has 11 (sizes must match)");
  EXPECT_EQ(message_of([] {
              sigma::softmax(std::span<const float>(a).subspan(0, 6),
                             std::span<float>(a).subspan(3, 6), 3);
            }),
            "sigma::softmax: y partially overlaps x (it may be the same array, or disjoint)");
  EXPECT_EQ(message_of([] {
              sigma::softmax_backward(std::span<const float>(a), std::span<const float>(c),
                                      std::span<float>(b), 3);
            }),
            "sigma::softmax_backward: dy has 12 elements but y has 11 (sizes must match)");
  EXPECT_EQ(message_of([] {
              sigma::log_softmax_backward(std::span<const float>(a), std::span<const float>(b),
                                          std::span<float>(b).subspan(1, 11), 1);
            }),
            "sigma::log_softmax_backward: dy has 12 elements but dx has 11 (sizes must match)");
  EXPECT_EQ(message_of([] {
              sigma::log_softmax_backward(std::span<const float>(a).subspan(0, 6),
                                          std::span<const float>(b).subspan(0, 6),
                                          std::span<float>(a).subspan(2, 6), 2);
            }),
            "sigma::log_softmax_backward: dx partially overlaps dy (it may be the same array, "
            "or disjoint)");
  EXPECT_EQ(message_of([] {
              static std::vector<double> d(6);
              sigma::softmax(std::span<const double>(d), std::span<double>(d), -2);
            }),
            "sigma::softmax: cols is -2 (must be at least 1)");
  // Exact aliasing is allowed, and empty spans are fine.
  EXPECT_EQ(message_of([] { sigma::softmax(std::span<const float>(a), std::span<float>(a), 4); }),
            "(no exception)");
  EXPECT_EQ(message_of([] {
              sigma::softmax(std::span<const float>(), std::span<float>(), 4);
            }),
            "(no exception)");
}

}  // namespace
}  // namespace sigma::test
