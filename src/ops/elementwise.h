// elementwise.h: the shorthands the element-wise ops share on top of the
// pipeline's element loop (tensor/iterator.h), and their autograd helpers
// (internal).
//
// An op supplies a "maker": maker(TypeTag<C>{}) returns the scalar function
// on the compute type C (float for bf16/f16 storage), with any Scalar operand
// already converted to C, so the inner loop sees plain values. The iterator
// does the rest: broadcasting, reading the operands in their storage type
// when they share the common dtype (else cast to C first), the output, in
// place included, and rounding each result once to the output's dtype.
#pragma once

#include <array>
#include <initializer_list>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/iterator.h"
#include "tensor/loops.h"

namespace sigma::detail {

// The element loop of the pipeline (tensor/iterator.h) for the usual case:
// the inputs broadcast, computed in common (the caller's result type; int64
// and bool inputs are converted when it is floating), written to a new
// tensor of dtype common, or bool for Out::Bool.
template <Types types, Out out_kind = Out::Same, class Maker, class... Ts>
Tensor map_new(const char* op, ScalarType common, Maker&& maker, const Ts&... in) {
  TensorIterator it(op);
  (it.add_input(in), ...);
  it.compute_dtype(common)
      .promote_integer_inputs_to_float()
      .all_dtypes(types == Types::All)
      .bool_output(out_kind == Out::Bool)
      .build();
  it.template for_each_element<sizeof...(Ts), types, out_kind>(std::forward<Maker>(maker));
  return it.take_output();
}

// Binary driver: broadcasts a and b and computes f in the common dtype.
template <Types types, Out out_kind = Out::Same, class Maker>
Tensor binary_op(const char* op, const Tensor& a, const Tensor& b, ScalarType common,
                 Maker&& maker) {
  check_defined(op, a, "self");
  check_defined(op, b, "other");
  return map_new<types, out_kind>(op, common, std::forward<Maker>(maker), a, b);
}

// Unary driver (also tensor-scalar ops, whose maker captures the scalar).
template <Types types, Out out_kind = Out::Same, class Maker>
Tensor unary_op(const char* op, const Tensor& x, ScalarType common, Maker&& maker) {
  return map_new<types, out_kind>(op, common, std::forward<Maker>(maker), x);
}

// The maker of an element function whose code is the same on every compute
// type C, written as a templated lambda: element_fn([]<class C>(C v) {...}).
template <class F> auto element_fn(F f) {
  return [f](auto) { return f; };
}

// The dtype of a floating function of x: x's own, or the default dtype for
// int64 and bool (exp, log, sqrt, true division, ...).
inline ScalarType float_result(ScalarType t) noexcept {
  return is_floating_point(t) ? t : get_default_dtype();
}

// A Scalar as the compute type C.
template <class C> inline C scalar_as(const Scalar& s) noexcept {
  if constexpr (std::is_same_v<C, bool>) return s.to<bool>();
  else if constexpr (std::is_same_v<C, std::int64_t>) return s.to_long();
  else return static_cast<C>(s.to_double());
}

// Wrapping int64 arithmetic (as PyTorch), without signed-overflow UB.
inline std::int64_t wrap_add(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
inline std::int64_t wrap_sub(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
inline std::int64_t wrap_mul(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

// ---- In-place ops.

// First checks of an in-place op on self (see autograd::check_inplace).
inline void check_self(const char* op, const Tensor& self) {
  check_defined(op, self);
  autograd::check_inplace(op, self);
}

// PyTorch's canCast: no floating result into an integral or bool tensor, no
// int64 result into a bool tensor.
inline bool can_cast(ScalarType from, ScalarType to) noexcept {
  if (is_floating_point(from) && !is_floating_point(to)) return false;
  if (from != kBool && to == kBool) return false;
  return true;
}

// Checks for an in-place op on self with an operand of shape other (nullptr
// for a scalar) and the op's result dtype: self is never resized, the result
// must be castable to self's dtype, and self must not have elements that
// share memory (an expanded view).
void check_inplace_operands(const char* op, const Tensor& self, const IntArrayRef* other,
                            ScalarType result);

// After the recorded (out-of-place) version r of an in-place op on self:
// self takes r's values and history.
void finish_inplace(Tensor& self, const Tensor& r);

// The one in-place scheme. Recorded (an operand requires grad and grad mode
// is on): computed out of place from a clone of self, so nothing a backward
// saved is overwritten, then copied back with its history (finish_inplace).
// Unrecorded: in_place() writes straight into self.
template <class OutOfPlace, class InPlace>
Tensor& run_inplace(Tensor& self, std::initializer_list<const Tensor*> operands,
                    OutOfPlace&& out_of_place, InPlace&& in_place) {
  if (autograd::compute_requires_grad(operands)) finish_inplace(self, out_of_place(self.clone()));
  else in_place();
  return self;
}

// The unrecorded in-place path: self = f(self, other...) in place, through
// the element loop with self as its output.
template <Types types, class Maker, class... Ts>
void compute_inplace(const char* op, Tensor& self, ScalarType common, Maker&& maker,
                     const Ts&... other) {
  TensorIterator it(op);
  it.add_output(self).add_input(self, "self");
  (it.add_input(other, "other"), ...);
  it.compute_dtype(common).promote_integer_inputs_to_float().all_dtypes(types == Types::All).build();
  it.template for_each_element<sizeof...(Ts) + 1, types>(std::forward<Maker>(maker));
}

}  // namespace sigma::detail

namespace sigma::autograd {

// Whether a node's backward must produce the gradient of input i.
inline bool needs_grad(const Node& n, std::size_t i) noexcept {
  return n.next_edges()[i].is_valid();
}

// What a backward needs to turn an output-shaped gradient into an input's:
// the input's dtype and, when broadcasting expanded it, its shape.
struct InputInfo {
  ScalarType dtype = kFloat;
  bool broadcast = false;
  std::vector<std::int64_t> shape;
  InputInfo() = default;
  InputInfo(const Tensor& t, IntArrayRef out_shape)
      : dtype(t.dtype()), broadcast(!(t.sizes() == out_shape)) {
    if (broadcast) shape = t.sizes().vec();
  }
  Tensor reduce(Tensor g) const {
    if (broadcast) g = sum_to(g, shape);
    if (g.dtype() != dtype) g = g.to(dtype);
    return g;
  }
};

}  // namespace sigma::autograd
