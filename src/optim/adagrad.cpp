// adagrad.cpp: Adagrad with learning-rate decay and weight decay, PyTorch's
// update (torch/optim/adagrad.py) in one fused pass per parameter. The state
// is made at construction, as in LibTorch and PyTorch.
#include "sigma/optim/adagrad.h"

#include <cmath>
#include <sstream>
#include <string>

#include "optim/update.h"

namespace sigma::optim {

namespace {

void check_options(const AdagradOptions& o) {
  auto fail = [](const char* what, double v) {
    std::ostringstream m;
    m << "Adagrad: invalid " << what << ": " << v << " (must be >= 0)";
    throw Error(m.str());
  };
  if (!(o.lr() >= 0)) fail("learning rate", o.lr());
  if (!(o.lr_decay() >= 0)) fail("lr_decay value", o.lr_decay());
  if (!(o.weight_decay() >= 0)) fail("weight_decay value", o.weight_decay());
  if (!(o.initial_accumulator_value() >= 0))
    fail("initial_accumulator_value value", o.initial_accumulator_value());
  if (!(o.eps() >= 0)) fail("epsilon value", o.eps());
}

AdagradOptions& adagrad_options(OptimizerParamGroup& group) {
  auto* o = dynamic_cast<AdagradOptions*>(&group.options());
  if (!o) throw Error("Adagrad: a parameter group's options are not AdagradOptions");
  return *o;
}

// p's state, made (step 0, sum = initial_accumulator_value) if it has none.
AdagradParamState& adagrad_state(Optimizer::StateMap& state_map, const Tensor& p,
                                 const AdagradOptions& o) {
  auto [it, inserted] = state_map.try_emplace(static_cast<const void*>(p.unsafeGetTensorImpl()));
  if (inserted) it->second = std::make_unique<AdagradParamState>();
  auto* st = dynamic_cast<AdagradParamState*>(it->second.get());
  if (!st) throw Error("Adagrad: a parameter's state is not an AdagradParamState");
  if (!st->sum().defined()) {
    Tensor sum = detail::empty_state(p);
    sum.fill_(o.initial_accumulator_value());
    st->sum(sum);
  }
  return *st;
}

}  // namespace

bool operator==(const AdagradOptions& a, const AdagradOptions& b) {
  return a.lr() == b.lr() && a.lr_decay() == b.lr_decay() && a.weight_decay() == b.weight_decay() &&
         a.initial_accumulator_value() == b.initial_accumulator_value() && a.eps() == b.eps();
}

Adagrad::Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<AdagradOptions>(defaults)) {
  check_options(defaults);
  for (auto& group : param_groups_) {
    const AdagradOptions& o = adagrad_options(group);
    check_options(o);
    for (const Tensor& p : group.params()) adagrad_state(state_, p, o);
  }
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions defaults)
    : Adagrad(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))},
              std::move(defaults)) {}

Tensor Adagrad::step(LossClosure closure) {
  Tensor loss = run_closure(closure);
  for (auto& group : param_groups_) {
    const AdagradOptions& o = adagrad_options(group);
    check_options(o);
    const double wd = o.weight_decay(), eps = o.eps();
    for (const Tensor& p : group.params()) {
      const Tensor& g = p.grad();
      if (!g.defined()) continue;
      AdagradParamState& st = adagrad_state(state_, p, o);
      detail::match_state("Adagrad", st.sum(), p);
      st.step(st.step() + 1);
      const double clr = o.lr() / (1.0 + static_cast<double>(st.step() - 1) * o.lr_decay());
      detail::update_elements(
          "Adagrad", p, g,
          [=](double& x, double d, double& s) {
            d += wd * x;
            s += d * d;
            x -= clr * d / (std::sqrt(s) + eps);
          },
          st.sum());
    }
  }
  return loss;
}

}  // namespace sigma::optim
