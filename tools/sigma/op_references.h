// References for `sigma accuracy`: each op's exact value evaluated in a wider
// type R with a form that has no cancellation. R = double for f32 kernels
// (error ~2^-27 ULP of an f32 result), long double for f64 kernels (~2^-10 ULP
// of an f64 result). For backward ops the upstream gradient is 1 and `s` is
// what the kernel receives (the input x, or the forward's output y).
#pragma once

#include <cmath>

#include "sigma/op_list.h"

namespace sigma::cli {

template <class R>
R ref_sigmoid(R x) {
  using std::exp;
  return x >= 0 ? R(1) / (R(1) + exp(-x)) : exp(x) / (R(1) + exp(x));
}
template <class R>
R ref_softplus(R x) {  // log(1 + e^x)
  using std::exp, std::fabs, std::log1p;
  return (x > 0 ? x : R(0)) + log1p(exp(-fabs(x)));
}

template <class R>
R reference_value(Op op, R s) {
  switch (op) {
    case Op::sigmoid: return ref_sigmoid(s);
    case Op::sigmoid_backward: return s * (R(1) - s);
    case Op::sigmoid_backward_from_input: return ref_sigmoid(s) * ref_sigmoid(-s);
    case Op::log_sigmoid: return -ref_softplus(-s);
    case Op::log_sigmoid_backward: return ref_sigmoid(-s);
    case Op::softplus: return s > R(20) ? s : ref_softplus(s);
    case Op::softplus_backward: return s > R(20) ? R(1) : ref_sigmoid(s);
    case Op::silu: return s * ref_sigmoid(s);
    case Op::silu_backward: return ref_sigmoid(s) * (R(1) + s * ref_sigmoid(-s));
    case Op::tanh: return std::tanh(s);
    case Op::tanh_backward: return (R(1) - s) * (R(1) + s);
  }
  return R(NAN);
}

}  // namespace sigma::cli
