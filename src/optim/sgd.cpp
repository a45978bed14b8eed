// sgd.cpp: SGD with momentum, dampening, Nesterov and weight decay, PyTorch's
// update (torch/optim/sgd.py) in one fused pass per parameter.
#include "sigma/optim/sgd.h"

#include <sstream>
#include <string>

#include "optim/update.h"

namespace sigma::optim {

namespace {

void check_options(const SGDOptions& o) {
  auto fail = [](const char* what, double v) {
    std::ostringstream m;
    m << "SGD: invalid " << what << ": " << v << " (must be >= 0)";
    throw Error(m.str());
  };
  if (!(o.lr() >= 0)) fail("learning rate", o.lr());
  if (!(o.momentum() >= 0)) fail("momentum value", o.momentum());
  if (!(o.weight_decay() >= 0)) fail("weight_decay value", o.weight_decay());
  if (o.nesterov() && !(o.momentum() > 0 && o.dampening() == 0)) {
    std::ostringstream m;
    m << "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum="
      << o.momentum() << ", dampening=" << o.dampening() << ")";
    throw Error(m.str());
  }
}

SGDOptions& sgd_options(OptimizerParamGroup& group) {
  auto* o = dynamic_cast<SGDOptions*>(&group.options());
  if (!o) throw Error("SGD: a parameter group's options are not SGDOptions");
  return *o;
}

}  // namespace

bool operator==(const SGDOptions& a, const SGDOptions& b) {
  return a.lr() == b.lr() && a.momentum() == b.momentum() && a.dampening() == b.dampening() &&
         a.weight_decay() == b.weight_decay() && a.nesterov() == b.nesterov();
}

SGD::SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<SGDOptions>(defaults)) {
  check_options(defaults);
  for (auto& group : param_groups_) check_options(sgd_options(group));
}

SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))},
          std::move(defaults)) {}

Tensor SGD::step(LossClosure closure) {
  Tensor loss = run_closure(closure);
  for (auto& group : param_groups_) {
    const SGDOptions& o = sgd_options(group);
    check_options(o);
    const double lr = o.lr(), wd = o.weight_decay(), mu = o.momentum();
    const double damp = 1.0 - o.dampening();
    const bool nesterov = o.nesterov();
    for (const Tensor& p : group.params()) {
      const Tensor& g = p.grad();
      if (!g.defined()) continue;
      if (mu == 0) {
        detail::update_elements("SGD", p, g, [=](double& x, double d) {
          d += wd * x;
          x -= lr * d;
        });
        continue;
      }
      auto [state, fresh] = param_state<SGDParamState>(p);
      Tensor& buf = state.momentum_buffer();
      if (!buf.defined()) {
        buf = detail::empty_state(p);
        fresh = true;
      }
      detail::match_state("SGD", buf, p);
      if (fresh) {
        detail::update_elements(
            "SGD", p, g,
            [=](double& x, double d, double& b) {
              d += wd * x;
              b = d;
              x -= lr * (nesterov ? d + mu * b : b);
            },
            buf);
      } else {
        detail::update_elements(
            "SGD", p, g,
            [=](double& x, double d, double& b) {
              d += wd * x;
              b = mu * b + damp * d;
              x -= lr * (nesterov ? d + mu * b : b);
            },
            buf);
      }
    }
  }
  return loss;
}

}  // namespace sigma::optim
