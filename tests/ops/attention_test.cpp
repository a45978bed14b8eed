// Tests of src/ops/attention.cpp: scaled_dot_product_attention and
// nn::functional::sigmoid_attention against a long double reference written
// from the definitions (scores q k^T scale, bool / float / causal masks,
// softmax over the keys or sigmoid with the bias, then the product with v),
// broadcasting batch dimensions, fully masked queries, dropout's extremes,
// gradients by central differences, and errors naming the shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/nn/functional.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::Shape;
using LD = long double;
namespace F = sigma::nn::functional;

struct Mask {
  enum Kind { None, Bool, Float, Causal } kind = None;
  std::vector<double> v;  // [L, S]: 0/1 for Bool, added values for Float
};

// One batch entry: q [L, E], k [S, E], v [S, Ev] row-major.
std::vector<LD> ld_attention(const std::vector<double>& q, const std::vector<double>& k,
                             const std::vector<double>& v, int L, int S, int E, int Ev,
                             const Mask& mask, bool sigmoid, LD bias, LD scale) {
  std::vector<LD> out(static_cast<std::size_t>(L * Ev));
  for (int i = 0; i < L; ++i) {
    std::vector<LD> s(static_cast<std::size_t>(S));
    std::vector<bool> keep(static_cast<std::size_t>(S), true);
    for (int j = 0; j < S; ++j) {
      LD d = 0;
      for (int e = 0; e < E; ++e)
        d += static_cast<LD>(q[static_cast<std::size_t>(i * E + e)]) * k[static_cast<std::size_t>(j * E + e)];
      s[static_cast<std::size_t>(j)] = d * scale + (sigmoid ? bias : 0);
      const double mv = mask.v.empty() ? 0 : mask.v[static_cast<std::size_t>(i * S + j)];
      if (mask.kind == Mask::Bool) keep[static_cast<std::size_t>(j)] = mv != 0;
      if (mask.kind == Mask::Causal) keep[static_cast<std::size_t>(j)] = j <= i;
      if (mask.kind == Mask::Float) s[static_cast<std::size_t>(j)] += mv;
    }
    std::vector<LD> w(static_cast<std::size_t>(S));
    if (sigmoid) {
      for (int j = 0; j < S; ++j)
        w[static_cast<std::size_t>(j)] = keep[static_cast<std::size_t>(j)] ? 1 / (1 + std::exp(-s[static_cast<std::size_t>(j)])) : 0;
    } else {
      LD m = -INFINITY, z = 0;
      for (int j = 0; j < S; ++j)
        if (keep[static_cast<std::size_t>(j)]) m = std::max(m, s[static_cast<std::size_t>(j)]);
      for (int j = 0; j < S; ++j)
        if (keep[static_cast<std::size_t>(j)]) z += std::exp(s[static_cast<std::size_t>(j)] - m);
      for (int j = 0; j < S; ++j)
        w[static_cast<std::size_t>(j)] = keep[static_cast<std::size_t>(j)] ? std::exp(s[static_cast<std::size_t>(j)] - m) / z : 0;
    }
    for (int c = 0; c < Ev; ++c) {
      LD o = 0;
      for (int j = 0; j < S; ++j) o += w[static_cast<std::size_t>(j)] * v[static_cast<std::size_t>(j * Ev + c)];
      out[static_cast<std::size_t>(i * Ev + c)] = o;
    }
  }
  return out;
}

void check(const Mask& mask, bool sigmoid, std::optional<double> bias, std::optional<double> scale) {
  const int B = 2, L = 3, S = 4, E = 5, Ev = 2;
  const auto qv = draw(B * L * E, -1.5, 1.5, 1), kv = draw(B * S * E, -1.5, 1.5, 2),
             vv = draw(B * S * Ev, -1, 1, 3);
  const Tensor q = sigma::tensor(qv, sigma::kFloat64).reshape({B, L, E});
  const Tensor k = sigma::tensor(kv, sigma::kFloat64).reshape({B, S, E});
  const Tensor v = sigma::tensor(vv, sigma::kFloat64).reshape({B, S, Ev});
  Tensor m;
  if (mask.kind == Mask::Bool) m = sigma::tensor(mask.v, sigma::kFloat64).reshape({L, S}).ne(0.0);
  if (mask.kind == Mask::Float) m = sigma::tensor(mask.v, sigma::kFloat64).reshape({L, S});
  const bool causal = mask.kind == Mask::Causal;
  const auto run = [&](const sigma::TensorList& in) {
    return sigmoid ? F::sigmoid_attention(in[0], in[1], in[2], bias, m, causal, scale)
                   : sigma::scaled_dot_product_attention(in[0], in[1], in[2], m, 0.0, causal, scale);
  };
  const Tensor out = run({q, k, v});
  ASSERT_EQ(out.sizes().vec(), (Shape{B, L, Ev}));
  const auto got = out.to_vector<double>();
  const LD sc = scale ? *scale : 1 / std::sqrt(static_cast<LD>(E));
  const LD b = bias ? *bias : -std::log(static_cast<LD>(S));
  for (int bi = 0; bi < B; ++bi) {
    const auto ref = ld_attention({qv.begin() + bi * L * E, qv.begin() + (bi + 1) * L * E},
                                  {kv.begin() + bi * S * E, kv.begin() + (bi + 1) * S * E},
                                  {vv.begin() + bi * S * Ev, vv.begin() + (bi + 1) * S * Ev}, L, S, E,
                                  Ev, mask, sigmoid, b, sc);
    for (int i = 0; i < L * Ev; ++i)
      EXPECT_NEAR(got[static_cast<std::size_t>(bi * L * Ev + i)], static_cast<double>(ref[static_cast<std::size_t>(i)]), 1e-14)
          << (sigmoid ? "sigmoid" : "softmax") << " mask " << mask.kind << " batch " << bi << " element " << i;
  }
  const auto g = sigma::gradcheck(run, {q.detach().requires_grad_(true), k.detach().requires_grad_(true),
                                        v.detach().requires_grad_(true)});
  EXPECT_TRUE(g.ok) << (sigmoid ? "sigmoid" : "softmax") << " mask " << mask.kind << ": " << g.message;
}

TEST(Attention, MatchesTheDefinitionWithEveryMaskKind) {
  const std::vector<double> keep = {1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0};
  const std::vector<double> add = draw(12, -2, 2, 7);
  for (bool sigmoid : {false, true}) {
    check({}, sigmoid, std::nullopt, std::nullopt);
    check({Mask::Bool, keep}, sigmoid, std::nullopt, std::nullopt);
    check({Mask::Float, add}, sigmoid, std::nullopt, 0.3);
    check({Mask::Causal, {}}, sigmoid, std::nullopt, std::nullopt);
  }
  check({}, true, 0.0, std::nullopt);   // sigmoid without the bias
  check({}, true, -2.5, std::nullopt);  // and with another one
}

TEST(Attention, BroadcastsBatchDimensionsAndMasksFullyMaskedQueries) {
  // q [2, 3, 1, 4, 8] against k, v [3, 6, 4, 8]-style heads: batch dims broadcast.
  const Tensor q = sigma::randn({2, 1, 4, 8});
  const Tensor k = sigma::randn({3, 6, 8});
  const Tensor v = sigma::randn({3, 6, 5});
  const Tensor o = sigma::scaled_dot_product_attention(q, k, v);
  EXPECT_EQ(o.sizes().vec(), (Shape{2, 3, 4, 5}));
  // A query with every key masked: NaN under softmax (0/0, as PyTorch), zero under sigmoid.
  Tensor mask = sigma::ones({4, 6}, sigma::kBool);
  mask.select(0, 1).fill_(false);
  const auto s = sigma::scaled_dot_product_attention(q, k, v, mask).select(2, 1).to_vector<float>();
  for (float x : s) EXPECT_TRUE(std::isnan(x));
  const auto z = F::sigmoid_attention(q, k, v, std::nullopt, mask).select(2, 1).to_vector<float>();
  for (float x : z) EXPECT_EQ(x, 0.0f);
}

TEST(Attention, DropoutExtremes) {
  const Tensor q = sigma::randn({2, 3, 4}), k = sigma::randn({2, 5, 4}), v = sigma::randn({2, 5, 3});
  const auto full = sigma::scaled_dot_product_attention(q, k, v, {}, 1.0).to_vector<float>();
  for (float x : full) EXPECT_EQ(x, 0.0f);
  sigma::manual_seed(5);
  const Tensor a = sigma::scaled_dot_product_attention(q, k, v, {}, 0.5);
  sigma::manual_seed(5);
  const Tensor b = sigma::scaled_dot_product_attention(q, k, v, {}, 0.5);
  EXPECT_TRUE(a.equal(b));
  EXPECT_FALSE(a.equal(sigma::scaled_dot_product_attention(q, k, v)));
}

TEST(AttentionErrors, NameTheShapes) {
  const Tensor q = sigma::zeros({2, 3, 4}), k = sigma::zeros({2, 5, 4}), v = sigma::zeros({2, 5, 3});
  expect_error([&] { sigma::scaled_dot_product_attention(q, sigma::zeros({2, 5, 6}), v); },
               {"scaled_dot_product_attention", "last dimension", "[2, 3, 4]", "[2, 5, 6]"});
  expect_error([&] { sigma::scaled_dot_product_attention(q, k, sigma::zeros({2, 4, 3})); },
               {"scaled_dot_product_attention", "number of keys", "[2, 4, 3]"});
  expect_error([&] { sigma::scaled_dot_product_attention(sigma::zeros({4}), k, v); },
               {"scaled_dot_product_attention", "at least 2 dimensions"});
  expect_error([&] { sigma::scaled_dot_product_attention(q, k, v, sigma::ones({3, 4}, sigma::kBool)); },
               {"scaled_dot_product_attention", "attn_mask of shape [3, 4]", "[2, 3, 5]"});
  expect_error([&] { sigma::scaled_dot_product_attention(q, k, v, sigma::ones({3, 5}, sigma::kBool), 0.0, true); },
               {"scaled_dot_product_attention", "either attn_mask or is_causal"});
  expect_error([&] { sigma::scaled_dot_product_attention(q, k, v, {}, 1.5); },
               {"scaled_dot_product_attention", "dropout_p", "1.5"});
  expect_error([&] { F::sigmoid_attention(q, k, v, std::nullopt, sigma::ones({3, 5}, sigma::kInt64)); },
               {"sigmoid_attention", "int64", "bool or floating-point attn_mask"});
}

}  // namespace
