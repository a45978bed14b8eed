// convert.h: element conversions between storage types (internal). bf16 and
// f16 go through float; float to int64 truncates toward zero as static_cast
// does (callers check the range where it matters).
#pragma once

#include <cstdint>
#include <type_traits>

#include "sigma/dtypes.h"
#include "tensor/loops.h"

namespace sigma::detail {

template <class T> inline double to_double_value(T v) noexcept {
  if constexpr (std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>)
    return static_cast<double>(to_float(v));
  else
    return static_cast<double>(v);
}

template <class D, class S> inline D convert_value(S v) noexcept {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (std::is_same_v<D, bfloat16>) {
    if constexpr (std::is_same_v<S, float16>) return to_bfloat16(to_float(v));
    else return to_bfloat16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<D, float16>) {
    if constexpr (std::is_same_v<S, bfloat16>) return to_float16(to_float(v));
    else return to_float16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<S, bfloat16> || std::is_same_v<S, float16>) {
    return convert_value<D>(to_float(v));
  } else if constexpr (std::is_same_v<D, bool>) {
    return v != S{};
  } else if constexpr (std::is_same_v<D, std::int64_t> && std::is_floating_point_v<S>) {
    // NaN and out-of-range values have no int64; saturate instead of UB.
    if (!(v == v)) return 0;
    if (v >= static_cast<S>(9.2233720368547758e18)) return INT64_MAX;
    if (v <= static_cast<S>(-9.2233720368547758e18)) return INT64_MIN;
    return static_cast<std::int64_t>(v);
  } else {
    return static_cast<D>(v);
  }
}

// Calls f(TypeTag<T>{}) for the storage type of t: float, double, bfloat16,
// float16, int64_t or bool.
template <class F> decltype(auto) dispatch_storage(ScalarType t, F&& f) {
  switch (t) {
    case kFloat: return f(TypeTag<float>{});
    case kDouble: return f(TypeTag<double>{});
    case kBFloat16: return f(TypeTag<bfloat16>{});
    case kHalf: return f(TypeTag<float16>{});
    case kLong: return f(TypeTag<std::int64_t>{});
    case kBool: break;
  }
  return f(TypeTag<bool>{});
}

// dst[i] = src[i] converted, for tensors of the same shape (src may be
// expanded); no autograd, no version bump.
void copy_elements(const Tensor& dst, const Tensor& src);

}  // namespace sigma::detail
