// optimizer.cpp: the Optimizer base: parameter groups (each with its own
// options), checks on the parameters, zero_grad and the closure of step().
#include "sigma/optim/optimizer.h"

#include <string>
#include <unordered_set>

#include "autograd/function.h"
#include "sigma/autograd.h"

namespace sigma::optim {

OptimizerOptions& OptimizerParamGroup::options() {
  if (!options_) throw Error("OptimizerParamGroup: the group has no options");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  if (!options_) throw Error("OptimizerParamGroup: the group has no options");
  return *options_;
}

Optimizer::Optimizer(std::vector<OptimizerParamGroup> param_groups,
                     std::unique_ptr<OptimizerOptions> defaults)
    : defaults_(std::move(defaults)) {
  if (!defaults_) throw Error("Optimizer: the default options are null");
  for (const auto& group : param_groups) add_param_group(group);
}

Optimizer::Optimizer(std::vector<Tensor> parameters, std::unique_ptr<OptimizerOptions> defaults)
    : Optimizer(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(parameters))},
                std::move(defaults)) {}

Optimizer::~Optimizer() = default;

void Optimizer::add_param_group(const OptimizerParamGroup& param_group) {
  const std::string where = "add_param_group (group " + std::to_string(param_groups_.size()) + ")";
  std::unordered_set<const void*> seen;
  for (const auto& group : param_groups_)
    for (const Tensor& p : group.params()) seen.insert(p.unsafeGetTensorImpl());
  const auto& params = param_group.params();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    const std::string which = where + ": parameter " + std::to_string(i);
    if (!p.defined()) throw Error(which + " is an undefined tensor");
    if (!p.is_floating_point())
      throw Error(which + " has dtype " + to_string(p.dtype()) +
                  "; only floating-point tensors can be optimized");
    if (!p.is_leaf())
      throw Error(which + " of shape " + shape_string(p.sizes()) +
                  " is not a leaf tensor; can't optimize a non-leaf Tensor");
    if (!seen.insert(p.unsafeGetTensorImpl()).second)
      throw Error(which + " of shape " + shape_string(p.sizes()) +
                  " appears more than once (in this group or an earlier one)");
  }
  OptimizerParamGroup group(param_group.params(), param_group.has_options()
                                                      ? param_group.options().clone()
                                                      : defaults_->clone());
  param_groups_.push_back(std::move(group));
}

void Optimizer::add_parameters(const std::vector<Tensor>& parameters) {
  if (param_groups_.empty()) {
    add_param_group(OptimizerParamGroup(parameters));
    return;
  }
  // Checked as a group of its own, then moved into the first group.
  OptimizerParamGroup extra(parameters);
  add_param_group(extra);
  auto& added = param_groups_.back().params();
  auto& first = param_groups_.front().params();
  first.insert(first.end(), added.begin(), added.end());
  param_groups_.pop_back();
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& group : param_groups_)
    for (Tensor& p : group.params()) autograd::reset_grad(p.mutable_grad(), set_to_none);
}

const std::vector<Tensor>& Optimizer::parameters() const {
  if (param_groups_.empty()) throw Error("Optimizer::parameters: the optimizer has no groups");
  return param_groups_.front().params();
}

std::vector<Tensor>& Optimizer::parameters() {
  if (param_groups_.empty()) throw Error("Optimizer::parameters: the optimizer has no groups");
  return param_groups_.front().params();
}

std::size_t Optimizer::size() const noexcept {
  std::size_t n = 0;
  for (const auto& group : param_groups_) n += group.params().size();
  return n;
}

Tensor Optimizer::run_closure(const LossClosure& closure) {
  if (!closure) return Tensor();
  AutoGradMode enable_grad(true);
  return closure();
}

}  // namespace sigma::optim
