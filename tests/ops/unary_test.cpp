// Tests of the element-wise math of src/ops/unary.cpp: exp, log, log1p, abs,
// sqrt, square, reciprocal, clamp (and clamp_), and sign, floor, ceil, round,
// trunc, sin, cos with their in-place forms. Forward references are
// std:: math in long double (float for the one-rounding bf16 checks);
// gradients are checked against central differences in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::make;
using sigma::test::numel;
using sigma::test::round_bf16;
using sigma::test::Shape;

// Values in [lo, hi], spread irregularly over flat indices.
std::vector<double> values(const Shape& s, double lo, double hi, double phase = 0.0) {
  std::vector<double> v(static_cast<std::size_t>(numel(s)));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double u = 0.5 + 0.5 * std::sin(1.3 * static_cast<double>(i) + 0.2 + phase);
    v[i] = lo + (hi - lo) * u;
  }
  return v;
}

using Fn = std::function<Tensor(const Tensor&)>;

// Autograd gradient of sum(fn(x) * w) against central differences.
void check_grad(const Fn& fn, const Shape& s, const std::vector<double>& v, const std::string& what,
                double tol = 1e-6) {
  Tensor x = make(s, v).requires_grad_(true);
  Tensor out = fn(x);
  const std::vector<double> w = values(out.sizes().vec(), -1.0, 1.5, 0.77);
  out.backward(make(out.sizes().vec(), w));
  ASSERT_TRUE(x.grad().defined()) << what;
  const std::vector<double> g = x.grad().to_vector<double>();
  auto objective = [&](const std::vector<double>& in) {
    const std::vector<double> o = fn(make(s, in)).to_vector<double>();
    long double acc = 0;
    for (std::size_t k = 0; k < o.size(); ++k) acc += static_cast<long double>(o[k]) * w[k];
    return acc;
  };
  for (std::size_t j = 0; j < v.size(); ++j) {
    auto p = v;
    const double h = 1e-6 * std::max(1.0, std::fabs(v[j]));
    p[j] = v[j] + h;
    const long double fp = objective(p);
    p[j] = v[j] - h;
    const long double fm = objective(p);
    const double num = static_cast<double>((fp - fm) / (2 * h));
    EXPECT_NEAR(g[j], num, tol * (1.0 + std::fabs(num))) << what << " element " << j;
  }
}

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<long double(long double)> ref;
  double lo, hi;  // input range
};

std::vector<UnaryCase> cases() {
  return {
      {"exp", [](const Tensor& x) { return x.exp(); }, [](long double v) { return std::exp(v); }, -5, 5},
      {"log", [](const Tensor& x) { return x.log(); }, [](long double v) { return std::log(v); }, 0.01, 9},
      {"log1p", [](const Tensor& x) { return x.log1p(); }, [](long double v) { return std::log1p(v); }, -0.9, 5},
      {"sqrt", [](const Tensor& x) { return x.sqrt(); }, [](long double v) { return std::sqrt(v); }, 0.01, 9},
      {"abs", [](const Tensor& x) { return x.abs(); }, [](long double v) { return std::fabs(v); }, -3, 3},
      {"square", [](const Tensor& x) { return x.square(); }, [](long double v) { return v * v; }, -3, 3},
      {"reciprocal", [](const Tensor& x) { return x.reciprocal(); }, [](long double v) { return 1 / v; }, 0.2, 4},
      {"clamp", [](const Tensor& x) { return x.clamp(-0.5, 1.25); },
       [](long double v) { return std::min(std::max(v, -0.5L), 1.25L); }, -3, 3},
      {"clamp_min", [](const Tensor& x) { return x.clamp_min(0.3); },
       [](long double v) { return std::max(v, static_cast<long double>(0.3)); }, -3, 3},
      {"clamp_max", [](const Tensor& x) { return x.clamp_max(-0.3); },
       [](long double v) { return std::min(v, static_cast<long double>(-0.3)); }, -3, 3},
  };
}

// ---- Forward values.

TEST(UnaryForward, F64MatchesLongDouble) {
  for (const auto& c : cases()) {
    const Shape s{3, 5};
    const auto v = values(s, c.lo, c.hi);
    const Tensor y = c.op(make(s, v));
    EXPECT_EQ(y.dtype(), sigma::kFloat64) << c.name;
    EXPECT_EQ(y.sizes(), s) << c.name;
    const auto got = y.to_vector<double>();
    for (std::size_t i = 0; i < v.size(); ++i) {
      const long double want = c.ref(static_cast<long double>(v[i]));
      EXPECT_NEAR(got[i], static_cast<double>(want), 4e-16 * (1 + std::fabs(static_cast<double>(want))))
          << c.name << " at " << i;
    }
  }
}

TEST(UnaryForward, F32WithinOneUlp) {
  for (const auto& c : cases()) {
    const Shape s{17};
    auto v = values(s, c.lo, c.hi);
    for (auto& e : v) e = static_cast<float>(e);
    const Tensor y = c.op(make(s, v, sigma::kFloat32));
    EXPECT_EQ(y.dtype(), sigma::kFloat32) << c.name;
    const auto got = y.to_vector<double>();
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double want = static_cast<double>(c.ref(static_cast<long double>(v[i])));
      EXPECT_NEAR(got[i], want, 1.2e-7 * std::fabs(want) + 1e-38) << c.name << " at " << i;
    }
  }
}

TEST(UnaryForward, NonContiguousZeroDimAndEmpty) {
  for (const auto& c : cases()) {
    const Shape s{4, 3};
    const auto v = values(s, c.lo, c.hi);
    const Tensor t = make(s, v).t();  // [3, 4], element (i, j) = v[j * 3 + i]
    ASSERT_FALSE(t.is_contiguous());
    const auto got = c.op(t).to_vector<double>();
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j) {
        const double want = static_cast<double>(c.ref(v[j * 3 + i]));
        EXPECT_NEAR(got[i * 4 + j], want, 4e-16 * (1 + std::fabs(want))) << c.name;
      }
    const Tensor strided = make({8}, values({8}, c.lo, c.hi)).slice(0, 1, 8, 3);
    const auto v8 = values({8}, c.lo, c.hi);
    const auto gs = c.op(strided).to_vector<double>();
    ASSERT_EQ(gs.size(), 3u);
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_NEAR(gs[k], static_cast<double>(c.ref(v8[1 + 3 * k])), 1e-15 * (1 + std::fabs(gs[k]))) << c.name;

    const double x0 = 0.5 * (c.lo + c.hi);
    const Tensor z = c.op(sigma::scalar_tensor(x0, sigma::dtype(sigma::kFloat64)));
    EXPECT_EQ(z.dim(), 0) << c.name;
    EXPECT_NEAR(z.item<double>(), static_cast<double>(c.ref(x0)), 1e-15) << c.name;
    const Tensor e = c.op(sigma::empty({2, 0}));
    EXPECT_EQ(e.sizes(), (Shape{2, 0})) << c.name;
  }
}

TEST(UnaryForward, BFloat16ComputesInFloatAndRoundsOnce) {
  const Shape s{9};
  auto v = values(s, 0.1, 3.0);
  for (auto& e : v) e = round_bf16(static_cast<float>(e));
  const Tensor x = make(s, v, sigma::kBFloat16);
  auto check = [&](const Tensor& y, float (*f)(float), const char* what) {
    EXPECT_EQ(y.dtype(), sigma::kBFloat16) << what;
    const auto got = y.to_vector<float>();
    for (std::size_t i = 0; i < v.size(); ++i)
      EXPECT_EQ(got[i], round_bf16(f(static_cast<float>(v[i])))) << what << " at " << i;
  };
  check(x.exp(), [](float a) { return std::exp(a); }, "exp");
  check(x.log(), [](float a) { return std::log(a); }, "log");
  check(x.sqrt(), [](float a) { return std::sqrt(a); }, "sqrt");
  check(x.reciprocal(), [](float a) { return 1.0f / a; }, "reciprocal");
  check(x.square(), [](float a) { return a * a; }, "square");
  const Tensor h = make(s, v, sigma::kFloat16).log1p();
  EXPECT_EQ(h.dtype(), sigma::kFloat16);
  const auto hv = h.to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(hv[i], std::log1p(v[i]), 1e-3 * (1 + hv[i]));
}

TEST(UnaryForward, IntegerInputs) {
  const Tensor i = sigma::tensor({4, -9, 0, 1});
  EXPECT_EQ(i.exp().dtype(), sigma::kFloat32);
  EXPECT_EQ(i.sqrt().dtype(), sigma::kFloat32);
  EXPECT_EQ(i.log().dtype(), sigma::kFloat32);
  EXPECT_EQ(i.reciprocal().dtype(), sigma::kFloat32);
  const auto r = i.sqrt().to_vector<double>();
  EXPECT_EQ(r[0], 2.0);
  EXPECT_TRUE(std::isnan(r[1]));
  EXPECT_EQ(i.reciprocal().to_vector<double>()[2], std::numeric_limits<double>::infinity());
  EXPECT_EQ(i.abs().dtype(), sigma::kInt64);
  EXPECT_EQ(i.abs().to_vector<std::int64_t>(), (std::vector<std::int64_t>{4, 9, 0, 1}));
  EXPECT_EQ(i.clamp(-1, 2).to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, -1, 0, 1}));
  EXPECT_EQ(i.clamp(-1, 2).dtype(), sigma::kInt64);
  EXPECT_EQ(i.clamp_min(0.5).dtype(), sigma::kFloat32);
  EXPECT_EQ(i.clamp_min(0.5).to_vector<double>(), (std::vector<double>{4, 0.5, 0.5, 1}));
  const Tensor b = sigma::tensor({true, false});
  EXPECT_EQ(b.exp().dtype(), sigma::kFloat32);
  EXPECT_NEAR(b.exp().to_vector<double>()[0], std::exp(1.0), 1e-6);
}

TEST(UnaryForward, SpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = make({5}, {0.0, -1.0, inf, -inf, nan});
  const auto lg = x.log().to_vector<double>();
  EXPECT_EQ(lg[0], -inf);
  EXPECT_TRUE(std::isnan(lg[1]));
  EXPECT_EQ(lg[2], inf);
  EXPECT_TRUE(std::isnan(lg[4]));
  const auto ex = x.exp().to_vector<double>();
  EXPECT_EQ(ex[2], inf);
  EXPECT_EQ(ex[3], 0.0);
  EXPECT_EQ(x.log1p().to_vector<double>()[1], -inf);
  const auto cl = x.clamp(-2.0, 2.0).to_vector<double>();
  EXPECT_EQ(std::vector<double>(cl.begin(), cl.begin() + 4), (std::vector<double>{0.0, -1.0, 2.0, -2.0}));
  EXPECT_TRUE(std::isnan(cl[4]));  // NaN stays NaN
  const auto ab = make({2}, {-0.0, -inf}).abs().to_vector<double>();
  EXPECT_EQ(ab[0], 0.0);
  EXPECT_FALSE(std::signbit(ab[0]));
  EXPECT_EQ(ab[1], inf);
  // Only a min above the max: every element becomes max, as PyTorch.
  EXPECT_EQ(make({3}, {-1.0, 0.5, 3.0}).clamp(2.0, 1.0).to_vector<double>(),
            (std::vector<double>{1.0, 1.0, 1.0}));
  EXPECT_EQ(make({2}, {-inf, inf}).clamp_min(-1e308).to_vector<double>(),
            (std::vector<double>{-1e308, inf}));
}

TEST(UnaryForward, Errors) {
  expect_error([] { (void)sigma::exp(Tensor()); }, {"exp", "undefined"});
  expect_error([] { (void)sigma::tensor({true}).abs(); }, {"abs", "bool"});
  expect_error([] { (void)sigma::ones({2}).clamp(std::nullopt, std::nullopt); }, {"clamp", "min", "max"});
}

// ---- Gradients.

TEST(UnaryGrad, MatchesFiniteDifferences) {
  for (const auto& c : cases()) {
    const Shape s{2, 4};
    // Away from the kinks of abs and clamp so the differences are smooth.
    auto v = values(s, c.lo, c.hi, 0.4);
    for (auto& e : v) {
      if (std::fabs(e) < 0.05) e += 0.1;
      for (double k : {-0.5, 1.25, 0.3, -0.3})
        if (std::fabs(e - k) < 0.01) e += 0.02;
    }
    check_grad(c.op, s, v, c.name);
    check_grad([&c](const Tensor& x) { return c.op(x.t()); }, s, v, std::string(c.name) + " of t()");
  }
}

TEST(UnaryGrad, KinksFollowPyTorch) {
  // abs'(0) = 0; clamp passes the gradient at the bounds and nowhere when min > max.
  Tensor x = make({3}, {0.0, -2.0, 3.0}).requires_grad_(true);
  x.abs().backward(make({3}, {5.0, 5.0, 5.0}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, -5.0, 5.0}));

  Tensor y = make({5}, {-1.0, -0.5, 0.0, 1.0, 1.5}).requires_grad_(true);
  y.clamp(-0.5, 1.0).backward(sigma::ones({5}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0.0, 1.0, 1.0, 1.0, 0.0}));

  Tensor z = make({2}, {1.0, 2.0}).requires_grad_(true);
  z.clamp(3.0, 0.0).backward(sigma::ones({2}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(z.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0}));

  Tensor n = make({1}, {std::numeric_limits<double>::quiet_NaN()}).requires_grad_(true);
  n.clamp_min(0.0).backward(sigma::ones({1}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(n.grad().to_vector<double>(), (std::vector<double>{0.0}));
}

TEST(UnaryGrad, BFloat16GradientKeepsDtype) {
  Tensor x = make({3}, {0.5, 1.0, 2.0}, sigma::kBFloat16).requires_grad_(true);
  x.exp().backward(sigma::ones({3}, sigma::dtype(sigma::kBFloat16)));
  EXPECT_EQ(x.grad().dtype(), sigma::kBFloat16);
  const auto g = x.grad().to_vector<float>();
  for (std::size_t i = 0; i < 3; ++i) {
    const float xi = i == 0 ? 0.5f : (i == 1 ? 1.0f : 2.0f);
    // The gradient is the saved bf16 output: exp rounded once to bf16.
    EXPECT_EQ(g[i], round_bf16(std::exp(xi)));
  }
}

TEST(UnaryGrad, BackwardNames) {
  Tensor x = sigma::ones({2}).requires_grad_(true);
  auto name = [](const Tensor& t) { return t.grad_fn()->name(); };
  EXPECT_EQ(name(x.exp()), "ExpBackward");
  EXPECT_EQ(name(x.log()), "LogBackward");
  EXPECT_EQ(name(x.log1p()), "Log1pBackward");
  EXPECT_EQ(name(x.abs()), "AbsBackward");
  EXPECT_EQ(name(x.sqrt()), "SqrtBackward");
  EXPECT_EQ(name(x.square()), "PowBackward");
  EXPECT_EQ(name(x.reciprocal()), "ReciprocalBackward");
  EXPECT_EQ(name(x.clamp(0, 1)), "ClampBackward");
  EXPECT_EQ(name(x.clamp_min(0)), "ClampMinBackward");
  EXPECT_EQ(name(x.clamp_max(0)), "ClampMaxBackward");
}

TEST(UnaryGrad, InPlaceChangeOfSavedOutputIsDetected) {
  Tensor x = sigma::ones({3}).requires_grad_(true);
  Tensor y = x.exp();  // saves its output
  y.mul_(2);
  expect_error([&] { y.backward(sigma::ones({3})); }, {"ExpBackward", "in-place"});
}

// ---- clamp_.

TEST(UnaryInplace, Clamp) {
  const auto v = values({2, 3}, -3, 3);
  Tensor x = make({2, 3}, v);
  const auto v0 = x._version();
  Tensor& r = x.clamp_(-1.0, 1.0);
  EXPECT_TRUE(r.is_same(x));
  EXPECT_EQ(x._version(), v0 + 1);
  const auto got = x.to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(got[i], std::min(std::max(v[i], -1.0), 1.0));

  Tensor t = make({2, 3}, v);
  t.t().clamp_(std::nullopt, 0.0);  // non-contiguous self
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(t.to_vector<double>()[i], std::min(v[i], 0.0));

  Tensor i = sigma::tensor({-5, 5});
  i.clamp_(-2, 2);
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{-2, 2}));
  expect_error([&] { i.clamp_(0.5, 1); }, {"clamp_", "float32", "int64"});
  Tensor leaf = sigma::ones({2}).requires_grad_(true);
  expect_error([&] { leaf.clamp_(0, 1); }, {"clamp_", "leaf"});

  // Recorded: the gradient flows where the value was inside the bounds.
  Tensor a = make({4}, {-2.0, -0.2, 0.3, 2.0}).requires_grad_(true);
  Tensor b = a * 2.0;
  b.clamp_(-1.0, 1.0);
  EXPECT_EQ(b.grad_fn()->name(), "ClampBackward");
  b.backward(sigma::ones({4}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.0, 2.0, 2.0, 0.0}));
}

}  // namespace

// ---- sign, floor, ceil, round, trunc, sin, cos (issue 14). Expected values
// are written from the definitions; sin/cos against std:: in long double.
namespace {

using sigma::Tensor;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

void expect_values(const Tensor& t, const std::vector<double>& want, const std::string& what) {
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " element " << i;
    } else {
      EXPECT_EQ(got[i], want[i]) << what << " element " << i;
    }
    if (want[i] == 0 && !std::isnan(got[i])) {
      EXPECT_EQ(std::signbit(got[i]), std::signbit(want[i])) << what << " sign of zero at " << i;
    }
  }
}

TEST(Rounding, SpecialValuesAndHalves) {
  const std::vector<double> v{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.7, 0.7, -0.0, kNaN, kInfinity, -kInfinity};
  for (auto dt : {sigma::kFloat32, sigma::kFloat64}) {
    const Tensor x = make({12}, v, dt);
    expect_values(x.floor(), {-3, -2, -1, 0, 1, 2, -1, 0, -0.0, kNaN, kInfinity, -kInfinity}, "floor");
    expect_values(x.ceil(), {-2, -1, -0.0, 1, 2, 3, -0.0, 1, -0.0, kNaN, kInfinity, -kInfinity}, "ceil");
    // Halves go to the even neighbour.
    expect_values(x.round(), {-2, -2, -0.0, 0, 2, 2, -1, 1, -0.0, kNaN, kInfinity, -kInfinity}, "round");
    expect_values(x.trunc(), {-2, -1, -0.0, 0, 1, 2, -0.0, 0, -0.0, kNaN, kInfinity, -kInfinity}, "trunc");
    expect_values(x.sign(), {-1, -1, -1, 1, 1, 1, -1, 1, 0, 0, 1, -1}, "sign");
    EXPECT_EQ(x.round().dtype(), dt);
  }
}

TEST(Rounding, DecimalsScaleFirst) {
  // 0.125 * 100 = 12.5 -> 12 (even) -> 0.12; 1234.5 / 100 = 12.345 -> 12 -> 1200.
  const Tensor x = make({3}, {0.125, 0.375, -2.5}, sigma::kFloat64);
  expect_values(x.round(2), {0.12, 0.38, -2.5}, "round(2)");
  expect_values(make({2}, {1234.5, 1250.0}).round(-2), {1200, 1200}, "round(-2)");
  expect_values(make({1}, {1234.5}).round(0), {1234}, "round(0)");
}

TEST(Rounding, IntegralInputsAreCopiedBoolRefused) {
  const Tensor i = sigma::tensor({-3, 0, 4});
  for (const Tensor& r : {i.floor(), i.ceil(), i.round(), i.trunc()}) {
    EXPECT_EQ(r.dtype(), sigma::kLong);
    EXPECT_EQ(r.to_vector<std::int64_t>(), (std::vector<std::int64_t>{-3, 0, 4}));
    EXPECT_FALSE(r.is_alias_of(i));
  }
  EXPECT_EQ(i.sign().to_vector<std::int64_t>(), (std::vector<std::int64_t>{-1, 0, 1}));
  const Tensor b = sigma::tensor({true, false});
  EXPECT_EQ(b.sign().dtype(), sigma::kBool);
  EXPECT_EQ(b.sign().to_vector<bool>(), (std::vector<bool>{true, false}));
  expect_error([&] { (void)b.floor(); }, {"floor", "bool"});
  expect_error([&] { (void)i.round(1); }, {"round", "decimals", "int64"});
}

TEST(Trigonometric, ValuesAndIntegerPromotion) {
  const std::vector<double> v{-3.0, -0.5, 0.0, 1e-8, 2.0, 100.0};
  const Tensor x = make({6}, v);
  const auto s = x.sin().to_vector<double>(), c = x.cos().to_vector<double>();
  for (std::size_t k = 0; k < v.size(); ++k) {
    EXPECT_NEAR(s[k], static_cast<double>(std::sin(static_cast<long double>(v[k]))), 1e-15);
    EXPECT_NEAR(c[k], static_cast<double>(std::cos(static_cast<long double>(v[k]))), 1e-15);
  }
  const Tensor special = make({3}, {kNaN, kInfinity, -kInfinity});
  for (double r : special.sin().to_vector<double>()) EXPECT_TRUE(std::isnan(r));
  for (double r : special.cos().to_vector<double>()) EXPECT_TRUE(std::isnan(r));
  const Tensor i = sigma::tensor({0, 1});
  EXPECT_EQ(i.sin().dtype(), sigma::get_default_dtype());
  EXPECT_EQ(i.cos().to_vector<double>()[0], 1.0);
  Tensor j = sigma::tensor({0, 1});
  expect_error([&] { j.sin_(); }, {"sin_"});
}

TEST(Trigonometric, GradientsMatchCentralDifferences) {
  const Tensor x = make({2, 3}, {-2.0, -0.4, 0.1, 0.9, 1.7, 3.0}).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const sigma::TensorList& in) { return in[0].sin(); }, {x}).ok);
  EXPECT_TRUE(sigma::gradcheck([](const sigma::TensorList& in) { return in[0].cos(); }, {x}).ok);
  // Transposed input.
  const Tensor xt = make({3, 2}, {-2.0, -0.4, 0.1, 0.9, 1.7, 3.0}).t().requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const sigma::TensorList& in) { return sigma::sin(in[0]) * 2; }, {xt}).ok);
}

TEST(Rounding, GradientIsZero) {
  // Away from the jumps the functions are locally constant: central
  // differences give 0 too.
  const Tensor x = make({4}, {-1.3, -0.2, 0.4, 2.6}).requires_grad_();
  using Fn = std::function<Tensor(const Tensor&)>;
  for (const Fn& f : std::vector<Fn>{[](const Tensor& t) { return t.floor(); },
                                     [](const Tensor& t) { return t.ceil(); },
                                     [](const Tensor& t) { return t.round(); },
                                     [](const Tensor& t) { return t.round(1); },
                                     [](const Tensor& t) { return t.trunc(); },
                                     [](const Tensor& t) { return t.sign(); }}) {
    const auto r = sigma::gradcheck([&](const sigma::TensorList& in) { return f(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
    const Tensor y = f(x);
    EXPECT_TRUE(y.requires_grad());
    y.sum().backward();
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>(4, 0.0)));
    x.mutable_grad() = Tensor();
  }
}

TEST(Rounding, InPlaceFormsMatchOutOfPlace) {
  const std::vector<double> v{-2.5, -0.5, 0.5, 1.49, 2.5, 0.25};
  using Inplace = std::function<void(Tensor&)>;
  const std::vector<std::pair<Inplace, std::function<Tensor(const Tensor&)>>> cases{
      {[](Tensor& t) { t.floor_(); }, [](const Tensor& t) { return t.floor(); }},
      {[](Tensor& t) { t.ceil_(); }, [](const Tensor& t) { return t.ceil(); }},
      {[](Tensor& t) { t.round_(); }, [](const Tensor& t) { return t.round(); }},
      {[](Tensor& t) { t.round_(1); }, [](const Tensor& t) { return t.round(1); }},
      {[](Tensor& t) { t.trunc_(); }, [](const Tensor& t) { return t.trunc(); }},
      {[](Tensor& t) { t.sign_(); }, [](const Tensor& t) { return t.sign(); }},
      {[](Tensor& t) { t.sin_(); }, [](const Tensor& t) { return t.sin(); }},
      {[](Tensor& t) { t.cos_(); }, [](const Tensor& t) { return t.cos(); }}};
  for (const auto& [inplace, outplace] : cases) {
    Tensor x = make({2, 3}, v, sigma::kFloat32);
    const Tensor want = outplace(x);
    const auto version = x._version();
    inplace(x);
    EXPECT_EQ(x.to_vector<double>(), want.to_vector<double>());
    EXPECT_GT(x._version(), version);
    // Recorded through a non-leaf: the gradient of sin_ is cos(x).
  }
  const Tensor leaf = make({3}, {0.1, 0.2, 0.3}).requires_grad_();
  Tensor y = leaf * 1;
  y.sin_();
  y.sum().backward();
  const auto g = leaf.grad().to_vector<double>();
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(g[k], std::cos(0.1 * static_cast<double>(k + 1)), 1e-15);
  Tensor i = sigma::tensor({-3, 4});
  i.floor_();
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{-3, 4}));
}

}  // namespace
