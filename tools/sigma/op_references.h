// References for `sigma accuracy`: each op's exact value evaluated in a wider
// type R with a form that has no cancellation. R = double for f32 kernels
// (error ~2^-27 ULP of an f32 result), long double for f64 kernels (~2^-10 ULP
// of an f64 result). For backward ops the upstream gradient is 1 and `s` is
// what the kernel receives (the input x, or the forward's output y).
//
// NaN and +-inf are answered from a table of the mathematical values, never
// from the formulas, which give inf * 0 = NaN there (silu at -inf); the
// formulas are used for finite s only, where every intermediate that
// underflows or overflows does so harmlessly (e^-1000 = 0 multiplies a finite
// number).
#pragma once

#include <cmath>
#include <limits>

#include "sigma/op_list.h"

namespace sigma::cli {

// W(1/e) = 0.2784645427610737951..., the unevaluated sum of three doubles
// (160 bits). x0 = -1 - W is the root of silu's derivative: e^x0 + x0 + 1 = 0.
inline constexpr double kOmegaOverE[3] = {0x1.1d25cf210482ep-2, -0x1.ca2d0d94faaecp-60,
                                          0x1.2940602e9dfecp-114};

// Finite x only.
template <class R>
R ref_sigmoid(R x) {
  return x >= 0 ? R(1) / (R(1) + std::exp(-x)) : std::exp(x) / (R(1) + std::exp(x));
}
template <class R>
R ref_softplus(R x) {  // log(1 + e^x)
  return (x > 0 ? x : R(0)) + std::log1p(std::exp(-std::fabs(x)));
}
// silu'(x) = sigmoid(x) (1 + x sigmoid(-x)). Its second factor, which is
// (1 + x + e^x) / (1 + e^x), vanishes at x0 and cancels there as written. With
// d = x - x0 = (x + 1) + W and e^x0 = W, 1 + x + e^x = d + W (e^d - 1): two
// terms of d's sign, nothing cancels. x + 1 is exact in R near x0.
template <class R>
R ref_silu_backward(R x) {
  const R d = ((x + R(1)) + R(kOmegaOverE[0])) + R(kOmegaOverE[1]) + R(kOmegaOverE[2]);
  if (std::fabs(d) < R(0.5)) {
    const R w = R(kOmegaOverE[0]) + R(kOmegaOverE[1]);
    return ref_sigmoid(x) * ((d + w * std::expm1(d)) / (R(1) + std::exp(x)));
  }
  return ref_sigmoid(x) * (R(1) + x * ref_sigmoid(-x));
}

// The value at s = +inf (positive) or -inf. sigmoid_backward and
// tanh_backward take y: s (1 - s) and (1 - s)(1 + s) tend to -inf both ways.
template <class R>
R reference_at_infinity(Op op, bool positive) {
  constexpr R inf = std::numeric_limits<R>::infinity();
  switch (op) {
    case Op::sigmoid: return positive ? R(1) : R(0);
    case Op::sigmoid_backward: return -inf;
    case Op::sigmoid_backward_from_input: return R(0);
    case Op::log_sigmoid: return positive ? -R(0) : -inf;
    case Op::log_sigmoid_backward: return positive ? R(0) : R(1);
    case Op::softplus: return positive ? inf : R(0);
    case Op::softplus_backward: return positive ? R(1) : R(0);
    case Op::silu: return positive ? inf : -R(0);
    case Op::silu_backward: return positive ? R(1) : -R(0);
    case Op::tanh: return positive ? R(1) : R(-1);
    case Op::tanh_backward: return -inf;
    case Op::hardsigmoid: return positive ? R(1) : R(0);
    case Op::hardsigmoid_backward: return R(0);
    case Op::logit:
    case Op::logit_backward: break;  // outside the domain [0, 1]
  }
  return std::numeric_limits<R>::quiet_NaN();
}

// logit(x) = log(x / (1 - x)) for x in [0, 1]. Near 1/2, where it crosses 0,
// as log1p of a quotient whose numerator and denominator are exact in R
// (2x - 1, 1 - x), so nothing cancels; elsewhere log(x) - log1p(-x), one
// term at least twice the other.
template <class R>
R ref_logit(R x) {
  if (x < 0 || x > 1) return std::numeric_limits<R>::quiet_NaN();
  if (x >= R(0.25) && x <= R(0.75))
    return x >= R(0.5) ? std::log1p((2 * x - 1) / (1 - x)) : -std::log1p((1 - 2 * x) / x);
  return std::log(x) - std::log1p(-x);
}

template <class R>
R reference_value(Op op, R s) {
  if (std::isnan(s)) return s;
  if (std::isinf(s)) return reference_at_infinity<R>(op, s > 0);
  switch (op) {
    case Op::sigmoid: return ref_sigmoid(s);
    case Op::sigmoid_backward: return s * (R(1) - s);
    case Op::sigmoid_backward_from_input: return ref_sigmoid(s) * ref_sigmoid(-s);
    case Op::log_sigmoid: return -ref_softplus(-s);
    case Op::log_sigmoid_backward: return ref_sigmoid(-s);
    case Op::softplus: return s > R(20) ? s : ref_softplus(s);  // PyTorch's threshold 20
    case Op::softplus_backward: return s > R(20) ? R(1) : ref_sigmoid(s);
    case Op::silu: return s * ref_sigmoid(s);
    case Op::silu_backward: return ref_silu_backward(s);
    case Op::tanh: return std::tanh(s);
    case Op::tanh_backward: return (R(1) - s) * (R(1) + s);
    case Op::hardsigmoid: return s <= -3 ? R(0) : s >= 3 ? R(1) : (s + 3) / 6;
    case Op::hardsigmoid_backward: return s > -3 && s < 3 ? R(1) / 6 : R(0);
    case Op::logit: return ref_logit(s);
    case Op::logit_backward:
      return s < 0 || s > 1 ? std::numeric_limits<R>::quiet_NaN() : R(1) / (s * (R(1) - s));
  }
  return std::numeric_limits<R>::quiet_NaN();
}

}  // namespace sigma::cli
