// Helpers shared by the tensor, autograd, ops and nn tests: the Shape alias,
// expect_error (a sigma::Error whose message holds given parts), numel of a
// shape, values of a tensor as doubles, tensors built from row-major values or
// from an index formula, seeded inputs (std::mt19937_64 uniforms and a
// splitmix64 stream independent of sigma::rand), the bf16 rounding of a float
// done independently of sigma, and check_grad: autograd gradients of
// sum(fn(inputs) * w) against central differences in float64, and
// expect_same_bits_for_any_thread_count.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"

namespace sigma::test {

using Shape = std::vector<std::int64_t>;

// Runs body, expects a sigma::Error whose message contains every part.
template <class E = sigma::Error, class F>
void expect_error(F&& body, std::initializer_list<std::string> parts) {
  try {
    body();
    ADD_FAILURE() << "expected an exception of the type asked for";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

inline std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// The elements of t in row-major order as doubles (exact for every floating
// type; any dtype, any strides).
inline std::vector<double> values(const sigma::Tensor& t) { return t.to_vector<double>(); }

// A tensor of shape s and dtype t from row-major float64 values (rounded to t).
inline sigma::Tensor make(const Shape& s, const std::vector<double>& v,
                          sigma::ScalarType t = sigma::kFloat64) {
  return sigma::tensor(v, sigma::dtype(sigma::kFloat64)).to(t).reshape(s);
}

// A float64 tensor of the given shape whose flat element i is f(i).
template <class F>
sigma::Tensor from_index(const Shape& shape, F f) {
  std::vector<double> v(static_cast<std::size_t>(numel(shape)));
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i)
    v[static_cast<std::size_t>(i)] = f(i);
  return sigma::tensor(v, sigma::kFloat64).reshape(shape);
}

// Uniform values in [lo, hi) as a tensor of dtype t (float64 values rounded to t).
inline sigma::Tensor random_tensor(const Shape& s, sigma::ScalarType t, std::uint64_t seed,
                                   double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<std::size_t>(numel(s)));
  for (auto& x : v) x = u(gen);
  return sigma::tensor(v, sigma::kFloat64).reshape(s).to(t);
}

// splitmix64: a small deterministic generator, independent of sigma::rand.
inline std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// The next splitmix value as a double in [lo, hi].
inline double uniform(std::uint64_t& s, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(splitmix(s) >> 11) * 0x1.0p-53;
}
// n values of uniform(seed, lo, hi), in order.
inline std::vector<double> draw(std::int64_t n, double lo, double hi, std::uint64_t seed) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = uniform(seed, lo, hi);
  return v;
}

// bf16 round-to-nearest-even of a float (finite values), independently of sigma.
inline float round_bf16(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

// Checks the autograd gradient of sum(fn(inputs) * w) for every element of
// every input against central differences (step h, relative tolerance tol).
// w is random_tensor(out shape, float64, 99, w_lo, w_hi); inputs are float64.
inline void check_grad(const std::function<sigma::Tensor(const sigma::TensorList&)>& fn,
                       const sigma::TensorList& inputs, double h = 1e-6, double tol = 1e-6,
                       double w_lo = 0.5, double w_hi = 1.5) {
  sigma::TensorList leaves;
  for (const auto& x : inputs) leaves.push_back(x.detach().clone().requires_grad_(true));
  sigma::Tensor out = fn(leaves);
  const sigma::Tensor w = random_tensor(out.sizes().vec(), sigma::kFloat64, 99, w_lo, w_hi);
  const std::vector<double> wv = values(w);
  out.backward(w);
  auto objective = [&](const sigma::TensorList& in) {
    sigma::NoGradGuard no_grad;
    const std::vector<double> o = values(fn(in));
    long double s = 0;
    for (std::size_t i = 0; i < o.size(); ++i) s += static_cast<long double>(o[i]) * wv[i];
    return s;
  };
  for (std::size_t j = 0; j < inputs.size(); ++j) {
    ASSERT_TRUE(leaves[j].grad().defined()) << "input " << j;
    EXPECT_EQ(leaves[j].grad().sizes(), leaves[j].sizes());
    const std::vector<double> g = values(leaves[j].grad());
    const std::vector<double> base = values(inputs[j]);
    for (std::size_t i = 0; i < base.size(); ++i) {
      sigma::TensorList plus = inputs, minus = inputs;
      std::vector<double> vp = base, vm = base;
      vp[i] += h;
      vm[i] -= h;
      plus[j] = sigma::tensor(vp, sigma::kFloat64).reshape(inputs[j].sizes());
      minus[j] = sigma::tensor(vm, sigma::kFloat64).reshape(inputs[j].sizes());
      const double numeric = static_cast<double>((objective(plus) - objective(minus)) / (2 * h));
      EXPECT_NEAR(g[i], numeric, tol * (1.0 + std::fabs(numeric)))
          << "input " << j << " element " << i;
    }
  }
}


// Runs make() with sigma::set_num_threads(1), then 2, 3 and the default (0),
// and expects the same tensors (shapes and every bit of every value) each
// time; restores the default. make returns the tensors to compare.
inline void expect_same_bits_for_any_thread_count(
    const std::function<std::vector<sigma::Tensor>()>& make, const std::string& what) {
  const auto bits = [&] {
    std::vector<std::pair<std::vector<std::int64_t>, std::vector<double>>> r;
    for (const sigma::Tensor& t : make()) r.emplace_back(t.sizes().vec(), values(t));
    return r;
  };
  sigma::set_num_threads(1);
  const auto one = bits();
  for (int n : {2, 3, 0}) {
    sigma::set_num_threads(n);
    const auto got = bits();
    ASSERT_EQ(got.size(), one.size()) << what;
    for (std::size_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(got[i].first, one[i].first) << what << ", tensor " << i << ", threads " << n;
      const auto& a = got[i].second;
      const auto& b = one[i].second;
      EXPECT_TRUE(a.size() == b.size() &&
                  std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0)
          << what << ", tensor " << i << ": threads " << n << " differ from 1 thread";
    }
  }
  sigma::set_num_threads(0);
}

}  // namespace sigma::test
