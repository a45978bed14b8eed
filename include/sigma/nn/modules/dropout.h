// sigma/nn/modules/dropout.h: Dropout and Identity, as torch::nn::Dropout and
// torch::nn::Identity. Neither has parameters; Dropout acts only in training
// mode (Module::train / eval).
#pragma once

#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// Zeroes each element with probability p and scales the others by
// 1 / (1 - p) while training; the identity after eval().
//   sigma::nn::Dropout drop(0.2);   // or DropoutOptions(0.2).inplace(true)
//   auto y = drop(x);
// sigma::Error at construction unless 0 <= p <= 1.
class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(const DropoutOptions& options = {});
  Tensor forward(Tensor input);
  void pretty_print(std::ostream& stream) const override;  // "Dropout(p=0.5, inplace=False)"
  DropoutOptions options;
};
SIGMA_MODULE(Dropout);

// Returns its input (the same tensor), e.g. as a placeholder in a Sequential.
class IdentityImpl : public Module {
 public:
  Tensor forward(const Tensor& input) { return input; }
  void pretty_print(std::ostream& stream) const override;  // "Identity()"
};
SIGMA_MODULE(Identity);

}  // namespace sigma::nn

// ---- layers: Dropout2d.
namespace sigma::nn {

// Zeroes whole channels (the [H, W] plane of each (n, c) of [N, C, H, W], or
// of each c of [C, H, W]) with probability p and scales the others by
// 1 / (1 - p) while training; the identity after eval().
class Dropout2dImpl : public Module {
 public:
  explicit Dropout2dImpl(const Dropout2dOptions& options = {});
  Tensor forward(Tensor input);
  void pretty_print(std::ostream& stream) const override;  // "Dropout2d(p=0.5, inplace=False)"
  Dropout2dOptions options;
};
SIGMA_MODULE(Dropout2d);

}  // namespace sigma::nn
