// sigma/optim/schedulers.h: learning-rate schedules, as torch::optim::StepLR
// and PyTorch's CosineAnnealingLR. Each sets every group's lr from its value
// when the scheduler was made (base_lr) and the number of step() calls t,
// by PyTorch's closed form:
//   StepLR:            base_lr gamma^floor(t / step_size)
//   CosineAnnealingLR: eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2
//   sigma::optim::StepLR sched(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (epoch ...) { train(...); sched.step(); }
// A scheduler's state is t, base_lr and the last rates: a new scheduler made
// for a reloaded optimizer would take the decayed rates as base_lr and start
// at t = 0, so resuming needs sigma::save / sigma::load of the scheduler too
// (sigma/optim/serialize.h), as of the optimizer.
#pragma once

#include <cstdint>
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

}  // namespace sigma::optim
