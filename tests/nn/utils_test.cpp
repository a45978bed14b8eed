// Tests of sigma::nn::utils (src/nn/utils.cpp) and of Dropout and Identity
// (src/nn/modules.cpp). clip_grad_norm_ against hand computations (2-, 1-, 3-
// and inf-norms, non-finite norms, huge values); clip_grad_value_; parameter
// vectors; Dropout's statistics (kept fraction within a few sigma of 1 - p),
// scaling, eval mode, gradient, in-place mode and reproducibility after
// manual_seed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
namespace F = sigma::nn::functional;
using sigma::test::expect_error;
using sigma::test::values;

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor param_with_grad(const std::vector<double>& g, sigma::ScalarType dtype = sigma::kFloat64) {
  Tensor p = sigma::zeros({static_cast<std::int64_t>(g.size())}, dtype).requires_grad_();
  p.mutable_grad() = sigma::tensor(g, sigma::kFloat64).to(dtype);
  return p;
}

std::string repr(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

// ---- clip_grad_norm_.

TEST(ClipGradNormTest, TwoNormScalesAllGradientsTogether) {
  Tensor a = param_with_grad({3.0, 4.0}), b = param_with_grad({12.0});
  Tensor none = sigma::zeros({2}, sigma::kFloat64).requires_grad_();  // no grad: skipped
  const double total = nn::utils::clip_grad_norm_({a, none, b}, 6.5);
  EXPECT_DOUBLE_EQ(total, 13.0);  // sqrt(9 + 16 + 144)
  const double coef = 6.5 / (13.0 + 1e-6);
  EXPECT_EQ(values(a.grad()), (std::vector<double>{3.0 * coef, 4.0 * coef}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{12.0 * coef}));
  EXPECT_FALSE(none.grad().defined());
  // Below max_norm: unchanged, the norm still returned.
  Tensor c = param_with_grad({0.3, -0.4});
  EXPECT_DOUBLE_EQ(nn::utils::clip_grad_norm_(c, 1.0), 0.5);
  EXPECT_EQ(values(c.grad()), (std::vector<double>{0.3, -0.4}));
  // No gradients at all.
  EXPECT_EQ(nn::utils::clip_grad_norm_(std::vector<Tensor>{none}, 1.0), 0.0);
}

TEST(ClipGradNormTest, OtherNormsAndFloat32) {
  const std::vector<double> g1 = {1.0, -2.0, 2.0}, g2 = {-4.0, 0.5};
  struct Case {
    double p, total;
  };
  const double l3 = std::cbrt(1.0 + 8.0 + 8.0 + 64.0 + 0.125);
  for (const Case c :
       {Case{1.0, 9.5}, Case{3.0, l3}, Case{kInf, 4.0}, Case{2.0, std::sqrt(25.25)}}) {
    for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
      Tensor a = param_with_grad(g1, dtype), b = param_with_grad(g2, dtype);
      const double total = nn::utils::clip_grad_norm_({a, b}, 1.0, c.p);
      EXPECT_NEAR(total, c.total, 1e-14 * c.total) << c.p;
      const double coef = 1.0 / (c.total + 1e-6);
      const auto va = values(a.grad());
      for (std::size_t i = 0; i < g1.size(); ++i)
        EXPECT_NEAR(va[i], g1[i] * coef, (dtype == sigma::kFloat64 ? 1e-15 : 1e-7)) << c.p;
    }
  }
}

TEST(ClipGradNormTest, HugeValuesDoNotOverflow) {
  Tensor a = param_with_grad({3e200, 4e200});
  const double total = nn::utils::clip_grad_norm_(a, 1.0);
  EXPECT_NEAR(total, 5e200, 1e186);
  EXPECT_NEAR(values(a.grad())[0], 0.6, 1e-15);
}

TEST(ClipGradNormTest, NonFiniteNorms) {
  for (double bad : {kInf, std::numeric_limits<double>::quiet_NaN()}) {
    Tensor a = param_with_grad({1.0, bad}), b = param_with_grad({2.0});
    expect_error([&] { nn::utils::clip_grad_norm_({a, b}, 1.0, 2.0, true); },
                 {"clip_grad_norm_", "order 2", "non-finite"});
    // Unchanged after the error.
    EXPECT_EQ(values(b.grad()), (std::vector<double>{2.0}));
    // Without the check: PyTorch scales by max_norm / (total + 1e-6) anyway,
    // 0 for an infinite norm and NaN for a NaN norm.
    const double total = nn::utils::clip_grad_norm_({a, b}, 1.0);
    if (std::isnan(bad)) {
      EXPECT_TRUE(std::isnan(total));
      EXPECT_TRUE(std::isnan(values(b.grad())[0]));
    } else {
      EXPECT_EQ(total, kInf);
      EXPECT_EQ(values(b.grad())[0], 0.0);
      EXPECT_TRUE(std::isnan(values(a.grad())[1]));  // inf * 0
    }
  }
  EXPECT_NO_THROW(nn::utils::clip_grad_norm_(param_with_grad({1.0}), 1.0, kInf, true));
  Tensor ok = param_with_grad({kInf});
  expect_error([&] { nn::utils::clip_grad_norm_(ok, 1.0, kInf, true); }, {"order inf"});
  expect_error([] { nn::utils::clip_grad_norm_(param_with_grad({1.0}), 1.0, -1.0); },
               {"clip_grad_norm_", "norm_type"});
}

TEST(ClipGradNormTest, ModuleParameters) {
  nn::Linear lin(4, 3);
  const Tensor x = sigma::test::random_tensor({5, 4}, sigma::kFloat32, 3);
  (lin(x).square().sum() * 100.0f).backward();
  double ref = 0;
  for (const auto& p : lin->parameters())
    for (double v : values(p.grad())) ref += v * v;
  ref = std::sqrt(ref);
  const double total = nn::utils::clip_grad_norm_(lin->parameters(), 0.5);
  EXPECT_NEAR(total, ref, 1e-12 * ref);
  double after = 0;
  for (const auto& p : lin->parameters())
    for (double v : values(p.grad())) after += v * v;
  EXPECT_NEAR(std::sqrt(after), 0.5, 1e-6);
}

// ---- clip_grad_value_ and parameter vectors.

TEST(ClipGradValueTest, ClampsEachElement) {
  Tensor a = param_with_grad({-3.0, 0.5, 2.0}), b = param_with_grad({1.5});
  nn::utils::clip_grad_value_({a, b}, 1.0);
  EXPECT_EQ(values(a.grad()), (std::vector<double>{-1.0, 0.5, 1.0}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{1.0}));
}

TEST(ParametersToVectorTest, RoundTrip) {
  Tensor a = sigma::tensor({{1.0, 2.0}, {3.0, 4.0}}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({5.0}, sigma::kFloat64).requires_grad_();
  const Tensor v = nn::utils::parameters_to_vector({a, b});
  EXPECT_EQ(v.sizes().vec(), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(values(v), (std::vector<double>{1, 2, 3, 4, 5}));
  nn::utils::vector_to_parameters(sigma::tensor({9.0, 8.0, 7.0, 6.0, 5.5}, sigma::kFloat64),
                                  {a, b});
  EXPECT_EQ(values(a), (std::vector<double>{9, 8, 7, 6}));
  EXPECT_EQ(values(b), (std::vector<double>{5.5}));
  EXPECT_TRUE(a.is_leaf());
  expect_error([&] { nn::utils::vector_to_parameters(sigma::zeros({4}), {a, b}); },
               {"vector_to_parameters", "5", "[4]"});
}

// ---- Dropout and Identity.

TEST(DropoutTest, KeepsAboutOneMinusPAndScales) {
  const std::int64_t n = 200000;
  for (double p : {0.1, 0.3, 0.5, 0.9}) {
    sigma::manual_seed(7);
    const Tensor x = sigma::ones({n});
    const Tensor y = F::dropout(x, F::DropoutFuncOptions().p(p));
    const auto v = values(y);
    const double scale = static_cast<double>(static_cast<float>(1.0 / (1.0 - p)));
    std::int64_t kept = 0;
    for (double e : v) {
      if (e != 0) {
        ++kept;
        ASSERT_NEAR(e, scale, 1e-6 * scale);
      }
    }
    const double frac = static_cast<double>(kept) / static_cast<double>(n);
    const double sigma_frac = std::sqrt(p * (1 - p) / static_cast<double>(n));
    EXPECT_NEAR(frac, 1 - p, 5 * sigma_frac) << "p " << p;
    // The mean is preserved in expectation.
    EXPECT_NEAR(frac * scale, 1.0, 5 * sigma_frac * scale);
  }
}

TEST(DropoutTest, ReproducibleAfterManualSeed) {
  const Tensor x = sigma::test::random_tensor({50, 20}, sigma::kFloat32, 1);
  sigma::manual_seed(123);
  const auto a = values(F::dropout(x));
  sigma::manual_seed(123);
  const auto b = values(F::dropout(x));
  sigma::manual_seed(124);
  const auto c = values(F::dropout(x));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(DropoutTest, ModuleTrainEvalAndRepr) {
  nn::Dropout drop(0.25);
  EXPECT_EQ(repr(*drop), "Dropout(p=0.25, inplace=False)");
  EXPECT_EQ(repr(*nn::Dropout()), "Dropout(p=0.5, inplace=False)");
  EXPECT_EQ(repr(*nn::Dropout(nn::DropoutOptions(0.1).inplace(true))),
            "Dropout(p=0.1, inplace=True)");
  const Tensor x = sigma::ones({1000});
  const auto train_out = values(drop(x));
  std::int64_t zeros = 0;
  for (double e : train_out) zeros += e == 0;
  EXPECT_GT(zeros, 0);
  drop->eval();
  const Tensor y = drop(x);
  EXPECT_TRUE(y.is_same(x));
  // In a Sequential, eval() reaches it.
  nn::Sequential net(nn::Linear(4, 4), nn::Dropout(0.9), nn::Identity());
  const Tensor in = sigma::test::random_tensor({3, 4}, sigma::kFloat32, 2);
  net->eval();
  const Tensor lin_out = net[0]->as<nn::Linear>()->forward(in);
  EXPECT_EQ(values(net(in)), values(lin_out));
  EXPECT_EQ(repr(*net),
            "Sequential(\n  (0): Linear(in_features=4, out_features=4, bias=True)\n"
            "  (1): Dropout(p=0.9, inplace=False)\n  (2): Identity()\n)");
}

TEST(DropoutTest, GradientIsTheMask) {
  sigma::manual_seed(5);
  const Tensor x = sigma::test::random_tensor({8, 16}, sigma::kFloat64, 4, 0.5, 2).requires_grad_();
  const Tensor y = F::dropout(x, F::DropoutFuncOptions().p(0.4));
  y.sum().backward();
  const auto xv = values(x), yv = values(y), gv = values(x.grad());
  for (std::size_t i = 0; i < xv.size(); ++i) {
    if (yv[i] == 0) {
      EXPECT_EQ(gv[i], 0.0);
    } else {
      EXPECT_NEAR(gv[i], 1 / 0.6, 1e-15);
      EXPECT_NEAR(yv[i], xv[i] / 0.6, 1e-15);
    }
  }
}

TEST(DropoutTest, EdgeProbabilitiesInplaceDtypesAndErrors) {
  const Tensor x = sigma::test::random_tensor({4, 5}, sigma::kFloat32, 6);
  EXPECT_TRUE(F::dropout(x, F::DropoutFuncOptions().p(0.0)).is_same(x));
  EXPECT_TRUE(F::dropout(x, F::DropoutFuncOptions().training(false)).is_same(x));
  const Tensor z = F::dropout(x, F::DropoutFuncOptions().p(1.0));
  EXPECT_EQ(values(z), std::vector<double>(20, 0.0));
  EXPECT_EQ(z.sizes(), x.sizes());
  // In place: the input itself is overwritten and returned.
  Tensor w = sigma::ones({100});
  sigma::manual_seed(9);
  Tensor r = F::dropout(w, F::DropoutFuncOptions().p(0.5).inplace(true));
  EXPECT_TRUE(r.is_same(w));
  sigma::manual_seed(9);
  EXPECT_EQ(values(w), values(F::dropout(sigma::ones({100}), F::DropoutFuncOptions().p(0.5))));
  // bf16, 0-dim, empty, transposed.
  const Tensor h = F::dropout(sigma::ones({64}, sigma::kBFloat16), F::DropoutFuncOptions().p(0.5));
  EXPECT_EQ(h.dtype(), sigma::kBFloat16);
  for (double e : values(h)) EXPECT_TRUE(e == 0.0 || e == 2.0);
  EXPECT_EQ(F::dropout(sigma::scalar_tensor(3.0)).dim(), 0);
  EXPECT_EQ(F::dropout(sigma::zeros({0, 3})).sizes().vec(), (std::vector<std::int64_t>{0, 3}));
  const Tensor t = sigma::ones({6, 4}).t();
  EXPECT_EQ(F::dropout(t).sizes().vec(), (std::vector<std::int64_t>{4, 6}));
  for (double p : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    expect_error([&] { F::dropout(x, F::DropoutFuncOptions().p(p)); },
                 {"dropout", "between 0 and 1"});
    expect_error([&] { nn::Dropout d(p); }, {"Dropout", "between 0 and 1"});
  }
  expect_error([] { F::dropout(sigma::zeros({2}, sigma::kLong)); }, {"dropout", "int64"});
}

TEST(IdentityTest, ReturnsItsInput) {
  nn::Identity id;
  const Tensor x = sigma::ones({2, 3}).requires_grad_();
  EXPECT_TRUE(id(x).is_same(x));
  EXPECT_EQ(repr(*id), "Identity()");
  EXPECT_TRUE(id->parameters().empty());
}

}  // namespace
