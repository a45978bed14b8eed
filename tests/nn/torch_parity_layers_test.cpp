// LibTorch parity of the layers (src/ops/{conv,batch_norm,pool,
// layer_activation}.cpp, src/nn/layers.cpp): each op on the same float32
// values in both libraries, forward values and gradients; each module with
// LibTorch's parameters copied in by name, outputs, input gradients and every
// parameter gradient, and BatchNorm's running stats after training steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "torch_twin.h"

namespace {

using sigma::Tensor;
using sigma::test::Shape;
using sigma::test::torch_values;
using sigma::test::twin;
using sigma::test::values;

void expect_close(const Tensor& s, const torch::Tensor& t, double tol, const std::string& what) {
  ASSERT_TRUE(s.defined()) << what << ": sigma's tensor is undefined";
  ASSERT_TRUE(t.defined()) << what << ": LibTorch's tensor is undefined";
  ASSERT_EQ(s.sizes().vec(), t.sizes().vec()) << what;
  const auto a = values(s), b = torch_values(t);
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << what << " element " << i;
}

// Copies LibTorch's parameters and buffers into sigma's module by name.
void copy_state(const torch::nn::Module& from, sigma::nn::Module& to) {
  sigma::NoGradGuard no_grad;
  auto sp = to.named_parameters();
  for (const auto& item : from.named_parameters()) {
    Tensor* p = sp.find(item.key());
    ASSERT_NE(p, nullptr) << "sigma has no parameter " << item.key();
    p->copy_(sigma::test::to_sigma(item.value()));
  }
}

// Forward on the same input, backward of sum(y * r) with the same r: output,
// input gradient and every parameter gradient.
template <class SM, class TM>
void compare_module(SM& s, TM& t, const Shape& input_shape, double tol, std::uint64_t seed,
                    const std::string& what) {
  auto x = twin(input_shape, -2, 2, seed, true);
  const Tensor ys = s(x.s);
  const torch::Tensor yt = t(x.t);
  expect_close(ys, yt, tol, what + " output");
  auto r = twin(ys.sizes().vec(), -1, 1, seed + 1);
  (ys * r.s).sum().backward();
  (yt * r.t).sum().backward();
  expect_close(x.s.grad(), x.t.grad(), tol, what + " input grad");
  auto sp = s->named_parameters();
  for (const auto& item : t->named_parameters())
    expect_close(sp[item.key()].grad(), item.value().grad(), tol, what + " grad of " + item.key());
}

TEST(TorchParityLayers, Conv2dModules) {
  struct Case { torch::nn::Conv2dOptions t; sigma::nn::Conv2dOptions s; Shape x; };
  const std::vector<Case> cases = {
      {torch::nn::Conv2dOptions(3, 4, 3), sigma::nn::Conv2dOptions(3, 4, 3), {2, 3, 7, 6}},
      {torch::nn::Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding({1, 2}).dilation({1, 2}).groups(2),
       sigma::nn::Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding({1, 2}).dilation({1, 2}).groups(2),
       {2, 4, 9, 8}},
      {torch::nn::Conv2dOptions(3, 5, 1).bias(false), sigma::nn::Conv2dOptions(3, 5, 1).bias(false),
       {3, 3, 4, 5}},
      {torch::nn::Conv2dOptions(2, 4, {3, 4}).padding(torch::kSame),
       sigma::nn::Conv2dOptions(2, 4, {3, 4}).padding(sigma::kSame), {1, 2, 6, 7}},
      {torch::nn::Conv2dOptions(16, 32, 3).padding(1), sigma::nn::Conv2dOptions(16, 32, 3).padding(1),
       {4, 16, 12, 12}},
  };
  std::uint64_t seed = 1;
  for (const auto& c : cases) {
    torch::nn::Conv2d t(c.t);
    sigma::nn::Conv2d s(c.s);
    copy_state(*t, *s);
    seed += 10;
    compare_module(s, t, c.x, 2e-5, seed, "Conv2d case " + std::to_string(seed));
  }
}

TEST(TorchParityLayers, Conv1dModule) {
  torch::nn::Conv1d t(torch::nn::Conv1dOptions(4, 6, 3).stride(2).padding(1).dilation(2).groups(2));
  sigma::nn::Conv1d s(sigma::nn::Conv1dOptions(4, 6, 3).stride(2).padding(1).dilation(2).groups(2));
  copy_state(*t, *s);
  compare_module(s, t, {3, 4, 11}, 2e-5, 100, "Conv1d");
}

TEST(TorchParityLayers, BatchNormModulesOverTrainingSteps) {
  torch::nn::BatchNorm2d t(torch::nn::BatchNorm2dOptions(3).momentum(0.3).eps(1e-3));
  sigma::nn::BatchNorm2d s(sigma::nn::BatchNormOptions(3).momentum(0.3).eps(1e-3));
  {
    torch::NoGradGuard g;
    t->weight.uniform_(0.5, 1.5);
    t->bias.uniform_(-0.5, 0.5);
  }
  copy_state(*t, *s);
  for (int step = 0; step < 3; ++step) {
    s->zero_grad();
    t->zero_grad();
    compare_module(s, t, {4, 3, 5, 3}, 2e-5, 200 + 10 * step, "BatchNorm2d step " + std::to_string(step));
  }
  expect_close(s->running_mean, t->running_mean, 1e-6, "running_mean");
  expect_close(s->running_var, t->running_var, 1e-6, "running_var");
  EXPECT_EQ(s->num_batches_tracked.item<std::int64_t>(), t->num_batches_tracked.item<std::int64_t>());
  s->eval();
  t->eval();
  compare_module(s, t, {2, 3, 4, 4}, 2e-5, 300, "BatchNorm2d eval");

  // BatchNorm1d on [N, C] and [N, C, L], momentum nullopt (cumulative average).
  torch::nn::BatchNorm1d t1(torch::nn::BatchNorm1dOptions(4).momentum(c10::nullopt));
  sigma::nn::BatchNorm1d s1(sigma::nn::BatchNormOptions(4).momentum(std::nullopt));
  copy_state(*t1, *s1);
  compare_module(s1, t1, {6, 4}, 2e-5, 400, "BatchNorm1d 2-D");
  compare_module(s1, t1, {3, 4, 5}, 2e-5, 410, "BatchNorm1d 3-D");
  expect_close(s1->running_mean, t1->running_mean, 1e-6, "BatchNorm1d running_mean");
  expect_close(s1->running_var, t1->running_var, 1e-6, "BatchNorm1d running_var");
}

TEST(TorchParityLayers, PoolingModules) {
  {
    torch::nn::MaxPool2d t(torch::nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
    sigma::nn::MaxPool2d s(sigma::nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
    compare_module(s, t, {2, 3, 8, 9}, 0, 500, "MaxPool2d");
    auto x = twin({2, 3, 8, 9}, -2, 2, 510);
    auto [sv, si] = s->forward_with_indices(x.s);
    auto [tv, ti] = t->forward_with_indices(x.t);
    EXPECT_EQ(si.to_vector<std::int64_t>(),
              std::vector<std::int64_t>(ti.data_ptr<std::int64_t>(), ti.data_ptr<std::int64_t>() + ti.numel()));
  }
  {
    torch::nn::MaxPool2d t(torch::nn::MaxPool2dOptions({2, 3}).stride(1).dilation({2, 1}));
    sigma::nn::MaxPool2d s(sigma::nn::MaxPool2dOptions({2, 3}).stride(1).dilation({2, 1}));
    compare_module(s, t, {1, 2, 6, 7}, 0, 520, "MaxPool2d dilated");
  }
  {
    torch::nn::MaxPool1d t(torch::nn::MaxPool1dOptions(3).stride(2).padding(1));
    sigma::nn::MaxPool1d s(sigma::nn::MaxPool1dOptions(3).stride(2).padding(1));
    compare_module(s, t, {2, 3, 10}, 0, 530, "MaxPool1d");
  }
  for (bool include : {true, false})
    for (bool ceil : {true, false}) {
      torch::nn::AvgPool2d t(torch::nn::AvgPool2dOptions({3, 2}).stride(2).padding(1).ceil_mode(ceil).count_include_pad(include));
      sigma::nn::AvgPool2d s(sigma::nn::AvgPool2dOptions({3, 2}).stride(2).padding(1).ceil_mode(ceil).count_include_pad(include));
      compare_module(s, t, {2, 2, 7, 6}, 1e-6, 540, "AvgPool2d");
    }
  {
    torch::nn::AvgPool2d t(torch::nn::AvgPool2dOptions(2).divisor_override(3));
    sigma::nn::AvgPool2d s(sigma::nn::AvgPool2dOptions(2).divisor_override(3));
    compare_module(s, t, {2, 2, 6, 6}, 1e-6, 550, "AvgPool2d divisor_override");
  }
  {
    torch::nn::AdaptiveAvgPool2d t(torch::nn::AdaptiveAvgPool2dOptions({3, 5}));
    sigma::nn::AdaptiveAvgPool2d s(sigma::nn::AdaptiveAvgPool2dOptions({3, 5}));
    compare_module(s, t, {2, 3, 7, 11}, 1e-6, 560, "AdaptiveAvgPool2d");
  }
}

TEST(TorchParityLayers, ActivationsAndOps) {
  {
    torch::nn::LeakyReLU t(torch::nn::LeakyReLUOptions().negative_slope(0.2));
    sigma::nn::LeakyReLU s(sigma::nn::LeakyReLUOptions().negative_slope(0.2));
    compare_module(s, t, {3, 7}, 1e-7, 600, "LeakyReLU");
  }
  {
    torch::nn::ELU t(torch::nn::ELUOptions().alpha(1.3));
    sigma::nn::ELU s(sigma::nn::ELUOptions().alpha(1.3));
    compare_module(s, t, {3, 7}, 1e-6, 610, "ELU");
  }
  {
    torch::nn::Hardtanh t(torch::nn::HardtanhOptions().min_val(-0.5).max_val(1.5));
    sigma::nn::Hardtanh s(sigma::nn::HardtanhOptions().min_val(-0.5).max_val(1.5));
    compare_module(s, t, {3, 7}, 0, 620, "Hardtanh");
  }
  // The torch:: ops with the same arguments, float64.
  auto x = twin({2, 4, 6, 5}, -1, 1, 700, true);
  auto w = twin({6, 2, 3, 2}, -1, 1, 701, true);
  auto b = twin({6}, -1, 1, 702, true);
  const Tensor ys = sigma::conv2d(x.s, w.s, b.s, {2, 1}, {1, 0}, {1, 2}, 2);
  const torch::Tensor yt = torch::conv2d(x.t, w.t, b.t, {2, 1}, {1, 0}, {1, 2}, 2);
  expect_close(ys, yt, 2e-5, "torch::conv2d");
  ys.sum().backward();
  yt.sum().backward();
  expect_close(x.s.grad(), x.t.grad(), 2e-5, "conv2d dx");
  expect_close(w.s.grad(), w.t.grad(), 2e-5, "conv2d dw");
  expect_close(b.s.grad(), b.t.grad(), 2e-5, "conv2d db");
  auto v = twin({3, 2, 5}, -1, 1, 710);
  auto rm = twin({2}, -1, 1, 711), rv = twin({2}, 0.5, 1.5, 712);
  expect_close(sigma::batch_norm(v.s, {}, {}, rm.s, rv.s, false, 0.1, 1e-5),
               torch::batch_norm(v.t, {}, {}, rm.t, rv.t, false, 0.1, 1e-5, false), 1e-6,
               "torch::batch_norm eval");
  expect_close(sigma::adaptive_avg_pool2d(x.s, {4, 3}), torch::adaptive_avg_pool2d(x.t, {4, 3}),
               1e-6, "adaptive_avg_pool2d");
  expect_close(sigma::elu(x.s, 0.7, 1.2, 0.9), torch::elu(x.t, 0.7, 1.2, 0.9), 1e-6, "elu scales");
}

}  // namespace
