// sigma/dtypes.h: 16-bit storage types. Kernels compute bf16 and f16 in f32
// and round once, to nearest even, when storing.
#pragma once

#include <bit>
#include <cstdint>

namespace sigma {

// bfloat16: the top 16 bits of an IEEE f32 (8-bit exponent, 7-bit fraction).
struct bfloat16 {
  std::uint16_t bits = 0;
};

// float16: IEEE binary16 (5-bit exponent, 10-bit fraction).
struct float16 {
  std::uint16_t bits = 0;
};

// Exact widening.
float to_float(bfloat16 v) noexcept;
float to_float(float16 v) noexcept;
// Round to nearest, ties to even; NaN stays NaN (quiet), overflow goes to inf,
// f16 results below its least subnormal round to (signed) zero.
bfloat16 to_bfloat16(float v) noexcept;
float16 to_float16(float v) noexcept;

}  // namespace sigma
