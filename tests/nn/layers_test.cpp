// Tests of src/nn/layers.cpp: Conv1d/Conv2d (shapes, options, init bounds,
// state dict, repr, padding_mode errors), BatchNorm1d/2d (train/eval,
// running stats, momentum nullopt, buffers in the state dict), the pooling
// modules, LeakyReLU/ELU/Hardtanh/Dropout2d, nn::Functional in a Sequential,
// and the F:: forms spelled exactly as LibTorch code spells them.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::Shape;
using sigma::test::values;
namespace nn = sigma::nn;
namespace F = sigma::nn::functional;

template <class M> std::string repr(const M& m) {
  std::ostringstream s;
  s << *m;
  return s.str();
}

std::vector<std::string> keys(const nn::Module& m) {
  std::vector<std::string> k;
  for (const auto& item : m.state_dict()) k.push_back(item.key());
  return k;
}

TEST(Conv2dModule, ShapesInitStateDictAndRepr) {
  sigma::manual_seed(0);
  nn::Conv2d conv(nn::Conv2dOptions(4, 6, 3).stride(2).padding(1).groups(2));
  EXPECT_EQ(conv->weight.sizes().vec(), (Shape{6, 2, 3, 3}));
  EXPECT_EQ(conv->bias.sizes().vec(), (Shape{6}));
  EXPECT_EQ(conv(sigma::randn({2, 4, 9, 8})).sizes().vec(), (Shape{2, 6, 5, 4}));
  EXPECT_EQ(conv(sigma::randn({4, 9, 8})).sizes().vec(), (Shape{6, 5, 4}));
  // kaiming_uniform(a = sqrt(5)) and the bias: both within 1 / sqrt(fan_in), fan_in = 2 * 9.
  const double bound = 1.0 / std::sqrt(18.0);
  for (const Tensor& t : {conv->weight, conv->bias})
    for (double v : values(t)) EXPECT_LE(std::abs(v), bound);
  EXPECT_EQ(keys(*conv), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(repr(conv), "Conv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2)");
  nn::Conv2d plain(nn::Conv2dOptions(3, 5, {2, 3}));
  EXPECT_EQ(repr(plain), "Conv2d(3, 5, kernel_size=(2, 3), stride=(1, 1))");
  nn::Conv2d no_bias(nn::Conv2dOptions(3, 5, 3).bias(false).padding(sigma::kSame).dilation(2));
  EXPECT_FALSE(no_bias->bias.defined());
  EXPECT_EQ(keys(*no_bias), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(no_bias(sigma::randn({1, 3, 7, 7})).sizes().vec(), (Shape{1, 5, 7, 7}));
  EXPECT_EQ(repr(no_bias),
            "Conv2d(3, 5, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), bias=False)");
  nn::Conv2d braced(nn::Conv2dOptions(3, 5, {3, 1}).padding({1, 0}).stride({1, 2}));
  EXPECT_EQ(braced(sigma::randn({1, 3, 4, 6})).sizes().vec(), (Shape{1, 5, 4, 3}));
  expect_error([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding_mode(sigma::kReflect)); },
               {"Conv2d", "padding_mode"});
  expect_error([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)); }, {"Conv2d", "divisible by groups"});
  expect_error([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(sigma::kSame).stride(2)); },
               {"Conv2d", "same"});
}

TEST(Conv1dModule, ShapesAndRepr) {
  nn::Conv1d conv(nn::Conv1dOptions(2, 4, 3).padding(1));
  EXPECT_EQ(conv->weight.sizes().vec(), (Shape{4, 2, 3}));
  EXPECT_EQ(conv(sigma::randn({5, 2, 10})).sizes().vec(), (Shape{5, 4, 10}));
  EXPECT_EQ(repr(conv), "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))");
  const Tensor x = sigma::randn({3, 2, 7});
  EXPECT_TRUE(conv(x).allclose(F::conv1d(x, conv->weight, F::Conv1dFuncOptions().bias(conv->bias).padding(1))));
}

TEST(BatchNormModule, TrainEvalRunningStatsAndStateDict) {
  nn::BatchNorm2d bn(3);
  EXPECT_EQ(keys(*bn), (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                                 "num_batches_tracked"}));
  EXPECT_EQ(repr(bn), "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  EXPECT_EQ(values(bn->weight), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(values(bn->bias), (std::vector<double>{0, 0, 0}));
  const Tensor x = sigma::randn({4, 3, 2, 2}, sigma::kFloat64) * 2 + 1;
  bn->to(sigma::kFloat64);
  const Tensor y = bn(x);
  // Training: each channel of y has mean 0 and biased variance ~1.
  const Tensor m = y.mean({0, 2, 3});
  for (double v : values(m)) EXPECT_NEAR(v, 0, 1e-12);
  const Tensor batch_mean = x.mean({0, 2, 3});
  EXPECT_TRUE(bn->running_mean.allclose(batch_mean * 0.1, 0, 1e-12));
  EXPECT_EQ(bn->num_batches_tracked.item<std::int64_t>(), 1);
  bn->eval();
  const Tensor ye = bn(x);
  const Tensor want = (x - bn->running_mean.view({1, 3, 1, 1})) /
                      (bn->running_var.view({1, 3, 1, 1}) + 1e-5).sqrt();
  EXPECT_TRUE(ye.allclose(want, 0, 1e-12));
  EXPECT_EQ(bn->num_batches_tracked.item<std::int64_t>(), 1);
  expect_error([&] { bn(sigma::zeros({2, 3})); }, {"BatchNorm2d", "4D"});
  // momentum nullopt: the cumulative average of the batches seen.
  nn::BatchNorm1d avg(nn::BatchNormOptions(2).momentum(std::nullopt).affine(false));
  EXPECT_EQ(keys(*avg), (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  const Tensor a = sigma::tensor({{1.0f, 2.0f}, {3.0f, 6.0f}}), b = sigma::tensor({{5.0f, 0.0f}, {7.0f, 4.0f}});
  avg(a);
  avg(b);
  EXPECT_TRUE(avg->running_mean.allclose(sigma::tensor({4.0f, 3.0f})));
  EXPECT_EQ(avg(sigma::randn({3, 2, 5})).sizes().vec(), (Shape{3, 2, 5}));
  expect_error([&] { avg(sigma::zeros({1, 2})); }, {"batch_norm", "more than 1 value per channel"});
  // No running stats: batch statistics in eval mode too.
  nn::BatchNorm1d free_bn(nn::BatchNormOptions(2).track_running_stats(false));
  free_bn->eval();
  const Tensor yf = free_bn(a);
  EXPECT_TRUE(yf.mean({0}).allclose(sigma::zeros({2}), 0, 1e-6));
}

TEST(PoolingModules, ShapesAndRepr) {
  const Tensor x = sigma::randn({2, 3, 7, 8});
  nn::MaxPool2d mp(2);
  EXPECT_EQ(mp(x).sizes().vec(), (Shape{2, 3, 3, 4}));
  EXPECT_EQ(repr(mp), "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False)");
  nn::MaxPool2d mpc(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
  EXPECT_EQ(mpc(x).sizes().vec(), (Shape{2, 3, 4, 5}));
  auto [v, i] = mpc->forward_with_indices(x);
  EXPECT_EQ(i.dtype(), sigma::kInt64);
  nn::MaxPool1d m1(3);
  EXPECT_EQ(m1(sigma::randn({2, 3, 10})).sizes().vec(), (Shape{2, 3, 3}));
  nn::AvgPool2d ap(nn::AvgPool2dOptions({2, 3}).stride(1));
  EXPECT_EQ(ap(x).sizes().vec(), (Shape{2, 3, 6, 6}));
  EXPECT_EQ(repr(ap), "AvgPool2d(kernel_size=(2, 3), stride=(1, 1), padding=(0, 0))");
  nn::AdaptiveAvgPool2d aap(nn::AdaptiveAvgPool2dOptions({std::nullopt, 2}));
  EXPECT_EQ(aap(x).sizes().vec(), (Shape{2, 3, 7, 2}));
  EXPECT_EQ(repr(aap), "AdaptiveAvgPool2d(output_size=(None, 2))");
  EXPECT_EQ(nn::AdaptiveAvgPool2d(1)(x).sizes().vec(), (Shape{2, 3, 1, 1}));
}

TEST(ActivationModules, ValuesInplaceAndRepr) {
  const Tensor x = sigma::tensor({-2.0f, 0.5f, 3.0f});
  EXPECT_TRUE(nn::LeakyReLU()(x).equal(sigma::leaky_relu(x)));
  EXPECT_EQ(repr(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true))),
            "LeakyReLU(negative_slope=0.2, inplace=True)");
  EXPECT_EQ(repr(nn::ELU()), "ELU(alpha=1.0)");
  EXPECT_EQ(repr(nn::Hardtanh()), "Hardtanh(min_val=-1.0, max_val=1.0)");
  EXPECT_EQ(values(nn::Hardtanh(nn::HardtanhOptions().min_val(0).max_val(2))(x)),
            (std::vector<double>{0, 0.5, 2}));
  Tensor y = x.clone();
  nn::ELU(nn::ELUOptions().inplace(true))(y);
  EXPECT_NEAR(values(y)[0], std::exp(-2.0) - 1, 1e-7);
  expect_error([] { nn::Hardtanh(nn::HardtanhOptions().min_val(1).max_val(1)); }, {"Hardtanh", "max_val"});
}

TEST(Dropout2dModule, ZeroesWholeChannels) {
  sigma::manual_seed(3);
  nn::Dropout2d drop(0.5);
  EXPECT_EQ(repr(drop), "Dropout2d(p=0.5, inplace=False)");
  const Tensor x = sigma::ones({8, 16, 3, 3});
  const Tensor y = drop(x);
  std::int64_t zeros = 0;
  for (std::int64_t n = 0; n < 8; ++n)
    for (std::int64_t c = 0; c < 16; ++c) {
      const auto plane = values(y[n][c]);
      for (double v : plane) EXPECT_EQ(v, plane[0]);  // one value per channel
      EXPECT_TRUE(plane[0] == 0 || plane[0] == 2);
      zeros += plane[0] == 0;
    }
  EXPECT_GT(zeros, 32);
  EXPECT_LT(zeros, 96);
  drop->eval();
  EXPECT_TRUE(drop(x).equal(x));
  EXPECT_EQ(F::dropout2d(sigma::ones({4, 2, 2}), F::Dropout2dFuncOptions().p(1.0)).sum().item<double>(), 0);
  expect_error([] { F::dropout2d(sigma::ones({4, 2})); }, {"dropout2d", "3-D"});
}

TEST(FunctionalModule, InSequential) {
  nn::Sequential net(nn::Linear(3, 4), nn::Functional(sigma::relu),
                     nn::Functional(sigma::leaky_relu, 0.3));
  const Tensor x = sigma::randn({2, 3});
  const Tensor y = net->forward(x);
  EXPECT_EQ(y.sizes().vec(), (Shape{2, 4}));
  for (double v : values(y)) EXPECT_GE(v, 0);
  nn::Functional f([](Tensor t) { return t * 2; });
  EXPECT_TRUE(f(x).equal(x * 2));
  EXPECT_EQ(repr(f), "Functional()");
}

TEST(FunctionalForms, CompileAsLibTorchSpellsThem) {
  const Tensor x = sigma::randn({2, 3, 8, 8}), w = sigma::randn({4, 3, 3, 3});
  EXPECT_EQ(F::conv2d(x, w, F::Conv2dFuncOptions().stride(1).padding(1)).sizes().vec(), (Shape{2, 4, 8, 8}));
  EXPECT_EQ(F::max_pool2d(x, F::MaxPool2dFuncOptions(2)).sizes().vec(), (Shape{2, 3, 4, 4}));
  const auto pool_options = nn::MaxPool2dOptions({3, 2});
  EXPECT_EQ(sigma::max_pool2d(x, pool_options.kernel_size()).sizes().vec(), (Shape{2, 3, 2, 4}));
  EXPECT_EQ(nn::BatchNorm2d(nn::BatchNorm2dOptions(3).eps(1e-3))->options.eps(), 1e-3);
  EXPECT_EQ(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(1)).sizes().vec(), (Shape{2, 3, 7, 7}));
  EXPECT_EQ(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).sizes().vec(), (Shape{2, 3, 1, 1}));
  const Tensor rm = sigma::zeros({3}), rv = sigma::ones({3});
  EXPECT_EQ(F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().training(true)).sizes().vec(), x.sizes().vec());
  EXPECT_FALSE(rm.equal(sigma::zeros({3})));  // updated in place
  EXPECT_TRUE(F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)).equal(sigma::leaky_relu(x, 0.2)));
  EXPECT_TRUE(F::elu(x, F::ELUFuncOptions().alpha(2)).equal(sigma::elu(x, 2)));
  EXPECT_TRUE(F::hardtanh(x, F::HardtanhFuncOptions().min_val(-2).max_val(2)).equal(sigma::hardtanh(x, -2, 2)));
  const Tensor logits = sigma::randn({4, 2}), target = sigma::rand({4, 2}), p = sigma::ones({2}) * 3;
  EXPECT_TRUE(F::binary_cross_entropy_with_logits(logits, target,
                                                 F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(p))
                  .allclose(sigma::binary_cross_entropy_with_logits(logits, target, {}, p)));
}

}  // namespace
