// schedulers.cpp: StepLR, ExponentialLR, CosineAnnealingLR and LambdaLR by
// PyTorch's closed forms, from the learning rates the groups had when the
// scheduler was made; ReduceLROnPlateauScheduler by PyTorch's rule.
#include "sigma/optim/schedulers.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <numbers>
#include <sstream>
#include <string>
#include <utility>

namespace sigma::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const auto& group : optimizer_.param_groups()) base_lrs_.push_back(group.options().get_lr());
  last_lrs_ = base_lrs_;
}

void LRScheduler::step() {
  auto& groups = optimizer_.param_groups();
  if (groups.size() != base_lrs_.size())
    throw Error("LRScheduler::step: the optimizer has " + std::to_string(groups.size()) +
                " parameter groups, but had " + std::to_string(base_lrs_.size()) +
                " when the scheduler was made");
  ++last_epoch_;
  set_lrs(get_lrs(last_epoch_));
}

void LRScheduler::set_lrs(std::vector<double> lrs) {
  auto& groups = optimizer_.param_groups();
  for (std::size_t i = 0; i < groups.size() && i < lrs.size(); ++i)
    groups[i].options().set_lr(lrs[i]);
  last_lrs_ = std::move(lrs);
}

void LRScheduler::load_state(std::int64_t last_epoch, std::vector<double> base_lrs,
                             std::vector<double> last_lrs) {
  const std::size_t groups = optimizer_.param_groups().size();
  if (last_epoch < 0)
    throw Error("LRScheduler::load_state: the step count must be >= 0, got " +
                std::to_string(last_epoch));
  if (base_lrs.size() != groups || last_lrs.size() != groups)
    throw Error("LRScheduler::load_state: " + std::to_string(base_lrs.size()) + " base and " +
                std::to_string(last_lrs.size()) + " last learning rates for an optimizer with " +
                std::to_string(groups) + " parameter groups");
  last_epoch_ = last_epoch;
  base_lrs_ = std::move(base_lrs);
  last_lrs_ = std::move(last_lrs);
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size <= 0)
    throw Error("StepLR: step_size must be positive, got " + std::to_string(step_size));
}

// base_lr gamma^floor(t / step_size)
std::vector<double> StepLR::get_lrs(std::int64_t t) const {
  const double factor = std::pow(gamma_, static_cast<double>(t / step_size_));
  std::vector<double> lrs;
  lrs.reserve(base_lrs().size());
  for (double base : base_lrs()) lrs.push_back(base * factor);
  return lrs;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  if (T_max <= 0)
    throw Error("CosineAnnealingLR: T_max must be positive, got " + std::to_string(T_max));
}

// eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2
std::vector<double> CosineAnnealingLR::get_lrs(std::int64_t t) const {
  const double c =
      (1.0 + std::cos(std::numbers::pi * static_cast<double>(t) / static_cast<double>(T_max_))) /
      2.0;
  std::vector<double> lrs;
  lrs.reserve(base_lrs().size());
  for (double base : base_lrs()) lrs.push_back(eta_min_ + (base - eta_min_) * c);
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {}

// base_lr gamma^t
std::vector<double> ExponentialLR::get_lrs(std::int64_t t) const {
  const double factor = std::pow(gamma_, static_cast<double>(t));
  std::vector<double> lrs;
  lrs.reserve(base_lrs().size());
  for (double base : base_lrs()) lrs.push_back(base * factor);
  return lrs;
}

LambdaLR::LambdaLR(Optimizer& optimizer, LRLambda lr_lambda)
    : LambdaLR(optimizer, std::vector<LRLambda>(optimizer.param_groups().size(), lr_lambda)) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<LRLambda> lr_lambdas)
    : LRScheduler(optimizer), lr_lambdas_(std::move(lr_lambdas)) {
  if (lr_lambdas_.size() != base_lrs().size())
    throw Error("LambdaLR: expected " + std::to_string(base_lrs().size()) +
                " lr_lambdas (one per parameter group), but got " +
                std::to_string(lr_lambdas_.size()));
  for (std::size_t i = 0; i < lr_lambdas_.size(); ++i)
    if (!lr_lambdas_[i])
      throw Error("LambdaLR: lr_lambda " + std::to_string(i) + " is an empty function");
  set_lrs(get_lrs(0));  // PyTorch applies lr_lambda(0) when the scheduler is made
}

// base_lr lr_lambda(t)
std::vector<double> LambdaLR::get_lrs(std::int64_t t) const {
  std::vector<double> lrs;
  lrs.reserve(base_lrs().size());
  for (std::size_t i = 0; i < base_lrs().size(); ++i)
    lrs.push_back(base_lrs()[i] * lr_lambdas_[i](t));
  return lrs;
}

ReduceLROnPlateauScheduler::ReduceLROnPlateauScheduler(
    Optimizer& optimizer, SchedulerMode mode, float factor, int patience, double threshold,
    ThresholdMode threshold_mode, int cooldown, const std::vector<float> min_lr, double eps,
    bool verbose)
    : optimizer_(optimizer),
      mode_(mode),
      factor_(factor),
      patience_(patience),
      threshold_(threshold),
      threshold_mode_(threshold_mode),
      cooldown_(cooldown),
      min_lrs_(min_lr),
      eps_(eps),
      verbose_(verbose) {
  const std::size_t groups = optimizer_.param_groups().size();
  if (min_lrs_.empty()) min_lrs_.assign(groups, 0.0f);
  if (min_lrs_.size() != groups)
    throw Error("ReduceLROnPlateauScheduler: min_lr has " + std::to_string(min_lr.size()) +
                " learning rates, but the optimizer has " + std::to_string(groups) +
                " parameter groups (give none, or one per group)");
  if (!(factor < 1.0f)) {
    std::ostringstream m;
    m << "ReduceLROnPlateauScheduler: factor should be < 1.0, got " << factor;
    throw Error(m.str());
  }
  if (mode != min && mode != max)
    throw Error("ReduceLROnPlateauScheduler: mode " + std::to_string(static_cast<int>(mode)) +
                " is neither min nor max");
  if (threshold_mode != rel && threshold_mode != abs)
    throw Error("ReduceLROnPlateauScheduler: threshold_mode " +
                std::to_string(static_cast<int>(threshold_mode)) + " is neither rel nor abs");
  best_ = mode == min ? std::numeric_limits<double>::infinity()
                      : -std::numeric_limits<double>::infinity();
  for (const auto& group : optimizer_.param_groups()) last_lrs_.push_back(group.options().lr());
}

bool ReduceLROnPlateauScheduler::is_better(double a) const {
  if (mode_ == min)
    return threshold_mode_ == rel ? a < best_ * (1.0 - threshold_) : a < best_ - threshold_;
  return threshold_mode_ == rel ? a > best_ * (1.0 + threshold_) : a > best_ + threshold_;
}

void ReduceLROnPlateauScheduler::step(float metric) {
  auto& groups = optimizer_.param_groups();
  if (groups.size() != min_lrs_.size())
    throw Error("ReduceLROnPlateauScheduler::step: the optimizer has " +
                std::to_string(groups.size()) + " parameter groups, but had " +
                std::to_string(min_lrs_.size()) + " when the scheduler was made");
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > patience_) {
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const double old_lr = groups[i].options().lr();
      const double new_lr =
          std::fmax(old_lr * static_cast<double>(factor_), static_cast<double>(min_lrs_[i]));
      if (old_lr - new_lr > eps_) {
        groups[i].options().set_lr(new_lr);
        if (verbose_)
          std::cout << std::setprecision(4) << "Epoch " << last_epoch_
                    << ": reducing learning rate of group " << i << " to " << new_lr << '\n';
      }
    }
    cooldown_counter_ = cooldown_;
    num_bad_epochs_ = 0;
  }
  last_lrs_.clear();
  for (const auto& group : groups) last_lrs_.push_back(group.options().lr());
}

void ReduceLROnPlateauScheduler::load_state(std::int64_t last_epoch, double best,
                                            std::int64_t num_bad_epochs,
                                            std::int64_t cooldown_counter,
                                            std::vector<double> last_lrs) {
  const std::size_t groups = optimizer_.param_groups().size();
  if (last_epoch < 0 || num_bad_epochs < 0 || cooldown_counter < 0)
    throw Error("ReduceLROnPlateauScheduler::load_state: counts must be >= 0, got last_epoch " +
                std::to_string(last_epoch) + ", num_bad_epochs " +
                std::to_string(num_bad_epochs) + ", cooldown_counter " +
                std::to_string(cooldown_counter));
  if (last_lrs.size() != groups)
    throw Error("ReduceLROnPlateauScheduler::load_state: " + std::to_string(last_lrs.size()) +
                " last learning rates for an optimizer with " + std::to_string(groups) +
                " parameter groups");
  last_epoch_ = last_epoch;
  best_ = best;
  num_bad_epochs_ = num_bad_epochs;
  cooldown_counter_ = cooldown_counter;
  last_lrs_ = std::move(last_lrs);
}

}  // namespace sigma::optim
