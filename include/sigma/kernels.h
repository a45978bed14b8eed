// sigma/kernels.h: the SIMD element-wise kernels of the sigmoid family.
//
// Every function takes spans and writes the output span; the output may alias
// an input (the same pointer) but must not partially overlap it. Sizes must
// match, else std::invalid_argument names the op and the sizes. f32 and f64
// compute in their own type; bf16 and f16 are storage types computed in f32
// and rounded once. Results are bitwise identical on every SIMD target and for
// every thread count. Accuracy contracts (ULP, over the whole input range) are
// on each declaration and measured in docs/ACCURACY.md.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "sigma/dtypes.h"

namespace sigma {

// y = sigmoid(x) = 1 / (1 + e^-x).
// Range: every input. NaN -> the same NaN; +inf -> 1, -inf -> 0; never NaN for
// a non-NaN input; subnormal results are produced, not flushed.
// Error: f32 <= 1 ULP over all 2^32 inputs; f64 <= 1 ULP; bf16/f16 correctly
// rounded (computed in f32; the rare results within 1 f32 ULP of a 16-bit
// rounding boundary are recomputed in extended precision).
void sigmoid(std::span<const float> x, std::span<float> y);
void sigmoid(std::span<const double> x, std::span<double> y);
void sigmoid(std::span<const bfloat16> x, std::span<bfloat16> y);
void sigmoid(std::span<const float16> x, std::span<float16> y);

// dx = dy * y * (1 - y), PyTorch's sigmoid backward from the saved output y.
// Error: <= 2 ULP relative to the exact product of the given dy and y. Returns
// 0 where y has rounded to 1 (f32: x >= 16.64); see the next function.
void sigmoid_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx);
void sigmoid_backward(std::span<const double> dy, std::span<const double> y,
                      std::span<double> dx);
void sigmoid_backward(std::span<const bfloat16> dy, std::span<const bfloat16> y,
                      std::span<bfloat16> dx);
void sigmoid_backward(std::span<const float16> dy, std::span<const float16> y,
                      std::span<float16> dx);

// dx = dy * sigmoid(x) * sigmoid(-x), the same gradient from the saved input:
// accurate where y rounds to 1 (2.06e-9 at x = 20 instead of 0).
// Error: <= 3 ULP where the result is a normal float.
void sigmoid_backward_from_input(std::span<const float> dy, std::span<const float> x,
                                 std::span<float> dx);
void sigmoid_backward_from_input(std::span<const double> dy, std::span<const double> x,
                                 std::span<double> dx);
void sigmoid_backward_from_input(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                                 std::span<bfloat16> dx);
void sigmoid_backward_from_input(std::span<const float16> dy, std::span<const float16> x,
                                 std::span<float16> dx);

// ---- Other ops of the sigmoid family (log_sigmoid, softplus, silu, tanh,
// bce_with_logits) and their backward kernels. Implementations live in
// src/kernels/<op>.cpp.
// BEGIN other-ops
// END other-ops

namespace kernels {

// Name of the SIMD target the kernels dispatch to now ("AVX3", "AVX2", "SSE4",
// "EMU128" or "SCALAR").
std::string target();
// Targets compiled into this build and supported by this CPU, best first.
std::vector<std::string> available_targets();
// Forces dispatch to `name` (one of available_targets(), case-insensitive), for
// testing and comparison; throws std::invalid_argument otherwise. The
// environment variable SIGMA_TARGET does the same at start-up.
void set_target(const std::string& name);
// Back to the best target this CPU supports.
void reset_target();

}  // namespace kernels

// Threads used by kernels on large arrays (OpenMP). 0 or less restores the
// default (OMP_NUM_THREADS, or the number of cores). Results do not depend on it.
void set_num_threads(int n);
int get_num_threads();

}  // namespace sigma
