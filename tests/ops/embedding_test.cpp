// Tests of sigma::embedding and sigma::embedding_renorm_
// (src/ops/embedding.cpp): the looked-up rows bit for bit, gradients against
// a long double scatter-add (repeated indices, padding_idx,
// scale_grad_by_freq) and sigma::gradcheck in float64, renormalisation
// against its formula, errors, and a gradient independent of the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
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

Tensor longs(const std::vector<std::int64_t>& v, const Shape& shape) {
  return sigma::tensor(v).reshape(shape);
}

TEST(Embedding, LooksUpRowsExactly) {
  for (auto dt : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16}) {
    const Tensor w = random_tensor({5, 3}, dt, 1, -2, 2);
    const std::vector<std::int64_t> idx = {4, 0, 4, 2, 1, 3};
    const Tensor y = sigma::embedding(w, longs(idx, {2, 3}));
    ASSERT_EQ(y.sizes().vec(), (Shape{2, 3, 3}));
    ASSERT_EQ(y.dtype(), dt);
    const auto wv = values(w), yv = values(y);
    for (std::size_t k = 0; k < idx.size(); ++k)
      for (std::size_t j = 0; j < 3; ++j)
        EXPECT_EQ(yv[k * 3 + j], wv[static_cast<std::size_t>(idx[k]) * 3 + j])
            << sigma::to_string(dt) << " position " << k;
  }
  // A 0-d index gives one row; empty indices give [0, D]; a strided table.
  const Tensor w = random_tensor({4, 2}, sigma::kFloat64, 2);
  EXPECT_EQ(values(sigma::embedding(w, sigma::scalar_tensor(2, sigma::kInt64))),
            values(w.select(0, 2)));
  EXPECT_EQ(sigma::embedding(w, sigma::zeros({0}, sigma::kInt64)).sizes().vec(), (Shape{0, 2}));
  const Tensor wt = random_tensor({2, 4}, sigma::kFloat64, 3).t();  // [4, 2], strided
  EXPECT_EQ(values(sigma::embedding(wt, longs({3, 1}, {2}))),
            (std::vector<double>{values(wt)[6], values(wt)[7], values(wt)[2], values(wt)[3]}));
}

// d weight[v] = sum over positions k with idx[k] = v of dy[k] (/ count), none
// for the padding row, in long double.
std::vector<long double> scatter_reference(const std::vector<std::int64_t>& idx,
                                           const std::vector<double>& dy, std::int64_t rows,
                                           std::int64_t dim, std::int64_t padding_idx,
                                           bool scale) {
  std::vector<long double> g(static_cast<std::size_t>(rows * dim), 0);
  std::map<std::int64_t, int> count;
  for (auto i : idx) ++count[i];
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (idx[k] == padding_idx) continue;
    for (std::int64_t j = 0; j < dim; ++j)
      g[idx[k] * dim + j] += static_cast<long double>(dy[k * dim + j]) / (scale ? count[idx[k]] : 1);
  }
  return g;
}

TEST(Embedding, GradientIsScatterAdd) {
  const std::vector<std::int64_t> idx = {1, 3, 1, 0, 1, 3, 5, 0};
  for (auto dt : {sigma::kFloat32, sigma::kFloat64}) {
    for (std::int64_t pad : {std::int64_t{-1}, std::int64_t{1}, std::int64_t{3}}) {
      for (bool scale : {false, true}) {
        const Tensor w = random_tensor({6, 4}, dt, 10, -1, 1).requires_grad_();
        const Tensor dy = random_tensor({2, 4, 4}, dt, 11, -1, 1);
        sigma::embedding(w, longs(idx, {2, 4}), pad, scale).backward(dy);
        ASSERT_TRUE(w.grad().defined());
        ASSERT_EQ(w.grad().sizes().vec(), (Shape{6, 4}));
        const auto ref = scatter_reference(idx, values(dy), 6, 4, pad, scale);
        const auto got = values(w.grad());
        const double tol = dt == sigma::kFloat64 ? 1.2e-16 : 6e-8;
        for (std::size_t i = 0; i < got.size(); ++i)
          EXPECT_NEAR(got[i], static_cast<double>(ref[i]), tol * std::fabs(ref[i]))
              << sigma::to_string(dt) << " padding_idx " << pad << " scale " << scale
              << " element " << i;
        // Rows never looked up (2, 4) and the padding row are exactly zero.
        for (std::int64_t r : {std::int64_t{2}, std::int64_t{4}, pad}) {
          if (r < 0) continue;
          for (int j = 0; j < 4; ++j) EXPECT_EQ(got[r * 4 + j], 0.0) << "row " << r;
        }
      }
    }
  }
}

TEST(Embedding, GradcheckWeight) {
  const Tensor w = random_tensor({5, 3}, sigma::kFloat64, 20, -1, 1).requires_grad_();
  const Tensor idx = longs({0, 2, 2, 4, 0, 2}, {3, 2});
  // padding_idx and scale_grad_by_freq change the gradient on purpose (it is
  // then not the derivative); a padding row that is never looked up leaves
  // the true derivative, which gradcheck confirms. GradientIsScatterAdd
  // covers the other cases.
  for (std::int64_t pad : {std::int64_t{-1}, std::int64_t{1}}) {
    const auto r = sigma::gradcheck(
        [&](const TensorList& in) { return sigma::embedding(in[0], idx, pad); }, {w});
    EXPECT_TRUE(r.ok) << "padding_idx " << pad << ": " << r.message;
  }
  // A table seen through a transpose.
  const Tensor base = random_tensor({3, 5}, sigma::kFloat64, 21, -1, 1).requires_grad_();
  const auto r = sigma::gradcheck(
      [&](const TensorList& in) { return sigma::embedding(in[0].t(), idx); }, {base});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Embedding, Errors) {
  const Tensor w = sigma::zeros({5, 3});
  expect_error([&] { sigma::embedding(w, longs({1, 7, 2}, {3})); },
               {"embedding", "index 7", "flat position 1", "table of 5 embeddings", "[5, 3]"});
  expect_error([&] { sigma::embedding(w, longs({-1}, {1})); }, {"embedding", "index -1"});
  expect_error([&] { sigma::embedding(w, sigma::zeros({2})); }, {"embedding", "int64", "float32"});
  expect_error([&] { sigma::embedding(sigma::zeros({5}), longs({1}, {1})); },
               {"embedding", "2-D", "[5]"});
  expect_error([&] { sigma::embedding(w, longs({1}, {1}), -1, false, true); },
               {"embedding", "sparse"});
  expect_error([&] { sigma::embedding(Tensor(), longs({1}, {1})); }, {"embedding", "weight"});
}

TEST(EmbeddingRenorm, ScalesRowsAboveMaxNorm) {
  for (double p : {2.0, 1.0}) {
    Tensor w = sigma::tensor({{3.0, 4.0}, {0.3, 0.4}, {6.0, 8.0}, {-5.0, 0.0}}, sigma::kFloat64);
    const std::vector<double> before = values(w);
    sigma::embedding_renorm_(w, longs({0, 1, 0, 3}, {4}), 1.0, p);
    const auto after = values(w);
    for (int r = 0; r < 4; ++r) {
      const double a = before[r * 2], b = before[r * 2 + 1];
      const double norm = p == 2.0 ? std::hypot(a, b) : std::fabs(a) + std::fabs(b);
      // Row 2 is not named; row 1's norm (0.5 or 0.7) is below max_norm.
      const double scale = (r == 2 || norm <= 1.0) ? 1.0 : 1.0 / (norm + 1e-7);
      EXPECT_NEAR(after[r * 2], a * scale, 1e-15) << "p " << p << " row " << r;
      EXPECT_NEAR(after[r * 2 + 1], b * scale, 1e-15) << "p " << p << " row " << r;
    }
  }
  Tensor w = sigma::zeros({2, 2});
  expect_error([&] { sigma::embedding_renorm_(w, longs({2}, {1}), 1.0, 2.0); },
               {"embedding_renorm_", "index 2"});
}

TEST(Embedding, GradientSameBitsForAnyThreadCount) {
  // 20000 lookups into 50 rows of 64: many repeats per row, split across threads.
  std::vector<std::int64_t> idx(20000);
  std::uint64_t s = 5;
  for (auto& i : idx) i = static_cast<std::int64_t>(sigma::test::splitmix(s) % 50);
  const Tensor indices = longs(idx, {200, 100});
  const Tensor w = random_tensor({50, 64}, sigma::kFloat32, 30);
  const Tensor dy = random_tensor({200, 100, 64}, sigma::kFloat32, 31);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        Tensor ws = w.clone().requires_grad_();
        sigma::embedding(ws, indices).backward(dy);
        return std::vector<Tensor>{ws.grad()};
      },
      "embedding backward");
}

}  // namespace
