// sigma/nn/pimpl.h: ModuleHolder and SIGMA_MODULE, as LibTorch's
// torch::nn::ModuleHolder and TORCH_MODULE.
//
// A module is written as NameImpl (deriving from sigma::nn::Module) and used
// through Name, a holder of std::shared_ptr<NameImpl>: copying a holder
// shares the module, `fc->weight` reaches the module's members, and `fc(x)`
// calls its forward.
//   struct NetImpl : sigma::nn::Module { ... sigma::Tensor forward(sigma::Tensor x); };
//   SIGMA_MODULE(Net);
//   Net net(10, 32);          // std::make_shared<NetImpl>(10, 32)
//   sigma::nn::Linear fc{nullptr};  // empty until assigned
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>
#include <type_traits>
#include <utility>

#include "sigma/error.h"

namespace sigma::nn {

namespace detail {
struct ModuleHolderIndicator {};
template <class T>
inline constexpr bool is_module_holder_v =
    std::is_base_of_v<ModuleHolderIndicator, std::remove_cvref_t<T>>;
[[noreturn]] void throw_empty_module_holder();
}  // namespace detail

template <class Contained>
class ModuleHolder : detail::ModuleHolderIndicator {
 public:
  using ContainedType = Contained;

  // Default-constructs the module. A module without a default constructor
  // must be given its arguments, or nullptr for an empty holder.
  ModuleHolder() : impl_(default_construct()) {
    static_assert(std::is_default_constructible_v<Contained>,
                  "this module has no default constructor: pass its arguments, or nullptr "
                  "for an empty holder (e.g. `sigma::nn::Linear fc{nullptr};`)");
  }
  /* implicit */ ModuleHolder(std::nullptr_t) noexcept {}  // NOLINT
  // Constructs the module from the arguments: Linear(10, 32).
  template <class Head, class... Tail>
  requires(!(sizeof...(Tail) == 0 &&
             std::is_base_of_v<ModuleHolder,
                               std::remove_cvref_t<Head>>)) explicit ModuleHolder(Head&& head,
                                                                                  Tail&&... tail)
      : impl_(std::make_shared<Contained>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}
  /* implicit */ ModuleHolder(std::shared_ptr<Contained> module) noexcept  // NOLINT
      : impl_(std::move(module)) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  bool is_empty() const noexcept { return impl_ == nullptr; }

  Contained* operator->() { return get(); }
  const Contained* operator->() const { return get(); }
  Contained& operator*() { return *get(); }
  const Contained& operator*() const { return *get(); }
  const std::shared_ptr<Contained>& ptr() const {
    if (!impl_) detail::throw_empty_module_holder();
    return impl_;
  }
  Contained* get() {
    if (!impl_) detail::throw_empty_module_holder();
    return impl_.get();
  }
  const Contained* get() const {
    if (!impl_) detail::throw_empty_module_holder();
    return impl_.get();
  }

  // Calls the module's forward.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) {
    return get()->forward(std::forward<Args>(args)...);
  }
  // Forwards indexing to the module (Sequential's operator[]).
  template <class Arg>
  decltype(auto) operator[](Arg&& arg) {
    return (*get())[std::forward<Arg>(arg)];
  }

 protected:
  std::shared_ptr<Contained> impl_;

 private:
  static std::shared_ptr<Contained> default_construct() {
    if constexpr (std::is_default_constructible_v<Contained>)
      return std::make_shared<Contained>();
    else
      return nullptr;
  }
};

// Prints the held module (PyTorch's repr).
template <class M>
std::ostream& operator<<(std::ostream& os, const ModuleHolder<M>& module) {
  return os << *module;
}

}  // namespace sigma::nn

// Defines Name as a ModuleHolder of ImplType.
#define SIGMA_MODULE_IMPL(Name, ImplType)                    \
  class Name : public ::sigma::nn::ModuleHolder<ImplType> {  \
   public:                                                   \
    using ::sigma::nn::ModuleHolder<ImplType>::ModuleHolder; \
    using Impl = ImplType;                                   \
  }

// Defines Name as a ModuleHolder of NameImpl (as TORCH_MODULE).
#define SIGMA_MODULE(Name) SIGMA_MODULE_IMPL(Name, Name##Impl)
