// Shared pieces of the sigmoid tests: the long double reference and the
// per-input check used by both the strided and the exhaustive scans.
#pragma once

#include <cmath>

#include "sigma/reference.h"
#include "ulp.h"

namespace sigma::test {

// Contract bounds from sigma/reference.h.
inline constexpr double kF32Contract = 0.5 + 0x1p-26;
inline constexpr double kF64Contract = 0.5 + 0x1p-8;

// sigmoid in long double, stable piecewise form (about 2^-62 relative error:
// 2^-38 ULP of a float).
inline long double ld_sigmoid(long double x) {
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}

// One input of an f32 sigmoid scan: ULP error, NaN in -> NaN out, never NaN
// for a non-NaN input.
inline void check_sigmoid_f32(float x, UlpStats& st) {
  const float y = sigma::reference::sigmoid(x);
  if (std::isnan(x)) {
    st.add(std::isnan(y) ? 0.0 : HUGE_VAL, x, false);
    return;
  }
  st.add(ulp_error(y, ld_sigmoid(x)), x, std::isnan(y));
}

}  // namespace sigma::test
