// elementwise.h: the drivers shared by the element-wise ops (internal).
//
// An op supplies a "maker": maker(TypeTag<C>{}) returns the scalar function
// on the compute type C (float for bf16/f16 storage), with any Scalar operand
// already converted to C, so the inner loop sees plain values. The drivers do
// the rest: broadcast the operands to the output shape (stride-0 views, no
// autograd), read them in their storage type when they all share the common
// dtype (else cast them to C first), and round each result once to the
// output's storage type.
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
#include "tensor/loops.h"

namespace sigma::detail {

template <class T, class> using first_t = T;

// Which common dtypes an op accepts, and whether it writes that dtype or bool.
enum class Types { Floating, All };
enum class Out { Same, Bool };

// The shape both operands broadcast to; sigma::Error naming op if none.
inline std::vector<std::int64_t> output_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.sizes() == b.sizes()) return a.sizes().vec();
  return broadcast_shapes(op, a.sizes(), b.sizes());
}

// t seen with shape (which its shape broadcasts to), stride 0 on the expanded
// dimensions; no autograd. The shape was checked by the caller.
inline Tensor expand_data(const Tensor& t, IntArrayRef shape) {
  if (t.sizes() == shape) return t;
  const std::size_t r = shape.size();
  const std::size_t tr = static_cast<std::size_t>(t.dim());
  std::vector<std::int64_t> strides(r, 0);
  for (std::size_t i = 0; i < tr; ++i) {
    const std::size_t d = r - tr + i;
    if (t.sizes()[i] == shape[d]) strides[d] = t.strides()[i];
  }
  return make_view(t, shape.vec(), std::move(strides), t.storage_offset());
}

// The storage type's C++ type, for the common dtypes an op accepts.
template <Types types, class F> decltype(auto) dispatch_common(const char* op, ScalarType t, F&& f) {
  if constexpr (types == Types::Floating) {
    return dispatch_floating_storage(op, t, std::forward<F>(f));
  } else {
    return dispatch_storage(t, std::forward<F>(f));
  }
}

// map_elements, with two fast paths: small contiguous operands in a plain
// loop (too small to split across threads), and broadcast operands whose
// innermost dimension is dense (a bias row added to every row) in a
// vectorisable inner loop.
template <class O, class... I, std::size_t... Js, class F, class... Ts>
void map_fast_impl(std::index_sequence<Js...>, const Tensor& out, const F& f, const Ts&... in) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  const bool contiguous = out.is_contiguous() && (in.is_contiguous() && ...);
  if (contiguous && n >= kParallelGrain) {
    map_elements<O, I...>(out, f, in...);
    return;
  }
  O* o = static_cast<O*>(out.unsafeGetTensorImpl()->data());
  const std::tuple<const I*...> p{static_cast<const I*>(in.unsafeGetTensorImpl()->data())...};
  if (contiguous) {
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(std::get<Js>(p)[i]...);
    return;
  }
  constexpr std::size_t K = sizeof...(I) + 1;
  const std::array<const std::int64_t*, K> strides{out.strides().data(), in.strides().data()...};
  strided_loop<K>(out.sizes(), strides,
                  [&](const std::array<std::int64_t, K>& off, const std::array<std::int64_t, K>& st,
                      std::int64_t len) {
                    O* po = o + off[0];
                    if (st[0] == 1 && ((st[Js + 1] == 1) && ...)) {
                      const std::tuple<const I*...> q{std::get<Js>(p) + off[Js + 1]...};
                      for (std::int64_t i = 0; i < len; ++i) po[i] = f(std::get<Js>(q)[i]...);
                    } else {
                      for (std::int64_t i = 0; i < len; ++i)
                        po[i * st[0]] = f(std::get<Js>(p)[off[Js + 1] + i * st[Js + 1]]...);
                    }
                  });
}
template <class O, class... I, class F, class... Ts>
void map_fast(const Tensor& out, const F& f, const Ts&... in) {
  map_fast_impl<O, I...>(std::index_sequence_for<I...>{}, out, f, in...);
}

// out = f(in...) element-wise. The inputs have any dtypes and shapes that
// broadcast to out's; out has dtype `common` (Out::Same) or bool (Out::Bool)
// and any geometry; out may be one of the inputs (same geometry).
template <Types types, Out out_kind, class Maker, class... Ts>
void compute_into(const char* op, const Tensor& out, ScalarType common, Maker&& maker,
                  const Ts&... in) {
  dispatch_common<types>(op, common, [&](auto tag) {
    using S = typename decltype(tag)::type;
    using C = compute_t<S>;
    using O = std::conditional_t<out_kind == Out::Bool, bool, S>;
    const auto f = maker(TypeTag<C>{});
    const IntArrayRef shape = out.sizes();
    if (((in.dtype() == common) && ...)) {
      const auto g = [f](first_t<S, Ts>... x) { return convert_value<O>(f(convert_value<C>(x)...)); };
      if (((in.sizes() == shape) && ...)) map_fast<O, first_t<S, Ts>...>(out, g, in...);
      else map_fast<O, first_t<S, Ts>...>(out, g, expand_data(in, shape)...);
      return;
    }
    constexpr ScalarType ct = CppTypeToScalarType<C>::value;
    map_fast<O, first_t<C, Ts>...>(
        out, [f](first_t<C, Ts>... x) { return convert_value<O>(f(x...)); },
        expand_data(cast_data(in, ct), shape)...);
  });
}

// A new tensor of shape and dtype (common, or bool) holding f(in...).
template <Types types, Out out_kind = Out::Same, class Maker, class... Ts>
Tensor compute_new(const char* op, IntArrayRef shape, ScalarType common, Maker&& maker,
                   const Ts&... in) {
  Tensor out = make_tensor(shape, out_kind == Out::Bool ? kBool : common);
  compute_into<types, out_kind>(op, out, common, std::forward<Maker>(maker), in...);
  return out;
}

// Binary driver: broadcasts a and b and computes f in the common dtype.
template <Types types, Out out_kind = Out::Same, class Maker>
Tensor binary_op(const char* op, const Tensor& a, const Tensor& b, ScalarType common,
                 Maker&& maker) {
  check_defined(op, a, "self");
  check_defined(op, b, "other");
  if (a.sizes() == b.sizes())
    return compute_new<types, out_kind>(op, a.sizes(), common, std::forward<Maker>(maker), a, b);
  const auto shape = broadcast_shapes(op, a.sizes(), b.sizes());
  return compute_new<types, out_kind>(op, shape, common, std::forward<Maker>(maker), a, b);
}

// Unary driver (also tensor-scalar ops, whose maker captures the scalar).
template <Types types, Out out_kind = Out::Same, class Maker>
Tensor unary_op(const char* op, const Tensor& x, ScalarType common, Maker&& maker) {
  check_defined(op, x);
  return compute_new<types, out_kind>(op, x.sizes(), common, std::forward<Maker>(maker), x);
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

// The unrecorded in-place path: self = f(self, other...) in place.
template <Types types, class Maker, class... Ts>
void compute_inplace(const char* op, Tensor& self, ScalarType common, Maker&& maker,
                     const Ts&... other) {
  [[maybe_unused]] auto safe = [&self](const Tensor& o) {
    // A different view of self's memory would be overwritten while read.
    if (!o.is_alias_of(self) || (o.storage_offset() == self.storage_offset() &&
                                  o.sizes() == self.sizes() && o.strides() == self.strides()))
      return o;
    Tensor c = make_tensor(o.sizes(), o.dtype());
    copy_elements(c, o);
    return c;
  };
  if (self.dtype() == common) {
    compute_into<types, Out::Same>(op, self, common, std::forward<Maker>(maker), self, safe(other)...);
  } else {
    Tensor tmp = make_tensor(self.sizes(), common);
    compute_into<types, Out::Same>(op, tmp, common, std::forward<Maker>(maker), self, other...);
    copy_elements(self, tmp);
  }
  bump_version(self);
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
