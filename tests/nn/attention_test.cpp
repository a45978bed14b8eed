// Tests of src/nn/attention.cpp (MultiheadAttention): parameter names,
// shapes and initialisation as PyTorch's; the forward against a long double
// computation written from the definition (projections, heads, softmax or
// sigmoid weights, gate, output projection); batch_first and unbatched
// inputs as transposes of the default layout; masks (a padded key cannot
// change any output); the gate's limits; gradients by central differences;
// errors. LibTorch parity is in tests/nn/torch_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
using sigma::test::expect_error;
using sigma::test::Shape;
using LD = long double;

// [rows, in] x W^T [out, in] + b, in long double.
std::vector<LD> ld_linear(const std::vector<LD>& x, std::int64_t rows, const std::vector<double>& w,
                          const std::vector<double>& b, std::int64_t out, std::int64_t in,
                          std::int64_t w_offset = 0) {
  std::vector<LD> y(static_cast<std::size_t>(rows * out));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < out; ++o) {
      LD s = b.empty() ? 0 : b[static_cast<std::size_t>(w_offset + o)];
      for (std::int64_t i = 0; i < in; ++i)
        s += x[static_cast<std::size_t>(r * in + i)] * w[static_cast<std::size_t>((w_offset + o) * in + i)];
      y[static_cast<std::size_t>(r * out + o)] = s;
    }
  return y;
}

// One batch entry of self-attention, x [L, E] -> [L, E], from the module's
// parameters, in long double.
std::vector<LD> ld_mha(nn::MultiheadAttention& m, const std::vector<LD>& x, std::int64_t L) {
  const std::int64_t E = m->options.embed_dim(), H = m->options.num_heads(), d = E / H;
  const auto w = m->in_proj_weight.to_vector<double>(), b = m->in_proj_bias.to_vector<double>();
  const auto q = ld_linear(x, L, w, b, E, E, 0), k = ld_linear(x, L, w, b, E, E, E),
             v = ld_linear(x, L, w, b, E, E, 2 * E);
  std::vector<LD> o(static_cast<std::size_t>(L * E));
  const bool sig = m->options.attention() == nn::kSigmoidAttention;
  for (std::int64_t h = 0; h < H; ++h)
    for (std::int64_t i = 0; i < L; ++i) {
      std::vector<LD> s(static_cast<std::size_t>(L));
      LD mx = -INFINITY;
      for (std::int64_t j = 0; j < L; ++j) {
        LD dot = 0;
        for (std::int64_t c = 0; c < d; ++c)
          dot += q[static_cast<std::size_t>(i * E + h * d + c)] * k[static_cast<std::size_t>(j * E + h * d + c)];
        s[static_cast<std::size_t>(j)] = dot / std::sqrt(static_cast<LD>(d));
        mx = std::max(mx, s[static_cast<std::size_t>(j)]);
      }
      LD z = 0;
      for (auto& e : s) {
        e = sig ? 1 / (1 + std::exp(-(e - std::log(static_cast<LD>(L))))) : std::exp(e - mx);
        z += e;
      }
      for (std::int64_t c = 0; c < d; ++c) {
        LD acc = 0;
        for (std::int64_t j = 0; j < L; ++j)
          acc += (sig ? s[static_cast<std::size_t>(j)] : s[static_cast<std::size_t>(j)] / z) *
                 v[static_cast<std::size_t>(j * E + h * d + c)];
        o[static_cast<std::size_t>(i * E + h * d + c)] = acc;
      }
    }
  if (m->options.gated()) {
    const auto g = ld_linear(x, L, m->gate_proj->weight.to_vector<double>(),
                             m->gate_proj->bias.to_vector<double>(), E, E);
    for (std::size_t i = 0; i < o.size(); ++i) o[i] *= 1 / (1 + std::exp(-g[i]));
  }
  return ld_linear(o, L, m->out_proj->weight.to_vector<double>(), m->out_proj->bias.to_vector<double>(), E, E);
}

TEST(MultiheadAttention, ParametersAsPyTorch) {
  sigma::manual_seed(1);
  nn::MultiheadAttention m(16, 4);
  std::vector<std::string> names;
  for (const auto& p : m->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias"}));
  EXPECT_EQ(m->in_proj_weight.sizes().vec(), (Shape{48, 16}));
  // xavier_uniform_: U(-a, a), a = sqrt(6 / (16 + 48)); biases zero.
  const double a = std::sqrt(6.0 / 64.0);
  EXPECT_LE(m->in_proj_weight.abs().max().item<double>(), a);
  EXPECT_GT(m->in_proj_weight.abs().max().item<double>(), 0.9 * a);
  EXPECT_EQ(m->in_proj_bias.abs().max().item<double>(), 0.0);
  EXPECT_EQ(m->out_proj->bias.abs().max().item<double>(), 0.0);
  nn::MultiheadAttention g(nn::MultiheadAttentionOptions(16, 4).gated(true));
  EXPECT_EQ(g->named_parameters().size(), 6u);
  EXPECT_TRUE(g->named_parameters().contains("gate_proj.weight"));
  std::ostringstream s;
  s << *g;
  EXPECT_EQ(s.str().substr(0, s.str().find('\n')), "MultiheadAttention(");
  EXPECT_NE(s.str().find("embed_dim=16, num_heads=4, gated=True"), std::string::npos) << s.str();
  EXPECT_NE(s.str().find("(gate_proj): Linear(in_features=16"), std::string::npos) << s.str();
}

TEST(MultiheadAttention, ForwardMatchesTheDefinitionForEachKind) {
  const std::int64_t L = 5, N = 2, E = 8;
  for (auto kind : {nn::kSoftmaxAttention, nn::kSigmoidAttention})
    for (bool gated : {false, true}) {
      sigma::manual_seed(3);
      nn::MultiheadAttention m(nn::MultiheadAttentionOptions(E, 2).attention(kind).gated(gated));
      m->to(sigma::kFloat64);
      {  // non-zero biases, so they are tested too
        sigma::NoGradGuard ng;
        m->in_proj_bias.copy_(sigma::test::random_tensor({3 * E}, sigma::kFloat64, 4));
        m->out_proj->bias.copy_(sigma::test::random_tensor({E}, sigma::kFloat64, 5));
      }
      const Tensor x = sigma::test::random_tensor({L, N, E}, sigma::kFloat64, 6, -2, 2);
      auto [out, w] = m(x, x, x);
      ASSERT_EQ(out.sizes().vec(), (Shape{L, N, E}));
      ASSERT_EQ(w.sizes().vec(), (Shape{N, L, L}));
      for (std::int64_t n = 0; n < N; ++n) {
        const auto xv = x.select(1, n).to_vector<double>();
        const auto ref = ld_mha(m, std::vector<LD>(xv.begin(), xv.end()), L);
        const auto got = out.select(1, n).to_vector<double>();
        for (std::size_t i = 0; i < got.size(); ++i)
          EXPECT_NEAR(got[i], static_cast<double>(ref[i]), 1e-13)
              << (kind == nn::kSigmoidAttention ? "sigmoid" : "softmax") << (gated ? " gated" : "")
              << " batch " << n << " element " << i;
      }
      // Softmax weights sum to 1 per query; sigmoid weights need not.
      const auto sums = w.sum({-1}).to_vector<double>();
      for (double v : sums) {
        if (kind == nn::kSoftmaxAttention) {
          EXPECT_NEAR(v, 1.0, 1e-15);
        }
      }
      if (kind == nn::kSigmoidAttention) {
        double spread = 0;
        for (double v : sums) spread = std::max(spread, std::abs(v - 1));
        EXPECT_GT(spread, 1e-3);
      }
      const auto g = sigma::gradcheck(
          [&](const sigma::TensorList& in) { return std::get<0>(m(in[0], in[0], in[0])); },
          {x.detach().requires_grad_(true)});
      EXPECT_TRUE(g.ok) << g.message;
    }
}

TEST(MultiheadAttention, LayoutsAndMasks) {
  sigma::manual_seed(7);
  nn::MultiheadAttention m(8, 2);
  nn::MultiheadAttention mb(nn::MultiheadAttentionOptions(8, 2).batch_first(true));
  mb->load_state_dict(m->state_dict());
  const Tensor x = sigma::randn({4, 3, 8});  // [L, N, E]
  auto [o, w] = m(x, x, x);
  auto [ob, wb] = mb(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1));
  EXPECT_TRUE(ob.transpose(0, 1).allclose(o, 1e-6, 1e-7));
  EXPECT_TRUE(wb.allclose(w, 1e-6, 1e-7));
  // Unbatched [L, E] is batch entry n alone.
  auto [o1, w1] = m(x.select(1, 1), x.select(1, 1), x.select(1, 1));
  EXPECT_TRUE(o1.allclose(o.select(1, 1), 1e-6, 1e-7));
  EXPECT_EQ(w1.sizes().vec(), (Shape{4, 4}));
  // A padded key: changing its value changes nothing, and it gets weight 0.
  Tensor pad = sigma::zeros({3, 4}, sigma::kBool);
  pad.select(0, 2).select(0, 3).fill_(true);
  const Tensor kv = x.clone();
  Tensor kv2 = x.clone();
  kv2.select(0, 3).select(0, 2).fill_(50.0);
  auto [p1, pw1] = m(x, kv, kv, pad);
  auto [p2, pw2] = m(x, kv2, kv2, pad);
  EXPECT_TRUE(p1.allclose(p2, 0, 0));
  for (float v : pw1.select(0, 2).select(1, 3).to_vector<float>()) EXPECT_EQ(v, 0.0f);
  // A bool attn_mask (true = excluded) equals the same float mask of -inf.
  Tensor am = sigma::zeros({4, 4}, sigma::kBool);
  am.select(0, 0).select(0, 2).fill_(true);
  Tensor amf = sigma::zeros({4, 4});
  amf.select(0, 0).select(0, 2).fill_(-INFINITY);
  EXPECT_TRUE(std::get<0>(m->forward(x, x, x, {}, true, am)).equal(std::get<0>(m->forward(x, x, x, {}, true, amf))));
  // need_weights=false: no weights; per-head weights average to the default.
  EXPECT_FALSE(std::get<1>(m->forward(x, x, x, {}, false)).defined());
  auto [oh, wh] = m->forward(x, x, x, {}, true, {}, false);
  EXPECT_EQ(wh.sizes().vec(), (Shape{3, 2, 4, 4}));
  EXPECT_TRUE(wh.mean({1}).allclose(w, 1e-6, 1e-7));
}

TEST(MultiheadAttention, GateLimits) {
  sigma::manual_seed(9);
  nn::MultiheadAttention plain(8, 2);
  nn::MultiheadAttention gated(nn::MultiheadAttentionOptions(8, 2).gated(true));
  for (const auto& p : plain->named_parameters()) {
    sigma::NoGradGuard ng;
    gated->named_parameters()[p.key()].copy_(p.value());
  }
  const Tensor x = sigma::randn({3, 2, 8});
  const Tensor base = std::get<0>(plain(x, x, x));
  {
    sigma::NoGradGuard ng;
    gated->gate_proj->weight.zero_();
    gated->gate_proj->bias.fill_(40.0);  // sigmoid(40) rounds to 1: the gate is open
  }
  EXPECT_TRUE(std::get<0>(gated(x, x, x)).equal(base));
  {
    sigma::NoGradGuard ng;
    gated->gate_proj->bias.fill_(0.0);  // a gate of 1/2 on every head
    plain->out_proj->weight.mul_(0.5);
  }
  EXPECT_TRUE(std::get<0>(gated(x, x, x)).allclose(std::get<0>(plain(x, x, x)), 1e-6, 1e-6));
}

TEST(MultiheadAttention, Errors) {
  expect_error([] { nn::MultiheadAttention(10, 4); }, {"MultiheadAttention", "embed_dim (10)", "num_heads (4)"});
  nn::MultiheadAttention m(8, 2);
  const Tensor x = sigma::zeros({4, 3, 8});
  expect_error([&] { m(x, sigma::zeros({4, 3, 6}), x); }, {"MultiheadAttention", "[L, N, E]", "E = 8", "[4, 3, 6]"});
  expect_error([&] { m(x, x, x, sigma::zeros({3, 5}, sigma::kBool)); },
               {"key_padding_mask of shape [3, 5]", "[N, S] = [3, 4]"});
  expect_error([&] { m->forward(x, x, x, {}, true, sigma::zeros({2, 4})); },
               {"attn_mask of shape [2, 4]", "[L, S] = [4, 4]", "[N*H, L, S] = [6, 4, 4]"});
}

}  // namespace
