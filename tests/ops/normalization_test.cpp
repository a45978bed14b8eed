// Tests of sigma::layer_norm (src/ops/normalization.cpp): values against a
// long double two-pass reference (f64 within 1e-15 relative, f32 and bf16
// within one ulp of their type), gradients by sigma::gradcheck in float64
// (input, weight, bias; strided input), float32 gradients against the
// float64 ones, a large common offset that a one-pass float variance would
// lose, errors, and results independent of the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::TensorList;
using sigma::test::expect_error;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;

// y = (x - mean) / sqrt(var + eps) * w + b per row of n, in long double.
std::vector<long double> reference(const std::vector<double>& x, std::int64_t n,
                                   const std::vector<double>& w, const std::vector<double>& b,
                                   double eps) {
  std::vector<long double> y(x.size());
  for (std::size_t r = 0; r * n < x.size(); ++r) {
    long double s = 0, q = 0;
    for (std::int64_t j = 0; j < n; ++j) s += x[r * n + j];
    const long double mean = s / n;
    for (std::int64_t j = 0; j < n; ++j) q += (x[r * n + j] - mean) * (x[r * n + j] - mean);
    const long double rstd = 1.0L / std::sqrt(q / n + eps);
    for (std::int64_t j = 0; j < n; ++j) {
      long double v = (x[r * n + j] - mean) * rstd;
      if (!w.empty()) v *= w[j];
      if (!b.empty()) v += b[j];
      y[r * n + j] = v;
    }
  }
  return y;
}

struct Case {
  Shape input, normalized;
  bool affine;
};

std::vector<Case> cases() {
  return {{{3, 5}, {5}, true}, {{2, 3, 4}, {3, 4}, true}, {{4, 7}, {7}, false},
          {{6}, {6}, true},    {{2, 2, 1}, {1}, true}};
}

TEST(LayerNorm, Float64MatchesLongDoubleReference) {
  std::uint64_t seed = 1;
  for (const Case& c : cases()) {
    const Tensor x = random_tensor(c.input, sigma::kFloat64, ++seed, -3, 3);
    const Tensor w = c.affine ? random_tensor(c.normalized, sigma::kFloat64, ++seed, 0.5, 2) : Tensor();
    const Tensor b = c.affine ? random_tensor(c.normalized, sigma::kFloat64, ++seed, -1, 1) : Tensor();
    const Tensor y = sigma::layer_norm(x, c.normalized, w, b, 1e-5);
    ASSERT_EQ(y.sizes().vec(), c.input);
    ASSERT_EQ(y.dtype(), sigma::kFloat64);
    const auto ref = reference(values(x), sigma::test::numel(c.normalized),
                               c.affine ? values(w) : std::vector<double>{},
                               c.affine ? values(b) : std::vector<double>{}, 1e-5);
    const auto got = values(y);
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], static_cast<double>(ref[i]), 1e-15 * std::max(1.0L, std::fabs(ref[i])))
          << "case " << seed << " element " << i;
  }
}

// One ulp of a float (or of bf16: 8 bits of precision) at |v|, and at least
// 1e-15: a result that cancels to near zero (x_hat w + b) is judged on the
// reference's own double-precision error instead.
double ulp(long double v, int bits) {
  return std::max(1e-15, std::ldexp(1.0, std::ilogb(static_cast<double>(v)) - (bits - 1)));
}

TEST(LayerNorm, Float32AndBFloat16WithinOneUlp) {
  std::uint64_t seed = 100;
  for (const Case& c : cases()) {
    for (auto [dt, bits] : {std::pair{sigma::kFloat32, 24}, std::pair{sigma::kBFloat16, 8}}) {
      const Tensor x = random_tensor(c.input, dt, ++seed, -3, 3);
      const Tensor w = random_tensor(c.normalized, dt, ++seed, 0.5, 2);
      const Tensor b = random_tensor(c.normalized, dt, ++seed, -1, 1);
      const Tensor y = sigma::layer_norm(x, c.normalized, w, b);
      ASSERT_EQ(y.dtype(), dt);
      // The reference reads the values as stored (exact in double).
      const auto ref = reference(values(x), sigma::test::numel(c.normalized), values(w),
                                 values(b), 1e-5);
      const auto got = values(y);
      for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_LE(std::fabs(got[i] - ref[i]), ulp(ref[i], bits))
            << sigma::to_string(dt) << " element " << i << ": " << got[i] << " vs "
            << static_cast<double>(ref[i]);
    }
  }
}

// x = 1e4 + u, u in [-1, 1): a float32 one-pass E[x^2] - E[x]^2 loses all of
// the variance's digits; the two-pass statistics in double keep one ulp.
TEST(LayerNorm, LargeCommonOffset) {
  const Tensor u = random_tensor({4, 64}, sigma::kFloat64, 7, -1, 1);
  const Tensor x = (u + 1e4).to(sigma::kFloat32);
  const Tensor y = sigma::layer_norm(x, {64});
  const auto ref = reference(values(x), 64, {}, {}, 1e-5);
  const auto got = values(y);
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_LE(std::fabs(got[i] - ref[i]), ulp(ref[i], 24)) << "element " << i;
}

TEST(LayerNorm, GradcheckInputWeightBias) {
  std::uint64_t seed = 200;
  for (const Case& c : cases()) {
    const Tensor x = random_tensor(c.input, sigma::kFloat64, ++seed, -2, 2).requires_grad_();
    const Tensor w = random_tensor(c.normalized, sigma::kFloat64, ++seed, 0.5, 2).requires_grad_();
    const Tensor b = random_tensor(c.normalized, sigma::kFloat64, ++seed, -1, 1).requires_grad_();
    const Shape shape = c.normalized;
    const auto r = sigma::gradcheck(
        [&](const TensorList& in) { return sigma::layer_norm(in[0], shape, in[1], in[2], 1e-5); },
        {x, w, b});
    EXPECT_TRUE(r.ok) << sigma::shape_string(c.input) << ": " << r.message;
    const auto r2 = sigma::gradcheck(
        [&](const TensorList& in) { return sigma::layer_norm(in[0], shape); }, {x});
    EXPECT_TRUE(r2.ok) << sigma::shape_string(c.input) << " without affine: " << r2.message;
  }
}

TEST(LayerNorm, GradcheckStridedInputAndWeightOnly) {
  // x.t(): the rows normalised are strided in memory.
  const Tensor base = random_tensor({5, 3}, sigma::kFloat64, 300, -2, 2).requires_grad_();
  const Tensor w = random_tensor({5}, sigma::kFloat64, 301, 0.5, 2).requires_grad_();
  const auto r = sigma::gradcheck(
      [](const TensorList& in) { return sigma::layer_norm(in[0].t(), {5}, in[1]); }, {base, w});
  EXPECT_TRUE(r.ok) << r.message;
  // Only the bias requires grad: the node still gives it its gradient.
  const Tensor x = random_tensor({3, 4}, sigma::kFloat64, 302, -2, 2);
  const Tensor b = random_tensor({4}, sigma::kFloat64, 303, -1, 1).requires_grad_();
  const auto rb = sigma::gradcheck(
      [&](const TensorList& in) { return sigma::layer_norm(x, {4}, {}, in[0]); }, {b});
  EXPECT_TRUE(rb.ok) << rb.message;
}

TEST(LayerNorm, Float32GradientsMatchFloat64) {
  const Tensor x64 = random_tensor({6, 10}, sigma::kFloat64, 400, -2, 2);
  const Tensor w64 = random_tensor({10}, sigma::kFloat64, 401, 0.5, 2);
  const Tensor b64 = random_tensor({10}, sigma::kFloat64, 402, -1, 1);
  const Tensor v = random_tensor({6, 10}, sigma::kFloat64, 403, -1, 1);
  auto grads = [&](sigma::ScalarType dt) {
    Tensor x = x64.to(dt).requires_grad_(), w = w64.to(dt).requires_grad_(),
           b = b64.to(dt).requires_grad_();
    (sigma::layer_norm(x, {10}, w, b) * v.to(dt)).sum().backward();
    return std::vector<std::vector<double>>{values(x.grad()), values(w.grad()), values(b.grad())};
  };
  // The inputs are float64 values rounded to float: compare with float64
  // run on those same rounded values.
  const auto g32 = grads(sigma::kFloat32);
  const Tensor x32 = x64.to(sigma::kFloat32), w32 = w64.to(sigma::kFloat32),
               b32 = b64.to(sigma::kFloat32), v32 = v.to(sigma::kFloat32);
  Tensor x = x32.to(sigma::kFloat64).requires_grad_(), w = w32.to(sigma::kFloat64).requires_grad_(),
         b = b32.to(sigma::kFloat64).requires_grad_();
  (sigma::layer_norm(x, {10}, w, b) * v32.to(sigma::kFloat64)).sum().backward();
  const std::vector<std::vector<double>> g64 = {values(x.grad()), values(w.grad()),
                                                values(b.grad())};
  for (std::size_t t = 0; t < 3; ++t)
    for (std::size_t i = 0; i < g64[t].size(); ++i)
      EXPECT_NEAR(g32[t][i], g64[t][i], 2e-6 * (1 + std::fabs(g64[t][i])))
          << "tensor " << t << " element " << i;
}

TEST(LayerNorm, ZeroRowsAndConstantRows) {
  const Tensor e = sigma::zeros({0, 4}).requires_grad_();
  const Tensor ye = sigma::layer_norm(e, {4});
  EXPECT_EQ(ye.sizes().vec(), (Shape{0, 4}));
  ye.sum().backward();
  EXPECT_EQ(e.grad().sizes().vec(), (Shape{0, 4}));
  // A constant row: x - mean = 0 exactly, y = bias.
  const Tensor c = sigma::full({2, 3}, 5.0, sigma::kFloat64);
  const Tensor b = sigma::tensor({1.0, 2.0, 3.0}, sigma::kFloat64);
  EXPECT_EQ(values(sigma::layer_norm(c, {3}, {}, b)), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

TEST(LayerNorm, Errors) {
  const Tensor x = sigma::zeros({2, 3});
  expect_error([&] { sigma::layer_norm(x, {4}); },
               {"layer_norm", "[2, 3]", "normalized_shape [4]", "[*, 4]"});
  expect_error([&] { sigma::layer_norm(x, {2, 3, 1}); }, {"layer_norm", "[2, 3, 1]"});
  expect_error([&] { sigma::layer_norm(x, {}); }, {"layer_norm", "at least one dimension"});
  expect_error([&] { sigma::layer_norm(x, {3}, sigma::ones({2})); },
               {"layer_norm", "weight of shape [2]", "[3]"});
  expect_error([&] { sigma::layer_norm(x, {3}, {}, sigma::ones({3, 1})); },
               {"layer_norm", "bias of shape [3, 1]"});
  expect_error([&] { sigma::layer_norm(x, {3}, sigma::ones({3}, sigma::kFloat64)); },
               {"layer_norm", "weight is float64", "float32"});
  expect_error([&] { sigma::layer_norm(sigma::zeros({2, 3}, sigma::kInt64), {3}); },
               {"layer_norm", "int64"});
  expect_error([&] { sigma::layer_norm(Tensor(), {3}); }, {"layer_norm"});
}

TEST(LayerNorm, SameBitsForAnyThreadCount) {
  // 700 rows of 256: enough for the rows and the column blocks to be split.
  const Tensor x = random_tensor({700, 256}, sigma::kFloat32, 500, -2, 2);
  const Tensor w = random_tensor({256}, sigma::kFloat32, 501, 0.5, 2);
  const Tensor b = random_tensor({256}, sigma::kFloat32, 502, -1, 1);
  const Tensor v = random_tensor({700, 256}, sigma::kFloat32, 503, -1, 1);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        Tensor xs = x.clone().requires_grad_(), ws = w.clone().requires_grad_(),
               bs = b.clone().requires_grad_();
        Tensor y = sigma::layer_norm(xs, {256}, ws, bs);
        (y * v).sum().backward();
        return std::vector<Tensor>{y.detach(), xs.grad(), ws.grad(), bs.grad()};
      },
      "layer_norm forward and backward");
}

}  // namespace
