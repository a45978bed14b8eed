// sigma/nn/modules/container.h: AnyModule, Sequential, ModuleList and
// ModuleDict, as LibTorch's.
//
// AnyModule holds any module whose forward maps one Tensor to a Tensor,
// behind one function pointer (no std::function, no virtual forward on
// Module). Sequential chains such modules; its children are named "0", "1",
// ... unless given names, so parameters read "0.weight" as in PyTorch.
//   sigma::nn::Sequential net(sigma::nn::Linear(64, 64), sigma::nn::Sigmoid());
//   net->push_back(sigma::nn::Linear(64, 1));
//   auto y = net(x);                    // x [N, 64] -> y [N, 1]
//   auto first = net[0]->as<sigma::nn::Linear>();
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sigma/nn/module.h"
#include "sigma/nn/ordered_dict.h"

namespace sigma::nn {

namespace detail {
template <class M>
inline constexpr bool is_module_v = std::is_base_of_v<Module, std::remove_cvref_t<M>>;
[[noreturn]] void throw_any_module_error(const std::string& what);
// The Impl type of a holder type T, or T itself.
template <class T, bool = is_module_holder_v<T>>
struct contained {
  using type = T;
};
template <class T>
struct contained<T, true> {
  using type = typename T::ContainedType;
};
// "<container>: the module at <where> is a <actual>, not the type asked for".
[[noreturn]] void throw_wrong_module_type(const char* container, const std::string& where,
                                          const Module& actual);
}  // namespace detail

class AnyModule {
 public:
  AnyModule() = default;
  template <class M>
  explicit AnyModule(std::shared_ptr<M> module) {
    set(std::move(module));
  }
  template <class M>
  explicit AnyModule(const ModuleHolder<M>& holder) {
    set(holder.ptr());
  }
  template <class M>
  requires detail::is_module_v<M>
  explicit AnyModule(M&& module) {
    set(std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(module)));
  }

  Tensor forward(const Tensor& input) const {
    if (!forward_)
      detail::throw_any_module_error("AnyModule: forward() called on an empty AnyModule");
    return forward_(typed_, input);
  }
  bool is_empty() const noexcept { return module_ == nullptr; }
  const std::shared_ptr<Module>& ptr() const noexcept { return module_; }
  // The module as a T (an Impl type); sigma::Error if it is not one.
  template <class T>
  std::shared_ptr<T> ptr() const {
    auto p = std::dynamic_pointer_cast<T>(module_);
    if (!p)
      detail::throw_any_module_error("AnyModule: the module is a " + describe() +
                                     ", not the type asked for");
    return p;
  }
  template <class T>
  T& get() const {
    return *ptr<T>();
  }

 private:
  template <class M>
  void set(std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "AnyModule holds sigma::nn::Module types");
    static_assert(
        std::is_convertible_v<decltype(std::declval<M&>().forward(std::declval<const Tensor&>())),
                              Tensor>,
        "AnyModule holds modules whose forward takes one Tensor and returns a Tensor");
    if (!module) detail::throw_any_module_error("AnyModule: the module is null");
    typed_ = module.get();
    forward_ = [](void* m, const Tensor& x) -> Tensor { return static_cast<M*>(m)->forward(x); };
    module_ = std::move(module);
  }
  std::string describe() const { return module_ ? module_->name() : std::string("empty module"); }

  std::shared_ptr<Module> module_;
  void* typed_ = nullptr;  // module_ as its own type, for forward_
  Tensor (*forward_)(void*, const Tensor&) = nullptr;
};

class SequentialImpl : public Module {
 public:
  using Iterator = std::vector<AnyModule>::iterator;
  using ConstIterator = std::vector<AnyModule>::const_iterator;

  SequentialImpl() = default;
  // Each argument is a module value, a holder, a std::shared_ptr or an AnyModule.
  template <class First, class... Rest>
  requires(!(sizeof...(Rest) == 0 &&
             std::is_same_v<std::remove_cvref_t<First>,
                            SequentialImpl>)) explicit SequentialImpl(First&& first,
                                                                      Rest&&... rest) {
    modules_.reserve(1 + sizeof...(Rest));
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  // Applies each module in turn; sigma::Error if there are none.
  Tensor forward(const Tensor& input);

  // Appends a module under the name "<index>" or under name.
  void push_back(AnyModule module) {
    push_back(std::to_string(modules_.size()), std::move(module));
  }
  void push_back(std::string name, AnyModule module);
  template <class M>
  void push_back(std::shared_ptr<M> module) {
    push_back(AnyModule(std::move(module)));
  }
  template <class M>
  void push_back(std::string name, std::shared_ptr<M> module) {
    push_back(std::move(name), AnyModule(std::move(module)));
  }
  template <class M>
  void push_back(const ModuleHolder<M>& holder) {
    push_back(AnyModule(holder));
  }
  template <class M>
  void push_back(std::string name, const ModuleHolder<M>& holder) {
    push_back(std::move(name), AnyModule(holder));
  }
  template <class M>
  requires detail::is_module_v<M>
  void push_back(M&& module) { push_back(AnyModule(std::forward<M>(module))); }
  template <class M>
  requires detail::is_module_v<M>
  void push_back(std::string name, M&& module) {
    push_back(std::move(name), AnyModule(std::forward<M>(module)));
  }
  // Appends every module of a container (another Sequential, a vector of holders, ...).
  template <class Container>
  void extend(const Container& container) {
    for (const auto& module : container) push_back(module);
  }

  // The module at index; sigma::Error if index >= size().
  std::shared_ptr<Module> ptr(std::size_t index) const { return at_index(index).ptr(); }
  // As T, an Impl or holder type; sigma::Error if the module is not one.
  template <class T>
  auto ptr(std::size_t index) const {
    if constexpr (detail::is_module_holder_v<T>)
      return at_index(index).ptr<typename T::ContainedType>();
    else
      return at_index(index).ptr<T>();
  }
  // The module at index as its Impl type T (LinearImpl, ...).
  template <class T>
  T& at(std::size_t index) const {
    return *at_index(index).ptr<T>();
  }
  std::shared_ptr<Module> operator[](std::size_t index) const { return ptr(index); }

  std::size_t size() const noexcept { return modules_.size(); }
  bool is_empty() const noexcept { return modules_.empty(); }
  Iterator begin() noexcept { return modules_.begin(); }
  ConstIterator begin() const noexcept { return modules_.begin(); }
  Iterator end() noexcept { return modules_.end(); }
  ConstIterator end() const noexcept { return modules_.end(); }

  void pretty_print(std::ostream& stream) const override;  // "Sequential"

 private:
  const AnyModule& at_index(std::size_t index) const;
  std::vector<AnyModule> modules_;
};

class Sequential : public ModuleHolder<SequentialImpl> {
 public:
  using ModuleHolder<SequentialImpl>::ModuleHolder;
  Sequential() : ModuleHolder() {}
};

// A list of modules, registered as children "0", "1", ... so their
// parameters read "layers.0.weight" as in PyTorch. It has no forward: the
// owner calls its modules (`for (auto& m : *layers) x = m->as<Linear>()->forward(x);`).
//   sigma::nn::ModuleList layers(sigma::nn::Linear(4, 4), sigma::nn::ReLU());
//   layers->push_back(sigma::nn::Linear(4, 2));
//   sigma::nn::LinearImpl& last = layers->at<sigma::nn::LinearImpl>(2);
class ModuleListImpl : public Module {
 public:
  using Iterator = std::vector<std::shared_ptr<Module>>::iterator;
  using ConstIterator = std::vector<std::shared_ptr<Module>>::const_iterator;

  ModuleListImpl() = default;
  // Each argument is a module value, a holder or a std::shared_ptr.
  template <class... Modules>
  requires(sizeof...(Modules) > 0 &&
           !(sizeof...(Modules) == 1 &&
             (std::is_same_v<std::remove_cvref_t<Modules>, ModuleListImpl> && ...)))
  explicit ModuleListImpl(Modules&&... modules) {
    modules_.reserve(sizeof...(Modules));
    (push_back(std::forward<Modules>(modules)), ...);
  }

  // Appends a module under the name "<size()>"; sigma::Error if it is null.
  void push_back(std::shared_ptr<Module> module);
  template <class M>
  void push_back(const ModuleHolder<M>& holder) {
    push_back(std::shared_ptr<Module>(holder.ptr()));
  }
  template <class M>
  requires detail::is_module_v<M>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(
        std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(module))));
  }
  template <class M>
  requires(!std::is_same_v<M, Module>)
  void push_back(std::shared_ptr<M> module) {
    push_back(std::shared_ptr<Module>(std::move(module)));
  }
  // Appends every module of a container (another ModuleList, a vector of holders, ...).
  template <class Container>
  void extend(const Container& container) {
    for (const auto& module : container) push_back(module);
  }
  // Inserts before index (0 <= index <= size()); the later modules move up
  // one name ("1" becomes "2"), as PyTorch's insert.
  void insert(std::size_t index, std::shared_ptr<Module> module);
  template <class M>
  void insert(std::size_t index, const ModuleHolder<M>& holder) {
    insert(index, std::shared_ptr<Module>(holder.ptr()));
  }

  // The module at index; sigma::Error if index >= size().
  std::shared_ptr<Module> ptr(std::size_t index) const { return at_index(index); }
  // As T, an Impl or holder type; sigma::Error if the module is not one.
  template <class T>
  auto ptr(std::size_t index) const {
    auto p = std::dynamic_pointer_cast<typename detail::contained<T>::type>(at_index(index));
    if (!p) detail::throw_wrong_module_type("ModuleList", std::to_string(index), *at_index(index));
    return p;
  }
  template <class T>
  T& at(std::size_t index) const {
    return *ptr<T>(index);
  }
  std::shared_ptr<Module> operator[](std::size_t index) const { return ptr(index); }

  std::size_t size() const noexcept { return modules_.size(); }
  bool is_empty() const noexcept { return modules_.empty(); }
  Iterator begin() noexcept { return modules_.begin(); }
  ConstIterator begin() const noexcept { return modules_.begin(); }
  Iterator end() noexcept { return modules_.end(); }
  ConstIterator end() const noexcept { return modules_.end(); }

  void pretty_print(std::ostream& stream) const override;  // "ModuleList"

 private:
  const std::shared_ptr<Module>& at_index(std::size_t index) const;
  std::vector<std::shared_ptr<Module>> modules_;
};

class ModuleList : public ModuleHolder<ModuleListImpl> {
 public:
  using ModuleHolder<ModuleListImpl>::ModuleHolder;
  ModuleList() : ModuleHolder() {}
};

// Modules by name, in insertion order, each registered as a child under its
// key ("heads.query.weight"). Inserting an existing key replaces that module
// in place (its position kept), as PyTorch's.
//   sigma::nn::ModuleDict heads({{"query", sigma::nn::Linear(8, 8).ptr()},
//                                {"value", sigma::nn::Linear(8, 8).ptr()}});
//   auto q = heads["query"]->as<sigma::nn::Linear>()->forward(x);
class ModuleDictImpl : public Module {
 public:
  using Dict = OrderedDict<std::string, std::shared_ptr<Module>>;
  using Iterator = Dict::Iterator;
  using ConstIterator = Dict::ConstIterator;

  ModuleDictImpl() = default;
  explicit ModuleDictImpl(
      const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& modules) {
    update(modules);
  }
  explicit ModuleDictImpl(const Dict& modules) { update(modules); }

  // Adds module under key, or replaces the module there; sigma::Error for a
  // null module or a key that is not a valid child name.
  void insert(const std::string& key, std::shared_ptr<Module> module);
  template <class M>
  void insert(const std::string& key, const ModuleHolder<M>& holder) {
    insert(key, std::shared_ptr<Module>(holder.ptr()));
  }
  template <class M>
  requires(!std::is_same_v<M, Module>)
  void insert(const std::string& key, std::shared_ptr<M> module) {
    insert(key, std::shared_ptr<Module>(std::move(module)));
  }
  // insert() of each (key, module) in order.
  void update(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& modules) {
    for (const auto& [key, module] : modules) insert(key, module);
  }
  void update(const Dict& modules) {
    for (const auto& item : modules) insert(item.key(), item.value());
  }
  void update(const ModuleDictImpl& other) { update(other.modules_); }

  // The module under key; sigma::Error naming the key and the keys there are.
  std::shared_ptr<Module> operator[](const std::string& key) const;
  // As T, an Impl type; sigma::Error if it is not one.
  template <class T>
  T& at(const std::string& key) const {
    auto p = std::dynamic_pointer_cast<T>((*this)[key]);
    if (!p) detail::throw_wrong_module_type("ModuleDict", "'" + key + "'", *(*this)[key]);
    return *p;
  }
  // Removes key's module (unregistering it) and returns it.
  std::shared_ptr<Module> pop(const std::string& key);
  void clear();

  bool contains(const std::string& key) const noexcept { return modules_.contains(key); }
  std::vector<std::string> keys() const { return modules_.keys(); }
  std::vector<std::shared_ptr<Module>> values() const { return modules_.values(); }
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> items() const {
    return modules_.pairs();
  }
  std::size_t size() const noexcept { return modules_.size(); }
  bool empty() const noexcept { return modules_.is_empty(); }
  Iterator begin() noexcept { return modules_.begin(); }
  ConstIterator begin() const noexcept { return modules_.begin(); }
  Iterator end() noexcept { return modules_.end(); }
  ConstIterator end() const noexcept { return modules_.end(); }

  void pretty_print(std::ostream& stream) const override;  // "ModuleDict"

 private:
  Dict modules_{"Module key"};
};

class ModuleDict : public ModuleHolder<ModuleDictImpl> {
 public:
  using ModuleHolder<ModuleDictImpl>::ModuleHolder;
  ModuleDict() : ModuleHolder() {}
};

}  // namespace sigma::nn
