// sigma/reference.h: scalar reference kernels for the sigmoid family.
//
// These are the plain, obviously-correct implementations: each computes in a
// wider type (f32 in double, f64 in long double) with the numerically stable
// form and rounds once. The SIMD kernels are tested against them and fall back
// to them (`sigma eval` prints the SIMD kernels' results).
//
// Contracts below give the valid input range and the maximum error in ULP of
// the result type, measured against the exact mathematical value. "Rounded
// once" means the error is 0.5 ULP from the final rounding plus the error of
// the wide computation (at most 2^-26 ULP for f32, 2^-8 ULP for f64).
//
// Array forms take std::span, allow the output to alias an input (same
// pointer), and throw std::invalid_argument naming the op and both sizes when
// the sizes differ.
#pragma once

#include <span>

namespace sigma::reference {

// sigmoid(x) = 1 / (1 + e^-x), evaluated as 1/(1+e^-x) for x >= 0 and
// e^x/(1+e^x) for x < 0 so no intermediate overflows.
// Range: every input. NaN -> NaN, +inf -> 1, -inf -> 0. Subnormal results are
// produced, not flushed (f32: x in [-103.97, -87.34]).
// Error: rounded once; <= 0.5 + 2^-26 ULP (f32), <= 0.5 + 2^-8 ULP (f64).
float sigmoid(float x) noexcept;
double sigmoid(double x) noexcept;

// sigmoid_backward(dy, y) = dy * y * (1 - y), the gradient of sigmoid written
// in terms of its output y = sigmoid(x) (PyTorch's formula).
// Range: every input; meaningful for y in [0, 1]. Error: rounded once, as above,
// relative to the exact product of the given dy and y. Note it returns 0 where
// y has rounded to 1 (f32: x >= 17.33, where sigmoid(x) > 1 - 2^-25) although the true derivative is not 0.
float sigmoid_backward(float dy, float y) noexcept;
double sigmoid_backward(double dy, double y) noexcept;

// sigmoid_backward_from_input(dy, x) = dy * sigmoid(x) * sigmoid(-x), the same
// gradient written in terms of the input. It has no cancellation, so it stays
// accurate where y = sigmoid(x) rounds to 1 (about 2.06e-9 at x = 20, not 0).
// Range: every input. Error: rounded once, as above.
float sigmoid_backward_from_input(float dy, float x) noexcept;
double sigmoid_backward_from_input(double dy, double x) noexcept;

// log_sigmoid(x) = log(sigmoid(x)) = -softplus(-x), evaluated as
// x - log1p(e^x) for x < 0 and -log1p(e^-x) for x >= 0.
// Range: every input. NaN -> NaN, -inf -> -inf, +inf -> -0.
// Error: rounded once; <= 0.5 + 2^-26 ULP (f32), <= 0.5 + 2^-8 ULP (f64).
float log_sigmoid(float x) noexcept;
double log_sigmoid(double x) noexcept;

// softplus(x) = log(1 + e^(beta*x)) / beta, with PyTorch's linear shortcut:
// returns x itself where beta*x > threshold. The product beta*x and the
// comparison are done in the wide type. log(1+e^z) is evaluated as
// max(z, 0) + log1p(e^-|z|), so it never overflows.
// Range: every x; beta finite and non-zero (not checked here; the array form
// checks). Error: rounded once outside the shortcut; <= 0.5 + 2^-26 ULP (f32),
// <= 0.5 + 2^-8 ULP (f64).
float softplus(float x, float beta = 1.0f, float threshold = 20.0f) noexcept;
double softplus(double x, double beta = 1.0, double threshold = 20.0) noexcept;

void sigmoid(std::span<const float> x, std::span<float> y);
void sigmoid(std::span<const double> x, std::span<double> y);
void sigmoid_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx);
void sigmoid_backward(std::span<const double> dy, std::span<const double> y,
                      std::span<double> dx);
void sigmoid_backward_from_input(std::span<const float> dy, std::span<const float> x,
                                 std::span<float> dx);
void sigmoid_backward_from_input(std::span<const double> dy, std::span<const double> x,
                                 std::span<double> dx);
void log_sigmoid(std::span<const float> x, std::span<float> y);
void log_sigmoid(std::span<const double> x, std::span<double> y);
// Throws std::invalid_argument when beta is zero or not finite, or threshold is NaN.
void softplus(std::span<const float> x, std::span<float> y, float beta = 1.0f,
              float threshold = 20.0f);
void softplus(std::span<const double> x, std::span<double> y, double beta = 1.0,
              double threshold = 20.0);

}  // namespace sigma::reference
