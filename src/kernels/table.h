// table.h: the element-wise kernel table, keyed by (op, device, dtype)
// (internal).
//
// Every op of SIGMA_OP_LIST has one entry per device and storage type: a
// function on spans with one uniform signature, so the tensor layer never
// names a kernel, it looks one up. Ops with parameters (softplus's beta and
// threshold) read them from KernelParams; the others ignore it. The CPU is
// the only column today; a second backend adds its column in table.cpp (and
// its allocator, src/tensor/device.cpp) and nothing else changes.
#pragma once

#include <span>

#include "sigma/device.h"
#include "sigma/dtypes.h"
#include "sigma/op_list.h"

namespace sigma::detail {

struct KernelParams {
  double beta = 1.0;        // softplus, softplus_backward
  double threshold = 20.0;  // softplus, softplus_backward
  double eps = -1.0;        // logit, logit_backward (negative: no clamping)
};

// Arity 1: y = f(x). Arity 2: dx = f(dy, saved).
template <class T>
using UnaryFn = void (*)(std::span<const T>, std::span<T>, const KernelParams&);
template <class T>
using BinaryFn = void (*)(std::span<const T>, std::span<const T>, std::span<T>,
                          const KernelParams&);

// The kernel of op for storage type T (float, double, bfloat16, float16) on
// device d. sigma::Error naming the op for a device without a backend, or for
// an op of the other arity.
template <class T> UnaryFn<T> unary_kernel(Op op, Device d);
// Outside the op list: y = sigmoid(x) and g = sigmoid(x) sigmoid(-x) in one
// pass, the same bits as the sigmoid and sigmoid_backward_from_input (dy = 1)
// kernels (the recurrent cells' forward). g may be x; y must be disjoint from
// both. float and double.
template <class T>
using SigmoidAndDerivativeFn = void (*)(std::span<const T>, std::span<T>, std::span<T>);
template <class T> SigmoidAndDerivativeFn<T> sigmoid_and_derivative_kernel(Device d);
void sigmoid_and_derivative(std::span<const float> x, std::span<float> y, std::span<float> g);
void sigmoid_and_derivative(std::span<const double> x, std::span<double> y, std::span<double> g);
// Its backward: dx = dy * g, taking the first NaN (dy, then g) as the
// backward kernels do; with g from sigmoid_and_derivative(x), the same bits as
// sigmoid_backward_from_input(dy, x). dx may be dy or g.
template <class T>
using SigmoidBackwardFromDerivativeFn = void (*)(std::span<const T>, std::span<const T>, std::span<T>);
template <class T>
SigmoidBackwardFromDerivativeFn<T> sigmoid_backward_from_derivative_kernel(Device d);
void sigmoid_backward_from_derivative(std::span<const float> dy, std::span<const float> g,
                                      std::span<float> dx);
void sigmoid_backward_from_derivative(std::span<const double> dy, std::span<const double> g,
                                      std::span<double> dx);
template <class T> BinaryFn<T> binary_kernel(Op op, Device d);

}  // namespace sigma::detail
