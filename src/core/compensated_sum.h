// compensated_sum.h: Neumaier's compensated summation in double (internal).
//
// The error of the sum is about 2 ulp of sum |x_i| whatever the length,
// against n ulp for a plain running sum. Used wherever sigma rounds a long sum
// once: the reductions (sum, mean, norms), the losses' means.
#pragma once

#include <cmath>
#include <cstdint>

namespace sigma::detail {

struct CompensatedSum {
  double s = 0.0, c = 0.0;
  void add(double v) noexcept {
    const double t = s + v;
    c += std::fabs(s) >= std::fabs(v) ? (s - t) + v : (v - t) + s;
    s = t;
  }
  void merge(const CompensatedSum& o) noexcept {
    add(o.s);
    c += o.c;
  }
  // Once s is infinite or NaN the compensation is meaningless (inf - inf is
  // NaN): the sum is s itself.
  double value() const noexcept { return std::isfinite(s) ? s + c : s; }
};

// The compensated sum of p[0 .. n), each value widened to double.
template <class T> double compensated_sum(const T* p, std::int64_t n) noexcept {
  CompensatedSum acc;
  for (std::int64_t i = 0; i < n; ++i) acc.add(static_cast<double>(p[i]));
  return acc.value();
}

}  // namespace sigma::detail
