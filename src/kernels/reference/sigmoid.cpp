// Scalar reference sigmoid and its backward (contracts in sigma/reference.h).
// f32 is computed in double and f64 in long double, each rounded once.
#include <cmath>
#include <limits>
#include <span>

#include "kernels/size_check.h"
#include "sigma/reference.h"

static_assert(std::numeric_limits<long double>::digits >= 64,
              "the f64 reference kernels need an extended long double");

namespace sigma::reference {
namespace {

// Stable piecewise form in the wide type W: e^-|x| never overflows.
template <class W>
W sigmoid_wide(W x) {
  if (x >= 0) return W(1) / (W(1) + std::exp(-x));
  const W e = std::exp(x);  // x < 0 or NaN (NaN falls through to NaN)
  return e / (W(1) + e);
}

}  // namespace

float sigmoid(float x) noexcept { return static_cast<float>(sigmoid_wide<double>(x)); }
double sigmoid(double x) noexcept { return static_cast<double>(sigmoid_wide<long double>(x)); }

float sigmoid_backward(float dy, float y) noexcept {
  const double yd = y;
  return static_cast<float>(double(dy) * (yd * (1.0 - yd)));  // y*(1-y) is exact in double
}
double sigmoid_backward(double dy, double y) noexcept {
  const long double yl = y;
  return static_cast<double>((long double)dy * (yl * (1.0L - yl)));
}

float sigmoid_backward_from_input(float dy, float x) noexcept {
  const double xd = x;
  return static_cast<float>(double(dy) * (sigmoid_wide(xd) * sigmoid_wide(-xd)));
}
double sigmoid_backward_from_input(double dy, double x) noexcept {
  const long double xl = x;
  return static_cast<double>((long double)dy * (sigmoid_wide(xl) * sigmoid_wide(-xl)));
}

void sigmoid(std::span<const float> x, std::span<float> y) {
  detail::check_same_size("sigma::reference::sigmoid", "x", x.size(), "y", y.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = sigmoid(x[i]);
}
void sigmoid(std::span<const double> x, std::span<double> y) {
  detail::check_same_size("sigma::reference::sigmoid", "x", x.size(), "y", y.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = sigmoid(x[i]);
}

// dx[i] = f(dy[i], saved[i]) for the two backward forms.
template <class T, class F>
static void backward_array(const char* op, const char* saved_name, std::span<const T> dy,
                           std::span<const T> saved, std::span<T> dx, F f) {
  detail::check_same_size(op, "dy", dy.size(), saved_name, saved.size());
  detail::check_same_size(op, "dy", dy.size(), "dx", dx.size());
  for (std::size_t i = 0; i < dy.size(); ++i) dx[i] = f(dy[i], saved[i]);
}

void sigmoid_backward(std::span<const float> dy, std::span<const float> y, std::span<float> dx) {
  backward_array("sigma::reference::sigmoid_backward", "y", dy, y, dx,
                 [](float g, float v) { return sigmoid_backward(g, v); });
}
void sigmoid_backward(std::span<const double> dy, std::span<const double> y,
                      std::span<double> dx) {
  backward_array("sigma::reference::sigmoid_backward", "y", dy, y, dx,
                 [](double g, double v) { return sigmoid_backward(g, v); });
}
void sigmoid_backward_from_input(std::span<const float> dy, std::span<const float> x,
                                 std::span<float> dx) {
  backward_array("sigma::reference::sigmoid_backward_from_input", "x", dy, x, dx,
                 [](float g, float v) { return sigmoid_backward_from_input(g, v); });
}
void sigmoid_backward_from_input(std::span<const double> dy, std::span<const double> x,
                                 std::span<double> dx) {
  backward_array("sigma::reference::sigmoid_backward_from_input", "x", dy, x, dx,
                 [](double g, double v) { return sigmoid_backward_from_input(g, v); });
}

}  // namespace sigma::reference
