// loss.cpp: the loss layers (BCEWithLogitsLoss, BCELoss, CrossEntropyLoss,
// NLLLoss, MSELoss) and their functional forms. binary_cross_entropy_with_logits and binary_cross_entropy
// are ops of ops.h (src/ops/loss.cpp); mse_loss is composite (sub, square,
// mean or sum).
#include <ostream>
#include <string>

#include "sigma/error.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/modules/loss.h"
#include "sigma/ops.h"

namespace sigma::nn {

namespace {

void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  if (!input.defined() || !target.defined())
    throw Error(std::string(op) + ": input and target must be defined tensors");
  if (!(input.sizes() == target.sizes()))
    throw Error(std::string(op) + ": target shape " + shape_string(target.sizes()) +
                " must match input shape " + shape_string(input.sizes()));
}

}  // namespace

// ---- Functional.

namespace functional {

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& options) {
  return sigma::binary_cross_entropy_with_logits(
      input, target, options.weight(), options.pos_weight(), options.reduction());
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options) {
  return sigma::binary_cross_entropy(input, target, options.weight(), options.reduction());
}

// (input - target)^2, reduced.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options) {
  check_same_shape("mse_loss", input, target);
  Tensor loss = (input - target).square();
  switch (options.reduction()) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return loss.sum();
    case Reduction::Mean:
      break;
  }
  return loss.mean();
}

Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyFuncOptions& options) {
  return sigma::cross_entropy(input, target, options.weight(), options.reduction(),
                              options.ignore_index(), options.label_smoothing());
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options) {
  return sigma::nll_loss(input, target, options.weight(), options.reduction(),
                         options.ignore_index());
}

}  // namespace functional

namespace F = functional;

// ---- Modules.

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options_)
    : options(options_) {
  weight = register_buffer("weight", options.weight());
  pos_weight = register_buffer("pos_weight", options.pos_weight());
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return sigma::binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                                 to_string(options.reduction()));
}

void BCEWithLogitsLossImpl::pretty_print(std::ostream& stream) const {
  stream << "BCEWithLogitsLoss()";
}

BCELossImpl::BCELossImpl(const BCELossOptions& options_) : options(options_) {
  weight = register_buffer("weight", options.weight());
}

Tensor BCELossImpl::forward(const Tensor& input, const Tensor& target) {
  return sigma::binary_cross_entropy(input, target, weight, options.reduction());
}

void BCELossImpl::pretty_print(std::ostream& stream) const { stream << "BCELoss()"; }

CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& options_)
    : options(options_) {
  weight = register_buffer("weight", options.weight());
}

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return sigma::cross_entropy(input, target, weight, options.reduction(), options.ignore_index(),
                              options.label_smoothing());
}

void CrossEntropyLossImpl::pretty_print(std::ostream& stream) const {
  stream << "CrossEntropyLoss()";
}

NLLLossImpl::NLLLossImpl(const NLLLossOptions& options_) : options(options_) {
  weight = register_buffer("weight", options.weight());
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return sigma::nll_loss(input, target, weight, options.reduction(), options.ignore_index());
}

void NLLLossImpl::pretty_print(std::ostream& stream) const { stream << "NLLLoss()"; }

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::mse_loss(input, target, options);
}

void MSELossImpl::pretty_print(std::ostream& stream) const { stream << "MSELoss()"; }

}  // namespace sigma::nn
