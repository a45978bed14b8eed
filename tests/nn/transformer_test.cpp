// Tests of src/nn/transformer.cpp (TransformerEncoderLayer) beyond LibTorch
// 1.13's module (parity in tests/nn/torch_parity_test.cpp): PyTorch's
// submodule and state-dict names, pre-norm against its equation written
// out with the layer's own parts, batch_first as a transpose, the gate and
// sigmoid options reaching self_attn, dropout only in training, gradients
// by central differences, the activation options and errors.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
using sigma::test::expect_error;
using sigma::test::Shape;

nn::TransformerEncoderLayerOptions small() {
  return nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0);
}

TEST(TransformerEncoderLayer, PyTorchStateDictKeys) {
  nn::TransformerEncoderLayer layer(small());
  std::vector<std::string> keys;
  for (const auto& item : layer->state_dict()) keys.push_back(item.key());
  // PyTorch 2.x's TransformerEncoderLayer(8, 2, 16).state_dict().keys().
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "self_attn.in_proj_weight", "self_attn.in_proj_bias",
                      "self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear1.weight",
                      "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight",
                      "norm1.bias", "norm2.weight", "norm2.bias"}));
  nn::TransformerEncoderLayer gated(small().gated(true));
  EXPECT_TRUE(gated->state_dict().contains("self_attn.gate_proj.weight"));
  EXPECT_EQ(gated->self_attn->options.gated(), true);
  nn::TransformerEncoderLayer sig(small().attention(nn::kSigmoidAttention).sigmoid_bias(-1.5));
  EXPECT_EQ(sig->self_attn->options.attention(), nn::kSigmoidAttention);
  EXPECT_EQ(sig->self_attn->options.sigmoid_bias(), -1.5);
}

TEST(TransformerEncoderLayer, PreNormIsItsEquation) {
  for (bool gated : {false, true})
    for (auto kind : {nn::kSoftmaxAttention, nn::kSigmoidAttention}) {
      sigma::manual_seed(2);
      nn::TransformerEncoderLayer layer(small().norm_first(true).gated(gated).attention(kind));
      const Tensor x = sigma::randn({5, 3, 8});
      const Tensor a = layer->norm1(x);
      const Tensor h = x + std::get<0>(layer->self_attn->forward(a, a, a, {}, false));
      const Tensor want = h + layer->linear2(sigma::relu(layer->linear1(layer->norm2(h))));
      EXPECT_TRUE(layer(x).allclose(want, 1e-6, 1e-6)) << gated << " " << static_cast<int>(kind);
    }
}

TEST(TransformerEncoderLayer, BatchFirstDropoutAndGradients) {
  sigma::manual_seed(3);
  nn::TransformerEncoderLayer a(small().activation(sigma::kGELU));
  nn::TransformerEncoderLayer b(small().activation(sigma::kGELU).batch_first(true));
  b->load_state_dict(a->state_dict());
  const Tensor x = sigma::randn({4, 2, 8});
  EXPECT_TRUE(b(x.transpose(0, 1)).transpose(0, 1).allclose(a(x), 1e-6, 1e-7));
  // Dropout acts in training only.
  nn::TransformerEncoderLayer d(small().dropout(0.5));
  d->load_state_dict(a->state_dict());
  nn::TransformerEncoderLayer relu(small());
  relu->load_state_dict(a->state_dict());
  d->eval();
  EXPECT_TRUE(d(x).equal(relu(x)));
  d->train();
  EXPECT_FALSE(d(x).equal(relu(x)));
  // A custom activation is called.
  int calls = 0;
  nn::TransformerEncoderLayer custom(small().activation(
      std::function<Tensor(const Tensor&)>([&](const Tensor& t) { ++calls; return sigma::tanh(t); })));
  custom(x);
  EXPECT_EQ(calls, 1);
  // Gradients of the whole layer (pre-norm, gated) against central differences.
  sigma::manual_seed(4);
  nn::TransformerEncoderLayer g(small().norm_first(true).gated(true));
  g->to(sigma::kFloat64);
  const Tensor x64 = sigma::randn({3, 2, 8}, sigma::kFloat64).requires_grad_(true);
  const auto r = sigma::gradcheck([&](const sigma::TensorList& in) { return g(in[0]); }, {x64});
  EXPECT_TRUE(r.ok) << r.message;
  std::ostringstream s;
  s << *g;
  EXPECT_NE(s.str().find("d_model=8, nhead=2, dim_feedforward=16, activation=relu, norm_first=True"),
            std::string::npos) << s.str();
}

TEST(TransformerEncoderLayer, Errors) {
  expect_error([] { nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(10, 3)); },
               {"MultiheadAttention", "embed_dim (10)", "num_heads (3)"});
  expect_error([] { nn::TransformerEncoderLayerOptions(8, 2).activation(sigma::kTanh); },
               {"TransformerEncoderLayer", "kReLU, kGELU or a function"});
  nn::TransformerEncoderLayer layer(small());
  expect_error([&] { layer(sigma::zeros({4, 2, 6})); }, {"MultiheadAttention", "E = 8", "[4, 2, 6]"});
}

}  // namespace
