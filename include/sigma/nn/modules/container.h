// sigma/nn/modules/container.h: AnyModule and Sequential, as LibTorch's.
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

namespace sigma::nn {

namespace detail {
template <class M>
inline constexpr bool is_module_v = std::is_base_of_v<Module, std::remove_cvref_t<M>>;
[[noreturn]] void throw_any_module_error(const std::string& what);
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

}  // namespace sigma::nn
