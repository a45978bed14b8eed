// schedulers.cpp: StepLR and CosineAnnealingLR by PyTorch's closed forms,
// from the learning rates the groups had when the scheduler was made.
#include "sigma/optim/schedulers.h"

#include <cmath>
#include <numbers>
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
  std::vector<double> lrs = get_lrs(last_epoch_);
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lrs[i]);
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

}  // namespace sigma::optim
