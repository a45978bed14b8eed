// Tests of src/ops/activation.cpp: forward values against long double / MPFR
// references (ULP bounds of the kernel contracts), gradients against the
// analytic derivatives in long double and against central differences in
// float64, the saturated-output gradients (sigmoid at x = 20, tanh at x = 10),
// in-place variants, non-contiguous and 16-bit inputs, and error messages.
// The shared references and checks are in tests/support/activation_refs.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "mpfr_ref.h"
#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "ulp.h"

#include "activation_refs.h"
#include "op_references.h"

namespace {

// The references, checks and names both op tests share.
using namespace sigma::test::activation;

// ---- sigmoid.

TEST(Sigmoid, Float32WithinOneUlpOfMpfr) {
  const auto xs = as_float(wide_inputs());
  expect_ulp<float>(xs, sigma::sigmoid(f32(xs)).to_vector<float>(), mp_sigmoid, 1.0, "sigmoid f32");
}

TEST(Sigmoid, Float64WithinOneUlpOfMpfr) {
  const auto xs = wide_inputs();
  expect_ulp<double>(xs, sigma::sigmoid(f64(xs)).to_vector<double>(), mp_sigmoid, 1.0,
                     "sigmoid f64");
}

TEST(Sigmoid, SpecialValues) {
  const auto y = sigma::sigmoid(f32({kInf, -kInf, kNaN, 100.f, -100.f})).to_vector<float>();
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(y[3], 1.f);
  EXPECT_GT(y[4], 0.f);  // e^-100 is a float subnormal, not 0
  EXPECT_LT(y[4], 1e-43f);
}

TEST(Sigmoid, SeedExampleValues) {
  // seed: torch.sigmoid(torch.tensor([-3., -1., 0., 1., 3.]))
  const auto y = sigma::sigmoid(f32({-3, -1, 0, 1, 3})).to_vector<float>();
  const double want[] = {0.0474, 0.2689, 0.5000, 0.7311, 0.9526};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(y[static_cast<std::size_t>(i)], want[i], 5e-5);
}

TEST(Sigmoid, NonContiguousInputMatchesContiguous) {
  std::vector<float> v;
  for (int i = 0; i < 12; ++i) v.push_back(static_cast<float>(i) * 1.7f - 9.f);
  Tensor base = f32(v).reshape({3, 4});
  Tensor t = base.t();  // [4, 3], strides [1, 4]
  ASSERT_FALSE(t.is_contiguous());
  const auto got = sigma::sigmoid(t).to_vector<float>();
  const auto want = sigma::sigmoid(t.contiguous()).to_vector<float>();
  EXPECT_EQ(got, want);
  // Element (i, j) of the transpose is base (j, i).
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 3; ++j)
      EXPECT_LE(ulp_error<float>(got[static_cast<std::size_t>(i * 3 + j)],
                                 mp_sigmoid(v[static_cast<std::size_t>(j * 4 + i)])),
                1.0);
  // Expanded (stride 0) and sliced inputs.
  Tensor e = f32({0.5f}).expand({4});
  const float half = sigma::sigmoid(f32({0.5f})).to_vector<float>()[0];
  EXPECT_EQ(sigma::sigmoid(e).to_vector<float>(), std::vector<float>(4, half));
  Tensor s = base.slice(1, 1, 4, 2);  // columns 1 and 3
  const auto gs = sigma::sigmoid(s).to_vector<float>();
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t k = 0; k < 2; ++k)
      EXPECT_LE(ulp_error<float>(gs[static_cast<std::size_t>(i * 2 + k)],
                                 mp_sigmoid(v[static_cast<std::size_t>(i * 4 + 1 + 2 * k)])),
                1.0);
}

TEST(Sigmoid, ZeroDimAndEmpty) {
  Tensor s = sigma::sigmoid(sigma::scalar_tensor(0.0));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item<float>(), 0.5f);
  Tensor e = sigma::sigmoid(sigma::zeros({0, 3}));
  EXPECT_EQ(e.sizes(), sigma::IntArrayRef({0, 3}));
  // Gradient through an empty tensor is an empty gradient.
  Tensor x = sigma::zeros({0}).requires_grad_(true);
  sigma::sigmoid(x).backward(sigma::zeros({0}));
  EXPECT_EQ(x.grad().numel(), 0);
}

TEST(Sigmoid, IntegerInputPromotesToDefaultFloat) {
  Tensor y = sigma::sigmoid(sigma::tensor({0, 1}));
  EXPECT_EQ(y.dtype(), sigma::kFloat32);
  EXPECT_EQ(y.to_vector<float>()[0], 0.5f);
}

TEST(Sigmoid, SixteenBitCorrectlyRounded) {
  for (auto dt : {sigma::kBFloat16, sigma::kFloat16}) {
    const auto xs = wide_inputs();
    Tensor x = f64(xs).to(dt);
    const auto xr = x.to_vector<double>();
    Tensor y = sigma::sigmoid(x);
    EXPECT_EQ(y.dtype(), dt);
    const auto got = y.to_vector<double>();
    const int bits = dt == sigma::kBFloat16 ? 8 : 11;
    // The spacing of the type's subnormals (bf16 2^-133, f16 2^-24): the ULP
    // below the smallest normal, so results there (and those that round to
    // 0) are held to half of it too.
    const LD subnormal_ulp = std::ldexp(1.0L, dt == sigma::kBFloat16 ? -133 : -24);
    for (std::size_t i = 0; i < xr.size(); ++i) {
      const LD want = mp_sigmoid(xr[i]);
      LD ulp = subnormal_ulp;
      if (want > 0) {
        int e;
        std::frexp(want, &e);
        ulp = std::max(ulp, std::ldexp(1.0L, e - bits));
      }
      EXPECT_LE(std::fabs(got[i] - want), 0.5L * ulp * (1 + 1e-9L)) << "x = " << xr[i];
    }
  }
}

TEST(Sigmoid, GradientMatchesAnalytic) {
  const auto xs = wide_inputs();
  // The true derivative s(x) s(-x) at every x: y (1 - y) from the rounded y
  // would cancel for y > 1/2 (51 ULP off at x = 5, 0 instead of 2e-9 at 20).
  auto deriv = [](LD x, LD) { return mp_sigmoid(x) * mp_sigmoid(-x); };
  Fn f = [](const Tensor& t) { return sigma::sigmoid(t); };
  // Normal results only: the kernel contract (<= 3 ULP).
  std::vector<double> normal;
  for (double x : xs)
    if (std::fabs(x) < 80) normal.push_back(x);
  check_analytic_grad<float>(f, normal, deriv, 3.0, "sigmoid' f32");
  check_analytic_grad<double>(f, normal, deriv, 3.0, "sigmoid' f64");
}

TEST(Sigmoid, GradientMatchesCentralDifferences) {
  check_central_differences([](const Tensor& t) { return sigma::sigmoid(t); }, kModerate,
                            "sigmoid");
}

TEST(Sigmoid, GradientAtTwentyIsNotZero) {
  // y = sigmoid(20) rounds to 1 in float32, so y (1 - y) = 0; the true
  // gradient is e^-20 / (1 + e^-20)^2.
  const LD e = std::exp(-20.0L);
  const LD want = e / ((1 + e) * (1 + e));
  Tensor x = f32({20.f}).requires_grad_(true);
  Tensor y = sigma::sigmoid(x);
  ASSERT_EQ(y.to_vector<float>()[0], 1.f);
  y.backward(sigma::ones_like(y));
  const float g = x.grad().to_vector<float>()[0];
  EXPECT_NEAR(g, 2.0611537e-9, 1e-15);
  EXPECT_LE(ulp_error<float>(g, want), 3.0);
  // Mixed saturated / unsaturated elements, with a non-unit upstream gradient.
  Tensor x2 = f32({-3.f, 17.f, 0.5f, 40.f, 100.f}).requires_grad_(true);
  Tensor y2 = sigma::sigmoid(x2);
  y2.backward(f32({2.f, 3.f, -1.f, 0.5f, 1.f}));
  const auto g2 = x2.grad().to_vector<float>();
  const LD xs[] = {-3, 17, 0.5, 40, 100}, dy[] = {2, 3, -1, 0.5, 1};
  for (int i = 0; i < 4; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const LD wk = dy[i] * mp_sigmoid(xs[i]) * mp_sigmoid(-xs[i]);
    EXPECT_LE(ulp_error<float>(g2[k], wk), 3.0) << "x = " << static_cast<double>(xs[i]);
  }
  // e^-100 is a float subnormal: within a subnormal step or two.
  EXPECT_NEAR(g2[4], static_cast<double>(std::exp(-100.0L)), 3e-45);
  EXPECT_GT(g2[4], 0.f);
}

TEST(Sigmoid, SixteenBitGradientWhereOutputRoundedToOne) {
  // In bfloat16 sigmoid(8) rounds to 1; the gradient comes from x.
  Tensor x = f32({8.f}).to(sigma::kBFloat16).requires_grad_(true);
  Tensor y = sigma::sigmoid(x);
  ASSERT_EQ(y.to_vector<float>()[0], 1.f);
  y.backward(sigma::ones_like(y));
  EXPECT_EQ(x.grad().dtype(), sigma::kBFloat16);
  const double want = static_cast<double>(mp_sigmoid(8) * mp_sigmoid(-8));
  EXPECT_NEAR(x.grad().to_vector<double>()[0], want, want / 128);  // 1 bf16 ULP
}

TEST(Sigmoid, NodeNameAndSavedInputNotNeededWhenUnsaturated) {
  Tensor x = f32({0.f, -1.f}).requires_grad_(true);
  Tensor y = sigma::sigmoid(x);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name(), "SigmoidBackward");
  // Every y <= 1/2: as in PyTorch the backward uses only the output, so
  // changing x in place afterwards is allowed.
  {
    sigma::NoGradGuard g;
    x.fill_(3.0);
  }
  y.backward(sigma::ones_like(y));
  EXPECT_NEAR(x.grad().to_vector<double>()[0], 0.25, 1e-7);
}

TEST(Sigmoid, SavedInputIsVersionCheckedWhereTheOutputExceedsOneHalf) {
  // y = sigmoid(1) > 1/2: the backward reads x (y (1 - y) would cancel), so
  // x changing in place before backward is reported, not silently used.
  Tensor x = f32({0.f, 1.f}).requires_grad_(true);
  Tensor w = x * 1.0;
  Tensor y = sigma::sigmoid(w);
  {
    sigma::NoGradGuard g;
    w.fill_(3.0);
  }
  try {
    y.backward(sigma::ones_like(y));
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("modified by an in-place operation"), std::string::npos)
        << e.what();
  }
}

TEST(Sigmoid, InPlace) {
  Tensor x = f32({-1.f, 0.f, 2.f});
  const auto v0 = x._version();
  Tensor& r = x.sigmoid_();
  EXPECT_TRUE(r.is_same(x));
  EXPECT_GT(x._version(), v0);
  const auto got = x.to_vector<float>();
  const float in[] = {-1.f, 0.f, 2.f};
  for (int i = 0; i < 3; ++i)
    EXPECT_LE(ulp_error<float>(got[static_cast<std::size_t>(i)], mp_sigmoid(in[i])), 1.0);
  // A leaf that requires grad cannot be modified in place.
  Tensor leaf = f32({1.f}).requires_grad_(true);
  expect_error([&] { leaf.sigmoid_(); }, {"sigmoid_", "leaf"});
  // ... unless gradients are off.
  {
    sigma::NoGradGuard g;
    leaf.sigmoid_();
  }
  EXPECT_LE(ulp_error<float>(leaf.to_vector<float>()[0], mp_sigmoid(1)), 1.0);
  // Non-contiguous in place.
  Tensor m = f32({0.f, 1.f, 2.f, 3.f, 4.f, 5.f}).reshape({2, 3});
  m.t().sigmoid_();
  const auto mv = m.to_vector<float>();
  for (int i = 0; i < 6; ++i)
    EXPECT_LE(ulp_error<float>(mv[static_cast<std::size_t>(i)], mp_sigmoid(i)), 1.0);
  // A contiguous view (one row) is overwritten in place, the rest untouched.
  Tensor rows = f32({0.f, 1.f, 2.f, 3.f, 4.f, 5.f}).reshape({2, 3});
  rows.select(0, 1).sigmoid_();
  const auto rv = rows.to_vector<float>();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rv[static_cast<std::size_t>(i)], static_cast<float>(i));
  for (int i = 3; i < 6; ++i)
    EXPECT_LE(ulp_error<float>(rv[static_cast<std::size_t>(i)], mp_sigmoid(i)), 1.0);
  // Integer tensors cannot hold the result.
  Tensor li = sigma::tensor({1, 2});
  expect_error([&] { li.sigmoid_(); }, {"sigmoid_", "int64"});
}

TEST(Sigmoid, InPlaceOnNonLeafRecordsGradient) {
  Tensor x = f64({-1.0, 0.5, 20.0}).requires_grad_(true);
  Tensor a = x.clone();
  a.sigmoid_();
  ASSERT_TRUE(a.grad_fn());
  EXPECT_EQ(a.grad_fn()->name(), "SigmoidBackward");
  a.backward(f64({1.0, 2.0, 1.0}));
  const auto g = x.grad().to_vector<double>();
  const LD dy[] = {1, 2, 1}, xs[] = {-1, 0.5, 20};
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_LE(ulp_error<double>(g[i], dy[i] * mp_sigmoid(xs[i]) * mp_sigmoid(-xs[i])), 3.0);
}

// ---- tanh.

TEST(Tanh, ForwardWithinOneUlp) {
  const auto xs = wide_inputs();
  auto ref = [](LD x) { return std::tanh(x); };
  expect_ulp<float>(as_float(xs), sigma::tanh(f32(as_float(xs))).to_vector<float>(), ref, 1.0,
                    "tanh f32");
  expect_ulp<double>(xs, sigma::tanh(f64(xs)).to_vector<double>(), ref, 1.0, "tanh f64");
}

TEST(Tanh, GradientMatchesAnalyticIncludingSaturated) {
  // The true derivative 1 / cosh(x)^2 at every x, saturated or not.
  auto deriv = [](LD x, LD) {
    const LD c = std::cosh(x);
    return 1.0L / (c * c);
  };
  Fn f = [](const Tensor& t) { return sigma::tanh(t); };
  std::vector<double> xs;
  for (double x : wide_inputs())
    if (std::fabs(x) < 40) xs.push_back(x);  // normal results
  check_analytic_grad<float>(f, xs, deriv, 4.0, "tanh' f32");
  check_analytic_grad<double>(f, xs, deriv, 4.0, "tanh' f64");
}

TEST(Tanh, GradientAtTenIsNotZero) {
  Tensor x = f32({10.f, -10.f}).requires_grad_(true);
  Tensor y = sigma::tanh(x);
  ASSERT_EQ(y.to_vector<float>()[0], 1.f);
  ASSERT_EQ(y.to_vector<float>()[1], -1.f);
  y.backward(sigma::ones_like(y));
  const LD c = std::cosh(10.0L);
  const LD want = 1 / (c * c);  // about 8.24e-9 = 4 e^-20
  for (float g : x.grad().to_vector<float>()) {
    EXPECT_GT(g, 0.f);
    EXPECT_LE(ulp_error<float>(g, want), 4.0) << g;
  }
}

TEST(Tanh, SaturatedGradientExtremes) {
  // Huge |x|: the true gradient underflows to 0 (2x overflowing included);
  // never NaN. A huge upstream gradient is not overflowed by the 4 dy scaling.
  Tensor x = f32({50.f, 1e30f, -3e38f, kInf, 10.f}).requires_grad_(true);
  sigma::tanh(x).backward(f32({1.f, 1.f, 1.f, 1.f, 3e38f}));
  const auto g = x.grad().to_vector<float>();
  EXPECT_NEAR(g[0], static_cast<double>(4 * std::exp(-100.0L)), 3e-45);
  EXPECT_EQ(g[1], 0.f);
  EXPECT_EQ(g[2], 0.f);
  EXPECT_EQ(g[3], 0.f);
  const LD c = std::cosh(10.0L);
  EXPECT_LE(ulp_error<float>(g[4], 3e38L / (c * c)), 4.0);
}

TEST(Tanh, GradientMatchesCentralDifferences) {
  check_central_differences([](const Tensor& t) { return sigma::tanh(t); }, kModerate, "tanh");
}

TEST(Tanh, BFloat16SaturatedGradient) {
  Tensor x = f32({4.f}).to(sigma::kBFloat16).requires_grad_(true);
  Tensor y = sigma::tanh(x);
  ASSERT_EQ(y.to_vector<float>()[0], 1.f);  // tanh(4) = 0.99933 rounds to 1 in bf16
  y.backward(sigma::ones_like(y));
  const LD c = std::cosh(4.0L);
  const double want = static_cast<double>(1 / (c * c));
  EXPECT_NEAR(x.grad().to_vector<double>()[0], want, want / 128);
}

TEST(Tanh, InPlaceAndNodeName) {
  Tensor x = f64({-0.5, 0.25}).requires_grad_(true);
  Tensor a = x.clone();
  a.tanh_();
  EXPECT_EQ(a.grad_fn()->name(), "TanhBackward");
  a.backward(sigma::ones_like(a));
  const auto g = x.grad().to_vector<double>();
  EXPECT_NEAR(g[0], 1 - std::tanh(-0.5) * std::tanh(-0.5), 1e-15);
  EXPECT_NEAR(g[1], 1 - std::tanh(0.25) * std::tanh(0.25), 1e-15);
  Tensor leaf = f32({1.f}).requires_grad_(true);
  expect_error([&] { leaf.tanh_(); }, {"tanh_"});
}

// ---- relu.

TEST(Relu, ForwardAndGradient) {
  Tensor x = f32({-2.f, -0.f, 0.f, 0.5f, 3.f, kNaN, -kInf, kInf}).requires_grad_(true);
  Tensor y = sigma::relu(x);
  const auto v = y.to_vector<float>();
  EXPECT_EQ(v[0], 0.f);
  EXPECT_EQ(v[1], 0.f);
  EXPECT_EQ(v[2], 0.f);
  EXPECT_EQ(v[3], 0.5f);
  EXPECT_EQ(v[4], 3.f);
  EXPECT_TRUE(std::isnan(v[5]));
  EXPECT_EQ(v[6], 0.f);
  EXPECT_EQ(v[7], kInf);
  EXPECT_EQ(y.grad_fn()->name(), "ReluBackward");
  y.backward(f32({1, 2, 3, 4, 5, 6, 7, 8}));
  const std::vector<float> want = {0, 0, 0, 4, 5, 0, 0, 8};  // 1 where x > 0 (PyTorch)
  EXPECT_EQ(x.grad().to_vector<float>(), want);
}

TEST(Relu, IntegerNonContiguousAndInPlace) {
  Tensor i = sigma::tensor({-3, 4, 0, 7});
  Tensor r = sigma::relu(i);
  EXPECT_EQ(r.dtype(), sigma::kInt64);
  EXPECT_EQ(r.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 4, 0, 7}));
  Tensor m = f64({-1, 2, -3, 4, -5, 6}).reshape({2, 3}).t();
  EXPECT_EQ(sigma::relu(m).to_vector<double>(), (std::vector<double>{0, 4, 2, 0, 0, 6}));
  Tensor x = f32({-1.f, 2.f});
  x.relu_();
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{0.f, 2.f}));
  Tensor leaf = f64({-1.0, 2.0}).requires_grad_(true);
  Tensor a = leaf.clone();
  a.relu_();
  EXPECT_EQ(a.grad_fn()->name(), "ReluBackward");
  a.backward(f64({5.0, 5.0}));
  EXPECT_EQ(leaf.grad().to_vector<double>(), (std::vector<double>{0.0, 5.0}));
  Tensor bf = f32({-1.5f, 1.5f}).to(sigma::kBFloat16);
  EXPECT_EQ(sigma::relu(bf).to_vector<float>(), (std::vector<float>{0.f, 1.5f}));
  expect_error([] { sigma::relu(sigma::tensor({true})); }, {"relu", "bool"});
}

// ---- gelu.

LD ld_gelu(LD x) { return 0.5L * x * std::erfc(-x / std::sqrt(2.0L)); }
LD ld_gelu_grad(LD x) {
  const LD pi = 3.141592653589793238462643383279502884L;
  return 0.5L * std::erfc(-x / std::sqrt(2.0L)) + x * std::exp(-x * x / 2) / std::sqrt(2 * pi);
}
LD ld_gelu_tanh_u(LD x) {
  const LD pi = 3.141592653589793238462643383279502884L;
  return std::sqrt(2 / pi) * (x + 0.044715L * x * x * x);
}
// 0.5 x (1 + tanh(u)) = x / (1 + e^(-2u)): the same value without the
// cancellation of 1 + tanh(u) for x < 0; its derivative likewise from
// 1 - tanh(u)^2 = 1 / cosh(u)^2.
LD ld_gelu_tanh(LD x) { return x / (1 + std::exp(-2 * ld_gelu_tanh_u(x))); }
LD ld_gelu_tanh_grad(LD x) {
  const LD pi = 3.141592653589793238462643383279502884L;
  const LD u = ld_gelu_tanh_u(x), c = std::cosh(u);
  return 1 / (1 + std::exp(-2 * u)) +
         0.5L * x / (c * c) * std::sqrt(2 / pi) * (1 + 3 * 0.044715L * x * x);
}

TEST(Gelu, ExactForwardAndGradient) {
  std::vector<double> xs;
  for (int i = -300; i <= 300; ++i) xs.push_back(i * 0.0237);
  expect_ulp<float>(as_float(xs), sigma::gelu(f32(as_float(xs))).to_vector<float>(), ld_gelu, 1.0,
                    "gelu f32");
  expect_ulp<double>(xs, sigma::gelu(f64(xs)).to_vector<double>(), ld_gelu, 1.0, "gelu f64");
  Fn f = [](const Tensor& t) { return sigma::gelu(t); };
  check_analytic_grad<double>(f, xs, [](LD x, LD) { return ld_gelu_grad(x); }, 4.0, "gelu' f64");
  check_central_differences(f, kModerate, "gelu");
  Tensor x = f32({1.f}).requires_grad_(true);
  EXPECT_EQ(sigma::gelu(x).grad_fn()->name(), "GeluBackward");
}

TEST(Gelu, TailsAreAccurateNotNaN) {
  // gelu(-10) = -10 Phi(-10) = -7.6e-23: erfc keeps it; 1 + erf would give 0.
  const auto y = sigma::gelu(f64({-10.0, -40.0, -kInf, kInf, 1e30})).to_vector<double>();
  EXPECT_LE(ulp_error<double>(y[0], ld_gelu(-10)), 1.0);
  EXPECT_LE(ulp_error<double>(y[1], ld_gelu(-40)), 1.0);
  EXPECT_EQ(y[2], 0.0);
  EXPECT_EQ(y[3], HUGE_VAL);
  EXPECT_EQ(y[4], 1e30);
  Tensor x = f64({-kInf, kInf, -10.0}).requires_grad_(true);
  sigma::gelu(x).backward(sigma::ones_like(x));
  const auto g = x.grad().to_vector<double>();
  EXPECT_EQ(g[0], 0.0);
  EXPECT_EQ(g[1], 1.0);
  EXPECT_LE(ulp_error<double>(g[2], ld_gelu_grad(-10)), 4.0);
}

TEST(Gelu, TanhApproximation) {
  std::vector<double> xs;
  for (int i = -200; i <= 200; ++i) xs.push_back(i * 0.0311);
  auto f = [](const Tensor& t) { return sigma::gelu(t, "tanh"); };
  expect_ulp<float>(as_float(xs), f(f32(as_float(xs))).to_vector<float>(), ld_gelu_tanh, 1.0,
                    "gelu tanh f32");
  expect_ulp<double>(xs, f(f64(xs)).to_vector<double>(), ld_gelu_tanh, 1.0, "gelu tanh f64");
  check_analytic_grad<double>(f, xs, [](LD x, LD) { return ld_gelu_tanh_grad(x); }, 4.0,
                              "gelu tanh' f64");
  check_central_differences(f, kModerate, "gelu tanh");
  const auto tails = f(f64({-kInf, kInf})).to_vector<double>();
  EXPECT_EQ(tails[0], 0.0);
  EXPECT_EQ(tails[1], HUGE_VAL);
}

TEST(Gelu, BadApproximateAndDtype) {
  expect_error([] { sigma::gelu(f32({1.f}), "erf"); }, {"gelu", "erf", "none", "tanh"});
  expect_error([] { sigma::gelu(sigma::tensor({1, 2})); }, {"gelu", "int64"});
  Tensor b = sigma::gelu(f32({-1.f, 0.5f}).to(sigma::kBFloat16));
  EXPECT_EQ(b.dtype(), sigma::kBFloat16);
  EXPECT_NEAR(b.to_vector<double>()[1], static_cast<double>(ld_gelu(0.5)), 0.35 / 128);
}

// ---- silu, log_sigmoid, softplus.

LD ld_silu(LD x) { return x * mp_sigmoid(x); }
// s (1 + x (1 - s)) in MPFR: it has a root near x = -1.2785, where long
// double would cancel.
LD ld_silu_grad(LD x) {
  sigma::test::Mp s(-x), xm(x), t;
  mpfr_exp(s.get(), s.get(), MPFR_RNDN);
  mpfr_add_ui(s.get(), s.get(), 1, MPFR_RNDN);
  mpfr_ui_div(s.get(), 1, s.get(), MPFR_RNDN);  // s = sigmoid(x)
  mpfr_ui_sub(t.get(), 1, s.get(), MPFR_RNDN);
  mpfr_mul(t.get(), t.get(), xm.get(), MPFR_RNDN);
  mpfr_add_ui(t.get(), t.get(), 1, MPFR_RNDN);
  mpfr_mul(t.get(), t.get(), s.get(), MPFR_RNDN);
  return t.ld();
}

TEST(Silu, ForwardAndGradient) {
  const auto xs = wide_inputs();
  expect_ulp<float>(as_float(xs), sigma::silu(f32(as_float(xs))).to_vector<float>(), ld_silu,
                    1.0, "silu f32");
  expect_ulp<double>(xs, sigma::silu(f64(xs)).to_vector<double>(), ld_silu, 1.0, "silu f64");
  Fn f = [](const Tensor& t) { return sigma::silu(t); };
  std::vector<double> normal;
  for (double x : xs)
    if (x > -80 && std::fabs(x) < 1e29 && x != 0) normal.push_back(x);
  auto deriv = [](LD x, LD) { return ld_silu_grad(x); };
  check_analytic_grad<float>(f, normal, deriv, 4.0, "silu' f32");
  check_analytic_grad<double>(f, normal, deriv, 4.0, "silu' f64");
  check_central_differences(f, kModerate, "silu");
  EXPECT_EQ(sigma::silu(f32({1.f}).requires_grad_(true)).grad_fn()->name(), "SiluBackward");
  EXPECT_EQ(f32({1.f}).silu().to_vector<float>(), sigma::silu(f32({1.f})).to_vector<float>());
}

TEST(LogSigmoid, ForwardAndGradient) {
  const auto xs = wide_inputs();
  expect_ulp<float>(as_float(xs), sigma::log_sigmoid(f32(as_float(xs))).to_vector<float>(),
                    ref_log_sigmoid, 1.0, "log_sigmoid f32");
  expect_ulp<double>(xs, sigma::log_sigmoid(f64(xs)).to_vector<double>(), ref_log_sigmoid, 1.0,
                     "log_sigmoid f64");
  Fn f = [](const Tensor& t) { return sigma::log_sigmoid(t); };
  auto deriv = [](LD x, LD) { return mp_sigmoid(-x); };
  std::vector<double> normal;
  for (double x : xs)
    if (x < 80) normal.push_back(x);
  check_analytic_grad<float>(f, normal, deriv, 2.0, "log_sigmoid' f32");
  check_analytic_grad<double>(f, normal, deriv, 2.0, "log_sigmoid' f64");
  check_central_differences(f, kModerate, "log_sigmoid");
  EXPECT_EQ(sigma::log_sigmoid(f32({1.f}).requires_grad_(true)).grad_fn()->name(),
            "LogSigmoidBackward");
  const auto ext = sigma::log_sigmoid(f32({-1e30f, -kInf, kInf})).to_vector<float>();
  EXPECT_EQ(ext[0], -1e30f);
  EXPECT_EQ(ext[1], -kInf);
  EXPECT_EQ(ext[2], 0.f);
}

TEST(Softplus, ForwardAndGradientDefault) {
  const auto xs = wide_inputs();
  auto ref = [](LD x) { return x > 20 ? x : mp_softplus(x, 1); };
  expect_ulp<float>(as_float(xs), sigma::softplus(f32(as_float(xs))).to_vector<float>(), ref,
                    1.0, "softplus f32");
  expect_ulp<double>(xs, sigma::softplus(f64(xs)).to_vector<double>(), ref, 1.0, "softplus f64");
  Fn f = [](const Tensor& t) { return sigma::softplus(t); };
  auto deriv = [](LD x, LD) { return x > 20 ? 1.0L : mp_sigmoid(x); };
  std::vector<double> normal;
  for (double x : xs)
    if (x > -80) normal.push_back(x);
  check_analytic_grad<float>(f, normal, deriv, 2.0, "softplus' f32");
  check_analytic_grad<double>(f, normal, deriv, 2.0, "softplus' f64");
  check_central_differences(f, kModerate, "softplus");
  EXPECT_EQ(sigma::softplus(f32({1.f}).requires_grad_(true)).grad_fn()->name(),
            "SoftplusBackward");
}

TEST(Softplus, BetaAndThreshold) {
  // beta = 2, threshold = 5: x itself where 2x > 5.
  const std::vector<double> xs = {-3.0, -0.4, 0.0, 1.2, 2.4, 2.6, 4.0};
  auto ref = [](LD x) { return 2 * x > 5 ? x : mp_softplus(x, 2); };
  Fn f = [](const Tensor& t) { return sigma::softplus(t, 2.0, 5.0); };
  expect_ulp<double>(xs, f(f64(xs)).to_vector<double>(), ref, 1.0, "softplus beta=2");
  auto deriv = [](LD x, LD) { return 2 * x > 5 ? 1.0L : mp_sigmoid(2 * x); };
  check_analytic_grad<double>(f, xs, deriv, 2.0, "softplus' beta=2");
  check_central_differences(f, {-3.0, -0.4, 0.3, 1.2, 2.4, 2.6, 4.0}, "softplus beta=2");
  expect_error([] { sigma::softplus(f32({1.f}), 0.0); }, {"softplus", "beta"});
  expect_error([] { sigma::softplus(f32({1.f}), 1.0, std::nan("")); }, {"softplus", "threshold"});
  expect_error([] { sigma::softplus(sigma::tensor({1})); }, {"softplus", "int64"});
}

// ---- hardsigmoid and logit (the worked example of docs/ARCHITECTURE.md).

LD ld_hardsigmoid(LD x) { return x <= -3 ? 0 : x >= 3 ? 1 : (x + 3) / 6; }

// The op's one reference (tools/sigma/op_references.h), in long double.
LD ld_logit(LD x) { return sigma::cli::ref_logit(x); }

TEST(Hardsigmoid, ForwardAndGradient) {
  const auto xs = wide_inputs();
  expect_ulp<float>(as_float(xs), sigma::hardsigmoid(f32(as_float(xs))).to_vector<float>(),
                    ld_hardsigmoid, 0.5001, "hardsigmoid f32");
  expect_ulp<double>(xs, sigma::hardsigmoid(f64(xs)).to_vector<double>(), ld_hardsigmoid, 0.5001,
                     "hardsigmoid f64");
  Fn f = [](const Tensor& t) { return sigma::hardsigmoid(t); };
  auto deriv = [](LD x, LD) { return x > -3 && x < 3 ? 1.0L / 6 : 0.0L; };
  check_analytic_grad<float>(f, xs, deriv, 0.5001, "hardsigmoid' f32");
  check_analytic_grad<double>(f, xs, deriv, 0.5001, "hardsigmoid' f64");
  check_central_differences(f, kModerate, "hardsigmoid");  // no input within 1e-6 of +-3
  EXPECT_EQ(sigma::hardsigmoid(f32({1.f}).requires_grad_(true)).grad_fn()->name(),
            "HardsigmoidBackward");
  // PyTorch's ends: gradient 0 at exactly +-3.
  Tensor x = f32({-3.f, 3.f}).requires_grad_(true);
  sigma::hardsigmoid(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0.f, 0.f}));
  expect_error([] { sigma::hardsigmoid(sigma::tensor({1})); }, {"hardsigmoid", "int64"});
}

TEST(Logit, ForwardAndGradientWithoutEps) {
  std::vector<double> xs;
  for (int i = 1; i < 400; ++i) xs.push_back(i / 400.0);
  for (double v : {1e-30, 1e-7, 0.49999999, 0.50000001, 1 - 1e-7, 1 - 1e-15}) xs.push_back(v);
  expect_ulp<float>(as_float(xs), sigma::logit(f32(as_float(xs))).to_vector<float>(), ld_logit, 1.0,
                    "logit f32");
  expect_ulp<double>(xs, sigma::logit(f64(xs)).to_vector<double>(), ld_logit, 1.0, "logit f64");
  Fn f = [](const Tensor& t) { return sigma::logit(t); };
  auto deriv = [](LD x, LD) { return 1 / (x * (1 - x)); };
  check_analytic_grad<float>(f, xs, deriv, 1.0, "logit' f32");
  check_analytic_grad<double>(f, xs, deriv, 1.0, "logit' f64");
  check_central_differences(f, {0.05, 0.2, 0.37, 0.5, 0.61, 0.8, 0.93}, "logit");
  EXPECT_EQ(sigma::logit(f64({0.3})).requires_grad() , false);
  EXPECT_EQ(sigma::logit(f64({0.3}).requires_grad_(true)).grad_fn()->name(), "LogitBackward");
  // The ends and outside [0, 1]; the inverse of sigmoid.
  const auto e = sigma::logit(f32({0.f, 1.f, -0.5f, 1.5f})).to_vector<float>();
  EXPECT_EQ(e[0], -kInf);
  EXPECT_EQ(e[1], kInf);
  EXPECT_TRUE(std::isnan(e[2]) && std::isnan(e[3]));
  const Tensor v = f64({-3.0, -0.25, 0.0, 0.4, 2.5});
  expect_close(sigma::logit(sigma::sigmoid(v)).to_vector<double>(), v.to_vector<double>(), 1e-14, 1e-15,
               "logit(sigmoid(v))");
}

// With eps: x clamped to [eps, 1 - eps], the gradient 0 outside (PyTorch).
TEST(Logit, EpsClampsAndZeroesTheGradientOutside) {
  Tensor x = f64({-0.2, 0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0, 1.3}).requires_grad_(true);
  Tensor y = sigma::logit(x, 0.1);
  const auto yv = y.to_vector<double>();
  const double lo = std::log(0.1 / 0.9);
  for (int i : {0, 1, 2, 3}) EXPECT_NEAR(yv[i], lo, 1e-15) << i;
  for (int i : {5, 6, 7, 8}) EXPECT_NEAR(yv[i], -lo, 1e-15) << i;
  EXPECT_EQ(yv[4], 0.0);
  y.backward(sigma::full({9}, 2.0, sigma::kFloat64));
  const auto g = x.grad().to_vector<double>();
  for (int i : {0, 1, 2, 6, 7, 8}) EXPECT_EQ(g[i], 0.0) << i;
  EXPECT_NEAR(g[3], 2 / (0.1 * 0.9), 1e-12);
  EXPECT_EQ(g[4], 8.0);
  // A negative eps clamps nothing, as PyTorch.
  EXPECT_TRUE(std::isnan(sigma::logit(f64({1.5}), -1.0).item<double>()));
  Fn f = [](const Tensor& t) { return sigma::logit(t, 0.15); };
  check_central_differences(f, {0.05, 0.2, 0.37, 0.5, 0.61, 0.8, 0.93}, "logit eps");
  expect_error([] { sigma::logit(f32({0.5f}), std::nan("")); }, {"logit", "eps", "NaN"});
}

TEST(Logit, IntegerSixteenBitNonContiguousAndMethod) {
  Tensor y = sigma::logit(sigma::tensor({0, 1}));
  EXPECT_EQ(y.dtype(), sigma::get_default_dtype());
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{-kInf, kInf}));
  const Tensor x = f32({0.2f, 0.7f});
  EXPECT_EQ(x.logit(0.25).to_vector<float>(), sigma::logit(x, 0.25).to_vector<float>());
  // 16-bit: correctly rounded from the exact logit of the 16-bit input.
  const Tensor t = f32({0.01f, 0.2f, 0.45f, 0.5f, 0.55f, 0.8f, 0.97f, 0.999f}).reshape({2, 4}).t();
  EXPECT_EQ(sigma::logit(t).to_vector<float>(), sigma::logit(t.contiguous()).to_vector<float>());
  for (auto dt : {sigma::kFloat16, sigma::kBFloat16}) {
    const Tensor h = t.to(dt);
    const auto got = sigma::logit(h).to_vector<double>();
    const auto hx = h.to_vector<double>();
    for (std::size_t i = 0; i < hx.size(); ++i) {
      const double want = sigma::tensor(std::vector<double>{double(ld_logit(hx[i]))}, sigma::kFloat64)
                              .to(dt).item<double>();
      EXPECT_EQ(got[i], want) << hx[i];
    }
    Tensor xb = h.detach().requires_grad_(true);
    sigma::logit(xb).backward(sigma::ones_like(xb));
    EXPECT_EQ(xb.grad().dtype(), dt);
  }
}

TEST(FamilyOps, SixteenBitAndNonContiguous) {
  Tensor base = f32({-3.f, -1.f, -0.25f, 0.f, 0.5f, 2.f, 4.f, 9.f}).reshape({2, 4});
  Tensor t = base.t();
  for (auto op : std::vector<Fn>{[](const Tensor& x) { return sigma::silu(x); },
                                 [](const Tensor& x) { return sigma::log_sigmoid(x); },
                                 [](const Tensor& x) { return sigma::softplus(x); },
                                 [](const Tensor& x) { return sigma::tanh(x); },
                                 [](const Tensor& x) { return sigma::hardsigmoid(x); },
                                 [](const Tensor& x) { return sigma::gelu(x); }}) {
    EXPECT_EQ(op(t).to_vector<float>(), op(t.contiguous()).to_vector<float>());
    Tensor h = op(t.to(sigma::kFloat16));
    EXPECT_EQ(h.dtype(), sigma::kFloat16);
    const auto hv = h.to_vector<double>(), fv = op(t).to_vector<double>();
    for (std::size_t i = 0; i < hv.size(); ++i)
      EXPECT_NEAR(hv[i], fv[i], std::fabs(fv[i]) / 1024 + 1e-7);
    // The gradient has the input's dtype.
    Tensor xb = t.to(sigma::kBFloat16).detach().requires_grad_(true);
    op(xb).backward(sigma::ones_like(xb));
    EXPECT_EQ(xb.grad().dtype(), sigma::kBFloat16);
  }
}

}  // namespace
