// sigma/optim/schedulers.h: learning-rate schedules, as torch::optim::StepLR,
// LibTorch 2's ReduceLROnPlateauScheduler and PyTorch's ExponentialLR,
// CosineAnnealingLR and LambdaLR. The LRSchedulers set every group's lr from
// its value when the scheduler was made (base_lr) and the number of step()
// calls t, by PyTorch's closed form:
//   StepLR:            base_lr gamma^floor(t / step_size)
//   ExponentialLR:     base_lr gamma^t
//   CosineAnnealingLR: eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2
//   LambdaLR:          base_lr lr_lambda(t), one function for all groups or one
//                      per group; applied at t = 0 when made, as PyTorch does
// ReduceLROnPlateauScheduler instead watches a metric (below).
// StepLR follows PyTorch's rule; LibTorch 1.13's C++ StepLR decays one step()
// later (it tests its count before incrementing it): with step_size 2 it
// gives 0.1, 0.1, 0.05, 0.05 where PyTorch and sigma give 0.1, 0.05, 0.05,
// 0.025 after each step (docs/LIBTORCH.md).
//   sigma::optim::StepLR sched(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (epoch ...) { train(...); sched.step(); }
// A scheduler's state is t, base_lr and the last rates: a new scheduler made
// for a reloaded optimizer would take the decayed rates as base_lr and start
// at t = 0, so resuming needs sigma::save / sigma::load of the scheduler too
// (sigma/optim/serialize.h), as of the optimizer.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sigma/optim/optimizer.h"

namespace sigma::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  // Advances t by one and sets the learning rates.
  void step();
  // The learning rates last set (base_lr for each group before any step).
  const std::vector<double>& get_last_lr() const noexcept { return last_lrs_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }
  // Sets t, base_lr and the last rates, as a resumed scheduler; the groups'
  // rates are not touched (they come back with the optimizer). sigma::Error,
  // and no change, unless t >= 0 and both lists have one rate per group.
  void load_state(std::int64_t last_epoch, std::vector<double> base_lrs,
                  std::vector<double> last_lrs);

 protected:
  // The learning rates at step t.
  virtual std::vector<double> get_lrs(std::int64_t t) const = 0;
  // Sets every group's rate and the last rates to lrs (one per group).
  void set_lrs(std::vector<double> lrs);

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lrs_;
  std::int64_t last_epoch_ = 0;
};

class StepLR : public LRScheduler {
 public:
  // sigma::Error unless step_size > 0.
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);
  std::int64_t step_size() const noexcept { return step_size_; }
  double gamma() const noexcept { return gamma_; }

 protected:
  std::vector<double> get_lrs(std::int64_t t) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  // sigma::Error unless T_max > 0.
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0);
  std::int64_t T_max() const noexcept { return T_max_; }
  double eta_min() const noexcept { return eta_min_; }

 protected:
  std::vector<double> get_lrs(std::int64_t t) const override;

 private:
  std::int64_t T_max_;
  double eta_min_;
};

class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);
  double gamma() const noexcept { return gamma_; }

 protected:
  std::vector<double> get_lrs(std::int64_t t) const override;

 private:
  double gamma_;
};

// The functions are not saved by sigma::save (PyTorch saves none that are
// plain functions either): a loaded LambdaLR keeps the ones it was made with.
class LambdaLR : public LRScheduler {
 public:
  using LRLambda = std::function<double(std::int64_t)>;
  // sigma::Error if a function is empty, or if there is not one per group.
  LambdaLR(Optimizer& optimizer, LRLambda lr_lambda);
  LambdaLR(Optimizer& optimizer, std::vector<LRLambda> lr_lambdas);
  std::size_t num_lambdas() const noexcept { return lr_lambdas_.size(); }

 protected:
  std::vector<double> get_lrs(std::int64_t t) const override;

 private:
  std::vector<LRLambda> lr_lambdas_;  // one per group
};

// Cuts every group's lr by factor when a metric stops improving, as
// LibTorch 2's torch::optim::ReduceLROnPlateauScheduler and PyTorch's
// ReduceLROnPlateau. On step(metric) with t = t + 1:
//   better:  metric < best (1 - threshold)  (min, rel)   metric < best - threshold  (min, abs)
//            metric > best (1 + threshold)  (max, rel)   metric > best + threshold  (max, abs)
//   if better: best = metric, bad = 0, else bad = bad + 1
//   if cooldown_counter > 0: cooldown_counter -= 1, bad = 0
//   if bad > patience: every group's lr = max(lr factor, min_lr) unless that
//     changes it by eps or less; cooldown_counter = cooldown, bad = 0
// best starts at +inf (min) or -inf (max), as PyTorch. LibTorch 2.x differs
// there (it starts max mode at FLT_MIN and tests max/abs as
// metric > best threshold); sigma follows PyTorch. factor and min_lr are
// floats as LibTorch spells them, so the cut is by float(factor).
//   sigma::optim::ReduceLROnPlateau sched(opt, sigma::optim::ReduceLROnPlateau::max);
//   for (epoch ...) { train(...); sched.step(accuracy); }
class ReduceLROnPlateauScheduler {
 public:
  enum SchedulerMode { min, max };
  enum ThresholdMode { rel, abs };
  // sigma::Error unless factor < 1 and min_lr is empty (0 for every group)
  // or has one rate per group.
  ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode = min, float factor = 0.1,
                             int patience = 10, double threshold = 1e-4,
                             ThresholdMode threshold_mode = rel, int cooldown = 0,
                             const std::vector<float> min_lr = std::vector<float>(),
                             double eps = 1e-8, bool verbose = false);
  virtual ~ReduceLROnPlateauScheduler() = default;

  void step(float metric);

  // The groups' learning rates after the last step (before any: when made).
  const std::vector<double>& get_last_lr() const noexcept { return last_lrs_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  double best() const noexcept { return best_; }
  std::int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }
  std::int64_t cooldown_counter() const noexcept { return cooldown_counter_; }

  SchedulerMode mode() const noexcept { return mode_; }
  float factor() const noexcept { return factor_; }
  int patience() const noexcept { return patience_; }
  double threshold() const noexcept { return threshold_; }
  ThresholdMode threshold_mode() const noexcept { return threshold_mode_; }
  int cooldown() const noexcept { return cooldown_; }
  const std::vector<float>& min_lrs() const noexcept { return min_lrs_; }
  double eps() const noexcept { return eps_; }

  // Sets the counters and the last rates, as a resumed scheduler; the groups'
  // rates are not touched (they come back with the optimizer). sigma::Error,
  // and no change, if a count is negative or last_lrs has not one rate per group.
  void load_state(std::int64_t last_epoch, double best, std::int64_t num_bad_epochs,
                  std::int64_t cooldown_counter, std::vector<double> last_lrs);

 private:
  bool is_better(double metric) const;

  Optimizer& optimizer_;
  SchedulerMode mode_;
  float factor_;
  int patience_;
  double threshold_;
  ThresholdMode threshold_mode_;
  int cooldown_;
  std::vector<float> min_lrs_;
  double eps_;
  bool verbose_;
  double best_;
  std::int64_t last_epoch_ = 0;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t cooldown_counter_ = 0;
  std::vector<double> last_lrs_;
};

// PyTorch's name.
using ReduceLROnPlateau = ReduceLROnPlateauScheduler;

}  // namespace sigma::optim
