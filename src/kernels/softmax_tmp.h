// TEMPORARY scalar stand-in for the row softmax kernels (replaced by the SIMD kernels).
#pragma once
#include <cmath>
#include <cstdint>
#include <span>
namespace sigma::tmpk {
template <class T> void sm(std::span<const T> x, std::span<T> y, std::int64_t c, bool lg) {
  using L = long double;
  for (std::size_t r = 0; r < x.size(); r += c) {
    L m = -INFINITY; bool nan = false;
    for (std::int64_t i = 0; i < c; ++i) { if (std::isnan(x[r+i])) nan = true; m = std::fmax(m, (L)x[r+i]); }
    L s = 0; for (std::int64_t i = 0; i < c; ++i) s += std::exp((L)x[r+i] - m);
    for (std::int64_t i = 0; i < c; ++i) {
      L v = lg ? (L)x[r+i] - m - std::log(s) : std::exp((L)x[r+i] - m) / s;
      y[r+i] = (nan || std::isinf(m)) ? T(NAN) : T(v);
    }
  }
}
template <class T> void smb(std::span<const T> dy, std::span<const T> y, std::span<T> dx, std::int64_t c, bool lg) {
  using L = long double;
  for (std::size_t r = 0; r < y.size(); r += c) {
    L s = 0; for (std::int64_t i = 0; i < c; ++i) s += lg ? (L)dy[r+i] : (L)dy[r+i] * y[r+i];
    for (std::int64_t i = 0; i < c; ++i) dx[r+i] = lg ? T(dy[r+i] - std::exp((L)y[r+i]) * s) : T(y[r+i] * (dy[r+i] - s));
  }
}
}  // namespace sigma::tmpk
namespace sigma {
inline void softmax(std::span<const float> x, std::span<float> y, std::int64_t c) { tmpk::sm(x, y, c, false); }
inline void softmax(std::span<const double> x, std::span<double> y, std::int64_t c) { tmpk::sm(x, y, c, false); }
inline void log_softmax(std::span<const float> x, std::span<float> y, std::int64_t c) { tmpk::sm(x, y, c, true); }
inline void log_softmax(std::span<const double> x, std::span<double> y, std::int64_t c) { tmpk::sm(x, y, c, true); }
inline void softmax_backward(std::span<const float> a, std::span<const float> b, std::span<float> o, std::int64_t c) { tmpk::smb(a, b, o, c, false); }
inline void softmax_backward(std::span<const double> a, std::span<const double> b, std::span<double> o, std::int64_t c) { tmpk::smb(a, b, o, c, false); }
inline void log_softmax_backward(std::span<const float> a, std::span<const float> b, std::span<float> o, std::int64_t c) { tmpk::smb(a, b, o, c, true); }
inline void log_softmax_backward(std::span<const double> a, std::span<const double> b, std::span<double> o, std::int64_t c) { tmpk::smb(a, b, o, c, true); }
}
