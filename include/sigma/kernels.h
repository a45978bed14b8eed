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

#include <cstdint>
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
// 0 where y has rounded to 1 (f32: x >= 17.33, where sigmoid(x) > 1 - 2^-25); see the next function.
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
// hardsigmoid, logit, bce_with_logits) and their backward kernels. Implementations live in
// src/kernels/<op>.cpp.
// y = log_sigmoid(x) = log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|).
// Range: every input. NaN -> the same NaN; +inf -> -0, -inf -> -inf; x itself
// below -2^24 (log_sigmoid(-1e30) = -1e30); subnormal results produced
// (log_sigmoid(100) = -e^-100).
// Error: f32 <= 1 ULP over all 2^32 inputs (measured 0.757; 0.552 where the
// result is normal, the rest is double rounding into subnormals); f64 <= 1 ULP
// (measured 0.58 on random inputs vs MPFR); bf16/f16 correctly rounded.
void log_sigmoid(std::span<const float> x, std::span<float> y);
void log_sigmoid(std::span<const double> x, std::span<double> y);
void log_sigmoid(std::span<const bfloat16> x, std::span<bfloat16> y);
void log_sigmoid(std::span<const float16> x, std::span<float16> y);

// dx = dy * sigmoid(-x), the gradient of log_sigmoid from its input x.
// Error: <= 2 ULP relative to the exact value for the given dy and x wherever
// it is a normal number, for any dy (measured 1.27 f32, 1.40 f64).
void log_sigmoid_backward(std::span<const float> dy, std::span<const float> x,
                          std::span<float> dx);
void log_sigmoid_backward(std::span<const double> dy, std::span<const double> x,
                          std::span<double> dx);
void log_sigmoid_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                          std::span<bfloat16> dx);
void log_sigmoid_backward(std::span<const float16> dy, std::span<const float16> x,
                          std::span<float16> dx);

// y = softplus(x) = log(1 + e^(beta x)) / beta, or x itself where beta x >
// threshold (PyTorch's semantics; beta x and the comparison are exact, as in
// sigma::reference::softplus). Never overflows before the true value does;
// NaN -> the same NaN; subnormal results produced.
// Throws std::invalid_argument (naming the op) unless beta is finite and
// non-zero and threshold is not NaN.
// Error: f32 <= 1 ULP over all 2^32 inputs at beta = 1 (measured 0.757; 0.552
// where the result is normal) and on strided scans at other beta
// (measured 0.73); f64 <= 1 ULP (measured 0.69 vs MPFR); bf16/f16 correctly
// rounded at the default beta and threshold, else rounded once from f32.
void softplus(std::span<const float> x, std::span<float> y, float beta = 1.0f,
              float threshold = 20.0f);
void softplus(std::span<const double> x, std::span<double> y, double beta = 1.0,
              double threshold = 20.0);
void softplus(std::span<const bfloat16> x, std::span<bfloat16> y, float beta = 1.0f,
              float threshold = 20.0f);
void softplus(std::span<const float16> x, std::span<float16> y, float beta = 1.0f,
              float threshold = 20.0f);

// dx = dy * sigmoid(beta x), or dy itself where beta x > threshold; the same
// argument checks. Error: <= 2 ULP relative to the exact value for the given
// inputs wherever it is a normal number, for any dy (measured 1.34 f32, 1.43
// f64).
void softplus_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx,
                       float beta = 1.0f, float threshold = 20.0f);
void softplus_backward(std::span<const double> dy, std::span<const double> x,
                       std::span<double> dx, double beta = 1.0, double threshold = 20.0);
void softplus_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                       std::span<bfloat16> dx, float beta = 1.0f, float threshold = 20.0f);
void softplus_backward(std::span<const float16> dy, std::span<const float16> x,
                       std::span<float16> dx, float beta = 1.0f, float threshold = 20.0f);

// y = silu(x) = x * sigmoid(x).
// Range: every input. NaN -> the same NaN; +inf -> +inf, -inf -> -0;
// subnormal results produced.
// Error: f32 <= 1 ULP over all 2^32 inputs (measured 0.765; 0.556 where the
// result is normal); f64 <= 1 ULP (measured 0.65 vs MPFR); bf16/f16 correctly
// rounded.
void silu(std::span<const float> x, std::span<float> y);
void silu(std::span<const double> x, std::span<double> y);
void silu(std::span<const bfloat16> x, std::span<bfloat16> y);
void silu(std::span<const float16> x, std::span<float16> y);

// dx = dy * s * (1 + x (1 - s)), s = sigmoid(x), from the input x, with 1 - s
// = sigmoid(-x) unrounded and, within 1/16 of the derivative's root x0 =
// -1.2784645, a series in x - x0, so the relative error stays bounded there.
// Error: <= 4 ULP relative to the exact value for the given dy and x wherever
// it is a normal number and |dy| < 2^120 (measured 2.76 f32 over every float
// within 1/8 of x0, 2.70 at x = -1.210953 with dy = 1; 2.81 f64;
// docs/ACCURACY.md).
void silu_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx);
void silu_backward(std::span<const double> dy, std::span<const double> x,
                   std::span<double> dx);
void silu_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                   std::span<bfloat16> dx);
void silu_backward(std::span<const float16> dy, std::span<const float16> x,
                   std::span<float16> dx);

// y = tanh(x).
// Range: every input. NaN -> the same NaN; +-inf -> +-1; tanh(x) = x for tiny
// x with the sign of zero kept; exactly +-1 from |x| >= 9.02 (f32) / 19.1 (f64).
// Error: f32 <= 1 ULP over all 2^32 inputs (measured 0.583); f64 <= 1 ULP
// (measured 0.54 vs MPFR); bf16/f16 correctly rounded.
void tanh(std::span<const float> x, std::span<float> y);
void tanh(std::span<const double> x, std::span<double> y);
void tanh(std::span<const bfloat16> x, std::span<bfloat16> y);
void tanh(std::span<const float16> x, std::span<float16> y);

// dx = dy * (1 - y^2), PyTorch's tanh backward from the saved output y, with
// 1 - y^2 one fused operation. NaN y -> that NaN. Error: <= 2 ULP relative to
// the exact product of the given dy and y (measured 1.42).
void tanh_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx);
void tanh_backward(std::span<const double> dy, std::span<const double> y,
                   std::span<double> dx);
void tanh_backward(std::span<const bfloat16> dy, std::span<const bfloat16> y,
                   std::span<bfloat16> dx);
void tanh_backward(std::span<const float16> dy, std::span<const float16> y,
                   std::span<float16> dx);

// y = hardsigmoid(x) = min(max(x + 3, 0), 6) / 6: 0 for x <= -3, 1 for
// x >= 3, (x + 3) / 6 between (PyTorch's definition). NaN -> the same NaN.
// Error: <= 1 ULP for f32 and f64, over every input (the kernel rounds
// (x + 3) / 6 once; measured 0.5); bf16/f16 correctly rounded.
void hardsigmoid(std::span<const float> x, std::span<float> y);
void hardsigmoid(std::span<const double> x, std::span<double> y);
void hardsigmoid(std::span<const bfloat16> x, std::span<bfloat16> y);
void hardsigmoid(std::span<const float16> x, std::span<float16> y);

// dx = dy / 6 for -3 < x < 3, else 0, from the input x (PyTorch's open
// interval; at x = +-3 the gradient is 0). NaN x gives NaN, where PyTorch
// gives 0. Error: <= 1 ULP (dy / 6 rounded once; measured 0.5).
void hardsigmoid_backward(std::span<const float> dy, std::span<const float> x,
                          std::span<float> dx);
void hardsigmoid_backward(std::span<const double> dy, std::span<const double> x,
                          std::span<double> dx);
void hardsigmoid_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                          std::span<bfloat16> dx);
void hardsigmoid_backward(std::span<const float16> dy, std::span<const float16> x,
                          std::span<float16> dx);

// y = logit(x) = log(x / (1 - x)), the inverse of sigmoid, with PyTorch's
// eps: eps >= 0 clamps x to [eps, 1 - eps] first (both in the input's type);
// a negative eps (the default) clamps nothing. x = 0 -> -inf, x = 1 -> +inf,
// x outside [0, 1] -> NaN, NaN -> the same NaN. Throws std::invalid_argument
// (naming the op) for a NaN eps.
// Error: f32 <= 1 ULP over every input in [0, 1]; f64 <= 1 ULP
// (docs/ACCURACY.md has the measured figures); bf16/f16 correctly rounded
// without eps, else rounded once from f32.
void logit(std::span<const float> x, std::span<float> y, double eps = -1.0);
void logit(std::span<const double> x, std::span<double> y, double eps = -1.0);
void logit(std::span<const bfloat16> x, std::span<bfloat16> y, double eps = -1.0);
void logit(std::span<const float16> x, std::span<float16> y, double eps = -1.0);

// dx = dy / (x (1 - x)), from the input x, for x in [lo, hi] = [eps, 1 - eps]
// ([0, 1] without eps); outside it 0 with eps, NaN without (PyTorch's
// semantics; a NaN x gives NaN). x (1 - x) is formed as an exact pair and the
// quotient corrected by its residual. Error: <= 1 ULP relative to the exact
// value for the given dy and x wherever it is a normal number.
void logit_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx,
                    double eps = -1.0);
void logit_backward(std::span<const double> dy, std::span<const double> x,
                    std::span<double> dx, double eps = -1.0);
void logit_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                    std::span<bfloat16> dx, double eps = -1.0);
void logit_backward(std::span<const float16> dy, std::span<const float16> x,
                    std::span<float16> dx, double eps = -1.0);

// Element-wise binary cross-entropy on logits x with targets t:
//   loss_i = w_i [pw_i t_i softplus(-x_i) + (1 - t_i) softplus(x_i)]
// weight (w) and pos_weight (pw) are each empty (all ones) or x.size() long,
// else std::invalid_argument names the op and the sizes; loss may be x or
// target itself. A term whose coefficient is exactly 0 (t = 0, t = 1, pw = 0;
// w = 0 for the whole loss) contributes exactly 0, so the loss is exact at
// x = +-inf and +-100 (x = +inf, t = 1 gives 0); weight and pos_weight of ones
// give bits identical to empty ones. NaN in x gives NaN.
// Error (f32, f64): <= 1 ULP relative to the exact value for the given inputs
// when t is in [0, 1] and w, pw >= 0 (measured 0.54).
void bce_with_logits(std::span<const float> x, std::span<const float> target,
                     std::span<float> loss, std::span<const float> weight = {},
                     std::span<const float> pos_weight = {});
void bce_with_logits(std::span<const double> x, std::span<const double> target,
                     std::span<double> loss, std::span<const double> weight = {},
                     std::span<const double> pos_weight = {});

// dx_i = dloss_i w_i [(1 - t_i) sigmoid(x_i) - pw_i t_i sigmoid(-x_i)], the
// gradient with respect to the logits, with the same coefficient and ones
// rules (x = 100, t = 1 gives -e^-100 dloss = -3.7e-44 dloss, not 0). dx may be
// dloss, x or target itself.
// Error: <= 4 ULP relative to the exact value where one term vanishes (t = 0
// or 1) and the result is normal (measured 2.28); otherwise <= 4 ULP of the
// larger term, as the two may cancel (measured 2.85).
void bce_with_logits_backward(std::span<const float> dloss, std::span<const float> x,
                              std::span<const float> target, std::span<float> dx,
                              std::span<const float> weight = {},
                              std::span<const float> pos_weight = {});
void bce_with_logits_backward(std::span<const double> dloss, std::span<const double> x,
                              std::span<const double> target, std::span<double> dx,
                              std::span<const double> weight = {},
                              std::span<const double> pos_weight = {});

// Row-wise softmax and log_softmax over the last dimension, as LibTorch:
// x and y hold rows of `cols` contiguous elements each; x.size() == y.size(), a multiple of cols, cols >= 1.
// y may be x itself. Computed from x - max(row), so huge finite inputs never
// overflow (3e38 and -3e38 in one row: softmax 1 and 0, log_softmax 0 and -inf,
// as x - max overflows); a -inf element gives 0 (log: -inf) when the row has a
// finite max; a row holding a NaN or +inf, or only -inf, is all NaN. Subnormal
// results are produced, rounded once (softmax of [0, -90] in f32).
// Error, per element, relative to the exact value for the given row: softmax
// and log_softmax <= 1 ULP in f32 and f64, subnormal and near-0 outputs
// included (log S is log1p of the compensated sum of the terms below the max);
// measured over 28000 (f32) / 20000 (f64) seeded random rows on every target
// (kernel_softmax_exhaustive_test): softmax 0.555 / 0.556, log_softmax 0.507 /
// 0.507.
// Throws std::invalid_argument naming the op and the sizes for cols < 1, a size
// that is not a multiple of cols, a size mismatch or a partial overlap. No
// result depends on the SIMD target or the thread count, bitwise.
void softmax(std::span<const float> x, std::span<float> y, std::int64_t cols);
void softmax(std::span<const double> x, std::span<double> y, std::int64_t cols);
void log_softmax(std::span<const float> x, std::span<float> y, std::int64_t cols);
void log_softmax(std::span<const double> x, std::span<double> y, std::int64_t cols);
// dx = y * (dy - sum_row(dy * y)), y the saved softmax output.
// The row sum is compensated (error about (cols u)^2 sum_row|dy y|, u = 2^-24
// f32, 2^-53 f64) and y (dy - sum) is rounded once, also into subnormals:
// error <= 1 ULP of dx plus y times the sum's error (measured: within 0.750
// (f32) / 0.500 (f64) ULP plus 2^-44 y sum_row|dy y|). A row whose sum is not finite (a NaN or inf in
// dy or y) is all NaN. dx may be dy or y itself.
void softmax_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx, std::int64_t cols);
void softmax_backward(std::span<const double> dy, std::span<const double> y, std::span<double> dx, std::int64_t cols);
// dx = dy - exp(y) * sum_row(dy), y the saved log_softmax output.
// y <= 0 (a positive y counts as 0; a NaN y gives NaN). Error <= 1 ULP of
// max(|dx|, |exp(y) sum_row(dy)|), as the two terms may cancel, plus exp(y)
// times the compensated sum's error (about (cols u)^2 sum_row|dy|); measured
// 0.532 (f32) / 0.542 (f64). A row whose sum(dy) is not finite is all NaN. dx
// may be dy or y itself.
void log_softmax_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx, std::int64_t cols);
void log_softmax_backward(std::span<const double> dy, std::span<const double> y, std::span<double> dx, std::int64_t cols);

namespace kernels {

// Name of the SIMD target the kernels dispatch to now ("AVX3", "AVX2", "SSE4",
// "EMU128" or "SCALAR").
std::string target();
// Targets compiled into this build and supported by this CPU, best first.
std::vector<std::string> available_targets();
// Forces dispatch to `name` (one of available_targets(), case-insensitive), for
// testing and comparison; throws std::invalid_argument otherwise. The
// environment variable SIGMA_TARGET does the same at the first kernel call or
// call of these functions (which then override it); a value that is not an
// available target makes that first call throw sigma::Error naming the
// variable, the value and the valid targets.
void set_target(const std::string& name);
// Back to the best target this CPU supports.
void reset_target();

}  // namespace kernels

// Threads sigma uses, the calling thread included, for its kernels,
// element-wise ops, reductions, optimizer updates and matrix products (whose
// tiles call OpenBLAS single-threaded). 0 or less restores the default:
// omp_get_max_threads(), i.e. OMP_NUM_THREADS, else the number of CPUs. No
// result depends on it, bitwise. Work below a measured size runs on the
// calling thread whatever the count, and idle threads sleep after a 50 us
// spin, so the default is not slower than 1 (docs/PERFORMANCE.md, "Threads").
void set_num_threads(int n);
int get_num_threads();

}  // namespace sigma
