// sigma/nn/modules/functional.h: nn::Functional, a module around a function
// of one Tensor (as torch::nn::Functional), so plain functions can sit in a
// Sequential:
//   sigma::nn::Sequential net(sigma::nn::Linear(4, 8), sigma::nn::Functional(sigma::relu));
//   sigma::nn::Functional leaky(sigma::leaky_relu, 0.2);  // extra arguments bound after x
#pragma once

#include <functional>
#include <ostream>
#include <type_traits>
#include <utility>

#include "sigma/nn/module.h"

namespace sigma::nn {

class FunctionalImpl : public Module {
 public:
  using Function = std::function<Tensor(Tensor)>;
  explicit FunctionalImpl(Function function);
  template <class SomeFunction, class... Args,
            class = std::enable_if_t<(sizeof...(Args) > 0)>>
  explicit FunctionalImpl(SomeFunction original_function, Args&&... args)
      : FunctionalImpl(Function(std::bind(original_function, std::placeholders::_1,
                                          std::forward<Args>(args)...))) {}
  Tensor forward(Tensor input);
  Tensor operator()(Tensor input) { return forward(std::move(input)); }
  void pretty_print(std::ostream& stream) const override;  // "Functional()"

 private:
  Function function_;
};
SIGMA_MODULE(Functional);

}  // namespace sigma::nn
