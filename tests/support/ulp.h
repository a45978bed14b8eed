// ULP measurement for tests: the error of a result of type T against an exact
// value held in long double (or better), in units of T's last place at the
// exact value's magnitude, and stats to accumulate over a scan.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace sigma::test {

// The spacing of T's values at the magnitude of `exact` (subnormal spacing below
// T's smallest normal, the top binade's spacing above T's max).
template <class T>
long double ulp_at(long double exact) {
  using L = std::numeric_limits<T>;
  const long double a = std::fabs(exact);
  const int min_exp = L::min_exponent - 1;  // f32: -126
  int e = min_exp;
  if (a >= static_cast<long double>(L::min())) {
    std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
    e = std::min(e - 1, L::max_exponent - 1);
  }
  return std::ldexp(1.0L, e - (L::digits - 1));
}

// |got - exact| in ULP of T. Specials: both NaN, or equal infinities, count 0;
// any other disagreement about NaN/inf counts +inf.
template <class T>
double ulp_error(T got, long double exact) {
  if (std::isnan(exact) || std::isnan(got))
    return std::isnan(exact) && std::isnan(got) ? 0.0 : HUGE_VAL;
  if (std::isinf(exact) || std::isinf(got))
    return static_cast<long double>(got) == exact ? 0.0 : HUGE_VAL;
  return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / ulp_at<T>(exact));
}

// The same for a double `exact` (every double-precision reference, as in the
// exhaustive scans' 2^32 calls) and a type of at most 24 significant bits:
// the ULP comes from the double's exponent bits, the same exponent ulp_at
// finds, and the difference is rounded at 2^-53 relative. About five times
// faster than the long double path (frexpl/ldexpl calls and an x87 divide).
template <class T>
  requires(std::numeric_limits<T>::digits <= 24)
double ulp_error(T got, double exact) {
  using L = std::numeric_limits<T>;
  if (!std::isfinite(exact) || !std::isfinite(got) || std::fabs(exact) < std::numeric_limits<double>::min())
    return ulp_error<T>(got, static_cast<long double>(exact));
  int e = int((std::bit_cast<std::uint64_t>(exact) >> 52) & 0x7ff) - 1023;  // |exact| in [2^e, 2^(e+1))
  e = std::clamp(e, L::min_exponent - 1, L::max_exponent - 1);
  // 1 / ULP, a power of two (so the product is the quotient, exactly) and a
  // multiply instead of a divide's latency.
  const double inv_ulp = std::bit_cast<double>(std::uint64_t(1023 - (e - (L::digits - 1))) << 52);
  return std::fabs(static_cast<double>(got) - exact) * inv_ulp;
}

struct UlpStats {
  double max = 0;
  long double worst_x = 0;
  double sum = 0;
  std::uint64_t count = 0, above_half = 0, above_one = 0, nan_out = 0;

  // x converts to long double only when it is the new worst (the exhaustive
  // scans call this 2^32 times).
  template <class X> void add(double err, X x, bool out_is_nan) {
    ++count;
    sum += std::isfinite(err) ? err : 0;
    above_half += err > 0.5;
    above_one += err > 1.0;
    nan_out += out_is_nan;
    if (err > max || (std::isnan(err) && !std::isnan(max))) {
      max = err;
      worst_x = static_cast<long double>(x);
    }
  }
  void merge(const UlpStats& o) {
    if (o.max > max) {
      max = o.max;
      worst_x = o.worst_x;
    }
    sum += o.sum;
    count += o.count;
    above_half += o.above_half;
    above_one += o.above_one;
    nan_out += o.nan_out;
  }
  double mean() const { return count ? sum / double(count) : 0; }
};

}  // namespace sigma::test
