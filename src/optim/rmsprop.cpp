// rmsprop.cpp: RMSprop (centered, with momentum and weight decay), PyTorch's
// update (torch/optim/rmsprop.py) in one fused pass per parameter; one loop
// body per combination of centered and momentum, so each pass touches only
// the buffers it uses.
#include "sigma/optim/rmsprop.h"

#include <cmath>
#include <sstream>
#include <string>

#include "optim/update.h"

namespace sigma::optim {

namespace {

void check_options(const RMSpropOptions& o) {
  auto fail = [](const char* what, double v) {
    std::ostringstream m;
    m << "RMSprop: invalid " << what << ": " << v << " (must be >= 0)";
    throw Error(m.str());
  };
  if (!(o.lr() >= 0)) fail("learning rate", o.lr());
  if (!(o.eps() >= 0)) fail("epsilon value", o.eps());
  if (!(o.momentum() >= 0)) fail("momentum value", o.momentum());
  if (!(o.weight_decay() >= 0)) fail("weight_decay value", o.weight_decay());
  if (!(o.alpha() >= 0)) fail("alpha value", o.alpha());
}

RMSpropOptions& rmsprop_options(OptimizerParamGroup& group) {
  auto* o = dynamic_cast<RMSpropOptions*>(&group.options());
  if (!o) throw Error("RMSprop: a parameter group's options are not RMSpropOptions");
  return *o;
}

// A zero buffer for p if t is undefined, then of p's dtype and layout.
void ensure_state(Tensor& t, const Tensor& p) {
  if (!t.defined()) t = detail::zero_state(p);
  detail::match_state("RMSprop", t, p);
}

}  // namespace

bool operator==(const RMSpropOptions& a, const RMSpropOptions& b) {
  return a.lr() == b.lr() && a.alpha() == b.alpha() && a.eps() == b.eps() &&
         a.weight_decay() == b.weight_decay() && a.momentum() == b.momentum() &&
         a.centered() == b.centered();
}

RMSprop::RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<RMSpropOptions>(defaults)) {
  check_options(defaults);
  for (auto& group : param_groups_) check_options(rmsprop_options(group));
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))},
              std::move(defaults)) {}

Tensor RMSprop::step(LossClosure closure) {
  Tensor loss = run_closure(closure);
  for (auto& group : param_groups_) {
    const RMSpropOptions& o = rmsprop_options(group);
    check_options(o);
    const double lr = o.lr(), alpha = o.alpha(), eps = o.eps(), wd = o.weight_decay();
    const double mu = o.momentum();
    const bool centered = o.centered(), momentum = mu > 0;
    for (const Tensor& p : group.params()) {
      const Tensor& g = p.grad();
      if (!g.defined()) continue;
      auto [it, inserted] = state_.try_emplace(static_cast<const void*>(p.unsafeGetTensorImpl()));
      if (inserted) it->second = std::make_unique<RMSpropParamState>();
      auto* st = dynamic_cast<RMSpropParamState*>(it->second.get());
      if (!st) throw Error("RMSprop: a parameter's state is not an RMSpropParamState");
      ensure_state(st->square_avg(), p);
      if (momentum) ensure_state(st->momentum_buffer(), p);
      if (centered) ensure_state(st->grad_avg(), p);
      st->step(st->step() + 1);
      // d = g + wd p, v updated; returns d.
      auto square = [=](double x, double& d, double& v) {
        d += wd * x;
        v = alpha * v + (1.0 - alpha) * d * d;
      };
      auto center = [=](double d, double v, double& a) {
        a = alpha * a + (1.0 - alpha) * d;
        return std::sqrt(v - a * a) + eps;
      };
      if (centered && momentum) {
        detail::update_elements(
            "RMSprop", p, g,
            [=](double& x, double d, double& v, double& a, double& b) {
              square(x, d, v);
              b = mu * b + d / center(d, v, a);
              x -= lr * b;
            },
            st->square_avg(), st->grad_avg(), st->momentum_buffer());
      } else if (centered) {
        detail::update_elements(
            "RMSprop", p, g,
            [=](double& x, double d, double& v, double& a) {
              square(x, d, v);
              x -= lr * d / center(d, v, a);
            },
            st->square_avg(), st->grad_avg());
      } else if (momentum) {
        detail::update_elements(
            "RMSprop", p, g,
            [=](double& x, double d, double& v, double& b) {
              square(x, d, v);
              b = mu * b + d / (std::sqrt(v) + eps);
              x -= lr * b;
            },
            st->square_avg(), st->momentum_buffer());
      } else {
        detail::update_elements(
            "RMSprop", p, g,
            [=](double& x, double d, double& v) {
              square(x, d, v);
              x -= lr * d / (std::sqrt(v) + eps);
            },
            st->square_avg());
      }
    }
  }
  return loss;
}

}  // namespace sigma::optim
