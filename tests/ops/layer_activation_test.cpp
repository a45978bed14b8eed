// Tests of src/ops/layer_activation.cpp: leaky_relu, elu and hardtanh values
// from their definitions, the gradients at and around the kinks (hardtanh's
// bounds get 0, as PyTorch), gradcheck in float64, the in-place forms, and
// errors.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::values;

const std::vector<double> kX = {-3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 2.0};

TEST(LeakyRelu, ValuesAndGradient) {
  const Tensor x = sigma::tensor(kX, sigma::kFloat64).requires_grad_();
  const Tensor y = sigma::leaky_relu(x, 0.2);
  const auto yv = values(y);
  for (std::size_t i = 0; i < kX.size(); ++i)
    EXPECT_DOUBLE_EQ(yv[i], kX[i] > 0 ? kX[i] : 0.2 * kX[i]);
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0.2, 0.2, 0.2, 0.2, 1, 1, 1}));
  EXPECT_FLOAT_EQ(values(sigma::leaky_relu(sigma::tensor({-1.0f})))[0], -0.01f);  // default slope
  const auto r = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::leaky_relu(in[0], 0.3); },
      {sigma::tensor({-2.0, -0.4, 0.3, 1.7}, sigma::kFloat64).requires_grad_()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Elu, ValuesAndGradient) {
  const Tensor x = sigma::tensor(kX, sigma::kFloat64);
  const auto yv = values(sigma::elu(x, 1.5));
  for (std::size_t i = 0; i < kX.size(); ++i)
    EXPECT_NEAR(yv[i], kX[i] > 0 ? kX[i] : 1.5 * (std::exp(kX[i]) - 1), 1e-15);
  const auto sv = values(sigma::elu(x, 1.5, 2.0, 0.5));
  for (std::size_t i = 0; i < kX.size(); ++i)
    EXPECT_NEAR(sv[i], kX[i] > 0 ? 2 * kX[i] : 2 * 1.5 * (std::exp(0.5 * kX[i]) - 1), 1e-15);
  const Tensor xs = sigma::tensor({-2.0, -0.5, 0.5, 3.0}, sigma::kFloat64).requires_grad_();
  const auto r = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::elu(in[0], 1.5, 2.0, 0.5); }, {xs});
  EXPECT_TRUE(r.ok) << r.message;
  // Large inputs: no overflow in the unused branch.
  const Tensor big = sigma::tensor({1000.0}, sigma::kFloat64).requires_grad_();
  sigma::elu(big).sum().backward();
  EXPECT_EQ(values(big.grad())[0], 1.0);
}

TEST(Hardtanh, ValuesAndGradientZeroAtTheBounds) {
  const Tensor x = sigma::tensor(kX, sigma::kFloat64).requires_grad_();
  const Tensor y = sigma::hardtanh(x, -1.0, 1.0);
  EXPECT_EQ(values(y), (std::vector<double>{-1, -1, -0.25, 0, 0.5, 1, 1}));
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 1, 1, 1, 0, 0}));
  EXPECT_TRUE(std::isnan(values(sigma::hardtanh(sigma::tensor({std::nan("")})))[0]));
  const auto r = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::hardtanh(in[0], -0.5, 0.75); },
      {sigma::tensor({-2.0, -0.3, 0.2, 0.7, 1.2}, sigma::kFloat64).requires_grad_()});
  EXPECT_TRUE(r.ok) << r.message;
  expect_error([] { sigma::hardtanh(sigma::zeros({2}), 1.0, -1.0); }, {"hardtanh", "min_val"});
}

TEST(LayerActivations, InPlaceForms) {
  Tensor a = sigma::tensor(kX, sigma::kFloat64);
  const auto version = a._version();
  sigma::leaky_relu_(a, 0.5);
  EXPECT_GT(a._version(), version);
  EXPECT_EQ(values(a)[0], -1.5);
  Tensor b = sigma::tensor(kX, sigma::kFloat64);
  sigma::hardtanh_(b);
  EXPECT_EQ(values(b)[0], -1.0);
  Tensor c = sigma::tensor(kX, sigma::kFloat64);
  sigma::elu_(c);
  EXPECT_NEAR(values(c)[0], std::exp(-3.0) - 1, 1e-15);
  // Recorded in place on a non-leaf: the gradient flows through.
  const Tensor x = sigma::tensor(kX, sigma::kFloat64).requires_grad_();
  Tensor h = x * 1.0;
  sigma::leaky_relu_(h, 0.5);
  h.sum().backward();
  EXPECT_EQ(values(x.grad())[0], 0.5);
  Tensor leaf = sigma::zeros({2}).requires_grad_();
  expect_error([&] { sigma::leaky_relu_(leaf); }, {"leaky_relu_"});
  expect_error([] { sigma::elu(sigma::tensor({1, 2})); }, {"elu", "floating"});
}

}  // namespace
