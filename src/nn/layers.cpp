// layers.cpp: the convolution, pooling, batch norm, leaky/bounded activation,
// Dropout2d and Functional modules and their functional forms. As in
// modules.cpp: a module's forward calls its functional, which calls the op of
// sigma/layer_ops.h that owns the math and the gradient.
#include <cmath>
#include <ostream>
#include <sstream>
#include <string>
#include <variant>

#include "core/python_repr.h"
#include "sigma/autograd.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/init.h"
#include "sigma/nn/modules/activation.h"
#include "sigma/nn/modules/batchnorm.h"
#include "sigma/nn/modules/conv.h"
#include "sigma/nn/modules/dropout.h"
#include "sigma/nn/modules/functional.h"
#include "sigma/nn/modules/pooling.h"
#include "sigma/ops.h"

namespace sigma::nn {

namespace {
using sigma::detail::python_bool;
using sigma::detail::python_float;

// Python's repr of a tuple of ints: "(3, 3)", "(3,)".
template <std::size_t D, class T> std::string tuple_repr(const ExpandingArray<D, T>& a) {
  std::ostringstream s;
  s << "(";
  for (std::size_t i = 0; i < D; ++i) {
    if (i) s << ", ";
    if constexpr (std::is_same_v<T, std::int64_t>) {
      s << a[i];
    } else {
      if (a[i]) s << *a[i];
      else s << "None";
    }
  }
  s << (D == 1 ? ",)" : ")");
  return s.str();
}

template <std::size_t D> IntArrayRef ref(const ExpandingArray<D>& a) { return {a.data(), D}; }

void check_p(const char* op, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(std::string(op) + ": dropout probability has to be between 0 and 1, but got p=" +
                python_float(p));
}

// sigma::conv1d / conv2d with the options' padding (amounts, kValid or kSame).
template <std::size_t D>
Tensor conv_nd(const Tensor& input, const Tensor& weight, const functional::ConvFuncOptions<D>& o) {
  const auto call = [&](auto padding) {
    if constexpr (D == 1)
      return sigma::conv1d(input, weight, o.bias(), ref(o.stride()), padding, ref(o.dilation()),
                           o.groups());
    else
      return sigma::conv2d(input, weight, o.bias(), ref(o.stride()), padding, ref(o.dilation()),
                           o.groups());
  };
  const auto& p = o.padding();
  if (const auto* amounts = std::get_if<ExpandingArray<D>>(&p)) return call(ref(*amounts));
  return call(std::string_view(std::holds_alternative<enumtype::kSame>(p) ? "same" : "valid"));
}
}  // namespace

// ---- Functional.
namespace functional {

Tensor conv1d(const Tensor& input, const Tensor& weight, const Conv1dFuncOptions& options) {
  return conv_nd<1>(input, weight, options);
}
Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options) {
  return conv_nd<2>(input, weight, options);
}

Tensor max_pool1d(const Tensor& input, const MaxPool1dFuncOptions& o) {
  return sigma::max_pool1d(input, ref(o.kernel_size()), ref(o.stride()), ref(o.padding()),
                           ref(o.dilation()), o.ceil_mode());
}
Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& o) {
  return sigma::max_pool2d(input, ref(o.kernel_size()), ref(o.stride()), ref(o.padding()),
                           ref(o.dilation()), o.ceil_mode());
}
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input,
                                                   const MaxPool1dFuncOptions& o) {
  return sigma::max_pool1d_with_indices(input, ref(o.kernel_size()), ref(o.stride()),
                                        ref(o.padding()), ref(o.dilation()), o.ceil_mode());
}
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input,
                                                   const MaxPool2dFuncOptions& o) {
  return sigma::max_pool2d_with_indices(input, ref(o.kernel_size()), ref(o.stride()),
                                        ref(o.padding()), ref(o.dilation()), o.ceil_mode());
}
Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& o) {
  return sigma::avg_pool2d(input, ref(o.kernel_size()), ref(o.stride()), ref(o.padding()),
                           o.ceil_mode(), o.count_include_pad(), o.divisor_override());
}
Tensor adaptive_avg_pool2d(const Tensor& input, const AdaptiveAvgPool2dFuncOptions& o) {
  if (!input.defined()) throw Error("adaptive_avg_pool2d: the input tensor is undefined");
  if (input.dim() < 2)
    throw Error("adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape " +
                shape_string(input.sizes()));
  std::vector<std::int64_t> size(2);
  for (std::size_t i = 0; i < 2; ++i)
    size[i] = o.output_size()[i].value_or(input.size(static_cast<std::int64_t>(i) - 2));
  return sigma::adaptive_avg_pool2d(input, size);
}

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& o) {
  if (!input.defined()) throw Error("batch_norm: the input tensor is undefined");
  if (o.training() && input.dim() >= 2) {
    std::int64_t per_channel = input.size(0);
    for (std::int64_t d = 2; d < input.dim(); ++d) per_channel *= input.size(d);
    if (per_channel == 1)
      throw Error("batch_norm: expected more than 1 value per channel when training, got input "
                  "of shape " + shape_string(input.sizes()));
  }
  if (!o.momentum())
    throw Error("batch_norm: momentum must be a number (nullopt, the cumulative average, is "
                "the BatchNorm modules' option)");
  return sigma::batch_norm(input, o.weight(), o.bias(), running_mean, running_var, o.training(),
                           *o.momentum(), o.eps());
}

Tensor leaky_relu(Tensor input, const LeakyReLUFuncOptions& o) {
  if (o.inplace()) return sigma::leaky_relu_(input, o.negative_slope());
  return sigma::leaky_relu(input, o.negative_slope());
}
Tensor elu(Tensor input, const ELUFuncOptions& o) {
  if (o.inplace()) return sigma::elu_(input, o.alpha());
  return sigma::elu(input, o.alpha());
}
Tensor hardtanh(Tensor input, const HardtanhFuncOptions& o) {
  if (o.inplace()) return sigma::hardtanh_(input, o.min_val(), o.max_val());
  return sigma::hardtanh(input, o.min_val(), o.max_val());
}

// [N, C, H, W] with a mask [N, C, 1, 1]; [C, H, W] with [C, 1, 1].
Tensor dropout2d(Tensor input, const Dropout2dFuncOptions& o) {
  const double p = o.p();
  check_p("dropout2d", p);
  if (!input.defined()) throw Error("dropout2d: the input tensor is undefined");
  if (input.dim() != 3 && input.dim() != 4)
    throw Error("dropout2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape " +
                shape_string(input.sizes()));
  if (!o.training() || p == 0.0 || input.numel() == 0) return input;
  if (!input.is_floating_point())
    throw Error(std::string("dropout2d: expected a floating-point input, got ") +
                to_string(input.dtype()));
  std::vector<std::int64_t> noise(input.sizes().begin(), input.sizes().end());
  noise[noise.size() - 1] = noise[noise.size() - 2] = 1;
  Tensor mask;
  if (p == 1.0) {
    mask = sigma::zeros(noise, input.dtype());
  } else {
    mask = sigma::rand(noise, kDouble).lt(1.0 - p).to(input.dtype());
    mask.mul_(1.0 / (1.0 - p));
  }
  if (o.inplace()) return input.mul_(mask);
  return input * mask;
}

}  // namespace functional

namespace F = functional;

// ---- Convolution.

template <std::size_t D>
ConvNdImpl<D>::ConvNdImpl(const ConvOptions<D>& options_) : options(options_) {
  const char* name = D == 1 ? "Conv1d" : "Conv2d";
  const std::int64_t in = options.in_channels(), out = options.out_channels(),
                     g = options.groups();
  if (in <= 0 || out <= 0 || g <= 0)
    throw Error(std::string(name) + ": in_channels, out_channels and groups must be positive, got " +
                std::to_string(in) + ", " + std::to_string(out) + ", " + std::to_string(g));
  if (in % g != 0 || out % g != 0)
    throw Error(std::string(name) + ": in_channels (" + std::to_string(in) + ") and out_channels (" +
                std::to_string(out) + ") must be divisible by groups (" + std::to_string(g) + ")");
  if (!std::holds_alternative<enumtype::kZeros>(options.padding_mode()))
    throw Error(std::string(name) +
                ": only padding_mode kZeros is implemented in sigma (reflect, replicate and "
                "circular padding are not)");
  if (std::holds_alternative<enumtype::kSame>(options.padding()))
    for (std::size_t i = 0; i < D; ++i)
      if (options.stride()[i] != 1)
        throw Error(std::string(name) + ": padding='same' is not supported for strided convolutions");
  std::vector<std::int64_t> shape = {out, in / g};
  for (std::size_t i = 0; i < D; ++i) shape.push_back(options.kernel_size()[i]);
  weight = register_parameter("weight", sigma::empty(shape));
  bias = register_parameter("bias", options.bias() ? sigma::empty({out}) : Tensor(), options.bias());
  reset_parameters();
}

template <std::size_t D> void ConvNdImpl<D>::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const std::int64_t fan_in = std::get<0>(init::_calculate_fan_in_and_fan_out(weight));
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias, -bound, bound);
  }
}

template <std::size_t D> void ConvNdImpl<D>::pretty_print(std::ostream& stream) const {
  stream << "Conv" << D << "d(" << options.in_channels() << ", " << options.out_channels()
         << ", kernel_size=" << tuple_repr(options.kernel_size())
         << ", stride=" << tuple_repr(options.stride());
  const auto& p = options.padding();
  if (const auto* amounts = std::get_if<ExpandingArray<D>>(&p)) {
    if (!(*amounts == ExpandingArray<D>(0))) stream << ", padding=" << tuple_repr(*amounts);
  } else {
    stream << ", padding=" << (std::holds_alternative<enumtype::kSame>(p) ? "same" : "valid");
  }
  if (!(options.dilation() == ExpandingArray<D>(1)))
    stream << ", dilation=" << tuple_repr(options.dilation());
  if (options.groups() != 1) stream << ", groups=" << options.groups();
  if (!options.bias()) stream << ", bias=False";
  stream << ")";
}

template class ConvNdImpl<1>;
template class ConvNdImpl<2>;

Tensor Conv1dImpl::forward(const Tensor& input) {
  return F::conv1d(input, weight,
                   F::Conv1dFuncOptions()
                       .bias(bias)
                       .stride(options.stride())
                       .padding(options.padding())
                       .dilation(options.dilation())
                       .groups(options.groups()));
}

Tensor Conv2dImpl::forward(const Tensor& input) {
  return F::conv2d(input, weight,
                   F::Conv2dFuncOptions()
                       .bias(bias)
                       .stride(options.stride())
                       .padding(options.padding())
                       .dilation(options.dilation())
                       .groups(options.groups()));
}

// ---- Batch normalization.

template <std::size_t D>
BatchNormImplBase<D>::BatchNormImplBase(const BatchNormOptions& options_) : options(options_) {
  const std::int64_t c = options.num_features();
  if (c <= 0)
    throw Error("BatchNorm" + std::to_string(D) + "d: num_features must be positive, got " +
                std::to_string(c));
  if (options.affine()) {
    weight = register_parameter("weight", sigma::empty({c}));
    bias = register_parameter("bias", sigma::empty({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", sigma::zeros({c}));
    running_var = register_buffer("running_var", sigma::ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", sigma::zeros({}, kLong));
  }
  reset_parameters();
}

template <std::size_t D> void BatchNormImplBase<D>::reset_running_stats() {
  if (!options.track_running_stats()) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

template <std::size_t D> void BatchNormImplBase<D>::reset_parameters() {
  reset_running_stats();
  if (options.affine()) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

template <std::size_t D> Tensor BatchNormImplBase<D>::forward(const Tensor& input) {
  if (!input.defined()) throw Error("BatchNorm" + std::to_string(D) + "d: the input is undefined");
  if (D == 1 && input.dim() != 2 && input.dim() != 3)
    throw Error("BatchNorm1d: expected 2D or 3D input (got " + std::to_string(input.dim()) +
                "D input of shape " + shape_string(input.sizes()) + ")");
  if (D == 2 && input.dim() != 4)
    throw Error("BatchNorm2d: expected 4D input (got " + std::to_string(input.dim()) +
                "D input of shape " + shape_string(input.sizes()) + ")");
  double factor = options.momentum().value_or(0.0);
  if (is_training() && options.track_running_stats()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    if (!options.momentum()) factor = 1.0 / num_batches_tracked.template item<double>();
  }
  return F::batch_norm(input, running_mean, running_var,
                       F::BatchNormFuncOptions()
                           .weight(weight)
                           .bias(bias)
                           .training(is_training() || !options.track_running_stats())
                           .momentum(factor)
                           .eps(options.eps()));
}

template <std::size_t D> void BatchNormImplBase<D>::pretty_print(std::ostream& stream) const {
  stream << "BatchNorm" << D << "d(" << options.num_features()
         << ", eps=" << python_float(options.eps()) << ", momentum="
         << (options.momentum() ? python_float(*options.momentum()) : std::string("None"))
         << ", affine=" << python_bool(options.affine())
         << ", track_running_stats=" << python_bool(options.track_running_stats()) << ")";
}

template class BatchNormImplBase<1>;
template class BatchNormImplBase<2>;

// ---- Pooling.

Tensor MaxPool1dImpl::forward(const Tensor& input) { return F::max_pool1d(input, options); }
std::tuple<Tensor, Tensor> MaxPool1dImpl::forward_with_indices(const Tensor& input) {
  return F::max_pool1d_with_indices(input, options);
}
Tensor MaxPool2dImpl::forward(const Tensor& input) { return F::max_pool2d(input, options); }
std::tuple<Tensor, Tensor> MaxPool2dImpl::forward_with_indices(const Tensor& input) {
  return F::max_pool2d_with_indices(input, options);
}
Tensor AvgPool2dImpl::forward(const Tensor& input) { return F::avg_pool2d(input, options); }
Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& input) {
  return F::adaptive_avg_pool2d(input, options);
}

namespace {
template <class O> void print_max_pool(std::ostream& s, const char* name, const O& o) {
  s << name << "(kernel_size=" << tuple_repr(o.kernel_size()) << ", stride=" << tuple_repr(o.stride())
    << ", padding=" << tuple_repr(o.padding()) << ", dilation=" << tuple_repr(o.dilation())
    << ", ceil_mode=" << python_bool(o.ceil_mode()) << ")";
}
}  // namespace

void MaxPool1dImpl::pretty_print(std::ostream& stream) const {
  print_max_pool(stream, "MaxPool1d", options);
}
void MaxPool2dImpl::pretty_print(std::ostream& stream) const {
  print_max_pool(stream, "MaxPool2d", options);
}
void AvgPool2dImpl::pretty_print(std::ostream& stream) const {
  stream << "AvgPool2d(kernel_size=" << tuple_repr(options.kernel_size())
         << ", stride=" << tuple_repr(options.stride())
         << ", padding=" << tuple_repr(options.padding()) << ")";
}
void AdaptiveAvgPool2dImpl::pretty_print(std::ostream& stream) const {
  stream << "AdaptiveAvgPool2d(output_size=" << tuple_repr(options.output_size()) << ")";
}

// ---- Activations and Dropout2d.

Tensor LeakyReLUImpl::forward(Tensor input) { return F::leaky_relu(std::move(input), options); }
void LeakyReLUImpl::pretty_print(std::ostream& stream) const {
  stream << "LeakyReLU(negative_slope=" << python_float(options.negative_slope())
         << (options.inplace() ? ", inplace=True" : "") << ")";
}

Tensor ELUImpl::forward(Tensor input) { return F::elu(std::move(input), options); }
void ELUImpl::pretty_print(std::ostream& stream) const {
  stream << "ELU(alpha=" << python_float(options.alpha())
         << (options.inplace() ? ", inplace=True" : "") << ")";
}

HardtanhImpl::HardtanhImpl(const HardtanhOptions& options_) : options(options_) {
  if (!(options.max_val() > options.min_val()))
    throw Error("Hardtanh: max_val (" + python_float(options.max_val()) +
                ") must be greater than min_val (" + python_float(options.min_val()) + ")");
}
Tensor HardtanhImpl::forward(Tensor input) { return F::hardtanh(std::move(input), options); }
void HardtanhImpl::pretty_print(std::ostream& stream) const {
  stream << "Hardtanh(min_val=" << python_float(options.min_val())
         << ", max_val=" << python_float(options.max_val())
         << (options.inplace() ? ", inplace=True" : "") << ")";
}

Dropout2dImpl::Dropout2dImpl(const Dropout2dOptions& options_) : options(options_) {
  check_p("Dropout2d", options.p());
}
Tensor Dropout2dImpl::forward(Tensor input) {
  return F::dropout2d(std::move(input), F::Dropout2dFuncOptions()
                                            .p(options.p())
                                            .training(is_training())
                                            .inplace(options.inplace()));
}
void Dropout2dImpl::pretty_print(std::ostream& stream) const {
  stream << "Dropout2d(p=" << python_float(options.p())
         << ", inplace=" << python_bool(options.inplace()) << ")";
}

// ---- Functional.

FunctionalImpl::FunctionalImpl(Function function) : function_(std::move(function)) {
  if (!function_) throw Error("Functional: the function is empty");
}
Tensor FunctionalImpl::forward(Tensor input) { return function_(std::move(input)); }
void FunctionalImpl::pretty_print(std::ostream& stream) const { stream << "Functional()"; }

}  // namespace sigma::nn
