// LayerNorm, Embedding, ModuleList, ModuleDict, Flatten and Unflatten against
// LibTorch (Debian libtorch 1.13) with identical weights, as
// torch_parity_test.cpp does for the other layers: the same parameter and
// state-dict names in the same order, LibTorch's values copied into sigma,
// the same float32 inputs, and the outputs and the gradients of sum(out * v)
// (v random, shared) w.r.t. the input and every parameter compared.
// An element passes when |sigma - torch| <= 1e-5 (max|torch| + 1e-4).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "torch_twin.h"

namespace {

using sigma::test::draw;
using sigma::test::numel;
using sigma::test::Shape;
using sigma::test::to_sigma;
using sigma::test::torch_values;
using sigma::test::Twin;
using sigma::test::twin;

constexpr double kRtol = 1e-5;
constexpr double kFloor = 1e-4;

struct Indices {
  sigma::Tensor s;
  torch::Tensor t;
};
Indices indices(const std::vector<std::int64_t>& v, const Shape& shape) {
  return {sigma::tensor(v).reshape(shape),
          torch::tensor(v, torch::dtype(torch::kLong)).reshape(shape)};
}

void expect_close(const sigma::Tensor& s, const torch::Tensor& t, const std::string& what) {
  ASSERT_TRUE(s.defined()) << what << ": sigma tensor undefined";
  ASSERT_TRUE(t.defined()) << what << ": torch tensor undefined";
  ASSERT_EQ(s.sizes().vec(), t.sizes().vec()) << what << ": shapes differ";
  const std::vector<double> got = s.to_vector<double>(), ref = torch_values(t);
  double scale = 0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  const double tol = kRtol * (scale + kFloor);
  int bad = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (!(std::abs(got[i] - ref[i]) <= tol) && bad++ < 5)
      ADD_FAILURE() << what << ": element " << i << ": sigma " << got[i] << ", torch " << ref[i]
                    << " (tolerance " << tol << ")";
}

std::string describe(const std::vector<std::pair<std::string, Shape>>& l) {
  std::string r;
  for (const auto& [name, shape] : l) r += " " + name + sigma::shape_string(shape);
  return r;
}

std::vector<std::pair<std::string, Shape>> listing(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, Shape>> r;
  for (const auto& item : m.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(false))
      r.emplace_back(prefix + p.key(), p.value().sizes().vec());
    for (const auto& b : item.value()->named_buffers(false))
      r.emplace_back(prefix + b.key(), b.value().sizes().vec());
  }
  return r;
}

std::vector<std::pair<std::string, Shape>> listing(const sigma::nn::Module& m) {
  std::vector<std::pair<std::string, Shape>> r;
  for (const auto& item : m.state_dict()) r.emplace_back(item.key(), item.value().sizes().vec());
  return r;
}

// The same state-dict names and shapes in the same order; then LibTorch's
// values are loaded strictly into sigma under those names.
void copy_torch_state(const torch::nn::Module& t, sigma::nn::Module& s, const std::string& what) {
  ASSERT_EQ(describe(listing(s)), describe(listing(t))) << what << ": state_dict() names differ";
  sigma::OrderedDict<std::string, sigma::Tensor> dict;
  for (const auto& item : t.named_parameters()) dict.insert(item.key(), to_sigma(item.value()));
  s.load_state_dict(dict);
  for (const auto& item : t.named_parameters())
    ASSERT_EQ(s.named_parameters()[item.key()].to_vector<double>(), torch_values(item.value()))
        << what << ": " << item.key();
}

void expect_same_parameter_grads(const torch::nn::Module& t, const sigma::nn::Module& s,
                                 const std::string& what) {
  const auto sp = s.named_parameters();
  for (const auto& item : t.named_parameters()) {
    ASSERT_TRUE(sp[item.key()].grad().defined()) << what << " d/d " << item.key();
    expect_close(sp[item.key()].grad(), item.value().grad(), what + " d/d " + item.key());
  }
}

// ---- LayerNorm.

void check_layer_norm(const Shape& input, const std::vector<std::int64_t>& shape, double eps,
                      bool affine, std::uint64_t seed) {
  const std::string what = "LayerNorm(" + sigma::shape_string(shape) + ", eps=" +
                           std::to_string(eps) + ", affine=" + (affine ? "True" : "False") +
                           ") on " + sigma::shape_string(input);
  torch::nn::LayerNorm t(torch::nn::LayerNormOptions(shape).eps(eps).elementwise_affine(affine));
  sigma::nn::LayerNorm s(sigma::nn::LayerNormOptions(shape).eps(eps).elementwise_affine(affine));
  if (affine) {
    // Not LibTorch's ones and zeros, so the affine part is exercised.
    torch::NoGradGuard no_grad;
    t->weight.copy_(twin(shape, 0.5, 2, seed).t);
    t->bias.copy_(twin(shape, -1, 1, seed + 1).t);
  }
  ASSERT_NO_FATAL_FAILURE(copy_torch_state(*t, *s, what));
  Twin x = twin(input, -3, 3, seed + 2, true);
  const sigma::Tensor so = s(x.s);
  const torch::Tensor to = t(x.t);
  expect_close(so, to, what + " forward");
  Twin v = twin(input, -1.5, 1.5, seed + 3);
  (so * v.s).sum().backward();
  (to * v.t).sum().backward();
  expect_close(x.s.grad(), x.t.grad(), what + " d/d input");
  expect_same_parameter_grads(*t, *s, what);
}

TEST(TorchParityNorm, LayerNorm) {
  check_layer_norm({4, 8}, {8}, 1e-5, true, 10);
  check_layer_norm({2, 3, 4, 5}, {4, 5}, 1e-5, true, 20);
  check_layer_norm({3, 16}, {16}, 1e-2, false, 30);
  check_layer_norm({7}, {7}, 1e-6, true, 40);
  check_layer_norm({2, 5, 64}, {64}, 1e-5, true, 50);
}

TEST(TorchParityNorm, LayerNormDefaultsAndFunctional) {
  // Default parameters: ones and zeros in both.
  torch::nn::LayerNorm t(torch::nn::LayerNormOptions({6}));
  sigma::nn::LayerNorm s(sigma::nn::LayerNormOptions({6}));
  expect_close(s->weight, t->weight, "LayerNorm default weight");
  expect_close(s->bias, t->bias, "LayerNorm default bias");
  Twin x = twin({5, 6}, -2, 2, 60), w = twin({6}, 0.5, 2, 61), b = twin({6}, -1, 1, 62);
  expect_close(sigma::nn::functional::layer_norm(
                   x.s, sigma::nn::functional::LayerNormFuncOptions({6}).weight(w.s).bias(b.s).eps(
                            1e-3)),
               torch::nn::functional::layer_norm(
                   x.t, torch::nn::functional::LayerNormFuncOptions({6}).weight(w.t).bias(b.t).eps(
                            1e-3)),
               "F::layer_norm");
  expect_close(sigma::layer_norm(x.s, {6}, w.s, b.s), torch::layer_norm(x.t, {6}, w.t, b.t),
               "sigma::layer_norm");
}

// ---- Embedding.

void check_embedding(const sigma::nn::EmbeddingOptions& so_opts,
                     const torch::nn::EmbeddingOptions& to_opts, const Indices& idx,
                     const std::string& what, std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::nn::Embedding t(to_opts);
  sigma::nn::Embedding s(so_opts);
  // The padding row is zero in both before the copy.
  if (to_opts.padding_idx()) {
    EXPECT_EQ(s->weight.select(0, *s->options.padding_idx()).abs().sum().item<double>(), 0.0)
        << what;
  }
  ASSERT_NO_FATAL_FAILURE(copy_torch_state(*t, *s, what));
  const sigma::Tensor so = s(idx.s);
  const torch::Tensor to = t(idx.t);
  expect_close(so, to, what + " forward");
  // max_norm renormalises the table in place: the tables must agree after.
  expect_close(s->weight, t->weight, what + " weight after forward");
  Twin v = twin(so.sizes().vec(), -1.5, 1.5, seed + 1);
  (so * v.s).sum().backward();
  (to * v.t).sum().backward();
  expect_same_parameter_grads(*t, *s, what);
}

TEST(TorchParityNorm, Embedding) {
  const Indices idx = indices({3, 1, 3, 0, 9, 3, 1, 7, 0, 2, 2, 3}, {3, 4});
  check_embedding(sigma::nn::EmbeddingOptions(10, 5), torch::nn::EmbeddingOptions(10, 5), idx,
                  "Embedding(10, 5)", 100);
  check_embedding(sigma::nn::EmbeddingOptions(10, 5).padding_idx(3),
                  torch::nn::EmbeddingOptions(10, 5).padding_idx(3), idx,
                  "Embedding(10, 5, padding_idx=3)", 110);
  check_embedding(sigma::nn::EmbeddingOptions(10, 5).padding_idx(-1),
                  torch::nn::EmbeddingOptions(10, 5).padding_idx(-1), idx,
                  "Embedding(10, 5, padding_idx=-1)", 120);
  check_embedding(sigma::nn::EmbeddingOptions(10, 5).scale_grad_by_freq(true),
                  torch::nn::EmbeddingOptions(10, 5).scale_grad_by_freq(true), idx,
                  "Embedding(10, 5, scale_grad_by_freq=True)", 130);
  check_embedding(sigma::nn::EmbeddingOptions(10, 5).max_norm(1.0),
                  torch::nn::EmbeddingOptions(10, 5).max_norm(1.0), idx,
                  "Embedding(10, 5, max_norm=1.0)", 140);
  check_embedding(sigma::nn::EmbeddingOptions(10, 5).max_norm(2.0).norm_type(1.0),
                  torch::nn::EmbeddingOptions(10, 5).max_norm(2.0).norm_type(1.0), idx,
                  "Embedding(10, 5, max_norm=2.0, norm_type=1.0)", 150);
  check_embedding(sigma::nn::EmbeddingOptions(10, 5), torch::nn::EmbeddingOptions(10, 5),
                  indices({4}, {}), "Embedding(10, 5) with a 0-d index", 160);
}

TEST(TorchParityNorm, EmbeddingFromPretrained) {
  Twin table = twin({6, 3}, -1, 1, 200);
  auto t = torch::nn::Embedding::from_pretrained(
      table.t, torch::nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(2));
  auto s = sigma::nn::Embedding::from_pretrained(
      table.s, sigma::nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(2));
  const Indices idx = indices({2, 5, 5, 0}, {4});
  const sigma::Tensor so = s(idx.s);
  const torch::Tensor to = t(idx.t);
  expect_close(so, to, "from_pretrained forward");
  so.sum().backward();
  to.sum().backward();
  expect_close(s->weight.grad(), t->weight.grad(), "from_pretrained d/d weight");
}

// ---- Containers and Flatten.

TEST(TorchParityNorm, ContainerNames) {
  struct SNet : sigma::nn::Module {
    SNet() {
      register_module("layers", sigma::nn::ModuleList(sigma::nn::Linear(4, 3), sigma::nn::ReLU(),
                                                      sigma::nn::Linear(3, 2)));
      sigma::nn::ModuleDict heads;
      heads->insert("query", sigma::nn::Linear(2, 2));
      heads->insert("norm", sigma::nn::LayerNorm(sigma::nn::LayerNormOptions({2})));
      register_module("heads", heads);
      register_module("emb", sigma::nn::Embedding(7, 4));
    }
  };
  struct TNet : torch::nn::Module {
    TNet() {
      register_module("layers", torch::nn::ModuleList(torch::nn::Linear(4, 3), torch::nn::ReLU(),
                                                      torch::nn::Linear(3, 2)));
      torch::nn::ModuleDict heads(torch::OrderedDict<std::string, std::shared_ptr<Module>>{
          {"query", torch::nn::Linear(2, 2).ptr()},
          {"norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2})).ptr()}});
      register_module("heads", heads);
      register_module("emb", torch::nn::Embedding(7, 4));
    }
  };
  auto s = std::make_shared<SNet>();
  auto t = std::make_shared<TNet>();
  ASSERT_NO_FATAL_FAILURE(copy_torch_state(*t, *s, "ModuleList / ModuleDict / Embedding net"));
  EXPECT_EQ(describe(listing(*s)),
            " layers.0.weight[3, 4] layers.0.bias[3] layers.2.weight[2, 3] layers.2.bias[2]"
            " heads.query.weight[2, 2] heads.query.bias[2] heads.norm.weight[2]"
            " heads.norm.bias[2] emb.weight[7, 4]");
}

TEST(TorchParityNorm, FlattenUnflatten) {
  Twin x = twin({2, 3, 4, 5}, -1, 1, 300);
  for (auto [start, end] : {std::pair{1, -1}, std::pair{0, 2}, std::pair{-3, -2}}) {
    const auto so = sigma::nn::Flatten(sigma::nn::FlattenOptions().start_dim(start).end_dim(end))(x.s);
    const auto to = torch::nn::Flatten(torch::nn::FlattenOptions().start_dim(start).end_dim(end))(x.t);
    expect_close(so, to, "Flatten(" + std::to_string(start) + ", " + std::to_string(end) + ")");
  }
  const auto so = sigma::nn::Unflatten(1, std::vector<std::int64_t>{3, 1})(x.s);
  const auto to = torch::nn::Unflatten(torch::nn::UnflattenOptions(1, {3, 1}))(x.t);
  expect_close(so, to, "Unflatten(1, (3, 1))");
}

}  // namespace
