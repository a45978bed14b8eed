// sigma/nn/modules/loss.h: loss layers, as torch::nn::BCEWithLogitsLoss.
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

}  // namespace sigma::nn
