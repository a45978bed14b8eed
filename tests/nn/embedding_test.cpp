// Tests of nn::Embedding and F::embedding (src/nn/embedding.cpp): PyTorch's
// parameter name and N(0, 1) initialisation from sigma's generator, the
// zeroed padding row (negative padding_idx counted from the end), the
// module's gradient, max_norm, from_pretrained, the repr and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/nn.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
namespace F = sigma::nn::functional;
using sigma::test::expect_error;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;

Tensor longs(const std::vector<std::int64_t>& v, const Shape& shape) {
  return sigma::tensor(v).reshape(shape);
}

TEST(EmbeddingModule, StandardNormalInitFromSigmasGenerator) {
  sigma::manual_seed(3);
  nn::Embedding emb(200, 50);
  ASSERT_EQ(emb->named_parameters().size(), 1u);
  EXPECT_EQ(emb->named_parameters().front().key(), "weight");
  EXPECT_EQ(emb->weight.sizes().vec(), (Shape{200, 50}));
  EXPECT_TRUE(emb->weight.requires_grad());
  // 10000 draws of N(0, 1): mean within 5 standard errors (0.05), variance
  // within 5 of its standard errors (sqrt(2 / 10000) = 0.014).
  const auto w = values(emb->weight);
  double s = 0, q = 0;
  for (double v : w) s += v;
  const double mean = s / static_cast<double>(w.size());
  for (double v : w) q += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(q / static_cast<double>(w.size()), 1.0, 0.07);
  // The same seed gives the same table; another does not.
  sigma::manual_seed(3);
  EXPECT_EQ(values(nn::Embedding(200, 50)->weight), w);
  sigma::manual_seed(4);
  EXPECT_NE(values(nn::Embedding(200, 50)->weight), w);
}

TEST(EmbeddingModule, PaddingRowZeroAndWithoutGradient) {
  for (std::int64_t given : {std::int64_t{2}, std::int64_t{-3}}) {
    nn::Embedding emb(nn::EmbeddingOptions(5, 3).padding_idx(given));
    EXPECT_EQ(*emb->options.padding_idx(), 2) << "padding_idx " << given;
    const auto w = values(emb->weight);
    for (int j = 0; j < 3; ++j) EXPECT_EQ(w[6 + j], 0.0);
    for (int r : {0, 1, 3, 4}) EXPECT_NE(w[r * 3], 0.0) << "row " << r;
    const Tensor idx = longs({2, 0, 2, 4}, {2, 2});
    const Tensor y = emb(idx);
    EXPECT_EQ(y.sizes().vec(), (Shape{2, 2, 3}));
    y.sum().backward();
    const auto g = values(emb->weight.grad());
    const std::vector<double> expected = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    EXPECT_EQ(g, expected) << "padding_idx " << given;
  }
}

TEST(EmbeddingModule, ScaleGradByFreq) {
  nn::Embedding emb(nn::EmbeddingOptions(4, 2).scale_grad_by_freq(true));
  emb(longs({1, 1, 1, 3}, {4})).sum().backward();
  EXPECT_EQ(values(emb->weight.grad()), (std::vector<double>{0, 0, 1, 1, 0, 0, 1, 1}));
}

TEST(EmbeddingModule, MaxNormRenormalisesRowsLookedUp) {
  nn::Embedding emb(nn::EmbeddingOptions(3, 2).max_norm(1.0));
  {
    sigma::NoGradGuard no_grad;
    emb->weight.copy_(sigma::tensor({{3.f, 4.f}, {6.f, 8.f}, {0.3f, 0.4f}}));
  }
  const Tensor y = emb(longs({0, 2}, {2}));
  const auto w = values(emb->weight);
  // Row 0 (norm 5) scaled by 1 / (5 + 1e-7) in place, row 1 untouched, row 2 below max_norm.
  EXPECT_NEAR(w[0], 3.0 / (5 + 1e-7), 1e-7);
  EXPECT_NEAR(w[1], 4.0 / (5 + 1e-7), 1e-7);
  EXPECT_EQ(w[2], 6.0);
  EXPECT_EQ(w[3], 8.0);
  EXPECT_NEAR(w[4], 0.3, 1e-7);
  EXPECT_EQ(values(y), (std::vector<double>{w[0], w[1], w[4], w[5]}));
  // The gradient still flows.
  y.sum().backward();
  EXPECT_EQ(values(emb->weight.grad()), (std::vector<double>{1, 1, 0, 0, 1, 1}));
}

TEST(EmbeddingModule, FunctionalMatchesModule) {
  nn::Embedding emb(nn::EmbeddingOptions(6, 4).padding_idx(-1));
  const Tensor idx = longs({5, 1, 0}, {3});
  EXPECT_EQ(values(emb(idx)), values(F::embedding(idx, emb->weight,
                                                   F::EmbeddingFuncOptions().padding_idx(-1))));
  EXPECT_EQ(values(emb(idx)), values(sigma::embedding(emb->weight, idx, 5)));
}

TEST(EmbeddingModule, FromPretrained) {
  const Tensor table = sigma::tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, sigma::kFloat64);
  nn::Embedding frozen = nn::Embedding::from_pretrained(table);
  EXPECT_FALSE(frozen->weight.requires_grad());
  EXPECT_TRUE(frozen->weight.is_alias_of(table));  // shared, as PyTorch
  EXPECT_EQ(frozen->options.num_embeddings(), 3);
  EXPECT_EQ(frozen->options.embedding_dim(), 2);
  EXPECT_EQ(values(frozen(longs({2, 0}, {2}))), (std::vector<double>{5, 6, 1, 2}));

  nn::Embedding trained = nn::Embedding::from_pretrained(
      table.clone(), nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(1));
  EXPECT_TRUE(trained->weight.requires_grad());
  // The given rows are kept, the padding row included (no re-initialisation).
  EXPECT_EQ(values(trained->weight), values(table));
  trained(longs({1, 2}, {2})).sum().backward();
  EXPECT_EQ(values(trained->weight.grad()), (std::vector<double>{0, 0, 0, 0, 1, 1}));
  expect_error([] { nn::Embedding::from_pretrained(sigma::zeros({3})); },
               {"from_pretrained", "2-D", "[3]"});
}

TEST(EmbeddingModule, Repr) {
  std::ostringstream a, b;
  a << *nn::Embedding(10, 3);
  EXPECT_EQ(a.str(), "Embedding(10, 3)");
  b << *nn::Embedding(
      nn::EmbeddingOptions(10, 3).padding_idx(0).max_norm(1.5).norm_type(1).scale_grad_by_freq(
          true));
  EXPECT_EQ(b.str(), "Embedding(10, 3, padding_idx=0, max_norm=1.5, norm_type=1.0, "
                     "scale_grad_by_freq=True)");
}

TEST(EmbeddingModule, Errors) {
  expect_error([] { nn::Embedding(nn::EmbeddingOptions(5, 3).padding_idx(5)); },
               {"Embedding", "padding_idx", "[-5, 5)", "got 5"});
  expect_error([] { nn::Embedding(nn::EmbeddingOptions(5, 3).padding_idx(-6)); },
               {"Embedding", "got -6"});
  expect_error([] { nn::Embedding(-1, 3); }, {"Embedding", "non-negative", "-1"});
  expect_error([] { nn::Embedding(nn::EmbeddingOptions(5, 3).sparse(true)); },
               {"Embedding", "sparse"});
  expect_error([] { nn::Embedding(nn::EmbeddingOptions(5, 3)._weight(sigma::zeros({5, 2}))); },
               {"Embedding", "_weight", "[5, 2]", "[5, 3]"});
  nn::Embedding emb(5, 3);
  expect_error([&] { emb(longs({0, 5}, {2})); }, {"embedding", "index 5", "5 embeddings"});
  expect_error([&] { F::embedding(longs({0}, {1}), sigma::zeros({5})); },
               {"embedding", "2-D", "[5]"});
  expect_error([&] {
    F::embedding(longs({0}, {1}), sigma::zeros({5, 2}), F::EmbeddingFuncOptions().padding_idx(9));
  }, {"embedding", "padding_idx", "got 9"});
}

}  // namespace
