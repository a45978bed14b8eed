// sigma/nn/init.h: parameter initialisation, as torch::nn::init. Each
// function fills its tensor in place without recording gradients and returns
// it; random draws use sigma's global generator (sigma::manual_seed).
#pragma once

#include <cstdint>
#include <tuple>

#include "sigma/nn/options.h"
#include "sigma/tensor.h"

namespace sigma::nn::init {

// The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for
// tanh, sqrt(2) for ReLU, sqrt(2 / (1 + param^2)) for leaky ReLU with
// negative slope param, 3/4 for SELU.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

Tensor constant_(Tensor tensor, const Scalar& value);
Tensor ones_(Tensor tensor);
Tensor zeros_(Tensor tensor);
Tensor uniform_(Tensor tensor, double low = 0, double high = 1);
Tensor normal_(Tensor tensor, double mean = 0, double std = 1);

// U(-b, b) with b = gain sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
// N(0, s^2) with s = gain sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor tensor, double gain = 1.0);
// U(-b, b) with b = gain sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)
// and fan the mode's fan. Linear's weight uses a = sqrt(5), which gives
// b = 1 / sqrt(fan_in). A tensor with no elements is left as it is.
Tensor kaiming_uniform_(Tensor tensor, double a = 0, FanMode mode = kFanIn,
                        Nonlinearity nonlinearity = kLeakyReLU);
// N(0, s^2) with s = gain / sqrt(fan).
Tensor kaiming_normal_(Tensor tensor, double a = 0, FanMode mode = kFanIn,
                       Nonlinearity nonlinearity = kLeakyReLU);

// (fan_in, fan_out) of a weight [out, in, *kernel]: in * prod(kernel) and
// out * prod(kernel). sigma::Error for fewer than 2 dimensions.
std::tuple<std::int64_t, std::int64_t> _calculate_fan_in_and_fan_out(const Tensor& tensor);

}  // namespace sigma::nn::init
