// bf16 and f16 conversions: exact widening, round-to-nearest-even narrowing
// written with integer operations so every platform gives the same bits.
#include <bit>
#include <cmath>
#include <type_traits>
#include <cstdint>

#include "kernels/dispatch.h"
#include "sigma/dtypes.h"

namespace sigma {

float to_float(bfloat16 v) noexcept { return std::bit_cast<float>(std::uint32_t(v.bits) << 16); }

bfloat16 to_bfloat16(float f) noexcept {
  const auto u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {std::uint16_t((u >> 16) | 0x0040u)};  // quiet NaN
  const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);  // ties to even; carries into inf
  return {std::uint16_t(rounded >> 16)};
}

float to_float(float16 v) noexcept {
  const std::uint32_t sign = std::uint32_t(v.bits & 0x8000u) << 16;
  const std::uint32_t exp = (v.bits >> 10) & 0x1fu;
  const std::uint32_t man = v.bits & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));  // inf / NaN
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
  // zero or subnormal: man * 2^-24, exact in f32
  const float mag = float(man) * 0x1p-24f;
  return sign ? -mag : mag;
}

float16 to_float16(float f) noexcept {
  const auto u = std::bit_cast<std::uint32_t>(f);
  const auto sign = std::uint16_t((u >> 16) & 0x8000u);
  const std::uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return {std::uint16_t(sign | 0x7e00u | ((a >> 13) & 0x1ffu))};  // NaN
  if (a >= 0x477ff000u) return {std::uint16_t(sign | 0x7c00u)};  // >= 65520 rounds to inf
  if (a >= 0x38800000u) {                                        // normal f16 (>= 2^-14)
    const std::uint32_t r = a - 0x38000000u;                     // rebias 127 -> 15
    return {std::uint16_t(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13))};
  }
  // Subnormal f16 or zero: multiples of 2^-24. Adding 0.5 puts the 2^-24 step
  // in the last place of the f32 sum, so the hardware rounds to nearest even.
  const float t = std::bit_cast<float>(a) + 0.5f;
  return {std::uint16_t(sign | (std::bit_cast<std::uint32_t>(t) - 0x3f000000u))};
}

namespace detail {
namespace {

template <class H>
H narrow_one(float v) noexcept {
  if constexpr (std::is_same_v<H, bfloat16>)
    return to_bfloat16(v);
  else
    return to_float16(v);
}

// Rounds a double to H once: via f32 with round-to-odd, which keeps the double
// rounding from changing the 16-bit result (f32 has >= 2 more bits than H).
template <class H>
H narrow_from_double(double v) noexcept {
  float f = static_cast<float>(v);
  if (std::isfinite(f) && static_cast<double>(f) != v) {
    auto bits = std::bit_cast<std::uint32_t>(f);
    if ((bits & 1u) == 0) {  // make it odd, toward v
      const bool away = std::fabs(v) > std::fabs(static_cast<double>(f));
      bits = away ? bits + 1 : bits - 1;
      f = std::bit_cast<float>(bits);
    }
  }
  return narrow_one<H>(f);
}

}  // namespace

void widen(const bfloat16* in, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_float(in[i]);
}
void widen(const float16* in, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_float(in[i]);
}
void narrow(const float* in, bfloat16* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_bfloat16(in[i]);
}
void narrow(const float* in, float16* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_float16(in[i]);
}

template <class H>
void narrow_correctly(const float* x32, const float* y32, H* out, std::size_t n,
                      double (*exact)(double) noexcept) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const float y = y32[i];
    const H r = narrow_one<H>(y);
    if (std::isfinite(y)) {
      const H below = narrow_one<H>(std::nextafter(y, -INFINITY));
      const H above = narrow_one<H>(std::nextafter(y, INFINITY));
      if (below.bits != r.bits || above.bits != r.bits) {
        out[i] = narrow_from_double<H>(exact(double(x32[i])));
        continue;
      }
    }
    out[i] = r;
  }
}
template void narrow_correctly(const float*, const float*, bfloat16*, std::size_t,
                               double (*)(double) noexcept) noexcept;
template void narrow_correctly(const float*, const float*, float16*, std::size_t,
                               double (*)(double) noexcept) noexcept;

}  // namespace detail
}  // namespace sigma
