// Tests of the learning-rate schedulers (src/optim/schedulers.cpp): StepLR by
// repeated multiplication, CosineAnnealingLR by its closed form in long
// double, for several groups, through and past T_max; the optimizer steps
// with the scheduled rate; and the argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace optim = sigma::optim;
using sigma::test::expect_error;
using sigma::test::values;

std::vector<optim::OptimizerParamGroup> two_groups(const Tensor& a, const Tensor& b) {
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b},
                      std::make_unique<optim::SGDOptions>(optim::SGDOptions(0.5)));
  return groups;
}

std::vector<double> group_lrs(const optim::Optimizer& opt) {
  std::vector<double> lrs;
  for (const auto& g : opt.param_groups()) lrs.push_back(g.options().lr());
  return lrs;
}

TEST(StepLRTest, DecaysByGammaEveryStepSize) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  optim::StepLR sched(opt, 3, 0.5);
  EXPECT_EQ(sched.get_last_lr(), (std::vector<double>{0.1, 0.5}));
  std::vector<double> expect = {0.1, 0.5};
  for (int t = 1; t <= 13; ++t) {
    sched.step();
    if (t % 3 == 0)
      for (double& e : expect) e *= 0.5;
    const auto got = sched.get_last_lr();
    ASSERT_EQ(got.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_NEAR(got[i], expect[i], 1e-16 * expect[i]) << "t " << t << " group " << i;
      EXPECT_EQ(group_lrs(opt)[i], got[i]);
    }
    EXPECT_EQ(sched.last_epoch(), t);
  }
}

TEST(StepLRTest, DefaultGammaAndTheOptimizerUsesTheRate) {
  Tensor p = sigma::tensor({1.0}, sigma::kFloat64).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  optim::StepLR sched(opt, 1);  // gamma = 0.1
  sched.step();
  EXPECT_NEAR(sched.get_last_lr()[0], 0.1, 1e-17);
  p.mutable_grad() = sigma::tensor({2.0}, sigma::kFloat64);
  opt.step();
  EXPECT_NEAR(values(p)[0], 1.0 - 0.1 * 2.0, 1e-16);
}

TEST(CosineAnnealingLRTest, ClosedFormThroughAndPastTMax) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  const std::int64_t T = 10;
  const double eta_min = 0.001;
  optim::CosineAnnealingLR sched(opt, T, eta_min);
  EXPECT_EQ(sched.get_last_lr(), (std::vector<double>{0.1, 0.5}));
  const long double pi = std::numbers::pi_v<long double>;
  for (int t = 1; t <= 25; ++t) {
    sched.step();
    for (std::size_t i = 0; i < 2; ++i) {
      const long double base = i == 0 ? 0.1L : 0.5L;
      const long double ref =
          eta_min + (base - eta_min) * (1 + std::cos(pi * t / static_cast<long double>(T))) / 2;
      EXPECT_NEAR(sched.get_last_lr()[i], static_cast<double>(ref), 1e-15) << t << " " << i;
      EXPECT_EQ(group_lrs(opt)[i], sched.get_last_lr()[i]);
    }
    if (t == T) {
      EXPECT_NEAR(sched.get_last_lr()[0], eta_min, 1e-17);
    }
  }
}

TEST(SchedulerTest, ArgumentChecks) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(0.1));
  expect_error([&] { optim::StepLR(opt, 0); }, {"StepLR", "step_size", "0"});
  expect_error([&] { optim::CosineAnnealingLR(opt, -2); }, {"CosineAnnealingLR", "T_max", "-2"});
  optim::StepLR sched(opt, 2);
  opt.add_param_group(optim::OptimizerParamGroup({sigma::zeros({1}).requires_grad_()}));
  expect_error([&] { sched.step(); }, {"LRScheduler", "2 parameter groups", "1"});
}

TEST(SchedulerTest, WorksWithAdam) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::Adam opt({p}, optim::AdamOptions(0.01));
  optim::CosineAnnealingLR sched(opt, 4);
  for (int i = 0; i < 4; ++i) sched.step();
  EXPECT_NEAR(static_cast<optim::AdamOptions&>(opt.param_groups()[0].options()).lr(), 0.0, 1e-18);
}

}  // namespace
