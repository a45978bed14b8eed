// module.cpp: sigma::nn::Module: registration, recursive listings with dotted
// names, train/eval, to(dtype), zero_grad, state dicts and PyTorch's repr.
#include "sigma/nn/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <string_view>
#include <typeinfo>
#include <unordered_set>
#include <utility>

#include "autograd/function.h"
#include "sigma/autograd.h"
#include "sigma/nn/options.h"
#include "tensor/tensor_impl.h"

namespace sigma {


namespace nn {

namespace detail {
void throw_empty_module_holder() {
  throw Error(
      "ModuleHolder: accessing an empty module holder (constructed from nullptr and "
      "never assigned a module)");
}
void throw_any_module_error(const std::string& what) { throw Error(what); }
}  // namespace detail

namespace {

// "sigma::nn::LinearImpl" -> "Linear", "(anonymous namespace)::NetImpl" ->
// "Net": PyTorch's repr shows the bare class name.
std::string class_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string full = status == 0 && demangled ? demangled : type.name();
  std::free(demangled);
  // The last "::"-separated component outside template arguments.
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    if (full[i] == '<')
      ++depth;
    else if (full[i] == '>')
      --depth;
    else if (depth == 0 && full[i] == ':' && i + 1 < full.size() && full[i + 1] == ':')
      start = i + 2;
  }
  std::string name = full.substr(start);
  constexpr std::string_view kImpl = "Impl";
  if (name.size() > kImpl.size() && name.ends_with(kImpl)) name.resize(name.size() - kImpl.size());
  return name;
}

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Replaces t's data by a dtype copy, keeping the handle (and so every member
// that shares it) and its requires_grad, as LibTorch's set_data.
void convert_in_place(Tensor& t, ScalarType dtype) {
  if (!t.defined() || !t.is_floating_point() || t.dtype() == dtype) return;
  NoGradGuard no_grad;
  Tensor converted = t.detach().to(dtype);
  TensorImpl& impl = *t.unsafeGetTensorImpl();
  const TensorImpl& src = *converted.unsafeGetTensorImpl();
  impl.storage = src.storage;
  impl.offset = src.offset;
  impl.sizes = src.sizes;
  impl.strides = src.strides;
  impl.dtype = dtype;
  impl.is_view = false;
  // The accumulator recorded the old dtype; the next backward makes a new one.
  impl.grad_accumulator.reset();
  if (impl.grad.defined()) impl.grad = impl.grad.to(dtype);
}

}  // namespace

Module::Module(std::string name) : name_(std::move(name)) {}
Module::Module() = default;
Module::~Module() = default;

const std::string& Module::name() const noexcept {
  if (!name_) name_ = class_name(typeid(*this));
  return *name_;
}

// ---- Registration.

void Module::check_new_name(const char* op, const std::string& name) const {
  if (name.empty()) throw Error(std::string(op) + ": the name must not be empty");
  if (name.find('.') != std::string::npos)
    throw Error(std::string(op) + ": the name must not contain '.' (got '" + name + "')");
  const char* kind = parameters_.contains(name) ? "a parameter"
                     : buffers_.contains(name)  ? "a buffer"
                     : children_.contains(name) ? "a submodule"
                                                : nullptr;
  if (kind)
    throw Error(std::string(op) + ": '" + name + "' is already " + kind + " of " + this->name());
}

Tensor& Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
  check_new_name("register_parameter", name);
  if (tensor.defined()) {
    if (requires_grad && !tensor.is_floating_point())
      throw Error("register_parameter: parameter '" + name + "' has dtype " +
                  to_string(tensor.dtype()) + "; only floating-point parameters can require grad");
    tensor.set_requires_grad(requires_grad);
  }
  return parameters_.insert(std::move(name), std::move(tensor));
}

Tensor& Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name("register_buffer", name);
  return buffers_.insert(std::move(name), std::move(tensor));
}

void Module::insert_child(const char* op, std::string name, std::shared_ptr<Module> module) {
  check_new_name(op, name);
  if (!module) throw Error(std::string(op) + ": submodule '" + name + "' is null");
  if (module.get() == this) throw Error(std::string(op) + ": a module cannot be its own child");
  children_.insert(std::move(name), std::move(module));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> module) {
  std::shared_ptr<Module>* slot = children_.find(name);
  if (!slot) throw Error("replace_module: " + this->name() + " has no submodule '" + name + "'");
  if (!module) throw Error("replace_module: submodule '" + name + "' is null");
  *slot = std::move(module);
}

void Module::unregister_module(const std::string& name) {
  if (!children_.contains(name))
    throw Error("unregister_module: " + this->name() + " has no submodule '" + name + "'");
  children_.erase(name);
}

// ---- Listings.

std::vector<Module::Visit> Module::walk(const std::string& prefix, bool include_self) const {
  std::vector<Visit> out;
  std::unordered_set<const Module*> seen{this};
  if (include_self) out.push_back({prefix, this, nullptr});
  auto visit_children = [&](auto& self, const Module& m, const std::string& p) -> void {
    for (const auto& child : m.children_) {
      const Module* c = child.value().get();
      if (!seen.insert(c).second) continue;
      std::string name = join_name(p, child.key());
      out.push_back({name, c, &child.value()});
      self(self, *c, name);
    }
  };
  visit_children(visit_children, *this, prefix);
  return out;
}

std::shared_ptr<Module> Module::shared_from_this_checked() const {
  auto self = std::const_pointer_cast<Module>(weak_from_this().lock());
  if (!self)
    throw Error(name() +
                ": this module is not owned by a std::shared_ptr, so it cannot list "
                "itself; create it with std::make_shared or through its holder, or pass "
                "include_self = false");
  return self;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (const Visit& v : walk({}, true)) fn(const_cast<Module&>(*v.module));
}

void Module::apply(const std::function<void(const std::string&, Module&)>& fn,
                   const std::string& name_prefix) {
  for (const Visit& v : walk(name_prefix, true)) fn(v.name, const_cast<Module&>(*v.module));
}

namespace {

// The defined tensors of one kind (picked by get: parameters or buffers) of
// the visited modules under their dotted names. Across modules (recurse)
// each tensor is listed once, at its first name; a module alone lists its
// own entries as registered.
template <class Visits, class Get>
OrderedDict<std::string, Tensor> collect_named(const char* kind, const Visits& visits, bool recurse,
                                               Get get) {
  OrderedDict<std::string, Tensor> out(kind);
  std::unordered_set<const TensorImpl*> seen;
  for (const auto& v : visits)
    for (const auto& t : get(*v.module))
      if (t->defined() && (!recurse || seen.insert(t->unsafeGetTensorImpl()).second))
        out.insert(join_name(v.name, t.key()), t.value());
  return out;
}

}  // namespace

OrderedDict<std::string, Tensor> Module::named_parameters(bool recurse) const {
  return collect_named("Parameter", recurse ? walk({}, true) : std::vector<Visit>{{{}, this, nullptr}},
                       recurse, [](const Module& m) -> const auto& { return m.parameters_; });
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return named_parameters(recurse).values();
}

OrderedDict<std::string, Tensor> Module::named_buffers(bool recurse) const {
  return collect_named("Buffer", recurse ? walk({}, true) : std::vector<Visit>{{{}, this, nullptr}},
                       recurse, [](const Module& m) -> const auto& { return m.buffers_; });
}

std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_modules(
    const std::string& name_prefix, bool include_self) const {
  OrderedDict<std::string, std::shared_ptr<Module>> out("Module");
  for (const Visit& v : walk(name_prefix, include_self))
    out.insert(v.name, v.ptr ? *v.ptr : shared_from_this_checked());
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) const {
  return named_modules({}, include_self).values();
}

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_children() const {
  return children_;
}

std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }

// ---- State.

void Module::train(bool on) {
  for (auto& child : children_) child.value()->train(on);
  is_training_ = on;
}

void Module::to(ScalarType dtype, bool non_blocking) {
  if (!is_floating_point(dtype))
    throw Error(std::string("Module::to: only floating-point dtypes are accepted, got ") +
                to_string(dtype));
  for (auto& child : children_) child.value()->to(dtype, non_blocking);
  for (auto& p : parameters_) convert_in_place(p.value(), dtype);
  for (auto& b : buffers_) convert_in_place(b.value(), dtype);
}

void Module::zero_grad(bool set_to_none) {
  for (Tensor& p : parameters()) autograd::reset_grad(p.mutable_grad(), set_to_none);
}

// ---- State dicts.

std::vector<std::pair<std::string, Tensor>> Module::state_entries() const {
  // PyTorch's Module.state_dict: no deduplication (a module registered twice
  // appears under both names); `path` only stops a cycle of modules from
  // recursing forever.
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<const Module*> path;
  auto visit = [&](auto& self, const Module& m, const std::string& prefix) -> void {
    path.push_back(&m);
    for (const auto& p : m.parameters_)
      if (p->defined()) out.emplace_back(join_name(prefix, p.key()), p.value());
    for (const auto& b : m.buffers_)
      if (b->defined()) out.emplace_back(join_name(prefix, b.key()), b.value());
    for (const auto& child : m.children_) {
      const Module* c = child.value().get();
      if (std::find(path.begin(), path.end(), c) == path.end())
        self(self, *c, join_name(prefix, child.key()));
    }
    path.pop_back();
  };
  visit(visit, *this, {});
  return out;
}

OrderedDict<std::string, Tensor> Module::state_dict() const {
  OrderedDict<std::string, Tensor> out("Key");
  std::vector<std::pair<std::string, Tensor>> entries = state_entries();
  out.reserve(entries.size());
  for (auto& [key, tensor] : entries) out.insert(std::move(key), tensor.detach());
  return out;
}

namespace {

// "[fc.weight, fc.bias]", at most 20 names then "... (N more)".
std::string key_list(const std::vector<std::string>& keys) {
  constexpr std::size_t kShown = 20;
  std::string s = "[";
  for (std::size_t i = 0; i < keys.size() && i < kShown; ++i) {
    if (i) s += ", ";
    s += keys[i];
  }
  if (keys.size() > kShown) s += ", ... (" + std::to_string(keys.size() - kShown) + " more)";
  return s + "]";
}

// Whether dst and src are the very same elements (loading a module's own
// state_dict into it), where a copy would be a self-overlapping memcpy.
bool same_elements(const Tensor& dst, const Tensor& src) {
  return dst.is_alias_of(src) && dst.dtype() == src.dtype() &&
         dst.storage_offset() == src.storage_offset() && dst.strides() == src.strides();
}

}  // namespace

IncompatibleKeys Module::load_state_dict(const OrderedDict<std::string, Tensor>& state_dict,
                                         bool strict) {
  const std::vector<std::pair<std::string, Tensor>> entries = state_entries();
  IncompatibleKeys result;
  std::vector<std::string> problems;  // reported whatever `strict` says
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  std::unordered_set<std::string_view> model_keys;
  copies.reserve(entries.size());
  for (const auto& [key, tensor] : entries) {
    model_keys.insert(key);
    const Tensor* src = state_dict.find(key);
    if (!src) {
      result.missing_keys.push_back(key);
    } else if (!src->defined()) {
      problems.push_back("undefined tensor for " + key);
    } else if (src->sizes() != tensor.sizes()) {
      problems.push_back("shape mismatch for " + key + ": checkpoint " +
                         shape_string(src->sizes()) + ", model " + shape_string(tensor.sizes()));
    } else {
      copies.emplace_back(tensor, src);
    }
  }
  for (const auto& item : state_dict)
    if (!model_keys.contains(item.key())) result.unexpected_keys.push_back(item.key());

  if (!problems.empty() || (strict && !result.empty())) {
    std::string msg = "load_state_dict: ";
    bool first = true;
    auto part = [&](const std::string& p) {
      msg += first ? "" : "; ";
      msg += p;
      first = false;
    };
    if (strict && !result.missing_keys.empty())
      part("missing keys: " + key_list(result.missing_keys));
    if (strict && !result.unexpected_keys.empty())
      part("unexpected keys: " + key_list(result.unexpected_keys));
    for (const std::string& p : problems) part(p);
    throw Error(msg);
  }

  // Every check passed: only now touch the module, so a failed load leaves
  // it as it was.
  NoGradGuard no_grad;
  for (auto& [dst, src] : copies)
    if (!same_elements(dst, *src)) dst.copy_(*src);
  return result;
}

// ---- Printing.

void Module::pretty_print(std::ostream& stream) const { stream << name(); }

void Module::pretty_print_recursive(std::ostream& stream, const std::string& indentation) const {
  std::ostringstream header_stream;
  pretty_print(header_stream);
  const std::string header = header_stream.str();
  if (children_.is_empty()) {
    stream << header;
    if (header.find('(') == std::string::npos) stream << "()";
    return;
  }
  // PyTorch puts a module's own description ("Name(extra)") on the first
  // line inside the parentheses when it also has children.
  const std::size_t open = header.find('(');
  const std::string next_indentation = indentation + "  ";
  stream << header.substr(0, open) << "(\n";
  if (open != std::string::npos && header.size() > open + 2 && header.back() == ')')
    stream << next_indentation << header.substr(open + 1, header.size() - open - 2) << '\n';
  for (const auto& child : children_) {
    stream << next_indentation << "(" << child.key() << "): ";
    child.value()->pretty_print_recursive(stream, next_indentation);
    stream << '\n';
  }
  stream << indentation << ")";
}

std::ostream& operator<<(std::ostream& stream, const Module& module) {
  module.pretty_print_recursive(stream, "");
  return stream;
}

}  // namespace nn
}  // namespace sigma
