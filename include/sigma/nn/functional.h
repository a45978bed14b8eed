// sigma/nn/functional.h: the functional forms of the nn layers, as
// torch::nn::functional (users write `namespace F = sigma::nn::functional;`).
// Each takes the options struct of its module (under a FuncOptions alias) and
// forwards to the op of sigma/ops.h, so F::sigmoid(x), torch-style
// sigma::sigmoid(x) and nn::Sigmoid()(x) are one computation.
#pragma once

#include "sigma/nn/options.h"
#include "sigma/tensor.h"

namespace sigma::nn::functional {

Tensor sigmoid(const Tensor& input);
Tensor tanh(const Tensor& input);
// With options.inplace(true), input is overwritten and returned.
Tensor relu(Tensor input, const ReLUFuncOptions& options = {});
Tensor silu(const Tensor& input);
Tensor gelu(const Tensor& input, const GELUFuncOptions& options = {});
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options = {});
Tensor logsigmoid(const Tensor& input);

// input [*, in] -> [*, out] = input weight^T + bias, for weight [out, in] and
// bias [out] (or undefined). sigma::Error naming both shapes when the last
// dimension of input is not in.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});

Tensor binary_cross_entropy_with_logits(
    const Tensor& input, const Tensor& target,
    const BinaryCrossEntropyWithLogitsFuncOptions& options = {});

}  // namespace sigma::nn::functional
