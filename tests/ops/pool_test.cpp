// Tests of src/ops/pool.cpp: max_pool1d/2d (indices, NaN, padding, dilation,
// ceil_mode), avg_pool2d (count_include_pad, divisor_override, ceil_mode) and
// adaptive_avg_pool2d against hand-computed cases and direct loops written
// here, gradients by central differences (gradcheck, float64), and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::Shape;
using sigma::test::values;

// Distinct values (a shuffled 0..n-1, scaled) so maxima have no ties and
// central differences never cross one.
Tensor distinct(const Shape& s, std::uint32_t seed) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  for (auto& e : v) e = e * 0.1 - 1;
  return sigma::tensor(v, sigma::kFloat64).reshape(s);
}

TEST(MaxPool2d, HandComputed) {
  // [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]] with 2x2 windows, stride 2:
  // one row of output (the last row is dropped), 6 and 8 at flat 5 and 7.
  const Tensor x = sigma::arange(1, 13, sigma::kFloat64).reshape({1, 1, 3, 4});
  auto [y, idx] = sigma::max_pool2d_with_indices(x, {2, 2});
  EXPECT_EQ(y.sizes().vec(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(values(y), (std::vector<double>{6, 8}));
  EXPECT_EQ(idx.to_vector<std::int64_t>(), (std::vector<std::int64_t>{5, 7}));
  // ceil_mode keeps a last partial row: 10 (flat 9) and 12 (flat 11).
  auto [yc, ic] = sigma::max_pool2d_with_indices(x, {2, 2}, {}, 0, 1, true);
  EXPECT_EQ(values(yc), (std::vector<double>{6, 8, 10, 12}));
  EXPECT_EQ(ic.to_vector<std::int64_t>(), (std::vector<std::int64_t>{5, 7, 9, 11}));
  // Padding 1, kernel 2, stride 2: windows start at -1: the corners.
  EXPECT_EQ(values(sigma::max_pool2d(x, 2, 2, 1)), (std::vector<double>{1, 3, 4, 9, 11, 12}));
  // NaN wins its window.
  Tensor xn = x.clone();
  xn.view({12}).narrow(0, 0, 1).fill_(std::nan(""));
  EXPECT_TRUE(std::isnan(values(sigma::max_pool2d(xn, 2))[0]));
}

// MaxPool2d(2) (its own loop in pool.cpp) on data full of ties, signed
// zeros and NaNs, against the rule written out here: in row-major window
// order, a value replaces the best so far when it is greater or NaN (so the
// first of equal maxima wins, -0 and +0 are equal, and the last NaN wins),
// as PyTorch's loop. Values, their sign bits and the indices must agree.
TEST(MaxPool2d, TwoByTwoTiesSignedZerosAndNaNs) {
  std::mt19937 gen(5);
  const double pool[] = {0.0, -0.0, 1.0, 1.0, -2.0, std::nan(""), 0.5};
  for (const auto dtype : {sigma::kFloat32, sigma::kFloat64}) {
    std::vector<double> v(2 * 3 * 6 * 9);
    for (auto& e : v) e = pool[gen() % 7];
    const Tensor x = sigma::tensor(v, dtype).reshape({2, 3, 6, 9});
    auto [y, idx] = sigma::max_pool2d_with_indices(x, {2, 2});
    ASSERT_EQ(y.sizes().vec(), (Shape{2, 3, 3, 4}));
    const auto yv = values(y);
    const auto iv = idx.to_vector<std::int64_t>();
    std::size_t o = 0;
    for (std::int64_t b = 0; b < 6; ++b)
      for (std::int64_t i = 0; i < 3; ++i)
        for (std::int64_t j = 0; j < 4; ++j, ++o) {
          double best = -std::numeric_limits<double>::infinity();
          std::int64_t at = -1;
          for (std::int64_t a = 0; a < 2; ++a)
            for (std::int64_t e = 0; e < 2; ++e) {
              const std::int64_t flat = (2 * i + a) * 9 + 2 * j + e;
              const double xv = v[static_cast<std::size_t>(b * 54 + flat)];
              if (at < 0 || xv > best || std::isnan(xv)) {
                best = xv;
                at = flat;
              }
            }
          EXPECT_EQ(iv[o], at) << "output " << o;
          if (std::isnan(best)) {
            EXPECT_TRUE(std::isnan(yv[o])) << "output " << o;
          } else {
            EXPECT_EQ(yv[o], best) << "output " << o;
            EXPECT_EQ(std::signbit(yv[o]), std::signbit(best)) << "output " << o;
          }
        }
  }
}

// max over the dilated window, the padding never winning.
std::vector<double> direct_max(const Tensor& x, std::int64_t k, std::int64_t s, std::int64_t p,
                               std::int64_t d, std::int64_t oh, std::int64_t ow) {
  const auto xv = values(x);
  const std::int64_t B = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  std::vector<double> y;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        double m = -std::numeric_limits<double>::infinity();
        for (std::int64_t a = 0; a < k; ++a)
          for (std::int64_t e = 0; e < k; ++e) {
            const std::int64_t iy = i * s - p + a * d, ix = j * s - p + e * d;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
              m = std::max(m, xv[static_cast<std::size_t>((b * H + iy) * W + ix)]);
          }
        y.push_back(m);
      }
  return y;
}

TEST(MaxPool2d, MatchesDirectLoopAndGradcheck) {
  struct Case { std::int64_t k, s, p, d; bool ceil; std::int64_t oh, ow; };
  // Input [2, 2, 7, 8]; out = floor or ceil((in + 2p - d(k-1) - 1) / s) + 1.
  const std::vector<Case> cases = {
      {2, 2, 0, 1, false, 3, 4}, {3, 2, 1, 1, false, 4, 4}, {3, 2, 1, 1, true, 4, 5},
      {2, 1, 1, 2, false, 7, 8}, {3, 3, 0, 1, true, 3, 3},
  };
  const Tensor x = distinct({2, 2, 7, 8}, 1);
  for (const auto& c : cases) {
    const Tensor y = sigma::max_pool2d(x, c.k, c.s, c.p, c.d, c.ceil);
    ASSERT_EQ(y.sizes().vec(), (Shape{2, 2, c.oh, c.ow})) << c.k << " " << c.s << " " << c.p;
    EXPECT_EQ(values(y), direct_max(x, c.k, c.s, c.p, c.d, c.oh, c.ow));
    const auto r = sigma::gradcheck(
        [c](const sigma::TensorList& in) { return sigma::max_pool2d(in[0], c.k, c.s, c.p, c.d, c.ceil); },
        {x.detach().requires_grad_()});
    EXPECT_TRUE(r.ok) << r.message;
  }
  // Overlapping windows sharing a maximum add their gradients.
  const Tensor xg = sigma::tensor({0.0, 5.0, 1.0}, sigma::kFloat64).reshape({1, 1, 3}).requires_grad_();
  sigma::max_pool1d(xg, 2, 1).sum().backward();
  EXPECT_EQ(values(xg.grad()), (std::vector<double>{0, 2, 0}));
}

TEST(MaxPool1d, WindowsAlongTheLastDimension) {
  const Tensor x = sigma::tensor({3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0}, sigma::kFloat64).reshape({1, 7});
  EXPECT_EQ(values(sigma::max_pool1d(x, 2)), (std::vector<double>{3, 4, 9}));
  EXPECT_EQ(values(sigma::max_pool1d(x, 2, {}, 0, 1, true)), (std::vector<double>{3, 4, 9, 2}));
  // Dilation 2, padding 1: taps {-1, 1, 3}, {1, 3, 5}, {3, 5, 7}.
  EXPECT_EQ(values(sigma::max_pool1d(x, 3, 2, 1, 2)), (std::vector<double>{1, 9, 9}));
  auto [y, i] = sigma::max_pool1d_with_indices(x, 3, 2);
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 4, 5}));
  const auto r = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::max_pool1d(in[0], 3, 2, 1, 1, true); },
      {distinct({2, 3, 8}, 2).requires_grad_()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(AvgPool2d, HandComputedPaddingModes) {
  // [[1, 2], [3, 4]], kernel 2, stride 2, padding 1: each window holds one
  // element and three padded zeros.
  const Tensor x = sigma::arange(1, 5, sigma::kFloat64).reshape({1, 1, 2, 2});
  EXPECT_EQ(values(sigma::avg_pool2d(x, 2, 2, 1)), (std::vector<double>{0.25, 0.5, 0.75, 1.0}));
  EXPECT_EQ(values(sigma::avg_pool2d(x, 2, 2, 1, false, false)), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(values(sigma::avg_pool2d(x, 2, 2, 1, false, true, 2)), (std::vector<double>{0.5, 1, 1.5, 2}));
  EXPECT_EQ(values(sigma::avg_pool2d(x, 2)), (std::vector<double>{2.5}));
  // ceil_mode on [1, 2, 3] (1 x 3), kernel (1, 2): the last window holds 3
  // alone, and its divisor counts only what lies inside input and padding.
  const Tensor r = sigma::arange(1, 4, sigma::kFloat64).reshape({1, 1, 1, 3});
  EXPECT_EQ(values(sigma::avg_pool2d(r, {1, 2}, {1, 2}, 0, true)), (std::vector<double>{1.5, 3}));
}

TEST(AvgPool2d, GradcheckAcrossOptions) {
  const Tensor x = distinct({2, 2, 5, 6}, 3).requires_grad_();
  for (bool ceil : {false, true})
    for (bool include : {false, true})
      for (std::optional<std::int64_t> div : {std::optional<std::int64_t>(), std::optional<std::int64_t>(3)}) {
        const auto r = sigma::gradcheck(
            [&](const sigma::TensorList& in) {
              return sigma::avg_pool2d(in[0], {3, 2}, {2, 2}, {1, 1}, ceil, include, div);
            },
            {x});
        EXPECT_TRUE(r.ok) << r.message;
      }
}

TEST(AdaptiveAvgPool2d, WindowsAndGradient) {
  // 5 columns to 3: windows [0, 2), [1, 4), [3, 5).
  const Tensor x = sigma::arange(0, 5, sigma::kFloat64).reshape({1, 1, 5});
  EXPECT_EQ(values(sigma::adaptive_avg_pool2d(x, {1, 3})), (std::vector<double>{0.5, 2, 3.5}));
  const Tensor x4 = distinct({2, 3, 7, 5}, 4);
  const Tensor g = sigma::adaptive_avg_pool2d(x4, 1);
  EXPECT_TRUE(g.allclose(x4.mean({2, 3}, true), 0, 1e-14));
  EXPECT_TRUE(sigma::adaptive_avg_pool2d(x4, {7, 5}).allclose(x4, 0, 0));
  const auto r = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::adaptive_avg_pool2d(in[0], {3, 4}); },
      {x4.detach().requires_grad_()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Pool, Errors) {
  const Tensor x = sigma::zeros({1, 1, 4, 4});
  expect_error([&] { sigma::max_pool2d(x, 2, 2, 2); }, {"max_pool2d", "padding", "half"});
  expect_error([&] { sigma::max_pool2d(x, 0); }, {"max_pool2d", "positive"});
  expect_error([&] { sigma::max_pool2d(sigma::zeros({4, 4}), 2); }, {"max_pool2d", "3-D or 4-D", "[4, 4]"});
  expect_error([&] { sigma::max_pool2d(x, 5); }, {"max_pool2d", "empty"});
  expect_error([&] { sigma::max_pool2d(x, {2, 2, 2}); }, {"max_pool2d", "kernel_size", "2 integers"});
  expect_error([&] { sigma::avg_pool2d(x, 2, 2, 0, false, true, 0); }, {"avg_pool2d", "divisor_override"});
  expect_error([&] { sigma::avg_pool2d(x, 2, 2, 2); }, {"avg_pool2d", "padding", "half"});
  expect_error([&] { sigma::max_pool1d(sigma::zeros({2, 3, 4, 5}), 2); }, {"max_pool1d", "2-D or 3-D"});
}

}  // namespace
