// convert.h: element conversions between storage types (internal). bf16 and
// f16 go through float; float to int64 truncates toward zero as static_cast
// does (callers check the range where it matters).
#pragma once

#include <bit>
#include <cmath>
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

// double -> float rounded to odd: truncated, with the last bit set when
// inexact. Rounding that float to a 16-bit type then equals rounding the
// double directly (float keeps more than 2 extra bits), so double -> bf16/f16
// rounds once.
inline float to_float_round_to_odd(double v) noexcept {
  float f = static_cast<float>(v);
  if (std::isfinite(f) && static_cast<double>(f) != v) {
    if (std::fabs(static_cast<double>(f)) > std::fabs(v)) f = std::nextafter(f, 0.0f);
    f = std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) | 1u);
  }
  return f;
}

template <class D, class S> inline D convert_value(S v) noexcept {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (std::is_same_v<D, bfloat16>) {
    if constexpr (std::is_same_v<S, float16>) return to_bfloat16(to_float(v));
    else if constexpr (std::is_same_v<S, double>) return to_bfloat16(to_float_round_to_odd(v));
    else return to_bfloat16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<D, float16>) {
    if constexpr (std::is_same_v<S, bfloat16>) return to_float16(to_float(v));
    else if constexpr (std::is_same_v<S, double>) return to_float16(to_float_round_to_odd(v));
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
  } else if constexpr (std::is_same_v<D, std::int32_t> && std::is_floating_point_v<S>) {
    if (!(v == v)) return 0;
    if (v >= static_cast<S>(2147483647.0)) return INT32_MAX;
    if (v <= static_cast<S>(-2147483648.0)) return INT32_MIN;
    return static_cast<std::int32_t>(v);
  } else {
    return static_cast<D>(v);
  }
}

// dst[i] = src[i] converted, for tensors of the same shape (src may be
// expanded); no autograd, no version bump.
void copy_elements(const Tensor& dst, const Tensor& src);

}  // namespace sigma::detail
