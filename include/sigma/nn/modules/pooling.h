// sigma/nn/modules/pooling.h: MaxPool1d, MaxPool2d, AvgPool2d and
// AdaptiveAvgPool2d, as torch::nn's; none has parameters. Each forward is
// the matching sigma::nn::functional call.
#pragma once

#include <ostream>
#include <tuple>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

class MaxPool1dImpl : public Module {
 public:
  MaxPool1dImpl(ExpandingArray<1> kernel_size) : MaxPool1dImpl(MaxPool1dOptions(kernel_size)) {}  // NOLINT
  explicit MaxPool1dImpl(const MaxPool1dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  std::tuple<Tensor, Tensor> forward_with_indices(const Tensor& input);
  // "MaxPool1d(kernel_size=(2), stride=(2), padding=(0), dilation=(1), ceil_mode=False)"
  void pretty_print(std::ostream& stream) const override;
  MaxPool1dOptions options;
};
SIGMA_MODULE(MaxPool1d);

class MaxPool2dImpl : public Module {
 public:
  MaxPool2dImpl(ExpandingArray<2> kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}  // NOLINT
  explicit MaxPool2dImpl(const MaxPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  std::tuple<Tensor, Tensor> forward_with_indices(const Tensor& input);
  // "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False)"
  void pretty_print(std::ostream& stream) const override;
  MaxPool2dOptions options;
};
SIGMA_MODULE(MaxPool2d);

class AvgPool2dImpl : public Module {
 public:
  AvgPool2dImpl(ExpandingArray<2> kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}  // NOLINT
  explicit AvgPool2dImpl(const AvgPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  // "AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
  void pretty_print(std::ostream& stream) const override;
  AvgPool2dOptions options;
};
SIGMA_MODULE(AvgPool2d);

class AdaptiveAvgPool2dImpl : public Module {
 public:
  AdaptiveAvgPool2dImpl(ExpandingArrayWithOptionalElem<2> output_size)  // NOLINT
      : AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions(output_size)) {}
  explicit AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  // "AdaptiveAvgPool2d(output_size=(1, 1))" (None for a kept size)
  void pretty_print(std::ostream& stream) const override;
  AdaptiveAvgPool2dOptions options;
};
SIGMA_MODULE(AdaptiveAvgPool2d);

}  // namespace sigma::nn
