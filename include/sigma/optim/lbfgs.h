// sigma/optim/lbfgs.h: L-BFGS, as torch::optim::LBFGS, with PyTorch's
// algorithm (torch/optim/lbfgs.py). One step() runs up to max_iter
// iterations on the parameters flattened into one vector x with gradient g:
//   d = -H g, H the two-loop recursion over the last history_size pairs
//       (s = t d, y = g_new - g, kept when y.s > 1e-10), scaled by y.s / y.y
//   t = min(1, 1 / sum|g|) lr on the very first iteration, else lr; or the
//       step of a strong-Wolfe line search (line_search_fn "strong_wolfe")
//   x = x + t d
// It stops early when max|g| <= tolerance_grad, when the directional
// derivative g.d > -tolerance_change, when max|t d| or the change of the loss
// is below tolerance_change, or after max_eval closure calls (default
// max_iter 5/4). step() needs the closure (it re-evaluates the loss) and
// returns the loss of its first call. The arithmetic is done in double.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "sigma/optim/optimizer.h"

namespace sigma::optim {

struct LBFGSOptions : public OptimizerCloneableOptions<LBFGSOptions> {
  LBFGSOptions(double lr = 1) : lr_(lr) {}                          // NOLINT: implicit, as LibTorch
  SIGMA_ARG(double, lr);                                            // step scale (default 1)
  SIGMA_ARG(std::int64_t, max_iter) = 20;                           // iterations per step()
  SIGMA_ARG(std::optional<std::int64_t>, max_eval) = std::nullopt;  // closure calls per step()
  SIGMA_ARG(double, tolerance_grad) = 1e-7;                         // stop at max|g| <= this
  SIGMA_ARG(double, tolerance_change) = 1e-9;                       // stop at smaller changes
  SIGMA_ARG(std::int64_t, history_size) = 100;                      // (s, y) pairs kept

 public:
  // None (the default) or "strong_wolfe", as LibTorch's
  // c10::optional<std::string>. Kept as a string and a flag: GCC 12 at -O1
  // reports a copied std::optional<std::string> member as maybe-uninitialized.
  LBFGSOptions& line_search_fn(const std::optional<std::string>& fn) {
    has_line_search_fn_ = fn.has_value();
    line_search_fn_ = fn.value_or(std::string());
    return *this;
  }
  std::optional<std::string> line_search_fn() const {
    if (!has_line_search_fn_) return std::nullopt;
    return line_search_fn_;
  }
  double get_lr() const override { return lr(); }
  void set_lr(double new_lr) override { lr(new_lr); }
  friend bool operator==(const LBFGSOptions& a, const LBFGSOptions& b);

 private:
  std::string line_search_fn_;
  bool has_line_search_fn_ = false;
};

// Kept for the first parameter, as in LibTorch; vectors are float64 and
// span all parameters.
struct LBFGSParamState : public OptimizerCloneableParamState<LBFGSParamState> {
  SIGMA_ARG(std::int64_t, func_evals) = 0;
  SIGMA_ARG(std::int64_t, n_iter) = 0;
  SIGMA_ARG(double, t) = 0;
  SIGMA_ARG(double, prev_loss) = 0;
  SIGMA_ARG(Tensor, d) = {};
  SIGMA_ARG(Tensor, H_diag) = {};
  SIGMA_ARG(Tensor, prev_flat_grad) = {};
  SIGMA_ARG(std::deque<Tensor>, old_dirs);
  SIGMA_ARG(std::deque<Tensor>, old_stps);
  SIGMA_ARG(std::deque<Tensor>, ro);
};

// sigma::Error if there is more than one parameter group, an option is out
// of range, line_search_fn is neither unset nor "strong_wolfe", or step() has
// no closure.
class LBFGS : public Optimizer {
 public:
  explicit LBFGS(std::vector<OptimizerParamGroup> param_groups, LBFGSOptions defaults = {});
  explicit LBFGS(std::vector<Tensor> params, LBFGSOptions defaults = {});
  Tensor step(LossClosure closure) override;
};

}  // namespace sigma::optim
