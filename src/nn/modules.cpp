// modules.cpp: the nn layers (Linear, the activations, Dropout, Identity,
// Sequential), their functional forms and the initializers (the losses are in
// loss.cpp). Three thin
// layers as in LibTorch: a module's forward calls its functional, which calls
// the op of sigma/ops.h that owns the math and the gradient.
#include <charconv>
#include <cmath>
#include <ostream>
#include <string>

#include "sigma/autograd.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/init.h"
#include "sigma/nn/modules/activation.h"
#include "sigma/nn/modules/container.h"
#include "sigma/nn/modules/dropout.h"
#include "sigma/nn/modules/linear.h"
#include "core/python_repr.h"
#include "ops/attention.h"
#include "sigma/ops.h"

namespace sigma::nn {

namespace {
using sigma::detail::python_bool;
using sigma::detail::python_float;

void check_dropout_p(const char* op, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(std::string(op) + ": dropout probability has to be between 0 and 1, but got p=" +
                python_float(p));
}
}  // namespace

// ---- Functional.

namespace functional {

Tensor sigmoid(const Tensor& input) { return sigma::sigmoid(input); }
Tensor tanh(const Tensor& input) { return sigma::tanh(input); }
Tensor relu(Tensor input, const ReLUFuncOptions& options) {
  if (options.inplace()) return input.relu_();
  return sigma::relu(input);
}
Tensor silu(const Tensor& input) { return sigma::silu(input); }
Tensor gelu(const Tensor& input, const GELUFuncOptions& options) {
  return sigma::gelu(input, options.approximate());
}
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options) {
  return sigma::softplus(input, options.beta(), options.threshold());
}
Tensor logsigmoid(const Tensor& input) { return sigma::log_sigmoid(input); }
Tensor hardsigmoid(const Tensor& input) { return sigma::hardsigmoid(input); }
Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options) {
  return sigma::softmax(input, options.dim(), options.dtype());
}
Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options) {
  return sigma::log_softmax(input, options.dim(), options.dtype());
}
Tensor glu(const Tensor& input, const GLUFuncOptions& options) {
  return sigma::glu(input, options.dim());
}

Tensor sigmoid_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                         std::optional<double> bias, const Tensor& attn_mask, bool is_causal,
                         std::optional<double> scale) {
  return sigma::detail::attention("sigmoid_attention", sigma::detail::AttentionKind::Sigmoid, query, key, value,
                           attn_mask, 0.0, is_causal, scale, bias)
      .output;
}

// input [*, in], weight [out, in], bias [out] -> [*, out]
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() != 2)
    throw Error("linear: weight must be 2-D [out_features, in_features], got shape " +
                shape_string(weight.sizes()));
  if (input.dim() == 0 || input.size(-1) != weight.size(1))
    throw Error("linear: input of shape " + shape_string(input.sizes()) +
                " does not match weight of shape " + shape_string(weight.sizes()) +
                " (the input's last dimension must be in_features = " +
                std::to_string(weight.size(1)) + ")");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw Error("linear: bias of shape " + shape_string(bias.sizes()) +
                " does not match weight of shape " + shape_string(weight.sizes()) + " (expected [" +
                std::to_string(weight.size(0)) + "])");
  Tensor out = input.matmul(weight.t());
  return bias.defined() ? out + bias : out;
}

Tensor dropout(Tensor input, const DropoutFuncOptions& options) {
  const double p = options.p();
  check_dropout_p("dropout", p);
  if (!input.defined()) throw Error("dropout: the input is an undefined tensor");
  if (p == 0.0 || !options.training() || input.numel() == 0) return input;
  if (!input.is_floating_point())
    throw Error(std::string("dropout: expected a floating-point input, got ") +
                to_string(input.dtype()));
  // mask: 0 with probability p, else 1 / (1 - p); p = 1 multiplies by 0 (as
  // PyTorch, so inf and NaN inputs give NaN).
  Tensor mask;
  if (p == 1.0) {
    mask = sigma::zeros({}, input.dtype());
  } else {
    // u < 1 - p for u uniform in [0, 1) with 53 random bits: probability 1 - p.
    mask = sigma::rand(input.sizes(), kDouble).lt(1.0 - p).to(input.dtype());
    mask.mul_(1.0 / (1.0 - p));
  }
  if (options.inplace()) return input.mul_(mask);
  return input * mask;
}

}  // namespace functional

namespace F = functional;

// ---- Dropout and Identity.

DropoutImpl::DropoutImpl(const DropoutOptions& options_) : options(options_) {
  check_dropout_p("Dropout", options.p());
}

Tensor DropoutImpl::forward(Tensor input) {
  return F::dropout(std::move(input), F::DropoutFuncOptions()
                                          .p(options.p())
                                          .training(is_training())
                                          .inplace(options.inplace()));
}

void DropoutImpl::pretty_print(std::ostream& stream) const {
  stream << "Dropout(p=" << python_float(options.p())
         << ", inplace=" << python_bool(options.inplace()) << ")";
}

void IdentityImpl::pretty_print(std::ostream& stream) const { stream << "Identity()"; }

// ---- Linear.

LinearImpl::LinearImpl(const LinearOptions& options_) : options(options_) {
  const std::int64_t in = options.in_features(), out = options.out_features();
  if (in < 0 || out < 0)
    throw Error("Linear: in_features and out_features must be non-negative, got in_features=" +
                std::to_string(in) + ", out_features=" + std::to_string(out));
  weight = register_parameter("weight", sigma::empty({out, in}));
  bias =
      register_parameter("bias", options.bias() ? sigma::empty({out}) : Tensor(), options.bias());
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const std::int64_t fan_in = std::get<0>(init::_calculate_fan_in_and_fan_out(weight));
    if (fan_in > 0) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      init::uniform_(bias, -bound, bound);
    } else {
      init::zeros_(bias);
    }
  }
}

Tensor LinearImpl::forward(const Tensor& input) { return F::linear(input, weight, bias); }

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "Linear(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ", bias=" << python_bool(options.bias())
         << ")";
}

// ---- Activations.

Tensor SigmoidImpl::forward(const Tensor& input) { return F::sigmoid(input); }
void SigmoidImpl::pretty_print(std::ostream& stream) const { stream << "Sigmoid()"; }

Tensor TanhImpl::forward(const Tensor& input) { return F::tanh(input); }
void TanhImpl::pretty_print(std::ostream& stream) const { stream << "Tanh()"; }

Tensor ReLUImpl::forward(Tensor input) { return F::relu(std::move(input), options); }
void ReLUImpl::pretty_print(std::ostream& stream) const {
  stream << (options.inplace() ? "ReLU(inplace=True)" : "ReLU()");
}

Tensor SiLUImpl::forward(const Tensor& input) { return F::silu(input); }
void SiLUImpl::pretty_print(std::ostream& stream) const { stream << "SiLU()"; }

Tensor GELUImpl::forward(const Tensor& input) { return F::gelu(input, options); }
void GELUImpl::pretty_print(std::ostream& stream) const {
  stream << "GELU(approximate='" << options.approximate() << "')";
}

Tensor SoftplusImpl::forward(const Tensor& input) { return F::softplus(input, options); }
void SoftplusImpl::pretty_print(std::ostream& stream) const {
  stream << "Softplus(beta=" << python_float(options.beta())
         << ", threshold=" << python_float(options.threshold()) << ")";
}

Tensor LogSigmoidImpl::forward(const Tensor& input) { return F::logsigmoid(input); }
void LogSigmoidImpl::pretty_print(std::ostream& stream) const { stream << "LogSigmoid()"; }
Tensor HardsigmoidImpl::forward(const Tensor& input) { return F::hardsigmoid(input); }
void HardsigmoidImpl::pretty_print(std::ostream& stream) const { stream << "Hardsigmoid()"; }
Tensor SoftmaxImpl::forward(const Tensor& input) { return sigma::softmax(input, options.dim()); }
void SoftmaxImpl::pretty_print(std::ostream& stream) const {
  stream << "Softmax(dim=" << options.dim() << ")";
}
Tensor LogSoftmaxImpl::forward(const Tensor& input) {
  return sigma::log_softmax(input, options.dim());
}
void LogSoftmaxImpl::pretty_print(std::ostream& stream) const {
  stream << "LogSoftmax(dim=" << options.dim() << ")";
}
Tensor GLUImpl::forward(const Tensor& input) { return F::glu(input, options); }
void GLUImpl::pretty_print(std::ostream& stream) const {
  stream << "GLU(dim=" << options.dim() << ")";
}

// ---- Sequential.

void SequentialImpl::push_back(std::string name, AnyModule module) {
  if (module.is_empty()) throw Error("Sequential::push_back: the module '" + name + "' is empty");
  register_module(std::move(name), module.ptr());
  modules_.push_back(std::move(module));
}

const AnyModule& SequentialImpl::at_index(std::size_t index) const {
  if (index >= modules_.size())
    throw Error("Sequential: index " + std::to_string(index) + " is out of range for " +
                std::to_string(modules_.size()) + " modules");
  return modules_[index];
}

Tensor SequentialImpl::forward(const Tensor& input) {
  if (modules_.empty()) throw Error("Sequential: forward() called on an empty Sequential");
  Tensor x = modules_.front().forward(input);
  for (std::size_t i = 1; i < modules_.size(); ++i) x = modules_[i].forward(x);
  return x;
}

void SequentialImpl::pretty_print(std::ostream& stream) const { stream << "Sequential"; }

// ---- Initializers.

namespace init {

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU:
      return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU:
      return 3.0 / 4.0;
    default:
      return 1.0;  // linear, conv, sigmoid
  }
}

Tensor constant_(Tensor tensor, const Scalar& value) {
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1); }
Tensor zeros_(Tensor tensor) {
  NoGradGuard no_grad;
  tensor.zero_();
  return tensor;
}
Tensor uniform_(Tensor tensor, double low, double high) {
  NoGradGuard no_grad;
  tensor.uniform_(low, high);
  return tensor;
}
Tensor normal_(Tensor tensor, double mean, double std) {
  NoGradGuard no_grad;
  tensor.normal_(mean, std);
  return tensor;
}

std::tuple<std::int64_t, std::int64_t> _calculate_fan_in_and_fan_out(const Tensor& tensor) {
  if (tensor.dim() < 2)
    throw Error(
        "_calculate_fan_in_and_fan_out: fan in and fan out cannot be computed for a "
        "tensor with fewer than 2 dimensions (got shape " +
        shape_string(tensor.sizes()) + ")");
  std::int64_t receptive_field = 1;
  for (std::int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.size(d);
  return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

namespace {
double fan_for(const Tensor& tensor, FanMode mode) {
  auto [fan_in, fan_out] = _calculate_fan_in_and_fan_out(tensor);
  return static_cast<double>(mode == FanMode::FanIn ? fan_in : fan_out);
}
}  // namespace

Tensor xavier_uniform_(Tensor tensor, double gain) {
  auto [fan_in, fan_out] = _calculate_fan_in_and_fan_out(tensor);
  if (tensor.numel() == 0) return tensor;
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor xavier_normal_(Tensor tensor, double gain) {
  auto [fan_in, fan_out] = _calculate_fan_in_and_fan_out(tensor);
  if (tensor.numel() == 0) return tensor;
  const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return normal_(std::move(tensor), 0.0, stddev);
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  const double fan = fan_for(tensor, mode);
  if (tensor.numel() == 0) return tensor;
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(fan);
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  const double fan = fan_for(tensor, mode);
  if (tensor.numel() == 0) return tensor;
  return normal_(std::move(tensor), 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan));
}

}  // namespace init
}  // namespace sigma::nn
