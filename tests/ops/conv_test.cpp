// Tests of src/ops/conv.cpp: conv2d and conv1d against a direct loop written
// here in double (the definition of the cross-correlation, not im2col), a
// hand-computed case, padding "same"/"valid", unbatched inputs, gradients by
// central differences (gradcheck, float64) over stride, padding, dilation,
// groups and bias, float32 against float64, and the error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;

struct Conf {
  std::int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1;
};

// Calls term(n, o, i, j, xi, wi) for each term x[xi] w[wi] of y[n, o, i, j]'s
// sum, over c in o's group, a, e (x[n, c, i sh - ph + a dh, j sw - pw + e dw]
// w[o, c - group start, a, e], out-of-range x being 0 and skipped), in that
// order.
template <class Term>
void for_each_term(const Shape& xs, const Shape& ws, Conf f, std::int64_t OH, std::int64_t OW, Term term) {
  const std::int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const std::int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3], Og = O / f.groups;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t i = 0; i < OH; ++i)
        for (std::int64_t j = 0; j < OW; ++j) {
          const std::int64_t c0 = (o / Og) * Cg;
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t a = 0; a < KH; ++a)
              for (std::int64_t e = 0; e < KW; ++e) {
                const std::int64_t iy = i * f.sh - f.ph + a * f.dh, ix = j * f.sw - f.pw + e * f.dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                term(n, o, i, j, static_cast<std::size_t>(((n * C + c0 + c) * H + iy) * W + ix),
                     static_cast<std::size_t>(((o * Cg + c) * KH + a) * KW + e));
              }
        }
}

// y[n, o, i, j] = b[o] + the terms above, in double.
std::vector<double> direct_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Conf f,
                                  Shape* out_shape) {
  const auto xv = values(x), wv = values(w);
  const std::vector<double> bv = b.defined() ? values(b) : std::vector<double>{};
  const std::int64_t N = x.size(0), H = x.size(2), W = x.size(3);
  const std::int64_t O = w.size(0), KH = w.size(2), KW = w.size(3);
  const std::int64_t OH = (H + 2 * f.ph - f.dh * (KH - 1) - 1) / f.sh + 1;
  const std::int64_t OW = (W + 2 * f.pw - f.dw * (KW - 1) - 1) / f.sw + 1;
  *out_shape = {N, O, OH, OW};
  std::vector<double> y(static_cast<std::size_t>(N * O * OH * OW));
  const auto at = [&](std::int64_t n, std::int64_t o, std::int64_t i, std::int64_t j) -> double& {
    return y[static_cast<std::size_t>(((n * O + o) * OH + i) * OW + j)];
  };
  if (!bv.empty())
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t o = 0; o < O; ++o)
        for (std::int64_t i = 0; i < OH; ++i)
          for (std::int64_t j = 0; j < OW; ++j) at(n, o, i, j) = bv[static_cast<std::size_t>(o)];
  for_each_term(x.sizes().vec(), w.sizes().vec(), f, OH, OW,
                [&](std::int64_t n, std::int64_t o, std::int64_t i, std::int64_t j, std::size_t xi, std::size_t wi) {
                  at(n, o, i, j) += xv[xi] * wv[wi];
                });
  return y;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << "element " << i;
}

Tensor run(const Tensor& x, const Tensor& w, const Tensor& b, Conf f) {
  return sigma::conv2d(x, w, b, {f.sh, f.sw}, {f.ph, f.pw}, {f.dh, f.dw}, f.groups);
}

TEST(Conv2d, HandComputedCase) {
  // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], w = [[1, 0], [0, -1]], b = 10:
  // y[i, j] = x[i, j] - x[i + 1, j + 1] + 10 = 6 everywhere.
  const Tensor x = sigma::arange(1, 10, sigma::kFloat64).reshape({1, 1, 3, 3});
  const Tensor w = sigma::tensor({1.0, 0.0, 0.0, -1.0}, sigma::kFloat64).reshape({1, 1, 2, 2});
  const Tensor y = sigma::conv2d(x, w, sigma::tensor({10.0}, sigma::kFloat64));
  EXPECT_EQ(y.sizes().vec(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values(y), (std::vector<double>{6, 6, 6, 6}));
  // Padding 1 on a 1x1 ones kernel over [[1, 2], [3, 4]] at stride 2: the
  // taps land on (-1, -1), (-1, 1), (1, -1), (1, 1) of the unpadded input.
  const Tensor x2 = sigma::arange(1, 5, sigma::kFloat64).reshape({1, 1, 2, 2});
  const Tensor y2 = sigma::conv2d(x2, sigma::ones({1, 1, 1, 1}, sigma::kFloat64), {}, 2, 1);
  EXPECT_EQ(values(y2), (std::vector<double>{0, 0, 0, 4}));
}

TEST(Conv2d, MatchesDirectLoopAcrossConfigurations) {
  const std::vector<std::pair<Conf, Shape>> cases = {
      {Conf{}, {2, 3, 7, 6}},
      {Conf{2, 2, 1, 1, 1, 1, 1}, {2, 3, 7, 8}},
      {Conf{1, 2, 2, 0, 2, 1, 1}, {1, 2, 9, 7}},
      {Conf{1, 1, 1, 1, 1, 1, 3}, {2, 6, 5, 5}},
      {Conf{3, 1, 0, 2, 1, 3, 2}, {3, 4, 8, 9}},
  };
  std::uint64_t seed = 1;
  for (const auto& [f, xs] : cases) {
    const std::int64_t O = 2 * f.groups;
    const Tensor x = random_tensor(xs, sigma::kFloat64, seed++);
    const Tensor w = random_tensor({O, xs[1] / f.groups, 3, 2}, sigma::kFloat64, seed++);
    const Tensor b = random_tensor({O}, sigma::kFloat64, seed++);
    for (bool with_bias : {true, false}) {
      Shape s;
      const auto want = direct_conv2d(x, w, with_bias ? b : Tensor(), f, &s);
      const Tensor y = run(x, w, with_bias ? b : Tensor(), f);
      ASSERT_EQ(y.sizes().vec(), s);
      expect_near_all(values(y), want, 1e-13);
      // float32: the same up to float rounding.
      const Tensor y32 = run(x.to(sigma::kFloat32), w.to(sigma::kFloat32),
                             with_bias ? b.to(sigma::kFloat32) : Tensor(), f);
      EXPECT_EQ(y32.dtype(), sigma::kFloat32);
      expect_near_all(values(y32), want, 1e-5);
    }
  }
}

TEST(Conv2d, OneByOneKernelAndNonContiguousInput) {
  const Tensor x = random_tensor({2, 5, 4, 3}, sigma::kFloat64, 40).transpose(2, 3);
  const Tensor w = random_tensor({4, 5, 1, 1}, sigma::kFloat64, 41);
  Shape s;
  const auto want = direct_conv2d(x.contiguous(), w, Tensor(), Conf{}, &s);
  expect_near_all(values(sigma::conv2d(x, w)), want, 1e-13);
}

TEST(Conv2d, SameAndValidPadding) {
  const Tensor x = random_tensor({1, 2, 6, 5}, sigma::kFloat64, 50);
  const Tensor w = random_tensor({3, 2, 3, 4}, sigma::kFloat64, 51);
  // "same": rows padded 1 + 1 (kernel 3), columns 1 + 2 (kernel 4, the odd
  // extra zero at the end); the reference pads the input by hand.
  const Tensor y = sigma::conv2d(x, w, {}, 1, "same");
  EXPECT_EQ(y.sizes().vec(), (Shape{1, 3, 6, 5}));
  Tensor xp = sigma::zeros({1, 2, 8, 8}, sigma::kFloat64);
  xp.narrow(2, 1, 6).narrow(3, 1, 5).copy_(x);
  Shape s;
  const auto want = direct_conv2d(xp, w, Tensor(), Conf{}, &s);
  ASSERT_EQ(s, (Shape{1, 3, 6, 5}));
  expect_near_all(values(y), want, 1e-13);
  EXPECT_TRUE(sigma::conv2d(x, w, {}, 1, "valid").equal(sigma::conv2d(x, w)));
  expect_error([&] { sigma::conv2d(x, w, {}, 2, "same"); }, {"conv2d", "same", "stride 1"});
  expect_error([&] { sigma::conv2d(x, w, {}, 1, "full"); }, {"conv2d", "full"});
}

TEST(Conv2d, UnbatchedInput) {
  const Tensor x = random_tensor({2, 5, 5}, sigma::kFloat64, 60);
  const Tensor w = random_tensor({3, 2, 3, 3}, sigma::kFloat64, 61);
  const Tensor y = sigma::conv2d(x, w, {}, 1, 1);
  EXPECT_EQ(y.sizes().vec(), (Shape{3, 5, 5}));
  EXPECT_TRUE(y.equal(sigma::conv2d(x.unsqueeze(0), w, {}, 1, 1).squeeze(0)));
}

TEST(Conv2d, GradcheckStridePaddingDilationGroupsBias) {
  const std::vector<std::pair<Conf, Shape>> cases = {
      {Conf{}, {2, 2, 5, 4}},
      {Conf{2, 1, 1, 2, 1, 1, 1}, {1, 2, 6, 5}},
      {Conf{1, 1, 2, 1, 2, 2, 2}, {2, 4, 6, 6}},
  };
  std::uint64_t seed = 70;
  for (const auto& [f, xs] : cases) {
    const std::int64_t O = 2 * f.groups;
    const Tensor x = random_tensor(xs, sigma::kFloat64, seed++).requires_grad_();
    const Tensor w = random_tensor({O, xs[1] / f.groups, 2, 3}, sigma::kFloat64, seed++).requires_grad_();
    const Tensor b = random_tensor({O}, sigma::kFloat64, seed++).requires_grad_();
    const auto r = sigma::gradcheck(
        [f = f](const sigma::TensorList& in) { return run(in[0], in[1], in[2], f); }, {x, w, b});
    EXPECT_TRUE(r.ok) << r.message;
    const auto r2 = sigma::gradcheck(
        [f = f](const sigma::TensorList& in) { return run(in[0], in[1], Tensor(), f); }, {x, w});
    EXPECT_TRUE(r2.ok) << r2.message;
  }
  // 1x1 kernel (no im2col) and "same" padding.
  const Tensor x = random_tensor({2, 3, 3, 4}, sigma::kFloat64, 80).requires_grad_();
  const Tensor w1 = random_tensor({2, 3, 1, 1}, sigma::kFloat64, 81).requires_grad_();
  const Tensor w3 = random_tensor({2, 3, 2, 3}, sigma::kFloat64, 82).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const sigma::TensorList& in) { return sigma::conv2d(in[0], in[1]); },
                               {x, w1}).ok);
  EXPECT_TRUE(sigma::gradcheck(
                  [](const sigma::TensorList& in) { return sigma::conv2d(in[0], in[1], {}, 1, "same"); },
                  {x, w3}).ok);
}

TEST(Conv1d, MatchesConv2dOfHeightOneAndGradcheck) {
  const Tensor x = random_tensor({2, 4, 9}, sigma::kFloat64, 90);
  const Tensor w = random_tensor({6, 2, 3}, sigma::kFloat64, 91);
  const Tensor b = random_tensor({6}, sigma::kFloat64, 92);
  const Tensor y = sigma::conv1d(x, w, b, 2, 1, 2, 2);
  Shape s;
  const auto want = direct_conv2d(x.unsqueeze(2), w.unsqueeze(2), b, Conf{1, 2, 0, 1, 1, 2, 2}, &s);
  EXPECT_EQ(y.sizes().vec(), (Shape{2, 6, 4}));
  expect_near_all(values(y), want, 1e-13);
  EXPECT_EQ(sigma::conv1d(x, w, b, 1, "same", 1, 2).sizes().vec(), (Shape{2, 6, 9}));
  EXPECT_EQ(sigma::conv1d(x[0], w, b, 1, 0, 1, 2).sizes().vec(), (Shape{6, 7}));
  const auto r = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::conv1d(in[0], in[1], in[2], 2, 1, 2, 2); },
      {x.detach().requires_grad_(), w.detach().requires_grad_(), b.detach().requires_grad_()});
  EXPECT_TRUE(r.ok) << r.message;
}

// The gradients of sum(v * y) by the definition: every term of
// direct_conv2d's sums, v[n, o, i, j] x w for dx, v x x for dw, v for db.
struct Grads {
  std::vector<double> dx, dw, db;
};
Grads direct_conv2d_grads(const Tensor& x, const Tensor& w, const Tensor& v, Conf f) {
  const auto xv = values(x), wv = values(w), vv = values(v);
  const std::int64_t O = w.size(0), OH = v.size(2), OW = v.size(3);
  Grads g{std::vector<double>(xv.size()), std::vector<double>(wv.size()), std::vector<double>(static_cast<std::size_t>(O))};
  for (std::size_t i = 0; i < vv.size(); ++i) g.db[(i / static_cast<std::size_t>(OH * OW)) % static_cast<std::size_t>(O)] += vv[i];
  for_each_term(x.sizes().vec(), w.sizes().vec(), f, OH, OW,
                [&](std::int64_t n, std::int64_t o, std::int64_t i, std::int64_t j, std::size_t xi, std::size_t wi) {
                  const double gy = vv[static_cast<std::size_t>(((n * O + o) * OH + i) * OW + j)];
                  g.dx[xi] += gy * wv[wi];
                  g.dw[wi] += gy * xv[xi];
                });
  return g;
}

// Shapes that take every branch of the stride-1 direct path (output
// channels past its register blocks, several chunks of samples per run of
// the weight gradient, groups, dilation, padding on some sides only) and,
// with padding beyond the kernel's reach, the im2col path beside it: values
// and all three gradients against the definition, float64 and float32.
TEST(Conv2d, DirectAndIm2colPathsMatchTheDefinitionWithGradients) {
  struct Case {
    Conf f;
    Shape x;
    std::int64_t o, kh, kw;
  };
  const std::vector<Case> cases = {
      {Conf{1, 1, 1, 1, 1, 1, 1}, {4, 40, 12, 12}, 19, 3, 3},   // output channels past the blocks
      {Conf{1, 1, 1, 1, 1, 1, 1}, {48, 8, 64, 64}, 3, 3, 3},    // 6 samples a run, 5 (f32) or 2 a chunk
      {Conf{1, 1, 2, 0, 1, 2, 1}, {3, 4, 9, 11}, 5, 3, 2},      // dilated columns, rows padded only
      {Conf{1, 1, 0, 1, 2, 1, 2}, {2, 6, 10, 7}, 34, 2, 3},     // groups, dilated rows
      {Conf{1, 1, 3, 3, 1, 1, 1}, {2, 3, 6, 5}, 4, 3, 3},       // padding past the kernel: im2col
  };
  std::uint64_t seed = 300;
  for (const Case& c : cases) {
    SCOPED_TRACE("x " + sigma::shape_string(c.x) + ", O " + std::to_string(c.o));
    const Tensor x = random_tensor(c.x, sigma::kFloat64, seed++);
    const Tensor w = random_tensor({c.o, c.x[1] / c.f.groups, c.kh, c.kw}, sigma::kFloat64, seed++);
    const Tensor b = random_tensor({c.o}, sigma::kFloat64, seed++);
    Shape ys;
    const auto want = direct_conv2d(x, w, b, c.f, &ys);
    const Tensor v = random_tensor(ys, sigma::kFloat64, seed++);
    const Grads g = direct_conv2d_grads(x, w, v, c.f);
    for (auto [dt, tol] : {std::pair{sigma::kFloat64, 1e-12}, std::pair{sigma::kFloat32, 2e-4}}) {
      SCOPED_TRACE(sigma::to_string(dt));
      const Tensor xs = x.detach().to(dt).requires_grad_(), ws = w.detach().to(dt).requires_grad_(),
                   bs = b.detach().to(dt).requires_grad_();
      const Tensor y = run(xs, ws, bs, c.f);
      ASSERT_EQ(y.sizes().vec(), ys);
      expect_near_all(values(y), want, tol);
      (y * v.to(dt)).sum().backward();
      expect_near_all(values(xs.grad()), g.dx, tol);
      expect_near_all(values(ws.grad()), g.dw, tol * 10);
      expect_near_all(values(bs.grad()), g.db, tol * 10);
    }
  }
}

TEST(Conv2d, SameBitsForAnyThreadCount) {
  // Large enough for the samples (forward, dx) and the blocks of dW to be
  // split across threads.
  const Tensor x = random_tensor({16, 4, 16, 16}, sigma::kFloat32, 95);
  const Tensor w = random_tensor({16, 4, 3, 3}, sigma::kFloat32, 96);
  const Tensor b = random_tensor({16}, sigma::kFloat32, 97);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        const Tensor xs = x.detach().requires_grad_(), ws = w.detach().requires_grad_(),
                     bs = b.detach().requires_grad_();
        const Tensor y = sigma::conv2d(xs, ws, bs, 1, 1);
        y.square().sum().backward();
        return std::vector<Tensor>{y, xs.grad(), ws.grad(), bs.grad()};
      },
      "conv2d");
}

TEST(Conv2d, Errors) {
  const Tensor x = sigma::zeros({1, 4, 5, 5});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 3, 3, 3})); },
               {"conv2d", "[1, 4, 5, 5]", "[2, 3, 3, 3]", "4 channels per group"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({3, 2, 3, 3}), {}, 1, 0, 1, 2); },
               {"conv2d", "divisible by groups 2"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 4, 7, 7})); }, {"conv2d", "smaller than the dilated kernel"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 4, 3, 3}), sigma::zeros({3})); },
               {"conv2d", "bias of shape [2]", "[3]"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 4, 3, 3}), {}, 0); }, {"conv2d", "stride"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 4, 3, 3}), {}, 1, -1); }, {"conv2d", "padding"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 4, 3, 3}, sigma::kFloat64)); },
               {"conv2d", "float32", "float64"});
  expect_error([&] { sigma::conv2d(sigma::zeros({5, 5}), sigma::zeros({2, 4, 3, 3})); },
               {"conv2d", "3-D (unbatched) or 4-D", "[5, 5]"});
  expect_error([&] { sigma::conv2d(x, sigma::zeros({2, 4, 3, 3}), {}, {1, 1, 1}); },
               {"conv2d", "stride", "2 integers"});
  expect_error([&] { sigma::conv1d(sigma::zeros({1, 4, 5}), sigma::zeros({2, 4, 3, 3})); },
               {"conv1d", "weight", "[2, 4, 3, 3]"});
}

}  // namespace
