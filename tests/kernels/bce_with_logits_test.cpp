// SIMD bce_with_logits and bce_with_logits_backward
// (src/kernels/bce_with_logits.cpp) on every compiled target: accuracy against
// a long double reference, exact values at x = +-inf and +-100, zero
// coefficients, bitwise equality of explicit ones and absent weights, tails,
// targets and threads agreeing bitwise, size and overlap errors.
#include <gtest/gtest.h>

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

#include "sigma/kernels.h"
#include "targets.h"
#include "ulp.h"

namespace sigma::test {
namespace {

using L = long double;

L ld_softplus(L x) { return std::fmax(x, 0.0L) + std::log1p(std::exp(-std::fabs(x))); }
L ld_sigmoid(L x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

// w [pw t softplus(-x) + (1 - t) softplus(x)], zero coefficients giving 0.
L ref_loss(L x, L t, L w, L pw) {
  const L a = pw * t, b = 1 - t;
  const L s = (a == 0 ? 0 : a * ld_softplus(-x)) + (b == 0 ? 0 : b * ld_softplus(x));
  return w == 0 && std::isinf(s) ? 0 : w * s;
}
// The two terms of the gradient, dloss w (1 - t) sigmoid(x) and -dloss w pw t sigmoid(-x).
std::pair<L, L> ref_grad_terms(L g, L x, L t, L w, L pw) {
  return {g * w * (1 - t) * ld_sigmoid(x), -g * w * pw * t * ld_sigmoid(-x)};
}

struct Case {
  std::vector<double> x, t, w, pw, g;
};

Case random_case(std::size_t n, std::uint64_t seed, double xmax) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> wide(-xmax, xmax), mid(-12.0, 12.0), unit(0.0, 1.0),
      wd(0.0, 3.0), pd(0.0, 5.0), gd(-2.0, 2.0);
  Case c;
  for (std::size_t i = 0; i < n; ++i) {
    c.x.push_back(i % 2 ? wide(rng) : mid(rng));
    const int k = i % 5;
    c.t.push_back(k == 0 ? 0.0 : k == 1 ? 1.0 : k == 2 ? 0.5 : unit(rng));
    c.w.push_back(wd(rng));
    c.pw.push_back(pd(rng));
    c.g.push_back(gd(rng));
  }
  return c;
}

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
void check_loss_accuracy(const Case& c, double bound) {
  const auto x = as<T>(c.x), t = as<T>(c.t), w = as<T>(c.w), pw = as<T>(c.pw);
  std::vector<T> loss(x.size());
  for (int variant = 0; variant < 4; ++variant) {
    const bool use_w = variant & 1, use_pw = variant & 2;
    for_each_target([&](const std::string& tg) {
      sigma::bce_with_logits(std::span<const T>(x), std::span<const T>(t), std::span<T>(loss),
                             use_w ? std::span<const T>(w) : std::span<const T>(),
                             use_pw ? std::span<const T>(pw) : std::span<const T>());
      UlpStats s;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const L e = ref_loss(x[i], t[i], use_w ? w[i] : 1, use_pw ? pw[i] : 1);
        if (std::fabs(e) < std::numeric_limits<T>::min()) {
          EXPECT_LE(std::fabs(loss[i] - e), 2 * std::numeric_limits<T>::denorm_min()) << x[i];
          continue;
        }
        s.add(ulp_error(loss[i], e), x[i], std::isnan(loss[i]));
      }
      EXPECT_LE(s.max, bound) << "weight " << use_w << " pos_weight " << use_pw << " x "
                              << double(s.worst_x);
      EXPECT_EQ(s.nan_out, 0u);
      if (tg == "AVX3" || tg == "AVX2")
        std::printf("bce_with_logits %s [%s] weight %d pos_weight %d: max %.3f ULP\n",
                    sizeof(T) == 4 ? "f32" : "f64", tg.c_str(), use_w, use_pw, s.max);
    });
  }
}

TEST(KernelBceWithLogits, F32LossAccurateForTargetsInUnitInterval) {
  check_loss_accuracy<float>(random_case(60000, 1, 120.0), 1.5);
}
TEST(KernelBceWithLogits, F64LossAccurateForTargetsInUnitInterval) {
  check_loss_accuracy<double>(random_case(60000, 2, 800.0), 1.5);
}

template <class T>
T loss1(T x, T t, T w = 1, T pw = 1) {
  T r;
  sigma::bce_with_logits(std::span<const T>(&x, 1), std::span<const T>(&t, 1), std::span<T>(&r, 1),
                         std::span<const T>(&w, 1), std::span<const T>(&pw, 1));
  return r;
}
template <class T>
T grad1(T g, T x, T t, T w = 1, T pw = 1) {
  T r;
  sigma::bce_with_logits_backward(std::span<const T>(&g, 1), std::span<const T>(&x, 1),
                                  std::span<const T>(&t, 1), std::span<T>(&r, 1),
                                  std::span<const T>(&w, 1), std::span<const T>(&pw, 1));
  return r;
}

template <class T>
void check_exact_values() {
  const T inf = std::numeric_limits<T>::infinity();
  for_each_target([&](const std::string&) {
    EXPECT_EQ(loss1<T>(inf, 1), 0);
    EXPECT_EQ(loss1<T>(-inf, 0), 0);
    EXPECT_EQ(loss1<T>(inf, 0), inf);
    EXPECT_EQ(loss1<T>(-inf, 1), inf);
    EXPECT_EQ(loss1<T>(inf, 0.5), inf);
    EXPECT_EQ(loss1<T>(-inf, 1, 0), 0);     // weight 0
    EXPECT_EQ(loss1<T>(-inf, 1, 1, 0), 0);  // pos_weight 0
    EXPECT_EQ(loss1<T>(100, 0), 100);
    EXPECT_EQ(loss1<T>(-100, 1), 100);
    EXPECT_EQ(loss1<T>(100, 1), T(std::exp(-100.0L)));  // softplus(-100), subnormal in f32
    EXPECT_EQ(loss1<T>(-100, 0), T(std::exp(-100.0L)));
    EXPECT_EQ(loss1<T>(0, 1), T(std::log(2.0L)));
    EXPECT_EQ(loss1<T>(0, 0.25, 2, 3), T(2 * (0.75L + 0.75L) * std::log(2.0L)));
    EXPECT_TRUE(std::isnan(loss1<T>(std::numeric_limits<T>::quiet_NaN(), 1)));
    EXPECT_TRUE(std::isnan(loss1<T>(1, std::numeric_limits<T>::quiet_NaN())));
    // Gradients: exact where one term vanishes, even when it is tiny.
    EXPECT_EQ(grad1<T>(1, 100, 1), -T(std::exp(-100.0L)));
    EXPECT_EQ(grad1<T>(1, -100, 0), T(std::exp(-100.0L)));
    EXPECT_EQ(grad1<T>(1, 100, 0), 1);
    EXPECT_EQ(grad1<T>(1, -100, 1), -1);
    EXPECT_EQ(grad1<T>(2, inf, 1), 0);
    EXPECT_EQ(grad1<T>(2, inf, 0), 2);
    EXPECT_EQ(grad1<T>(2, -inf, 1), -2);
    EXPECT_EQ(grad1<T>(1, 0, 0.5), 0);
    const T big = T(1e30);
    EXPECT_LE(ulp_error(grad1<T>(big, 100, 1), -L(big) * std::exp(-100.0L)), 2.0);
    EXPECT_TRUE(std::isnan(grad1<T>(1, std::numeric_limits<T>::quiet_NaN(), 1)));
  });
}

TEST(KernelBceWithLogits, ExactAtInfinityAndHundredF32) { check_exact_values<float>(); }
TEST(KernelBceWithLogits, ExactAtInfinityAndHundredF64) { check_exact_values<double>(); }

TEST(KernelBceWithLogits, SpecialInputsOnEveryTarget) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> specials = {
      0.0f,   -0.0f,   INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 5e29f, -5e29f, 88.7f, -88.7f,
      104.0f, -104.0f, tiny,     -tiny,     100.0f,  -100.0f,  80.0f, -80.0f, 1.0f,  -1.0f};
  std::vector<float> x, t, w, pw, g;
  for (float v : specials)
    for (float tv : {0.0f, 0.5f, 1.0f})
      for (float wv : {1.0f, 0.0f, 2.5f})
        x.push_back(v), t.push_back(tv), w.push_back(wv), pw.push_back(3.0f), g.push_back(-1.5f);
  std::vector<float> loss(x.size()), dx(x.size());
  for_each_target([&](const std::string&) {
    sigma::bce_with_logits(x, t, loss, w, pw);
    sigma::bce_with_logits_backward(g, x, t, dx, w, pw);
    for (std::size_t i = 0; i < x.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(x[i]) + " t = " + std::to_string(t[i]) +
                   " w = " + std::to_string(w[i]));
      const L e = ref_loss(x[i], t[i], w[i], pw[i]);
      if (std::fabs(e) < FLT_MIN) {
        EXPECT_LE(std::fabs(loss[i] - e), 2 * tiny);
      } else {
        EXPECT_LE(
            ulp_error(loss[i], std::fabs(e) >= 0x1.ffffffp127L ? std::copysign(INFINITY, e) : e),
            1.0);
      }
      const auto [p, q] = ref_grad_terms(g[i], x[i], t[i], w[i], pw[i]);
      EXPECT_FALSE(std::isnan(dx[i]));
      if (std::fabs(p + q) < FLT_MIN) {
        EXPECT_LE(std::fabs(dx[i] - (p + q)), 2 * tiny);
      } else {
        EXPECT_LE(ulp_error(dx[i], p + q), 4.0);
      }
    }
  });
}

template <class T>
void check_ones_are_absent() {
  Case c = random_case(4099, 3, 150.0);
  const double inf = INFINITY;
  for (double v : {inf, -inf, 100.0, -100.0, 0.0, -0.0}) {
    for (double tv : {0.0, 1.0, 0.5, -0.0}) c.x.push_back(v), c.t.push_back(tv), c.g.push_back(1.5);
  }
  c.x.push_back(NAN), c.t.push_back(0.5), c.g.push_back(1);
  c.x.push_back(1), c.t.push_back(NAN), c.g.push_back(1);
  const auto x = as<T>(c.x), t = as<T>(c.t), g = as<T>(c.g);
  const std::vector<T> ones(x.size(), T(1));
  std::vector<T> a(x.size()), b(x.size());
  const std::span<const T> none, one(ones);
  for_each_target([&](const std::string&) {
    sigma::bce_with_logits(std::span<const T>(x), std::span<const T>(t), std::span<T>(a));
    for (auto [w, pw] : {std::pair{one, none}, std::pair{none, one}, std::pair{one, one}}) {
      sigma::bce_with_logits(std::span<const T>(x), std::span<const T>(t), std::span<T>(b), w, pw);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(T)), 0);
    }
    sigma::bce_with_logits_backward(std::span<const T>(g), std::span<const T>(x),
                                    std::span<const T>(t), std::span<T>(a));
    for (auto [w, pw] : {std::pair{one, none}, std::pair{none, one}, std::pair{one, one}}) {
      sigma::bce_with_logits_backward(std::span<const T>(g), std::span<const T>(x),
                                      std::span<const T>(t), std::span<T>(b), w, pw);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(T)), 0);
    }
  });
}

TEST(KernelBceWithLogits, OnesGiveTheBitsOfAbsentWeights) {
  check_ones_are_absent<float>();
  check_ones_are_absent<double>();
}

// Gradient: <= 4 ULP where one term vanishes (t = 0 or 1) or both have the
// same sign; otherwise within 4 ULP of the larger term (cancellation).
template <class T>
void check_grad_accuracy(const Case& c) {
  const auto x = as<T>(c.x), t = as<T>(c.t), w = as<T>(c.w), pw = as<T>(c.pw), g = as<T>(c.g);
  std::vector<T> dx(x.size());
  for_each_target([&](const std::string& tg) {
    sigma::bce_with_logits_backward(std::span<const T>(g), std::span<const T>(x),
                                    std::span<const T>(t), std::span<T>(dx), std::span<const T>(w),
                                    std::span<const T>(pw));
    UlpStats s;
    double worst_cancel = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto [p, q] = ref_grad_terms(g[i], x[i], t[i], w[i], pw[i]);
      const L e = p + q;
      if (p == 0 || q == 0) {
        if (std::fabs(e) < std::numeric_limits<T>::min()) {
          EXPECT_LE(std::fabs(dx[i] - e), 2 * std::numeric_limits<T>::denorm_min()) << x[i];
          continue;
        }
        s.add(ulp_error(dx[i], e), x[i], std::isnan(dx[i]));
      } else {
        const L scale = std::max(std::fabs(p), std::fabs(q));
        const double err = double(std::fabs(dx[i] - e) / ulp_at<T>(scale));
        worst_cancel = std::max(worst_cancel, err);
      }
    }
    EXPECT_LE(s.max, 4.0) << "worst x = " << double(s.worst_x);
    EXPECT_LE(worst_cancel, 4.0);
    if (tg == "AVX3" || tg == "AVX2")
      std::printf(
          "bce_with_logits_backward %s [%s]: max %.3f ULP (one term), %.3f ULP of the larger "
          "term\n",
          sizeof(T) == 4 ? "f32" : "f64", tg.c_str(), s.max, worst_cancel);
  });
}

TEST(KernelBceWithLogitsBackward, F32Accurate) {
  check_grad_accuracy<float>(random_case(60000, 4, 120.0));
}
TEST(KernelBceWithLogitsBackward, F64Accurate) {
  check_grad_accuracy<double>(random_case(60000, 5, 800.0));
}

TEST(KernelBceWithLogits, EveryTailLengthGivesTheBodysBits) {
  Case c = random_case(70, 6, 130.0);
  const double inf = INFINITY;
  for (double v : {inf, -inf, 100.0, -100.0, double(NAN)})
    c.x.push_back(v), c.t.push_back(1), c.w.push_back(2), c.pw.push_back(3), c.g.push_back(1);
  const auto x = as<float>(c.x), t = as<float>(c.t), w = as<float>(c.w), pw = as<float>(c.pw),
             g = as<float>(c.g);
  const std::size_t n_all = x.size();
  const auto run = [&](int which, std::size_t off, std::size_t n, float* out) {
    const auto sp = [&](const std::vector<float>& v) {
      return std::span<const float>(v.data() + off, n);
    };
    if (which == 0)
      sigma::bce_with_logits(sp(x), sp(t), std::span<float>(out, n), sp(w), sp(pw));
    else
      sigma::bce_with_logits_backward(sp(g), sp(x), sp(t), std::span<float>(out, n), sp(w), sp(pw));
  };
  for_each_target([&](const std::string&) {
    for (int which = 0; which < 2; ++which) {
      std::vector<float> single(n_all);
      for (std::size_t i = 0; i < n_all; ++i) run(which, i, 1, &single[i]);
      for (std::size_t n = 0; n <= 33; ++n) {
        for (std::size_t off = 0; off + n <= n_all; off += 5) {
          std::vector<float> out(n + 1, 123.0f);
          run(which, off, n, out.data());
          for (std::size_t i = 0; i < n; ++i)
            ASSERT_EQ(std::memcmp(&out[i], &single[off + i], 4), 0)
                << which << " n=" << n << " off=" << off << " i=" << i;
          ASSERT_EQ(out[n], 123.0f) << "wrote past the end";
        }
      }
    }
  });
}

TEST(KernelBceWithLogits, TargetsAndThreadsAgreeBitwise) {
  const Case c = random_case(200000, 7, 150.0);
  const auto x = as<float>(c.x), t = as<float>(c.t), w = as<float>(c.w), pw = as<float>(c.pw),
             g = as<float>(c.g);
  const auto xd = c.x, td = c.t, wd = c.w, pwd = c.pw, gd = c.g;
  std::vector<float> l0(x.size()), d0(x.size()), l(x.size()), d(x.size());
  std::vector<double> ld0(x.size()), dd0(x.size()), ldd(x.size()), ddd(x.size());
  std::string first;
  for_each_target([&](const std::string& tg) {
    const bool is_first = first.empty();
    if (is_first) first = tg;
    sigma::bce_with_logits(x, t, is_first ? l0 : l, w, pw);
    sigma::bce_with_logits_backward(g, x, t, is_first ? d0 : d, w, pw);
    sigma::bce_with_logits(xd, td, is_first ? ld0 : ldd, wd, pwd);
    sigma::bce_with_logits_backward(gd, xd, td, is_first ? dd0 : ddd, wd, pwd);
    if (is_first) return;
    EXPECT_EQ(std::memcmp(l.data(), l0.data(), l.size() * 4), 0) << tg << " vs " << first;
    EXPECT_EQ(std::memcmp(d.data(), d0.data(), d.size() * 4), 0) << tg << " vs " << first;
    EXPECT_EQ(std::memcmp(ldd.data(), ld0.data(), ldd.size() * 8), 0) << tg << " vs " << first;
    EXPECT_EQ(std::memcmp(ddd.data(), dd0.data(), ddd.size() * 8), 0) << tg << " vs " << first;
  });
  for (int n : {1, 2, 3}) {
    sigma::set_num_threads(n);
    sigma::bce_with_logits(x, t, l, w, pw);
    sigma::bce_with_logits_backward(g, x, t, d, w, pw);
    EXPECT_EQ(std::memcmp(l.data(), l0.data(), l.size() * 4), 0) << n << " threads";
    EXPECT_EQ(std::memcmp(d.data(), d0.data(), d.size() * 4), 0) << n << " threads";
  }
  sigma::set_num_threads(0);
}

TEST(KernelBceWithLogitsApi, SizesOverlapAndInPlace) {
  std::vector<float> x(8, 0.5f), t(8, 1.0f), loss(8), w5(5), g(8);
  const auto expect_msg = [](auto f, const std::vector<std::string>& parts) {
    try {
      f();
      FAIL() << "no throw";
    } catch (const std::invalid_argument& e) {
      for (const auto& p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  expect_msg([&] { sigma::bce_with_logits(x, std::span<const float>(t.data(), 7), loss); },
             {"sigma::bce_with_logits", "target", "8", "7"});
  expect_msg([&] { sigma::bce_with_logits(x, t, loss, w5); },
             {"sigma::bce_with_logits", "weight", "8", "5"});
  expect_msg([&] { sigma::bce_with_logits(x, t, loss, {}, w5); },
             {"sigma::bce_with_logits", "pos_weight", "5"});
  expect_msg([&] { sigma::bce_with_logits_backward(g, x, t, loss, {}, w5); },
             {"sigma::bce_with_logits_backward", "pos_weight", "8", "5"});
  expect_msg(
      [&] { sigma::bce_with_logits_backward(std::span<const float>(g.data(), 3), x, t, loss); },
      {"sigma::bce_with_logits_backward", "dloss", "3"});
  std::vector<float> buf(16, 0.25f);
  EXPECT_THROW(sigma::bce_with_logits(std::span<const float>(buf.data(), 8), t,
                                      std::span<float>(buf.data() + 2, 8)),
               std::invalid_argument);
  // In place: loss over x, and dx over dloss.
  std::vector<float> xs = {-1, 0, 2}, ts = {0, 1, 0.5f}, want(3);
  sigma::bce_with_logits(xs, ts, want);
  sigma::bce_with_logits(xs, ts, xs);
  EXPECT_EQ(xs, want);
  std::vector<double> gx = {1, 1}, xx = {3, -3}, tx = {1, 0}, dwant(2);
  sigma::bce_with_logits_backward(gx, xx, tx, dwant);
  sigma::bce_with_logits_backward(gx, xx, tx, gx);
  EXPECT_EQ(gx, dwant);
}

}  // namespace
}  // namespace sigma::test
