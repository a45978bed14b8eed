// sigma/nn/modules/batchnorm.h: BatchNorm1d and BatchNorm2d, as
// torch::nn::BatchNorm1d/2d.
#pragma once

#include <cstddef>
#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// Normalizes each channel (dimension 1) by the batch's mean and biased
// variance while training, and by running_mean / running_var after eval()
// (or always the batch's with track_running_stats(false)); then weight and
// bias (affine). Training updates the running stats with momentum (the
// unbiased variance) and counts num_batches_tracked; momentum nullopt
// averages all batches seen. State dict: weight, bias, running_mean,
// running_var, num_batches_tracked (int64), as PyTorch.
template <std::size_t D>
class BatchNormImplBase : public Module {
 public:
  explicit BatchNormImplBase(const BatchNormOptions& options);
  Tensor forward(const Tensor& input);
  // running_mean 0, running_var 1, num_batches_tracked 0.
  void reset_running_stats();
  // reset_running_stats(), weight 1 and bias 0.
  void reset_parameters();
  // "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
  void pretty_print(std::ostream& stream) const override;

  BatchNormOptions options;
  Tensor weight, bias;
  Tensor running_mean, running_var, num_batches_tracked;
};

// Input [N, C] or [N, C, L].
class BatchNorm1dImpl : public BatchNormImplBase<1> {
 public:
  using BatchNormImplBase<1>::BatchNormImplBase;
};
SIGMA_MODULE(BatchNorm1d);

// Input [N, C, H, W].
class BatchNorm2dImpl : public BatchNormImplBase<2> {
 public:
  using BatchNormImplBase<2>::BatchNormImplBase;
};
SIGMA_MODULE(BatchNorm2d);

}  // namespace sigma::nn
