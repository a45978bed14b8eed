// A table-driven comparison with LibTorch for the op reference tests: each
// Case names an op's sigma and LibTorch forms over inputs of given shapes;
// run() draws the inputs (float64, and float32 rounded once and copied to
// both), compares the outputs, then the gradients of a random weighting of
// the outputs. Shared by tests/ops/torch_reference_{tensor_ops,math}_test.cpp.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace sigma::test::torch_cases {

using sigma::test::draw;
using sigma::test::numel;
using sigma::test::Shape;
using SList = std::vector<sigma::Tensor>;
using TList = std::vector<torch::Tensor>;

struct Case {
  std::string name;
  std::vector<Shape> shapes;
  std::function<SList(const SList&)> s;
  std::function<TList(const TList&)> t;
  bool exact = false;   // values moved or rounded exactly: equality
  bool grad = true;     // differentiable
  double lo = -2.0, hi = 2.0;
  bool float32 = true;  // also run in float32
  std::function<void(std::vector<double>&)> adjust = {};  // e.g. plant zeros
};

inline std::vector<double> values_of(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

inline void compare(const sigma::Tensor& s, const torch::Tensor& t, double rtol, bool exact,
             const std::string& what) {
  ASSERT_EQ(s.sizes().vec(), t.sizes().vec()) << what;
  const std::vector<double> a = s.to_vector<double>(), b = values_of(t);
  double scale = 1;
  for (double e : b)
    if (std::isfinite(e)) scale = std::max(scale, 1 + std::abs(e));
  int reported = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    const bool ok = both_nan || a[i] == b[i] ||
                    (!exact && std::abs(a[i] - b[i]) <= rtol * (std::abs(b[i]) + scale));
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << ": sigma " << a[i] << ", torch " << b[i];
  }
}

inline torch::ScalarType torch_dtype(sigma::ScalarType t) {
  switch (t) {
    case sigma::kLong: return torch::kLong;
    case sigma::kBool: return torch::kBool;
    case sigma::kFloat32: return torch::kFloat;
    default: return torch::kDouble;
  }
}

inline void run(const Case& c, sigma::ScalarType dt, std::uint64_t seed) {
  const std::string tag = c.name + (dt == sigma::kFloat64 ? " [float64]" : " [float32]");
  const double rtol = dt == sigma::kFloat64 ? 1e-11 : 2e-5;
  SList s_in;
  TList t_in;
  for (std::size_t k = 0; k < c.shapes.size(); ++k) {
    std::vector<double> v = draw(numel(c.shapes[k]), c.lo, c.hi, seed + 17 * k);
    if (c.adjust) c.adjust(v);
    sigma::Tensor s = sigma::tensor(v, sigma::kFloat64).reshape(c.shapes[k]).to(dt);
    const std::vector<double> exact = s.to_vector<double>();  // float32: rounded once, copied
    torch::Tensor t = torch::tensor(exact, torch::dtype(torch::kDouble)).reshape(c.shapes[k]).to(torch_dtype(dt));
    if (c.grad) {
      s.requires_grad_();
      t.requires_grad_();
    }
    s_in.push_back(s);
    t_in.push_back(t);
  }
  const SList s_out = c.s(s_in);
  const TList t_out = c.t(t_in);
  ASSERT_EQ(s_out.size(), t_out.size()) << tag;
  sigma::Tensor s_loss;
  torch::Tensor t_loss;
  for (std::size_t k = 0; k < s_out.size(); ++k) {
    const std::string what = tag + " output " + std::to_string(k);
    ASSERT_EQ(torch_dtype(s_out[k].dtype()), t_out[k].scalar_type()) << what;
    compare(s_out[k], t_out[k], rtol, c.exact || !s_out[k].is_floating_point(), what);
    if (!c.grad || !s_out[k].requires_grad()) continue;
    const std::vector<double> v = draw(s_out[k].numel(), -1, 1, seed + 1000 + k);
    const sigma::Tensor sv = sigma::tensor(v, sigma::kFloat64).reshape(s_out[k].sizes()).to(s_out[k].dtype());
    const torch::Tensor tv = torch::tensor(sv.to_vector<double>(), torch::dtype(torch::kDouble))
                                 .reshape(t_out[k].sizes()).to(t_out[k].scalar_type());
    const sigma::Tensor sl = (s_out[k] * sv).sum();
    const torch::Tensor tl = (t_out[k] * tv).sum();
    s_loss = s_loss.defined() ? s_loss + sl : sl;
    t_loss = t_loss.defined() ? t_loss + tl : tl;
  }
  if (!s_loss.defined()) return;
  s_loss.backward();
  t_loss.backward();
  for (std::size_t k = 0; k < s_in.size(); ++k) {
    const std::string what = tag + " gradient of input " + std::to_string(k);
    ASSERT_TRUE(s_in[k].grad().defined() == t_in[k].grad().defined()) << what;
    if (s_in[k].grad().defined()) compare(s_in[k].grad(), t_in[k].grad(), rtol, false, what);
  }
}

inline void run_all(const std::vector<Case>& cases) {
  std::uint64_t seed = 1;
  for (const Case& c : cases) {
    run(c, sigma::kFloat64, seed);
    if (c.float32) run(c, sigma::kFloat32, seed + 7);
    seed += 101;
  }
}

template <class F> std::function<SList(const SList&)> S1(F f) {
  return [f](const SList& x) { return SList{f(x[0])}; };
}
template <class F> std::function<TList(const TList&)> T1(F f) {
  return [f](const TList& x) { return TList{f(x[0])}; };
}

}  // namespace sigma::test::torch_cases
