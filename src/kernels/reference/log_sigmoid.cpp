// Scalar reference log-sigmoid (contract in sigma/reference.h).
#include <cmath>
#include <span>

#include "kernels/size_check.h"
#include "sigma/reference.h"

namespace sigma::reference {
namespace {

// log(sigmoid(x)) without cancellation: for x < 0 both terms are negative;
// for x >= 0 the result is -log1p of a number in (0, 1].
template <class W>
W log_sigmoid_wide(W x) {
  if (x < 0) return x - std::log1p(std::exp(x));
  return -std::log1p(std::exp(-x));  // also NaN -> NaN
}

template <class T>
void log_sigmoid_array(std::span<const T> x, std::span<T> y) {
  detail::check_same_size("sigma::reference::log_sigmoid", "x", x.size(), "y", y.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = log_sigmoid(x[i]);
}

}  // namespace

float log_sigmoid(float x) noexcept { return static_cast<float>(log_sigmoid_wide<double>(x)); }
double log_sigmoid(double x) noexcept {
  return static_cast<double>(log_sigmoid_wide<long double>(x));
}

void log_sigmoid(std::span<const float> x, std::span<float> y) { log_sigmoid_array(x, y); }
void log_sigmoid(std::span<const double> x, std::span<double> y) { log_sigmoid_array(x, y); }

}  // namespace sigma::reference
