// normalization.cpp: LayerNorm and F::layer_norm, thin layers over
// sigma::layer_norm (src/ops/normalization.cpp), which owns the math and the
// gradient.
#include <ostream>
#include <string>

#include "core/python_repr.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/init.h"
#include "sigma/nn/modules/normalization.h"
#include "sigma/ops.h"

namespace sigma::nn {

namespace functional {
Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options) {
  return sigma::layer_norm(input, options.normalized_shape(), options.weight(), options.bias(),
                           options.eps());
}
}  // namespace functional

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options_) : options(options_) {
  const auto& shape = options.normalized_shape();
  bool valid = !shape.empty();
  for (std::int64_t d : shape) valid = valid && d >= 0;
  if (!valid)
    throw Error("LayerNorm: normalized_shape must have at least one dimension, none negative; got " +
                shape_string(shape));
  const bool affine = options.elementwise_affine();
  weight = register_parameter("weight", affine ? sigma::empty(shape) : Tensor(), affine);
  bias = register_parameter("bias", affine ? sigma::empty(shape) : Tensor(), affine);
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  if (weight.defined()) init::ones_(weight);
  if (bias.defined()) init::zeros_(bias);
}

Tensor LayerNormImpl::forward(const Tensor& input) {
  return functional::layer_norm(input, functional::LayerNormFuncOptions(options.normalized_shape())
                                           .weight(weight)
                                           .bias(bias)
                                           .eps(options.eps()));
}

// Python's tuple repr: (4,) and (2, 3).
void LayerNormImpl::pretty_print(std::ostream& stream) const {
  const auto& shape = options.normalized_shape();
  stream << "LayerNorm((";
  for (std::size_t i = 0; i < shape.size(); ++i) stream << (i ? ", " : "") << shape[i];
  stream << (shape.size() == 1 ? ",)" : ")") << ", eps=" << sigma::detail::python_float(options.eps())
         << ", elementwise_affine=" << sigma::detail::python_bool(options.elementwise_affine())
         << ")";
}

}  // namespace sigma::nn
