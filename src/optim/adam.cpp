// adam.cpp: Adam and AdamW (with AMSGrad), PyTorch's updates
// (torch/optim/adam.py, adamw.py) in one fused pass per parameter. They differ
// only in the weight decay: Adam adds weight_decay p to the gradient, AdamW
// shrinks p by lr weight_decay before the step.
#include "sigma/optim/adam.h"

#include <cmath>
#include <sstream>
#include <string>

#include "optim/update.h"

namespace sigma::optim {

namespace {

template <class Options>
void check_options(const char* op, const Options& o) {
  auto fail = [op](const char* what, double v, const char* range) {
    std::ostringstream m;
    m << op << ": invalid " << what << ": " << v << " (must be " << range << ")";
    throw Error(m.str());
  };
  if (!(o.lr() >= 0)) fail("learning rate", o.lr(), ">= 0");
  if (!(o.eps() >= 0)) fail("epsilon value", o.eps(), ">= 0");
  const auto [beta1, beta2] = o.betas();
  if (!(beta1 >= 0 && beta1 < 1)) fail("beta parameter at index 0", beta1, "in [0, 1)");
  if (!(beta2 >= 0 && beta2 < 1)) fail("beta parameter at index 1", beta2, "in [0, 1)");
  if (!(o.weight_decay() >= 0)) fail("weight_decay value", o.weight_decay(), ">= 0");
}

template <class Options>
Options& group_options(const char* op, OptimizerParamGroup& group) {
  auto* o = dynamic_cast<Options*>(&group.options());
  if (!o)
    throw Error(std::string(op) + ": a parameter group's options are not " + op + "Options");
  return *o;
}

// One step of Adam (decoupled = false) or AdamW (decoupled = true) on every
// parameter of the optimizer's groups that has a gradient.
template <class Options>
void adam_step(const char* op, bool decoupled, std::vector<OptimizerParamGroup>& groups,
               Optimizer::StateMap& state_map) {
  for (auto& group : groups) {
    const Options& o = group_options<Options>(op, group);
    check_options(op, o);
    const double lr = o.lr(), wd = o.weight_decay(), eps = o.eps();
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    const bool amsgrad = o.amsgrad();
    for (const Tensor& p : group.params()) {
      const Tensor& g = p.grad();
      if (!g.defined()) continue;
      auto [it, inserted] =
          state_map.try_emplace(static_cast<const void*>(p.unsafeGetTensorImpl()));
      if (inserted) it->second = std::make_unique<AdamParamState>();
      auto* st = dynamic_cast<AdamParamState*>(it->second.get());
      if (!st) throw Error(std::string(op) + ": a parameter's state is not an AdamParamState");
      if (!st->exp_avg().defined()) st->exp_avg(detail::zero_state(p));
      if (!st->exp_avg_sq().defined()) st->exp_avg_sq(detail::zero_state(p));
      if (amsgrad && !st->max_exp_avg_sq().defined()) st->max_exp_avg_sq(detail::zero_state(p));
      detail::match_state(op, st->exp_avg(), p);
      detail::match_state(op, st->exp_avg_sq(), p);
      st->step(st->step() + 1);
      const double t = static_cast<double>(st->step());
      const double bias_correction1 = 1.0 - std::pow(beta1, t);
      const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
      const double step_size = lr / bias_correction1;
      const double shrink = 1.0 - lr * wd;
      const double l2 = decoupled ? 0.0 : wd;
      auto moments = [=](double& x, double& d, double& m, double& v) {
        if (decoupled) x *= shrink;
        d += l2 * x;
        m = beta1 * m + (1.0 - beta1) * d;
        v = beta2 * v + (1.0 - beta2) * d * d;
      };
      if (amsgrad) {
        detail::match_state(op, st->max_exp_avg_sq(), p);
        detail::update_elements(
            op, p, g,
            [=](double& x, double d, double& m, double& v, double& vmax) {
              moments(x, d, m, v);
              if (!(vmax >= v)) vmax = v;  // NaN propagates, as torch.maximum
              x -= step_size * m / (std::sqrt(vmax) / bias_correction2_sqrt + eps);
            },
            st->exp_avg(), st->exp_avg_sq(), st->max_exp_avg_sq());
      } else {
        detail::update_elements(
            op, p, g,
            [=](double& x, double d, double& m, double& v) {
              moments(x, d, m, v);
              x -= step_size * m / (std::sqrt(v) / bias_correction2_sqrt + eps);
            },
            st->exp_avg(), st->exp_avg_sq());
      }
    }
  }
}

}  // namespace

bool operator==(const AdamOptions& a, const AdamOptions& b) {
  return a.lr() == b.lr() && a.betas() == b.betas() && a.eps() == b.eps() &&
         a.weight_decay() == b.weight_decay() && a.amsgrad() == b.amsgrad();
}

bool operator==(const AdamWOptions& a, const AdamWOptions& b) {
  return a.lr() == b.lr() && a.betas() == b.betas() && a.eps() == b.eps() &&
         a.weight_decay() == b.weight_decay() && a.amsgrad() == b.amsgrad();
}

Adam::Adam(std::vector<OptimizerParamGroup> param_groups, AdamOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<AdamOptions>(defaults)) {
  check_options("Adam", defaults);
  for (auto& group : param_groups_)
    check_options("Adam", group_options<AdamOptions>("Adam", group));
}

Adam::Adam(std::vector<Tensor> params, AdamOptions defaults)
    : Adam(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))},
           std::move(defaults)) {}

Tensor Adam::step(LossClosure closure) {
  Tensor loss = run_closure(closure);
  adam_step<AdamOptions>("Adam", false, param_groups_, state_);
  return loss;
}

AdamW::AdamW(std::vector<OptimizerParamGroup> param_groups, AdamWOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<AdamWOptions>(defaults)) {
  check_options("AdamW", defaults);
  for (auto& group : param_groups_)
    check_options("AdamW", group_options<AdamWOptions>("AdamW", group));
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions defaults)
    : AdamW(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))},
            std::move(defaults)) {}

Tensor AdamW::step(LossClosure closure) {
  Tensor loss = run_closure(closure);
  adam_step<AdamWOptions>("AdamW", true, param_groups_, state_);
  return loss;
}

}  // namespace sigma::optim
