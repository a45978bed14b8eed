// container.cpp: the non-template parts of ModuleList and ModuleDict
// (registration under "0", "1", ... or the key; errors).
#include <ostream>
#include <string>

#include "sigma/nn/modules/container.h"

namespace sigma::nn {

namespace detail {
void throw_wrong_module_type(const char* container, const std::string& where,
                             const Module& actual) {
  throw Error(std::string(container) + ": the module at " + where + " is a " + actual.name() +
              ", not the type asked for");
}
}  // namespace detail

// ---- ModuleList.

void ModuleListImpl::push_back(std::shared_ptr<Module> module) {
  if (!module)
    throw Error("ModuleList::push_back: the module for index " + std::to_string(modules_.size()) +
                " is null");
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

void ModuleListImpl::insert(std::size_t index, std::shared_ptr<Module> module) {
  if (index > modules_.size())
    throw Error("ModuleList::insert: index " + std::to_string(index) + " is out of range for " +
                std::to_string(modules_.size()) + " modules (expected 0 <= index <= " +
                std::to_string(modules_.size()) + ")");
  if (!module)
    throw Error("ModuleList::insert: the module for index " + std::to_string(index) + " is null");
  if (index == modules_.size()) {
    push_back(std::move(module));
    return;
  }
  // Every module from index on moves up one name; the last gets a new one.
  modules_.insert(modules_.begin() + static_cast<std::ptrdiff_t>(index), std::move(module));
  for (std::size_t i = index; i + 1 < modules_.size(); ++i)
    replace_module(std::to_string(i), modules_[i]);
  register_module(std::to_string(modules_.size() - 1), modules_.back());
}

const std::shared_ptr<Module>& ModuleListImpl::at_index(std::size_t index) const {
  if (index >= modules_.size())
    throw Error("ModuleList: index " + std::to_string(index) + " is out of range for " +
                std::to_string(modules_.size()) + " modules");
  return modules_[index];
}

void ModuleListImpl::pretty_print(std::ostream& stream) const { stream << "ModuleList"; }

// ---- ModuleDict.

void ModuleDictImpl::insert(const std::string& key, std::shared_ptr<Module> module) {
  if (!module) throw Error("ModuleDict::insert: the module for key '" + key + "' is null");
  if (std::shared_ptr<Module>* slot = modules_.find(key)) {
    replace_module(key, module);
    *slot = std::move(module);
  } else {
    register_module(key, module);  // checks the name first
    modules_.insert(key, std::move(module));
  }
}

std::shared_ptr<Module> ModuleDictImpl::operator[](const std::string& key) const {
  if (const std::shared_ptr<Module>* p = modules_.find(key)) return *p;
  std::string keys;
  for (const auto& item : modules_) keys += (keys.empty() ? "'" : ", '") + item.key() + "'";
  throw Error("ModuleDict: no module under key '" + key + "' (keys: " +
              (keys.empty() ? std::string("none") : keys) + ")");
}

std::shared_ptr<Module> ModuleDictImpl::pop(const std::string& key) {
  std::shared_ptr<Module> module = (*this)[key];
  unregister_module(key);
  modules_.erase(key);
  return module;
}

void ModuleDictImpl::clear() {
  for (const auto& item : modules_) unregister_module(item.key());
  modules_.clear();
}

void ModuleDictImpl::pretty_print(std::ostream& stream) const { stream << "ModuleDict"; }

}  // namespace sigma::nn
