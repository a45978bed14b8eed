// Tests of the learning-rate schedulers (src/optim/schedulers.cpp): StepLR and
// ExponentialLR by repeated multiplication, CosineAnnealingLR by its closed
// form in long double, LambdaLR from its functions, for several groups; the
// optimizer steps with the scheduled rate; ReduceLROnPlateauScheduler on
// metric sequences traced by hand from PyTorch's documented rule (min/max
// modes, rel/abs thresholds, patience, cooldown, min_lr, eps) and against a
// transcription of torch/optim/lr_scheduler.py on random sequences; and the
// argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

TEST(ExponentialLRTest, MultipliesByGammaEveryStep) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  optim::ExponentialLR sched(opt, 0.9);
  EXPECT_EQ(sched.get_last_lr(), (std::vector<double>{0.1, 0.5}));
  long double expect[2] = {0.1, 0.5};
  for (int t = 1; t <= 20; ++t) {
    sched.step();
    for (std::size_t i = 0; i < 2; ++i) {
      expect[i] *= static_cast<long double>(0.9);  // the double gamma the scheduler has
      EXPECT_NEAR(sched.get_last_lr()[i], static_cast<double>(expect[i]), 4e-16 * expect[i])
          << t << " " << i;
      EXPECT_EQ(group_lrs(opt)[i], sched.get_last_lr()[i]);
    }
  }
}

TEST(LambdaLRTest, OneFunctionForAllGroupsAppliedFromTheStart) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  optim::LambdaLR sched(opt, [](std::int64_t t) { return 0.5 + static_cast<double>(t); });
  // PyTorch sets base_lr lr_lambda(0) when the scheduler is made.
  EXPECT_EQ(group_lrs(opt), (std::vector<double>{0.1 * 0.5, 0.5 * 0.5}));
  EXPECT_EQ(sched.get_last_lr(), group_lrs(opt));
  EXPECT_EQ(sched.base_lrs(), (std::vector<double>{0.1, 0.5}));
  for (int t = 1; t <= 5; ++t) {
    sched.step();
    EXPECT_EQ(group_lrs(opt), (std::vector<double>{0.1 * (0.5 + t), 0.5 * (0.5 + t)}));
  }
}

TEST(LambdaLRTest, OneFunctionPerGroup) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  optim::LambdaLR sched(opt, std::vector<optim::LambdaLR::LRLambda>{
                                 [](std::int64_t t) { return 1.0 / static_cast<double>(t + 1); },
                                 [](std::int64_t t) { return t < 3 ? 1.0 : 0.25; }});
  for (int t = 1; t <= 5; ++t) {
    sched.step();
    EXPECT_EQ(group_lrs(opt)[0], 0.1 * (1.0 / (t + 1)));
    EXPECT_EQ(group_lrs(opt)[1], t < 3 ? 0.5 : 0.125);
  }
  Tensor p = sigma::tensor({1.0}, sigma::kFloat64).requires_grad_();
  optim::SGD one({p}, optim::SGDOptions(1.0));
  optim::LambdaLR halve(one, [](std::int64_t) { return 0.5; });
  p.mutable_grad() = sigma::tensor({2.0}, sigma::kFloat64);
  one.step();
  EXPECT_EQ(values(p)[0], 1.0 - 0.5 * 2.0);
}

TEST(LambdaLRTest, ArgumentChecks) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  auto one = [](std::int64_t) { return 1.0; };
  expect_error(
      [&] { optim::LambdaLR(opt, std::vector<optim::LambdaLR::LRLambda>{one, one, one}); },
      {"LambdaLR", "expected 2 lr_lambdas", "got 3"});
  expect_error([&] { optim::LambdaLR(opt, std::vector<optim::LambdaLR::LRLambda>{one, {}}); },
               {"LambdaLR", "lr_lambda 1", "empty"});
  EXPECT_EQ(group_lrs(opt), (std::vector<double>{0.1, 0.5}));
}

// ---- ReduceLROnPlateau.

using Plateau = optim::ReduceLROnPlateauScheduler;

// The learning rate of group 0 after each metric.
std::vector<double> lrs_after(Plateau& sched, const optim::Optimizer& opt,
                              const std::vector<float>& metrics) {
  std::vector<double> out;
  for (float m : metrics) {
    sched.step(m);
    out.push_back(opt.param_groups()[0].options().lr());
    EXPECT_EQ(sched.get_last_lr(), group_lrs(opt));
  }
  return out;
}

TEST(ReduceLROnPlateauTest, DefaultsAsLibTorch) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  optim::ReduceLROnPlateau sched(opt);  // PyTorch's name for the same class
  EXPECT_EQ(sched.mode(), Plateau::min);
  EXPECT_EQ(sched.factor(), 0.1f);
  EXPECT_EQ(sched.patience(), 10);
  EXPECT_EQ(sched.threshold(), 1e-4);
  EXPECT_EQ(sched.threshold_mode(), Plateau::rel);
  EXPECT_EQ(sched.cooldown(), 0);
  EXPECT_EQ(sched.min_lrs(), std::vector<float>{0.0f});
  EXPECT_EQ(sched.eps(), 1e-8);
  EXPECT_EQ(sched.best(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(sched.last_epoch(), 0);
  // A constant metric: the first is the best, 11 bad epochs > patience 10 cut lr.
  std::vector<double> expect(12, 1.0);
  expect[11] = static_cast<double>(0.1f);
  EXPECT_EQ(lrs_after(sched, opt, std::vector<float>(12, 3.0f)), expect);
}

TEST(ReduceLROnPlateauTest, MinRelativeWithPatience) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  Plateau sched(opt, Plateau::min, 0.5, /*patience=*/1, /*threshold=*/0.1, Plateau::rel);
  // 10 best; 9.5 and 9.2 are not below 10 (1 - 0.1) = 9: cut at the second;
  // 8 is below 9: best; 7.5 and 7.3 are not below 7.2: cut.
  EXPECT_EQ(lrs_after(sched, opt, {10, 9.5f, 9.2f, 8, 7.5f, 7.3f}),
            (std::vector<double>{1, 1, 0.5, 0.5, 0.5, 0.25}));
  EXPECT_EQ(sched.best(), 8.0);
  EXPECT_EQ(sched.num_bad_epochs(), 0);
  EXPECT_EQ(sched.last_epoch(), 6);
}

TEST(ReduceLROnPlateauTest, MinAbsoluteWithCooldownAndMinLr) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  Plateau sched(opt, Plateau::min, 0.1, /*patience=*/0, /*threshold=*/1.0, Plateau::abs,
                /*cooldown=*/2, {0.02f});
  const double f1 = static_cast<double>(0.1f), f02 = static_cast<double>(0.02f);
  // 5 best; 4.5 not below 4: cut to 0.1, cooldown 2 epochs (4.4, 4.3 not
  // counted); 4.2: cut to max(0.01, 0.02) = 0.02; 1 best (cooldown runs);
  // 0.9 in cooldown; 0.8 bad: the cut is to min_lr, no change.
  EXPECT_EQ(lrs_after(sched, opt, {5, 4.5f, 4.4f, 4.3f, 4.2f, 1, 0.9f, 0.8f}),
            (std::vector<double>{1, f1, f1, f1, f02, f02, f02, f02}));
  EXPECT_EQ(sched.best(), 1.0);
  EXPECT_EQ(sched.cooldown_counter(), 2);
}

TEST(ReduceLROnPlateauTest, MaxModesStartFromMinusInfinity) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  Plateau relative(opt, Plateau::max, 0.5, 0, /*threshold=*/0.5, Plateau::rel);
  // 1 best; 1.4 not above 1.5: cut; 2 above 1.5: best; 2.9 not above 3: cut.
  EXPECT_EQ(lrs_after(relative, opt, {1, 1.4f, 2, 2.9f}), (std::vector<double>{1, 0.5, 0.5, 0.25}));
  EXPECT_EQ(relative.best(), 2.0);

  optim::SGD opt2({p}, optim::SGDOptions(1.0));
  Plateau absolute(opt2, Plateau::max, 0.5, 0, /*threshold=*/0.5, Plateau::abs);
  // 1 best; 1.4 not above 1 + 0.5: cut; 1.6 above: best.
  EXPECT_EQ(lrs_after(absolute, opt2, {1, 1.4f, 1.6f}), (std::vector<double>{1, 0.5, 0.5}));
  EXPECT_EQ(absolute.best(), static_cast<double>(1.6f));

  // A negative first metric is better than -inf (PyTorch; LibTorch 2 starts
  // at FLT_MIN and would cut here).
  optim::SGD opt3({p}, optim::SGDOptions(1.0));
  Plateau neg(opt3, Plateau::max, 0.5, 0);
  EXPECT_EQ(lrs_after(neg, opt3, {-5}), (std::vector<double>{1}));
  EXPECT_EQ(neg.best(), -5.0);
}

TEST(ReduceLROnPlateauTest, EpsAndMinLrPerGroup) {
  Tensor p = sigma::zeros({1}).requires_grad_();
  optim::SGD tiny({p}, optim::SGDOptions(1e-8));
  Plateau sched(tiny, Plateau::min, 0.5, 0);
  // The cut 1e-8 -> 5e-9 changes lr by less than eps = 1e-8: skipped.
  EXPECT_EQ(lrs_after(sched, tiny, {1, 2, 3}), (std::vector<double>{1e-8, 1e-8, 1e-8}));

  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(1.0));
  Plateau two(opt, Plateau::min, 0.5, 0, 1e-4, Plateau::rel, 0, {0.3f, 0.1f});
  const double f3 = static_cast<double>(0.3f), f1 = static_cast<double>(0.1f);
  const std::vector<std::vector<double>> expect = {
      {1, 0.5}, {0.5, 0.25}, {f3, 0.125}, {f3, f1}, {f3, f1}};
  for (std::size_t i = 0; i < expect.size(); ++i) {
    two.step(1.0f);
    EXPECT_EQ(group_lrs(opt), expect[i]) << "step " << i + 1;
  }
}

// PyTorch's ReduceLROnPlateau (torch/optim/lr_scheduler.py), transcribed in
// double for one group.
struct RefPlateau {
  bool max_mode, abs_mode;
  double factor, threshold, min_lr, eps, lr;
  int patience, cooldown;
  double best = 0;
  int bad = 0, cooldown_counter = 0;
  bool started = false;
  void step(double m) {
    if (!started) best = max_mode ? -INFINITY : INFINITY, started = true;
    bool better;
    if (!max_mode)
      better = abs_mode ? m < best - threshold : m < best * (1 - threshold);
    else
      better = abs_mode ? m > best + threshold : m > best * (threshold + 1);
    if (better) {
      best = m;
      bad = 0;
    } else {
      bad += 1;
    }
    if (cooldown_counter > 0) {
      cooldown_counter -= 1;
      bad = 0;
    }
    if (bad > patience) {
      const double new_lr = std::max(lr * factor, min_lr);
      if (lr - new_lr > eps) lr = new_lr;
      cooldown_counter = cooldown;
      bad = 0;
    }
  }
};

TEST(ReduceLROnPlateauTest, MatchesPyTorchsRuleOnRandomSequences) {
  std::uint64_t seed = 300;
  for (bool max_mode : {false, true})
    for (bool abs_mode : {false, true})
      for (int patience : {0, 2})
        for (int cooldown : {0, 3}) {
          const std::vector<double> noise = sigma::test::draw(60, -1, 1, ++seed);
          Tensor p = sigma::zeros({1}).requires_grad_();
          optim::SGD opt({p}, optim::SGDOptions(1.0));
          Plateau sched(opt, max_mode ? Plateau::max : Plateau::min, 0.5f, patience,
                        abs_mode ? 0.05 : 0.02, abs_mode ? Plateau::abs : Plateau::rel, cooldown,
                        {1e-3f});
          RefPlateau ref{max_mode, abs_mode, 0.5, abs_mode ? 0.05 : 0.02,
                         static_cast<double>(1e-3f), 1e-8, 1.0, patience, cooldown};
          for (std::size_t i = 0; i < noise.size(); ++i) {
            // A metric that improves, then drifts: both branches are taken.
            const double trend = max_mode ? std::min<double>(i, 20) : -std::min<double>(i, 20);
            const float m = static_cast<float>(5 + 0.2 * trend + 0.3 * noise[i]);
            sched.step(m);
            ref.step(m);
            ASSERT_EQ(opt.param_groups()[0].options().lr(), ref.lr)
                << "max " << max_mode << " abs " << abs_mode << " patience " << patience
                << " cooldown " << cooldown << " step " << i;
            ASSERT_EQ(sched.best(), ref.best);
            ASSERT_EQ(sched.num_bad_epochs(), ref.bad);
            ASSERT_EQ(sched.cooldown_counter(), ref.cooldown_counter);
          }
        }
}

TEST(ReduceLROnPlateauTest, ArgumentChecks) {
  Tensor a = sigma::zeros({1}).requires_grad_(), b = sigma::zeros({1}).requires_grad_();
  optim::SGD opt(two_groups(a, b), optim::SGDOptions(0.1));
  expect_error([&] { Plateau(opt, Plateau::min, 1.0f); },
               {"ReduceLROnPlateauScheduler", "factor should be < 1.0", "1"});
  expect_error([&] { Plateau(opt, Plateau::min, 0.1f, 10, 1e-4, Plateau::rel, 0, {0.1f}); },
               {"ReduceLROnPlateauScheduler", "min_lr has 1", "2 parameter groups"});
  Plateau sched(opt);
  opt.add_param_group(optim::OptimizerParamGroup({sigma::zeros({1}).requires_grad_()}));
  expect_error([&] { sched.step(1.0f); },
               {"ReduceLROnPlateauScheduler", "3 parameter groups", "2"});
}

}  // namespace
