// loops.h: element-wise iteration over strided tensors (internal).
//
// Ops cast their operands to one compute type first (float for bf16/f16),
// expand them to the output shape (stride 0 on broadcast dimensions) and call
// map_elements with a scalar lambda. Contiguous operands take a flat loop the
// compiler vectorises (split across sigma's threads from 2 * kParallelGrain
// elements, kernels/parallel.h); others walk the strided index space with the
// innermost dimension as the inner loop.
#pragma once

#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/parallel.h"
#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma::detail {

// The element-wise map's grain (docs/PERFORMANCE.md, "Threads"): a range of a
// contiguous map is at least this many elements.
inline constexpr std::int64_t kParallelGrain = std::int64_t{1} << 16;

// The broadcast of two shapes, or sigma::Error:
// "add: shapes [2, 3] and [4] cannot be broadcast (dimension -1: 3 vs 4)".
std::vector<std::int64_t> broadcast_shapes(const char* op, IntArrayRef a, IntArrayRef b);
// t viewed with shape (which t's shape must broadcast to), stride 0 where expanded.
Tensor broadcast_to(const char* op, const Tensor& t, IntArrayRef shape);

// The compute type for a storage type: float for bf16/f16, else itself.
inline ScalarType compute_type(ScalarType t) noexcept {
  return (t == kBFloat16 || t == kHalf) ? kFloat : t;
}
// The same at compile time: the C++ type element-wise math runs in for
// storage type S (float for bfloat16 and float16).
template <class S>
using compute_t =
    std::conditional_t<std::is_same_v<S, bfloat16> || std::is_same_v<S, float16>, float, S>;
// PyTorch's result type of a binary op between tensors, where a
// zero-dimensional operand only wins if it is of a higher category.
ScalarType result_type(const Tensor& a, const Tensor& b) noexcept;
// The result type of tensor (op) scalar: the tensor's dtype, except an
// integral or bool tensor with a floating scalar gives the default dtype and a
// bool tensor with an integer scalar gives int64.
ScalarType result_type(const Tensor& a, const Scalar& b) noexcept;

// The tensor as dtype t without autograd (a cheap alias when it already is).
Tensor cast_data(const Tensor& x, ScalarType t);

template <class T> struct TypeTag { using type = T; };

[[noreturn]] void throw_dtype(const char* op, ScalarType t, const char* expected);

// Which dtypes a dispatch accepts: float and double (the compute types of the
// kernels), also bfloat16 and float16 (the floating storage types), every
// storage type ops compute on (int64 and bool too), or All: int32 as well,
// for what every dtype supports (copies, conversions, fills, factories,
// printing, files).
enum class Dtypes { Compute, Floating, Storage, All };

// The one dtype switch: f(TypeTag<T>{}) for t's storage type T when `set`
// accepts it, else sigma::Error naming op and what it expected.
template <Dtypes set, class F> decltype(auto) dispatch_dtype(const char* op, ScalarType t, F&& f) {
  constexpr bool floating16 = set != Dtypes::Compute;
  constexpr bool integral = set == Dtypes::Storage || set == Dtypes::All;
  switch (t) {
    case kFloat: return f(TypeTag<float>{});
    case kDouble: return f(TypeTag<double>{});
    case kBFloat16: if constexpr (floating16) return f(TypeTag<bfloat16>{}); break;
    case kHalf: if constexpr (floating16) return f(TypeTag<float16>{}); break;
    case kLong: if constexpr (integral) return f(TypeTag<std::int64_t>{}); break;
    case kBool: if constexpr (integral) return f(TypeTag<bool>{}); break;
    case kInt: if constexpr (set == Dtypes::All) return f(TypeTag<std::int32_t>{}); break;
  }
  throw_dtype(op, t,
              set == Dtypes::Compute    ? "float32 or float64"
              : set == Dtypes::Floating ? "a floating-point dtype"
                                        : "float32, float64, bfloat16, float16, int64 or bool");
}

// Calls f(TypeTag<T>{}) for T = float or double; sigma::Error naming op for
// any other (compute) dtype.
template <class F> decltype(auto) dispatch_floating(const char* op, ScalarType t, F&& f) {
  return dispatch_dtype<Dtypes::Compute>(op, t, std::forward<F>(f));
}
// Calls f(TypeTag<T>{}) for the floating storage types (float, double,
// bfloat16, float16); sigma::Error naming op for int64 and bool.
template <class F> decltype(auto) dispatch_floating_storage(const char* op, ScalarType t, F&& f) {
  return dispatch_dtype<Dtypes::Floating>(op, t, std::forward<F>(f));
}
// Calls f(TypeTag<T>{}) for the storage type of t: float, double, bfloat16,
// float16, int64_t or bool.
template <class F> decltype(auto) dispatch_storage(ScalarType t, F&& f) {
  return dispatch_dtype<Dtypes::Storage>("dispatch", t, std::forward<F>(f));
}
// Calls f(TypeTag<T>{}) for every dtype, int32 included.
template <class F> decltype(auto) dispatch_all(ScalarType t, F&& f) {
  return dispatch_dtype<Dtypes::All>("dispatch", t, std::forward<F>(f));
}

// Walks shape in row-major order over K operands with the given element
// strides, calling inner(offsets, inner_strides, n) once per innermost run.
template <std::size_t K, class Inner>
void strided_loop(IntArrayRef shape, const std::array<const std::int64_t*, K>& strides,
                  Inner&& inner) {
  const std::size_t rank = shape.size();
  for (std::int64_t s : shape)
    if (s == 0) return;
  if (rank == 0) {
    std::array<std::int64_t, K> off{};
    std::array<std::int64_t, K> st{};
    inner(off, st, 1);
    return;
  }
  std::array<std::int64_t, K> inner_strides{};
  for (std::size_t k = 0; k < K; ++k) inner_strides[k] = strides[k][rank - 1];
  const std::int64_t n = shape[rank - 1];
  std::vector<std::int64_t> idx(rank, 0);
  std::array<std::int64_t, K> off{};
  while (true) {
    inner(off, inner_strides, n);
    // Increment the outer index (dimensions rank-2 .. 0).
    std::size_t d = rank - 1;
    while (true) {
      if (d == 0) return;
      --d;
      ++idx[d];
      for (std::size_t k = 0; k < K; ++k) off[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (std::size_t k = 0; k < K; ++k) off[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
  }
}

template <class O, class... I, std::size_t... Js, class F, class... Ts>
void map_elements_impl(std::index_sequence<Js...>, const Tensor& out, F& f, const Ts&... in) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  O* o = data_of<O>(out);
  const std::tuple<const I*...> base{data_of<const I>(in)...};
  if ((out.is_contiguous() && ... && in.is_contiguous())) {
    parallel_for(n, kParallelGrain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) o[i] = static_cast<O>(f(std::get<Js>(base)[i]...));
    });
    return;
  }
  constexpr std::size_t K = sizeof...(I) + 1;
  const std::array<const std::int64_t*, K> strides{out.strides().data(), in.strides().data()...};
  strided_loop<K>(out.sizes(), strides,
                  [&](const std::array<std::int64_t, K>& off,
                      const std::array<std::int64_t, K>& st, std::int64_t len) {
                    O* op = o + off[0];
                    for (std::int64_t i = 0; i < len; ++i)
                      op[i * st[0]] = static_cast<O>(
                          f(std::get<Js>(base)[off[Js + 1] + i * st[Js + 1]]...));
                  });
}

// out[i] = f(in[i]...) for every element. out and every input have the same
// shape (inputs already expanded) and the element types O and I...; out may
// alias an input only element for element (same geometry).
template <class O, class... I, class F, class... Ts>
void map_elements(const Tensor& out, F&& f, const Ts&... in) {
  static_assert(sizeof...(I) == sizeof...(Ts) && (std::is_same_v<Ts, Tensor> && ...),
                "one element type per input tensor");
  map_elements_impl<O, I...>(std::index_sequence_for<I...>{}, out, f, in...);
}

}  // namespace sigma::detail
