// activation_refs.h: what the activation and loss op tests share
// (tests/ops/activation_test.cpp, tests/ops/loss_test.cpp): long double
// references, ULP and closeness checks, and gradients by autograd and by
// central differences.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "mpfr_ref.h"
#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "ulp.h"

namespace sigma::test::activation {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::mp_log_sigmoid;
using sigma::test::mp_sigmoid;
using sigma::test::mp_softplus;
using sigma::test::ulp_error;
using LD = long double;
using Fn = std::function<Tensor(const Tensor&)>;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

inline Tensor f32(const std::vector<float>& v) { return sigma::tensor(v); }
inline Tensor f64(const std::vector<double>& v) { return sigma::tensor(v, sigma::kFloat64); }

// Test inputs across the whole range: tiny, moderate, saturating, huge.
inline std::vector<double> wide_inputs() {
  std::vector<double> v = {0.0,   -0.0,  1e-30, -1e-30, 1e-7,  -1e-7, 0.1,   -0.1,  0.5,
                           -0.5,  1.0,   -1.0,  1.2784645, -1.2784645, 2.5, -2.5, 5.0, -5.0,
                           8.0,   -8.0,  9.5,   -9.5,  15.0,  -15.0, 16.7, -16.7, 20.0,
                           -20.0, 30.0,  -30.0, 50.0,  -50.0, 87.0, -87.0, 88.8, -88.8,
                           103.0, -103.0, 200.0, -200.0, 1e4, -1e4, 1e30, -1e30};
  for (int i = -400; i <= 400; ++i) v.push_back(i * 0.0371);
  return v;
}

inline std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

inline LD ld_sigmoid(LD x) { return 1.0L / (1.0L + std::exp(-x)); }
// MPFR's exponent range overflows e^-x for x = -1e30; there min(x, 0) -
// log1p(e^-|x|) in long double is exact to the last bit anyway.
inline LD ref_log_sigmoid(LD x) {
  return std::fabs(x) > 1000 ? std::min(x, 0.0L) - std::log1p(std::exp(-std::fabs(x)))
                             : mp_log_sigmoid(x);
}
inline LD ld_softplus(LD z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

// Checks every element of got (f32 or f64 values of a tensor of that dtype)
// against ref(x) within max_ulp.
template <class T>
inline void expect_ulp(const std::vector<T>& xs, const std::vector<T>& got,
                const std::function<LD(LD)>& ref, double max_ulp, const char* what) {
  ASSERT_EQ(xs.size(), got.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const LD want = ref(static_cast<LD>(xs[i]));
    EXPECT_LE(ulp_error<T>(got[i], want), max_ulp)
        << what << " at x = " << static_cast<double>(xs[i]) << ": got " << got[i] << ", want "
        << static_cast<double>(want);
  }
}

// d/dx sum(v * fn(x)) by autograd.
inline std::vector<double> autograd_grad(const Fn& fn, const Tensor& x0, const Tensor& v) {
  Tensor x = x0.detach().clone().requires_grad_(true);
  fn(x).backward(v);
  return x.grad().to_vector<double>();
}

// The same by central differences in float64 (x0 float64, any shape).
inline std::vector<double> numeric_grad(const Fn& fn, const Tensor& x0, const Tensor& v, double h = 1e-6) {
  const std::vector<double> xv = x0.to_vector<double>();
  const std::vector<double> vv = v.to_vector<double>();
  auto objective = [&](const std::vector<double>& xs) {
    Tensor y = fn(f64(xs).reshape(x0.sizes()));
    const std::vector<double> yv = y.to_vector<double>();
    LD s = 0;
    for (std::size_t j = 0; j < yv.size(); ++j) s += static_cast<LD>(yv[j]) * vv[j % vv.size()];
    return s;
  };
  std::vector<double> g(xv.size());
  for (std::size_t i = 0; i < xv.size(); ++i) {
    std::vector<double> p = xv, m = xv;
    p[i] += h;
    m[i] -= h;
    g[i] = static_cast<double>((objective(p) - objective(m)) / (2 * h));
  }
  return g;
}

inline void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                  double atol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], atol + rtol * std::fabs(want[i])) << what << " element " << i;
}

// Gradient of an element-wise op against central differences in float64 at
// moderate inputs, with a non-trivial upstream gradient.
inline void check_central_differences(const Fn& fn, const std::vector<double>& xs, const char* what) {
  Tensor x = f64(xs);
  std::vector<double> vs(xs.size());
  for (std::size_t i = 0; i < vs.size(); ++i) vs[i] = 0.5 + 0.25 * static_cast<double>(i % 5);
  Tensor v = f64(vs);
  expect_close(autograd_grad(fn, x, v), numeric_grad(fn, x, v), 1e-6, 1e-8, what);
}

// Gradient at each x (dy = 1) against an analytic derivative in long double,
// deriv(x, y) with y the op's (rounded) output at x: a backward from the
// saved output is accurate relative to that y, as PyTorch's.
using Deriv = std::function<LD(LD, LD)>;
template <class T>
inline void check_analytic_grad(const Fn& fn, const std::vector<double>& xs, const Deriv& deriv,
                         double max_ulp, const char* what) {
  const auto dtype = std::is_same_v<T, float> ? sigma::kFloat32 : sigma::kFloat64;
  Tensor x = f64(xs).to(dtype);
  const std::vector<double> xr = x.to_vector<double>();
  const std::vector<double> yr = fn(x).to_vector<double>();
  std::vector<double> g = autograd_grad(fn, x, sigma::ones_like(x));
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const LD want = deriv(static_cast<LD>(xr[i]), static_cast<LD>(yr[i]));
    EXPECT_LE(ulp_error<T>(static_cast<T>(g[i]), want), max_ulp)
        << what << " at x = " << xr[i] << ": got " << g[i] << ", want "
        << static_cast<double>(want);
  }
}

// Moderate inputs for finite differences (away from kinks).
const std::vector<double> kModerate = {-4.0, -2.2, -1.3, -0.7, -0.1, 0.05, 0.3, 0.9, 1.7, 3.1, 5.0};


}  // namespace sigma::test::activation
