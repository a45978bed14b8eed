// Tests of nn::LayerNorm and F::layer_norm (src/nn/normalization.cpp):
// PyTorch's parameter names, shapes and initial values, state-dict keys in a
// parent module, the three layers giving one computation, the module's
// gradients, its repr, and errors.
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

std::vector<std::string> keys(const sigma::OrderedDict<std::string, Tensor>& d) {
  std::vector<std::string> k;
  for (const auto& item : d) k.push_back(item.key());
  return k;
}

TEST(LayerNormModule, ParametersAsPyTorch) {
  nn::LayerNorm ln(nn::LayerNormOptions({2, 3}));
  EXPECT_EQ(keys(ln->named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(ln->weight.sizes().vec(), (Shape{2, 3}));
  EXPECT_EQ(ln->bias.sizes().vec(), (Shape{2, 3}));
  EXPECT_EQ(values(ln->weight), std::vector<double>(6, 1.0));
  EXPECT_EQ(values(ln->bias), std::vector<double>(6, 0.0));
  EXPECT_TRUE(ln->weight.requires_grad());
  EXPECT_TRUE(ln->bias.requires_grad());
  EXPECT_EQ(ln->options.eps(), 1e-5);
  EXPECT_TRUE(ln->options.elementwise_affine());

  nn::LayerNorm plain(nn::LayerNormOptions({4}).elementwise_affine(false));
  EXPECT_TRUE(plain->named_parameters().is_empty());
  EXPECT_TRUE(plain->state_dict().is_empty());
  EXPECT_FALSE(plain->weight.defined());

  nn::Sequential seq(nn::Linear(3, 4), nn::LayerNorm(std::vector<std::int64_t>{4}));
  EXPECT_EQ(keys(seq->state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
}

TEST(LayerNormModule, ForwardIsTheFunctionalAndTheOp) {
  nn::LayerNorm ln(nn::LayerNormOptions({5}).eps(1e-3));
  {
    sigma::NoGradGuard no_grad;
    ln->weight.copy_(random_tensor({5}, sigma::kFloat32, 1, 0.5, 2));
    ln->bias.copy_(random_tensor({5}, sigma::kFloat32, 2, -1, 1));
  }
  const Tensor x = random_tensor({3, 5}, sigma::kFloat32, 3, -2, 2);
  const auto y = values(ln(x));
  EXPECT_EQ(y, values(F::layer_norm(x, F::LayerNormFuncOptions({5})
                                           .weight(ln->weight)
                                           .bias(ln->bias)
                                           .eps(1e-3))));
  EXPECT_EQ(y, values(sigma::layer_norm(x, {5}, ln->weight, ln->bias, 1e-3)));
  // eps matters: the default eps gives different values.
  EXPECT_NE(y, values(sigma::layer_norm(x, {5}, ln->weight, ln->bias)));
  // Closed form for one row: x = [-1, 1] -> x_hat = [-1, 1] / sqrt(1 + eps).
  const Tensor two = F::layer_norm(sigma::tensor({-1.0, 1.0}, sigma::kFloat64),
                                   F::LayerNormFuncOptions({2}).eps(0.25));
  const long double r = 1 / std::sqrt(1.25L);
  EXPECT_NEAR(values(two)[0], static_cast<double>(-r), 1.2e-16);
  EXPECT_NEAR(values(two)[1], static_cast<double>(r), 1.2e-16);
}

TEST(LayerNormModule, GradientsReachTheParameters) {
  nn::LayerNorm ln(nn::LayerNormOptions({4}));
  ln->to(sigma::kFloat64);
  const Tensor x = random_tensor({3, 4}, sigma::kFloat64, 5, -2, 2);
  const Tensor v = random_tensor({3, 4}, sigma::kFloat64, 6, -1, 1);
  (ln(x) * v).sum().backward();
  // With weight 1 and bias 0: d bias = sum over rows of v, d weight = sum of v x_hat.
  const Tensor xhat = sigma::layer_norm(x, {4});
  EXPECT_EQ(values(ln->bias.grad()), values(v.sum({0})));
  const auto dw = values(ln->weight.grad()), ref = values((v * xhat).sum({0}));
  for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(dw[j], ref[j], 1e-15);
}

TEST(LayerNormModule, Repr) {
  std::ostringstream a, b;
  a << *nn::LayerNorm(nn::LayerNormOptions({4}));
  EXPECT_EQ(a.str(), "LayerNorm((4,), eps=1e-05, elementwise_affine=True)");
  b << *nn::LayerNorm(nn::LayerNormOptions({2, 3}).eps(0.001).elementwise_affine(false));
  EXPECT_EQ(b.str(), "LayerNorm((2, 3), eps=0.001, elementwise_affine=False)");
}

TEST(LayerNormModule, Errors) {
  expect_error([] { nn::LayerNorm(nn::LayerNormOptions(std::vector<std::int64_t>{})); },
               {"LayerNorm", "normalized_shape", "[]"});
  expect_error([] { nn::LayerNorm(nn::LayerNormOptions({-2})); }, {"LayerNorm", "[-2]"});
  nn::LayerNorm ln(nn::LayerNormOptions({4}));
  expect_error([&] { ln(sigma::zeros({2, 3})); }, {"layer_norm", "[2, 3]", "[4]"});
}

}  // namespace
