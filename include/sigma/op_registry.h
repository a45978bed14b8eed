// sigma/op_registry.h: the kernels of every op in SIGMA_OP_LIST behind one
// uniform signature, so tools (sigma accuracy, sigma bench, the benchmarks)
// can run any op by name. Ops with parameters use their defaults (softplus:
// beta 1, threshold 20).
#pragma once

#include <span>

#include "sigma/dtypes.h"
#include "sigma/op_list.h"

namespace sigma {

template <class T>
using UnaryKernel = void (*)(std::span<const T>, std::span<T>);
template <class T>
using BinaryKernel = void (*)(std::span<const T>, std::span<const T>, std::span<T>);

struct OpKernels {
  Op op;
  // Arity 1: y = f(x).
  UnaryKernel<float> f32 = nullptr;
  UnaryKernel<double> f64 = nullptr;
  UnaryKernel<bfloat16> bf16 = nullptr;
  UnaryKernel<float16> f16 = nullptr;
  // Arity 2: dx = f(dy, saved).
  BinaryKernel<float> f32_backward = nullptr;
  BinaryKernel<double> f64_backward = nullptr;
  // For arity 2: true when the saved input is the forward's output y (so
  // tools feed f(x) rather than x).
  bool saved_is_output = false;  // from SIGMA_OP_LIST
  Op forward = op;  // the forward op a backward belongs to
};

// Every op, in SIGMA_OP_LIST order.
const OpKernels& op_kernels(Op op);

}  // namespace sigma
