// sigma/nn/modules/activation.h: element-wise activation layers, as
// torch::nn::Sigmoid, Tanh, ReLU, SiLU, GELU, Softplus and LogSigmoid, and
// Hardsigmoid (PyTorch's Python nn.Hardsigmoid; LibTorch has none). Each
// forward is the matching sigma::nn::functional call; none has parameters.
#pragma once

#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// 1 / (1 + exp(-x)).
class SigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "Sigmoid()"
};
SIGMA_MODULE(Sigmoid);

class TanhImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "Tanh()"
};
SIGMA_MODULE(Tanh);

// max(x, 0); with inplace(true) the input is overwritten and returned.
class ReLUImpl : public Module {
 public:
  explicit ReLUImpl(const ReLUOptions& options = {}) : options(options) {}
  Tensor forward(Tensor input);
  void pretty_print(std::ostream& stream) const override;  // "ReLU()", "ReLU(inplace=True)"
  ReLUOptions options;
};
SIGMA_MODULE(ReLU);

// x sigmoid(x) (Swish).
class SiLUImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "SiLU()"
};
SIGMA_MODULE(SiLU);

class GELUImpl : public Module {
 public:
  explicit GELUImpl(const GELUOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "GELU(approximate='none')"
  GELUOptions options;
};
SIGMA_MODULE(GELU);

class SoftplusImpl : public Module {
 public:
  explicit SoftplusImpl(const SoftplusOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "Softplus(beta=1.0, threshold=20.0)"
  SoftplusOptions options;
};
SIGMA_MODULE(Softplus);

// log sigmoid(x) = -softplus(-x).
class LogSigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "LogSigmoid()"
};
SIGMA_MODULE(LogSigmoid);

// min(max(x + 3, 0), 6) / 6, a piecewise-linear sigmoid.
class HardsigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "Hardsigmoid()"
};
SIGMA_MODULE(Hardsigmoid);

// softmax along options.dim(): probabilities that sum to 1 along it.
class SoftmaxImpl : public Module {
 public:
  explicit SoftmaxImpl(const SoftmaxOptions& options) : options(options) {}
  explicit SoftmaxImpl(std::int64_t dim) : options(dim) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "Softmax(dim=1)"
  SoftmaxOptions options;
};
SIGMA_MODULE(Softmax);

class LogSoftmaxImpl : public Module {
 public:
  explicit LogSoftmaxImpl(const LogSoftmaxOptions& options) : options(options) {}
  explicit LogSoftmaxImpl(std::int64_t dim) : options(dim) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "LogSoftmax(dim=1)"
  LogSoftmaxOptions options;
};
SIGMA_MODULE(LogSoftmax);

// The gated linear unit a * sigmoid(b), a and b the halves along options.dim().
class GLUImpl : public Module {
 public:
  explicit GLUImpl(const GLUOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input);
  void pretty_print(std::ostream& stream) const override;  // "GLU(dim=-1)"
  GLUOptions options;
};
SIGMA_MODULE(GLU);

}  // namespace sigma::nn

// ---- layers: activations with parameters (LeakyReLU, ELU, Hardtanh).
namespace sigma::nn {

// x for x > 0, negative_slope x otherwise (sigma::leaky_relu).
class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& options = {}) : options(options) {}
  Tensor forward(Tensor input);
  void pretty_print(std::ostream& stream) const override;  // "LeakyReLU(negative_slope=0.01)"
  LeakyReLUOptions options;
};
SIGMA_MODULE(LeakyReLU);

// x for x > 0, alpha (e^x - 1) otherwise (sigma::elu).
class ELUImpl : public Module {
 public:
  explicit ELUImpl(const ELUOptions& options = {}) : options(options) {}
  Tensor forward(Tensor input);
  void pretty_print(std::ostream& stream) const override;  // "ELU(alpha=1.0)"
  ELUOptions options;
};
SIGMA_MODULE(ELU);

// x clamped to [min_val, max_val] (sigma::hardtanh).
class HardtanhImpl : public Module {
 public:
  explicit HardtanhImpl(const HardtanhOptions& options = {});
  Tensor forward(Tensor input);
  void pretty_print(std::ostream& stream) const override;  // "Hardtanh(min_val=-1.0, max_val=1.0)"
  HardtanhOptions options;
};
SIGMA_MODULE(Hardtanh);

}  // namespace sigma::nn
