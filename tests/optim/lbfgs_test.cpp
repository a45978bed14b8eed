// Tests of sigma::optim::LBFGS (src/optim/lbfgs.cpp): the first iteration by
// hand (x - min(1, 1 / sum|g|) lr g), the two-loop direction of the second
// against the BFGS update written here on a 2-d quadratic, convergence of
// the strong-Wolfe search on an ill-conditioned quadratic and on Rosenbrock,
// the stopping rules (tolerance_grad, max_eval), the defaults and the checks.
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

// f(x) = sum_i a_i x_i^2 / 2 in float64, with gradient a_i x_i.
Tensor quadratic(const Tensor& x, const std::vector<double>& a) {
  return (sigma::tensor(a, sigma::kFloat64) * x * x).sum() * 0.5;
}

TEST(LBFGSTest, FirstIterationByHand) {
  Tensor x = sigma::tensor({1.0, -2.0}, sigma::kFloat64).requires_grad_();
  optim::LBFGS opt({x}, optim::LBFGSOptions(0.5).max_iter(1));
  int calls = 0;
  Tensor loss = opt.step([&] {
    ++calls;
    opt.zero_grad();
    Tensor l = quadratic(x, {1.0, 3.0});
    l.backward();
    return l;
  });
  // g = (1, -6), sum|g| = 7: t = lr / 7; one call (max_iter 1 skips the re-evaluation).
  EXPECT_EQ(calls, 1);
  EXPECT_NEAR(loss.item<double>(), 0.5 * (1 + 12), 1e-15);
  EXPECT_NEAR(values(x)[0], 1.0 - 0.5 / 7 * 1.0, 1e-15);
  EXPECT_NEAR(values(x)[1], -2.0 + 0.5 / 7 * 6.0, 1e-15);
  const auto& st = static_cast<const optim::LBFGSParamState&>(*opt.state().begin()->second);
  EXPECT_EQ(st.n_iter(), 1);
  EXPECT_EQ(st.func_evals(), 1);
}

TEST(LBFGSTest, SecondDirectionIsTheBFGSUpdate) {
  // With one (s, y) pair and H0 = (y.s / y.y) I, the two-loop recursion is
  // H = (I - r s y')(H0)(I - r y s') + r s s', r = 1 / y.s; d = -H g.
  const std::vector<double> a = {1.0, 4.0};
  Tensor x = sigma::tensor({1.0, 1.0}, sigma::kFloat64).requires_grad_();
  // max_eval: the default max_iter 5 / 4 = 2 would stop after the first iteration.
  optim::LBFGS opt({x}, optim::LBFGSOptions(1.0).max_iter(2).max_eval(10));
  opt.step([&] {
    opt.zero_grad();
    Tensor l = quadratic(x, a);
    l.backward();
    return l;
  });
  // By hand: x0 = (1, 1), g0 = (1, 4), t0 = 1/5, x1 = (0.8, 0.2), g1 = (0.8, 0.8).
  const double s[2] = {-0.2, -0.8}, y[2] = {-0.2, -3.2};
  const double ys = s[0] * y[0] + s[1] * y[1], yy = y[0] * y[0] + y[1] * y[1];
  const double r = 1 / ys, h0 = ys / yy;
  const double g[2] = {0.8, 0.8};
  double H[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double v = 0;
      for (int k = 0; k < 2; ++k) {
        const double left = (i == k) - r * s[i] * y[k];
        const double right = (k == j) - r * y[k] * s[j];
        v += left * h0 * right;
      }
      H[i][j] = v + r * s[i] * s[j];
    }
  const double d[2] = {-(H[0][0] * g[0] + H[0][1] * g[1]), -(H[1][0] * g[0] + H[1][1] * g[1])};
  EXPECT_NEAR(values(x)[0], 0.8 + d[0], 1e-14);
  EXPECT_NEAR(values(x)[1], 0.2 + d[1], 1e-14);
}

TEST(LBFGSTest, StrongWolfeConvergesOnQuadraticAndRosenbrock) {
  const std::vector<double> a = {1.0, 10.0, 100.0, 1000.0};
  Tensor x = sigma::tensor({1.0, -1.0, 0.5, 0.25}, sigma::kFloat64).requires_grad_();
  optim::LBFGS opt({x}, optim::LBFGSOptions(1.0).max_iter(50).line_search_fn("strong_wolfe"));
  auto closure = [&] {
    opt.zero_grad();
    Tensor l = quadratic(x, a);
    l.backward();
    return l;
  };
  opt.step(closure);
  for (double v : values(x)) EXPECT_NEAR(v, 0.0, 1e-6);

  // Rosenbrock (1 - u)^2 + 100 (v - u^2)^2 from (-1.5, 2): minimum at (1, 1).
  Tensor u = sigma::tensor({-1.5}, sigma::kFloat64).requires_grad_();
  Tensor v = sigma::tensor({2.0}, sigma::kFloat64).requires_grad_();
  optim::LBFGS ros(
      {u, v}, optim::LBFGSOptions(1.0).max_iter(200).max_eval(400).line_search_fn("strong_wolfe"));
  ros.step([&] {
    ros.zero_grad();
    Tensor w = v - u * u;
    Tensor l = ((1.0 - u) * (1.0 - u) + w * w * 100.0).sum();
    l.backward();
    return l;
  });
  EXPECT_NEAR(values(u)[0], 1.0, 1e-5);
  EXPECT_NEAR(values(v)[0], 1.0, 1e-5);
}

TEST(LBFGSTest, StoppingRules) {
  // A gradient already below tolerance_grad: one call, no move.
  Tensor x = sigma::tensor({1e-9}, sigma::kFloat64).requires_grad_();
  optim::LBFGS opt({x});
  int calls = 0;
  auto closure = [&] {
    ++calls;
    opt.zero_grad();
    Tensor l = quadratic(x, {1.0});
    l.backward();
    return l;
  };
  opt.step(closure);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(values(x)[0], 1e-9);
  // max_eval bounds the calls of one step.
  Tensor z = sigma::tensor({1.0, 2.0}, sigma::kFloat64).requires_grad_();
  optim::LBFGS capped({z}, optim::LBFGSOptions(0.01).max_iter(100).max_eval(7));
  calls = 0;
  capped.step([&] {
    ++calls;
    capped.zero_grad();
    Tensor l = quadratic(z, {1.0, 2.0});
    l.backward();
    return l;
  });
  EXPECT_EQ(calls, 7);
}

TEST(LBFGSTest, DefaultsAndChecks) {
  const optim::LBFGSOptions o;
  EXPECT_EQ(o.lr(), 1.0);
  EXPECT_EQ(o.max_iter(), 20);
  EXPECT_FALSE(o.max_eval().has_value());
  EXPECT_EQ(o.tolerance_grad(), 1e-7);
  EXPECT_EQ(o.tolerance_change(), 1e-9);
  EXPECT_EQ(o.history_size(), 100);
  EXPECT_FALSE(o.line_search_fn().has_value());
  Tensor p = sigma::zeros({2}).requires_grad_();
  optim::LBFGS opt({p});
  EXPECT_EQ(static_cast<const optim::LBFGSOptions&>(opt.param_groups()[0].options()).max_eval(),
            std::optional<std::int64_t>(25));  // max_iter 5 / 4, as LibTorch
  expect_error([&] { opt.step(nullptr); }, {"LBFGS", "closure"});
  expect_error([&] { optim::LBFGS({p}, optim::LBFGSOptions().line_search_fn("backtracking")); },
               {"LBFGS", "line_search_fn", "backtracking", "strong_wolfe"});
  expect_error([&] { optim::LBFGS({p}, optim::LBFGSOptions().history_size(0)); },
               {"LBFGS", "history_size"});
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{p});
  groups.emplace_back(std::vector<Tensor>{sigma::zeros({1}).requires_grad_()});
  expect_error([&] { optim::LBFGS(std::move(groups)); }, {"LBFGS", "parameter groups"});
}

}  // namespace
