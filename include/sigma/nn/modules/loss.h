// sigma/nn/modules/loss.h: loss layers, as torch::nn::BCEWithLogitsLoss,
// BCELoss, CrossEntropyLoss, NLLLoss and MSELoss. Each forward(input, target) is the matching
// sigma::nn::functional call; input and target have the same shape except
// for the multi-class losses' class-index targets.
#pragma once

#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// Binary cross-entropy on logits: sigmoid and the log-likelihood fused, so
// it stays finite for any logit (see BCEWithLogitsLossOptions for the
// formula and defaults). weight and pos_weight are registered as buffers.
//   sigma::nn::BCEWithLogitsLoss criterion;
//   auto loss = criterion(logits, targets);  // targets in [0, 1], same shape
class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  void pretty_print(std::ostream& stream) const override;  // "BCEWithLogitsLoss()"

  BCEWithLogitsLossOptions options;
  Tensor weight;
  Tensor pos_weight;
};
SIGMA_MODULE(BCEWithLogitsLoss);

// Binary cross-entropy on probabilities in [0, 1], logs clamped at -100 (see
// BCELossOptions). weight is registered as a buffer.
class BCELossImpl : public Module {
 public:
  explicit BCELossImpl(const BCELossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  void pretty_print(std::ostream& stream) const override;  // "BCELoss()"

  BCELossOptions options;
  Tensor weight;
};
SIGMA_MODULE(BCELoss);

// Cross-entropy of scores [N, C, ...] against class indices or class
// probabilities (softmax and the log-likelihood fused; see sigma::cross_entropy).
// weight is registered as a buffer.
//   sigma::nn::CrossEntropyLoss criterion;
//   auto loss = criterion(logits, labels);  // logits [N, C], labels int64 [N]
class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  void pretty_print(std::ostream& stream) const override;  // "CrossEntropyLoss()"

  CrossEntropyLossOptions options;
  Tensor weight;
};
SIGMA_MODULE(CrossEntropyLoss);

// Negative log-likelihood of log-probabilities [N, C, ...] at class indices.
class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(const NLLLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  void pretty_print(std::ostream& stream) const override;  // "NLLLoss()"

  NLLLossOptions options;
  Tensor weight;
};
SIGMA_MODULE(NLLLoss);

// Squared error (input - target)^2, reduced as options.reduction() says.
class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(const MSELossOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  void pretty_print(std::ostream& stream) const override;  // "MSELoss()"

  MSELossOptions options;
};
SIGMA_MODULE(MSELoss);

}  // namespace sigma::nn
