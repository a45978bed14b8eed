// sigma/nn/module.h: sigma::nn::Module, the base of every layer, as
// torch::nn::Module.
//
// A module owns named parameters (tensors an optimizer trains), named buffers
// (state that is not trained, e.g. a loss's weight) and named submodules, each
// in registration order. Listings recurse with dotted names as PyTorch's
// state_dict keys: "fc1.weight", "network.0.bias". A tensor or module
// reachable under several names is listed once, under its first name (as
// PyTorch). The training flag reaches every submodule through train()/eval().
// state_dict()/load_state_dict() move the parameters and buffers in and out
// under those keys; sigma::save/sigma::load (sigma/serialize.h) write and
// read them as safetensors files.
//
//   struct NetImpl : sigma::nn::Module {
//     NetImpl() : fc(register_module("fc", sigma::nn::Linear(10, 32))) {}
//     sigma::Tensor forward(const sigma::Tensor& x) { return fc(x).relu(); }
//     sigma::nn::Linear fc;
//   };
//   SIGMA_MODULE(Net);
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sigma/nn/ordered_dict.h"
#include "sigma/nn/pimpl.h"
#include "sigma/tensor.h"

namespace sigma::nn {

// What load_state_dict(dict, strict = false) could not match, as PyTorch's
// _IncompatibleKeys: model keys absent from the dict, and dict keys the model
// does not have, each in order.
struct IncompatibleKeys {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
  bool empty() const noexcept { return missing_keys.empty() && unexpected_keys.empty(); }
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // name: what name() returns; by default the class name without namespaces
  // and without a trailing "Impl" ("Linear", "Net"), as PyTorch's repr.
  explicit Module(std::string name);
  Module();
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;
  virtual ~Module();

  const std::string& name() const noexcept;

  // ---- Walking the module tree (pre-order: this module, then each child's
  // subtree in registration order).
  void apply(const std::function<void(Module&)>& fn);
  void apply(const std::function<void(const std::string&, Module&)>& fn,
             const std::string& name_prefix = {});

  // Parameters whose tensor is defined (Linear without bias registers an
  // undefined "bias", which is skipped).
  std::vector<Tensor> parameters(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_buffers(bool recurse = true) const;
  // All modules of the tree; include_self needs this module to be owned by a
  // std::shared_ptr (as every module made through a holder is).
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true) const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_modules(
      const std::string& name_prefix = {}, bool include_self = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_children() const;

  // ---- State.
  // Sets the training flag of this module and all submodules (layers such as
  // Dropout act on it). Modules start in training mode.
  virtual void train(bool on = true);
  void eval() { train(false); }
  virtual bool is_training() const noexcept { return is_training_; }
  // Converts the floating-point parameters and buffers (and any gradients) to
  // dtype in place: every handle to them, such as a layer's `weight` member,
  // sees the new dtype; requires_grad is kept. dtype must be floating.
  virtual void to(ScalarType dtype, bool non_blocking = false);
  // set_to_none (the default, as PyTorch): grads become undefined; otherwise
  // they are zeroed in place.
  virtual void zero_grad(bool set_to_none = true);

  // ---- State dicts, as PyTorch's.
  // Every defined parameter and buffer under its dotted key, module by module
  // in pre-order (a module's parameters, then its buffers, then each child's
  // subtree): "fc1.weight", "fc1.bias", "network.0.weight", ... The tensors
  // are detached aliases of the module's: they share its data. As PyTorch,
  // a tensor reachable under several names (a module registered twice) is
  // listed under each.
  OrderedDict<std::string, Tensor> state_dict() const;
  // Copies the dict's tensors into this module's parameters and buffers in
  // place (gradients off; every handle such as a layer's `weight` member sees
  // the new values, requires_grad is kept), converting to each tensor's dtype.
  // Throws one sigma::Error listing every problem, and changes nothing then:
  // shape mismatches always, and with strict also the missing keys (in the
  // model, not in the dict) and the unexpected ones (in the dict, not in the
  // model). Without strict, those two lists are returned instead.
  IncompatibleKeys load_state_dict(const OrderedDict<std::string, Tensor>& state_dict,
                                   bool strict = true);

  // This module as a ModuleType (an Impl or a holder type), or nullptr.
  template <class ModuleType>
  auto* as() noexcept {
    if constexpr (detail::is_module_holder_v<ModuleType>)
      return dynamic_cast<typename ModuleType::ContainedType*>(this);
    else
      return dynamic_cast<ModuleType*>(this);
  }
  template <class ModuleType>
  const auto* as() const noexcept {
    if constexpr (detail::is_module_holder_v<ModuleType>)
      return dynamic_cast<const typename ModuleType::ContainedType*>(this);
    else
      return dynamic_cast<const ModuleType*>(this);
  }

  // Writes this module's one-line description: "Linear(in_features=30,
  // out_features=32, bias=True)". The default writes name(). operator<<
  // adds the children, indented, as PyTorch's repr; a description without
  // parentheses gets "()" when there are no children ("Sigmoid()").
  virtual void pretty_print(std::ostream& stream) const;

  // ---- Registration. Names must be non-empty, contain no '.', and be
  // unique among this module's parameters, buffers and submodules; each
  // returns a reference to (or pointer of) what was stored.
  // requires_grad: whether the parameter is trained (only floating tensors).
  // The tensor may be undefined (an absent optional parameter).
  Tensor& register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
  Tensor& register_buffer(std::string name, Tensor tensor);
  template <class ModuleType>
  std::shared_ptr<ModuleType> register_module(std::string name,
                                              std::shared_ptr<ModuleType> module) {
    insert_child("register_module", std::move(name), module);
    return module;
  }
  template <class ModuleType>
  std::shared_ptr<ModuleType> register_module(std::string name,
                                              ModuleHolder<ModuleType> module_holder) {
    return register_module(std::move(name), module_holder.ptr());
  }
  // Swaps the submodule registered under name (which must exist).
  template <class ModuleType>
  std::shared_ptr<ModuleType> replace_module(const std::string& name,
                                             std::shared_ptr<ModuleType> module) {
    replace_child(name, module);
    return module;
  }
  template <class ModuleType>
  std::shared_ptr<ModuleType> replace_module(const std::string& name,
                                             ModuleHolder<ModuleType> module_holder) {
    return replace_module(name, module_holder.ptr());
  }
  void unregister_module(const std::string& name);

 protected:
  OrderedDict<std::string, Tensor> parameters_{"Parameter"};

 private:
  friend std::ostream& operator<<(std::ostream& stream, const Module& module);
  struct Visit {
    std::string name;
    const Module* module;
    const std::shared_ptr<Module>* ptr;  // nullptr for the root
  };
  // The tree in pre-order, each module once.
  std::vector<Visit> walk(const std::string& prefix, bool include_self) const;
  void check_new_name(const char* op, const std::string& name) const;
  void insert_child(const char* op, std::string name, std::shared_ptr<Module> module);
  void replace_child(const std::string& name, std::shared_ptr<Module> module);
  void pretty_print_recursive(std::ostream& stream, const std::string& indentation) const;
  // The state_dict entries as the module's own handles (not detached).
  std::vector<std::pair<std::string, Tensor>> state_entries() const;
  std::shared_ptr<Module> shared_from_this_checked() const;

  OrderedDict<std::string, Tensor> buffers_{"Buffer"};
  OrderedDict<std::string, std::shared_ptr<Module>> children_{"Submodule"};
  mutable std::optional<std::string> name_;
  bool is_training_ = true;
};

// PyTorch's repr of the module and its children:
//   Sequential(
//     (0): Linear(in_features=64, out_features=64, bias=True)
//     (1): Sigmoid()
//   )
std::ostream& operator<<(std::ostream& stream, const Module& module);

}  // namespace sigma::nn
