// Tests of sigma::optim::Adagrad (src/optim/adagrad.cpp): every step against
// a plain double implementation of PyTorch's update (torch/optim/adagrad.py)
// written here, for combinations of lr_decay, weight_decay,
// initial_accumulator_value and eps, in float64 and float32; the state made at
// construction, per-group options, the defaults and the option checks.
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

struct RefAdagrad {
  double lr, lr_decay, weight_decay, initial, eps;
  std::vector<double> sum;
  int t = 0;
  void step(std::vector<double>& p, std::vector<double> g) {
    if (sum.empty()) sum = std::vector<double>(p.size(), initial);
    ++t;
    const double clr = lr / (1 + (t - 1) * lr_decay);
    for (std::size_t i = 0; i < p.size(); ++i) {
      g[i] += weight_decay * p[i];
      sum[i] += g[i] * g[i];
      p[i] -= clr * g[i] / (std::sqrt(sum[i]) + eps);
    }
  }
};

std::vector<double> grad_at(const std::vector<double>& p, int step) {
  std::vector<double> g(p.size());
  const double scale = (step % 3 == 1) ? 0.2 : 1.0;
  for (std::size_t i = 0; i < p.size(); ++i)
    g[i] = scale * (std::cos(p[i] * static_cast<double>(i + 1)) - 0.4 * p[i] + 0.1);
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

TEST(AdagradTest, StepsMatchPyTorchsEquationsForEveryOptionCombination) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-12 : 1e-5;
    for (double lr_decay : {0.0, 0.3})
      for (double wd : {0.0, 0.1})
        for (double initial : {0.0, 0.5})
          for (double eps : {1e-10, 1e-2}) {
            const std::string what = "lr_decay " + std::to_string(lr_decay) + " wd " +
                                     std::to_string(wd) + " initial " + std::to_string(initial) +
                                     " eps " + std::to_string(eps) + " " + sigma::to_string(dtype);
            Tensor p = sigma::tensor(sigma::test::draw(6, -1, 1, 43), sigma::kFloat64).to(dtype);
            p.requires_grad_();
            optim::Adagrad opt({p}, optim::AdagradOptions(0.05)
                                        .lr_decay(lr_decay)
                                        .weight_decay(wd)
                                        .initial_accumulator_value(initial)
                                        .eps(eps));
            RefAdagrad ref{0.05, lr_decay, wd, initial, eps, {}};
            for (int step = 0; step < 7; ++step) {
              set_grad(p, grad_at(values(p), step));
              std::vector<double> expect = values(p);
              ref.step(expect, values(p.grad()));
              opt.step();
              expect_near_all(values(p), expect, rtol, what + " step " + std::to_string(step));
            }
            const auto& st = static_cast<const optim::AdagradParamState&>(
                *opt.state().at(p.unsafeGetTensorImpl()));
            EXPECT_EQ(st.step(), 7);
            expect_near_all(values(st.sum()), ref.sum, rtol, what + " sum");
          }
  }
}

TEST(AdagradTest, FirstStepsByHand) {
  // t = 1: sum = 0.5 + 9, p = 2 - 0.1 * 3 / sqrt(9.5).
  // t = 2: lr 0.1 / (1 + 1 * 1) = 0.05, sum = 9.5 + 16, p -= 0.05 * 4 / sqrt(25.5).
  Tensor p = sigma::tensor({2.0}, sigma::kFloat64).requires_grad_();
  optim::Adagrad opt(
      {p}, optim::AdagradOptions(0.1).lr_decay(1.0).initial_accumulator_value(0.5).eps(0));
  set_grad(p, {3.0});
  opt.step();
  const double p1 = 2.0 - 0.1 * 3.0 / std::sqrt(9.5);
  EXPECT_NEAR(values(p)[0], p1, 1e-15);
  set_grad(p, {4.0});
  opt.step();
  EXPECT_NEAR(values(p)[0], p1 - 0.05 * 4.0 / std::sqrt(25.5), 1e-15);
}

TEST(AdagradTest, StateIsMadeAtConstructionFromEachGroupsOptions) {
  Tensor a = sigma::tensor({1.0, 2.0}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({3.0}, sigma::kFloat32).requires_grad_();
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b},
                      std::make_unique<optim::AdagradOptions>(
                          optim::AdagradOptions(0.1).initial_accumulator_value(2.5)));
  optim::Adagrad opt(std::move(groups), optim::AdagradOptions().initial_accumulator_value(0.25));
  ASSERT_EQ(opt.state().size(), 2u);
  const auto& sa =
      static_cast<const optim::AdagradParamState&>(*opt.state().at(a.unsafeGetTensorImpl()));
  const auto& sb =
      static_cast<const optim::AdagradParamState&>(*opt.state().at(b.unsafeGetTensorImpl()));
  EXPECT_EQ(sa.step(), 0);
  EXPECT_EQ(values(sa.sum()), (std::vector<double>{0.25, 0.25}));
  EXPECT_EQ(sb.sum().dtype(), sigma::kFloat32);
  EXPECT_EQ(values(sb.sum()), (std::vector<double>{2.5}));
  // A parameter without grad keeps its state untouched; one added later gets
  // its state on its first step.
  set_grad(a, {1.0, 1.0});
  opt.step();
  EXPECT_EQ(sb.step(), 0);
  EXPECT_EQ(values(b), (std::vector<double>{3.0}));
  Tensor c = sigma::tensor({0.0}, sigma::kFloat64).requires_grad_();
  opt.add_param_group(optim::OptimizerParamGroup(
      {c}, std::make_unique<optim::AdagradOptions>(
               optim::AdagradOptions(1.0).initial_accumulator_value(3.0))));
  set_grad(c, {1.0});
  opt.step();
  EXPECT_NEAR(values(c)[0], -1.0 / (2.0 + 1e-10), 1e-15);  // sqrt(3 + 1) = 2
}

TEST(AdagradTest, DefaultsAsLibTorch) {
  const optim::AdagradOptions o;
  EXPECT_EQ(o.lr(), 1e-2);
  EXPECT_EQ(o.lr_decay(), 0.0);
  EXPECT_EQ(o.weight_decay(), 0.0);
  EXPECT_EQ(o.initial_accumulator_value(), 0.0);
  EXPECT_EQ(o.eps(), 1e-10);
  EXPECT_TRUE(optim::AdagradOptions(0.1) == optim::AdagradOptions(0.1));
  EXPECT_FALSE(optim::AdagradOptions(0.1) == optim::AdagradOptions(0.1).lr_decay(1));
}

TEST(AdagradTest, OptionChecks) {
  Tensor p = sigma::zeros({2}).requires_grad_();
  expect_error([&] { optim::Adagrad({p}, optim::AdagradOptions(-1)); },
               {"Adagrad", "learning rate", "-1"});
  expect_error([&] { optim::Adagrad({p}, optim::AdagradOptions().lr_decay(-1)); },
               {"Adagrad", "lr_decay"});
  expect_error([&] { optim::Adagrad({p}, optim::AdagradOptions().weight_decay(-1)); },
               {"Adagrad", "weight_decay"});
  expect_error([&] { optim::Adagrad({p}, optim::AdagradOptions().initial_accumulator_value(-2)); },
               {"Adagrad", "initial_accumulator_value", "-2"});
  expect_error([&] { optim::Adagrad({p}, optim::AdagradOptions().eps(-1)); },
               {"Adagrad", "epsilon"});
}

TEST(AdagradTest, SameBitsForAnyThreadCount) {
  sigma::test::expect_same_bits_for_any_thread_count(
      [] {
        Tensor p = sigma::test::random_tensor({1 << 16}, sigma::kFloat32, 2).requires_grad_();
        optim::Adagrad opt({p}, optim::AdagradOptions(1e-2).lr_decay(0.1).weight_decay(0.01));
        for (std::uint64_t step = 0; step < 3; ++step) {
          p.mutable_grad() = sigma::test::random_tensor({1 << 16}, sigma::kFloat32, 20 + step);
          opt.step();
        }
        return std::vector<Tensor>{p.detach()};
      },
      "Adagrad");
}

}  // namespace
