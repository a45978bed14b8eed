// Tests of sigma::optim::SGD and the Optimizer base (src/optim/sgd.cpp,
// optimizer.cpp): every step against a plain double implementation of
// PyTorch's update (torch/optim/sgd.py) written here, with weight decay,
// momentum, dampening and Nesterov; parameter groups and their options,
// zero_grad, skipped parameters, closures, non-contiguous and low-precision
// parameters, the option checks, and convergence on a quadratic.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace optim = sigma::optim;
using sigma::test::expect_error;
using sigma::test::values;

// PyTorch's SGD on one parameter, in double.
struct RefSGD {
  double lr, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  std::vector<double> buf;
  void step(std::vector<double>& p, std::vector<double> g) {
    for (std::size_t i = 0; i < p.size(); ++i) g[i] += weight_decay * p[i];
    if (momentum != 0) {
      if (buf.empty()) {
        buf = g;
      } else {
        for (std::size_t i = 0; i < p.size(); ++i)
          buf[i] = momentum * buf[i] + (1 - dampening) * g[i];
      }
      for (std::size_t i = 0; i < p.size(); ++i)
        g[i] = nesterov ? g[i] + momentum * buf[i] : buf[i];
    }
    for (std::size_t i = 0; i < p.size(); ++i) p[i] -= lr * g[i];
  }
};

// A gradient that depends on the parameter, so a wrong step changes every later one.
std::vector<double> grad_at(const std::vector<double>& p) {
  std::vector<double> g(p.size());
  for (std::size_t i = 0; i < p.size(); ++i)
    g[i] = std::sin(p[i]) * static_cast<double>(i + 1) + 0.1 * p[i] * p[i] - 0.3;
  return g;
}

void set_grad(const Tensor& p, const std::vector<double>& g) {
  p.mutable_grad() = sigma::tensor(g, sigma::kFloat64).reshape(p.sizes()).to(p.dtype());
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& ref, double rtol,
                     const std::string& what) {
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], ref[i], rtol * (1e-3 + std::fabs(ref[i]))) << what << " element " << i;
}

struct Variant {
  double momentum, dampening, weight_decay;
  bool nesterov;
};

const std::vector<Variant> kVariants = {
    {0, 0, 0, false},   {0, 0, 0.1, false},    {0.9, 0, 0, false}, {0.9, 0.3, 0, false},
    {0.8, 0, 0.05, true}, {0.9, 0, 0, true}, {0.5, 0.5, 0.2, false},
};

TEST(SGDTest, StepsMatchPyTorchsEquations) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-13 : 2e-5;
    for (const auto& v : kVariants) {
      const std::string what = "momentum " + std::to_string(v.momentum) + " dampening " +
                               std::to_string(v.dampening) + " wd " +
                               std::to_string(v.weight_decay) + " nesterov " +
                               std::to_string(v.nesterov) + " " + sigma::to_string(dtype);
      std::vector<double> ref = sigma::test::draw(6, -2, 2, 17);
      Tensor p = sigma::tensor(ref, sigma::kFloat64).reshape({2, 3}).to(dtype).requires_grad_();
      ref = values(p);
      optim::SGD opt({p}, optim::SGDOptions(0.05)
                              .momentum(v.momentum)
                              .dampening(v.dampening)
                              .weight_decay(v.weight_decay)
                              .nesterov(v.nesterov));
      RefSGD r{0.05, v.momentum, v.dampening, v.weight_decay, v.nesterov, {}};
      for (int step = 0; step < 8; ++step) {
        const auto g = grad_at(values(p));  // from sigma's p: each step is checked alone
        set_grad(p, g);
        std::vector<double> expect = values(p);
        r.step(expect, values(p.grad()));
        opt.step();
        expect_near_all(values(p), expect, rtol, what + " step " + std::to_string(step));
        EXPECT_TRUE(p.is_leaf());
        EXPECT_TRUE(p.requires_grad());
      }
      // And the whole trajectory from the start against the reference alone.
      std::vector<double> q = sigma::test::draw(6, -2, 2, 17);
      Tensor pq = sigma::tensor(q, sigma::kFloat64).reshape({2, 3}).requires_grad_();
      optim::SGD opt2({pq}, optim::SGDOptions(0.05)
                                .momentum(v.momentum)
                                .dampening(v.dampening)
                                .weight_decay(v.weight_decay)
                                .nesterov(v.nesterov));
      RefSGD r2{0.05, v.momentum, v.dampening, v.weight_decay, v.nesterov, {}};
      for (int step = 0; step < 10; ++step) {
        set_grad(pq, grad_at(values(pq)));
        opt2.step();
        r2.step(q, grad_at(q));
      }
      expect_near_all(values(pq), q, 1e-12, what + " trajectory");
    }
  }
}

TEST(SGDTest, MomentumBufferIsTheState) {
  Tensor p = sigma::tensor({1.0, -2.0}, sigma::kFloat64).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9));
  EXPECT_TRUE(opt.state().empty());
  set_grad(p, {0.5, 1.0});
  opt.step();
  auto& st = static_cast<optim::SGDParamState&>(*opt.state().at(p.unsafeGetTensorImpl()));
  EXPECT_EQ(values(st.momentum_buffer()), (std::vector<double>{0.5, 1.0}));
  set_grad(p, {1.0, 0.0});
  opt.step();
  EXPECT_EQ(values(st.momentum_buffer()), (std::vector<double>{0.9 * 0.5 + 1.0, 0.9 * 1.0}));
}

TEST(SGDTest, ParamGroupsHaveTheirOwnOptions) {
  Tensor a = sigma::tensor({1.0, 2.0}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({3.0}, sigma::kFloat64).requires_grad_();
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b}, std::make_unique<optim::SGDOptions>(
                                                  optim::SGDOptions(0.5).weight_decay(1.0)));
  optim::SGD opt(groups, optim::SGDOptions(0.1));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[0].options().lr(), 0.1);
  EXPECT_EQ(opt.param_groups()[1].options().lr(), 0.5);
  EXPECT_EQ(opt.size(), 2u);
  set_grad(a, {1.0, 1.0});
  set_grad(b, {1.0});
  opt.step();
  EXPECT_EQ(values(a), (std::vector<double>{1.0 - 0.1, 2.0 - 0.1}));
  EXPECT_EQ(values(b), (std::vector<double>{3.0 - 0.5 * (1.0 + 3.0)}));
  // lr through the base options, as a scheduler sets it.
  opt.param_groups()[0].options().lr(0.01);
  EXPECT_EQ(static_cast<optim::SGDOptions&>(opt.param_groups()[0].options()).lr(), 0.01);
  set_grad(a, {1.0, 1.0});
  b.mutable_grad() = Tensor();  // skipped
  opt.step();
  EXPECT_NEAR(values(a)[0], 0.9 - 0.01, 1e-15);
  EXPECT_EQ(values(b), (std::vector<double>{1.0}));
  // The defaults are untouched by a group's change.
  EXPECT_EQ(opt.defaults().lr(), 0.1);
  // add_param_group with no options takes a copy of the defaults.
  Tensor c = sigma::tensor({0.0}, sigma::kFloat64).requires_grad_();
  opt.add_param_group(optim::OptimizerParamGroup({c}));
  EXPECT_EQ(opt.param_groups()[2].options().lr(), 0.1);
}

TEST(SGDTest, SkipsParametersWithoutGradAndZeroGrad) {
  Tensor a = sigma::tensor({1.0, 2.0}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({3.0}, sigma::kFloat64).requires_grad_();
  optim::SGD opt({a, b}, optim::SGDOptions(0.1).momentum(0.9));
  (a * a).sum().backward();
  opt.step();
  EXPECT_EQ(values(b), (std::vector<double>{3.0}));
  EXPECT_EQ(opt.state().count(b.unsafeGetTensorImpl()), 0u);
  EXPECT_NEAR(values(a)[1], 2.0 - 0.1 * 4.0, 1e-15);
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  (a * a).sum().backward();
  opt.zero_grad(false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0.0, 0.0}));
}

TEST(SGDTest, ClosureIsCalledAndItsLossReturned) {
  Tensor p = sigma::tensor({2.0}, sigma::kFloat64).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(0.25));
  int calls = 0;
  sigma::NoGradGuard no_grad;  // the closure still records a graph
  Tensor loss = opt.step([&] {
    ++calls;
    opt.zero_grad();
    Tensor l = (p * p).sum();
    l.backward();
    return l;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loss.item<double>(), 4.0);
  EXPECT_EQ(values(p), (std::vector<double>{2.0 - 0.25 * 4.0}));
  EXPECT_FALSE(opt.step().defined());
}

TEST(SGDTest, UpdatesInPlaceThroughStridesAndBumpsTheVersion) {
  Tensor base = sigma::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, sigma::kFloat64);
  Tensor p = base.t();  // [3, 2], not contiguous, a leaf
  p.requires_grad_();
  ASSERT_FALSE(p.is_contiguous());
  optim::SGD opt({p}, optim::SGDOptions(0.5).momentum(0.5));
  const auto before = values(p);
  const auto v0 = p._version();
  set_grad(p, {1, 2, 3, 4, 5, 6});
  opt.step();
  EXPECT_GT(p._version(), v0);
  const auto after = values(p);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(after[i], before[i] - 0.5 * (i + 1.0));
  EXPECT_EQ(values(base), (std::vector<double>{0.5, 0.5, 0.5, 3.0, 3.0, 3.0}));
  // A gradient that is itself a transposed view of another dtype.
  Tensor q = sigma::zeros({2, 3}, sigma::kFloat64).requires_grad_();
  optim::SGD opt2({q}, optim::SGDOptions(1.0));
  q.mutable_grad() = sigma::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}}).t();
  opt2.step();
  EXPECT_EQ(values(q), (std::vector<double>{-1, -3, -5, -2, -4, -6}));
}

TEST(SGDTest, LowPrecisionParametersRoundOnce) {
  for (auto dtype : {sigma::kBFloat16, sigma::kHalf}) {
    Tensor p = sigma::tensor({1.0, -0.5, 0.25}, sigma::kFloat64).to(dtype).requires_grad_();
    optim::SGD opt({p}, optim::SGDOptions(0.125).momentum(0.5));
    set_grad(p, {1.0, 2.0, -4.0});
    opt.step();
    // All values exact in both types.
    EXPECT_EQ(values(p), (std::vector<double>{0.875, -0.75, 0.75}));
    EXPECT_EQ(p.dtype(), dtype);
  }
}

TEST(SGDTest, OptionsAndParameterChecks) {
  Tensor p = sigma::zeros({2}).requires_grad_();
  expect_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).nesterov(true)); },
               {"SGD", "Nesterov", "momentum"});
  expect_error(
      [&] { optim::SGD({p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)); },
      {"SGD", "Nesterov", "dampening"});
  expect_error([&] { optim::SGD({p}, optim::SGDOptions(-0.1)); }, {"SGD", "learning rate", "-0.1"});
  expect_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).momentum(-1)); }, {"SGD", "momentum"});
  expect_error([&] { optim::SGD({p}, optim::SGDOptions(0.1).weight_decay(-1)); },
               {"SGD", "weight_decay"});
  Tensor nonleaf = p * 2;
  expect_error([&] { optim::SGD({nonleaf}, optim::SGDOptions(0.1)); }, {"non-leaf", "[2]"});
  expect_error([&] { optim::SGD({sigma::zeros({2}, sigma::kLong)}, optim::SGDOptions(0.1)); },
               {"int64", "floating"});
  expect_error([&] { optim::SGD({p, p}, optim::SGDOptions(0.1)); }, {"more than once"});
  expect_error([&] { optim::SGD({Tensor()}, optim::SGDOptions(0.1)); }, {"undefined"});
  // A group's options set out of range later are refused at step.
  optim::SGD opt({p}, optim::SGDOptions(0.1));
  opt.param_groups()[0].options().lr(-1.0);
  set_grad(p, {1.0, 1.0});
  expect_error([&] { opt.step(); }, {"SGD", "learning rate"});
  // A gradient of the wrong shape.
  optim::SGD opt2({p}, optim::SGDOptions(0.1));
  p.mutable_grad() = sigma::zeros({3});
  expect_error([&] { opt2.step(); }, {"SGD", "[3]", "[2]"});
}

TEST(SGDTest, MomentumConvergesOnAQuadratic) {
  // f(p) = sum s_i (p_i - c_i)^2, minimum at c.
  const Tensor c = sigma::tensor({1.5, -2.0, 0.25, 3.0}, sigma::kFloat64);
  const Tensor s = sigma::tensor({1.0, 0.5, 2.0, 0.1}, sigma::kFloat64);
  for (bool nesterov : {false, true}) {
    Tensor p = sigma::zeros({4}, sigma::kFloat64).requires_grad_();
    optim::SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9).nesterov(nesterov));
    for (int i = 0; i < 500; ++i) {
      opt.zero_grad();
      (s * (p - c).square()).sum().backward();
      opt.step();
    }
    const auto pv = values(p), cv = values(c);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(pv[i], cv[i], 1e-6) << nesterov << " " << i;
  }
}

TEST(SGDTest, TrainsAModule) {
  sigma::manual_seed(3);
  sigma::nn::Linear lin(3, 1);
  const Tensor x = sigma::test::random_tensor({16, 3}, sigma::kFloat32, 21);
  const Tensor y = x.matmul(sigma::tensor({1.0f, -2.0f, 0.5f}).reshape({3, 1})) + 0.25f;
  optim::SGD opt(lin->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    Tensor loss = (lin(x) - y).square().mean();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 1e-8 + first * 1e-6);
  EXPECT_NEAR(values(lin->bias)[0], 0.25, 1e-3);
}

}  // namespace
