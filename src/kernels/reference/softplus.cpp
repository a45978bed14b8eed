// Scalar reference softplus with PyTorch's beta/threshold semantics (contract
// in sigma/reference.h).
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>

#include "kernels/size_check.h"
#include "sigma/reference.h"

namespace sigma::reference {
namespace {

template <class W, class T>
T softplus_wide(T x, T beta, T threshold) {
  const W z = W(x) * W(beta);
  if (z > W(threshold)) return x;  // PyTorch's linear region returns x itself
  // log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for any z.
  const W lse = std::fmax(z, W(0)) + std::log1p(std::exp(-std::fabs(z)));
  return static_cast<T>(std::isnan(z) ? z : lse / W(beta));
}

template <class T>
void softplus_array(std::span<const T> x, std::span<T> y, T beta, T threshold) {
  constexpr const char* op = "sigma::reference::softplus";
  if (!(std::isfinite(beta) && beta != 0))
    throw std::invalid_argument(std::string(op) + ": beta must be finite and non-zero, got " +
                                std::to_string(beta));
  if (std::isnan(threshold)) throw std::invalid_argument(std::string(op) + ": threshold is NaN");
  detail::check_same_size(op, "x", x.size(), "y", y.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = softplus(x[i], beta, threshold);
}

}  // namespace

float softplus(float x, float beta, float threshold) noexcept {
  return softplus_wide<double>(x, beta, threshold);
}
double softplus(double x, double beta, double threshold) noexcept {
  return softplus_wide<long double>(x, beta, threshold);
}

void softplus(std::span<const float> x, std::span<float> y, float beta, float threshold) {
  softplus_array(x, y, beta, threshold);
}
void softplus(std::span<const double> x, std::span<double> y, double beta, double threshold) {
  softplus_array(x, y, beta, threshold);
}

}  // namespace sigma::reference
