// Tests of sigma::optim::RMSprop (src/optim/rmsprop.cpp): every step against
// a plain double implementation of PyTorch's update (torch/optim/rmsprop.py)
// written here, for every combination of momentum, centered and weight
// decay, in float64 and float32; the state, the defaults, the option checks,
// buffers an option turns on later, and the same bits for any thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace optim = sigma::optim;
using sigma::test::expect_error;
using sigma::test::values;

struct RefRMSprop {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered;
  std::vector<double> v, a, b;
  void step(std::vector<double>& p, std::vector<double> g) {
    if (v.empty()) v = a = b = std::vector<double>(p.size(), 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
      g[i] += weight_decay * p[i];
      v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i];
      double denom;
      if (centered) {
        a[i] = alpha * a[i] + (1 - alpha) * g[i];
        denom = std::sqrt(v[i] - a[i] * a[i]) + eps;
      } else {
        denom = std::sqrt(v[i]) + eps;
      }
      if (momentum > 0) {
        b[i] = momentum * b[i] + g[i] / denom;
        p[i] -= lr * b[i];
      } else {
        p[i] -= lr * g[i] / denom;
      }
    }
  }
};

std::vector<double> grad_at(const std::vector<double>& p, int step) {
  std::vector<double> g(p.size());
  const double scale = (step % 3 == 2) ? 0.1 : 1.0;
  for (std::size_t i = 0; i < p.size(); ++i)
    g[i] = scale * (std::sin(p[i] * static_cast<double>(i + 2)) + 0.3 * p[i] - 0.05);
  return g;
}

void set_grad(const Tensor& p, const std::vector<double>& g) {
  p.mutable_grad() = sigma::tensor(g, sigma::kFloat64).reshape(p.sizes()).to(p.dtype());
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& ref, double rtol,
                     const std::string& what) {
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], ref[i], rtol * (1e-3 + std::fabs(ref[i]))) << what << " element " << i;
}

TEST(RMSpropTest, StepsMatchPyTorchsEquationsForEveryOptionCombination) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-12 : 1e-5;
    for (bool centered : {false, true})
      for (double momentum : {0.0, 0.9})
        for (double wd : {0.0, 0.2})
          for (double alpha : {0.99, 0.5}) {
            const std::string what = "centered " + std::to_string(centered) + " momentum " +
                                     std::to_string(momentum) + " wd " + std::to_string(wd) +
                                     " alpha " + std::to_string(alpha) + " " +
                                     sigma::to_string(dtype);
            const double lr = 0.01, eps = alpha == 0.5 ? 1e-3 : 1e-8;
            Tensor p = sigma::tensor(sigma::test::draw(6, -1, 1, 41), sigma::kFloat64).to(dtype);
            p.requires_grad_();
            optim::RMSprop opt({p}, optim::RMSpropOptions(lr)
                                        .alpha(alpha)
                                        .eps(eps)
                                        .weight_decay(wd)
                                        .momentum(momentum)
                                        .centered(centered));
            RefRMSprop ref{lr, alpha, eps, wd, momentum, centered, {}, {}, {}};
            for (int step = 0; step < 7; ++step) {
              set_grad(p, grad_at(values(p), step));
              std::vector<double> expect = values(p);
              ref.step(expect, values(p.grad()));
              opt.step();
              expect_near_all(values(p), expect, rtol, what + " step " + std::to_string(step));
            }
            const auto& st = static_cast<const optim::RMSpropParamState&>(
                *opt.state().at(p.unsafeGetTensorImpl()));
            EXPECT_EQ(st.step(), 7);
            expect_near_all(values(st.square_avg()), ref.v, rtol, what + " square_avg");
            EXPECT_EQ(st.grad_avg().defined(), centered) << what;
            EXPECT_EQ(st.momentum_buffer().defined(), momentum > 0) << what;
            if (centered) expect_near_all(values(st.grad_avg()), ref.a, rtol, what + " grad_avg");
            if (momentum > 0)
              expect_near_all(values(st.momentum_buffer()), ref.b, rtol, what + " momentum_buffer");
          }
  }
}

TEST(RMSpropTest, FirstStepByHand) {
  // v = (1 - alpha) g^2, so the step is lr g / (sqrt(1 - alpha) |g| + eps).
  Tensor p = sigma::tensor({1.0, -2.0}, sigma::kFloat64).requires_grad_();
  optim::RMSprop opt({p}, optim::RMSpropOptions(0.1).alpha(0.75).eps(0));
  set_grad(p, {2.0, -4.0});
  opt.step();
  const auto v = values(p);
  EXPECT_NEAR(v[0], 1.0 - 0.1 * 2.0 / (0.5 * 2.0), 1e-15);
  EXPECT_NEAR(v[1], -2.0 + 0.1 * 4.0 / (0.5 * 4.0), 1e-15);
}

TEST(RMSpropTest, DefaultsAsLibTorch) {
  const optim::RMSpropOptions o;
  EXPECT_EQ(o.lr(), 1e-2);
  EXPECT_EQ(o.alpha(), 0.99);
  EXPECT_EQ(o.eps(), 1e-8);
  EXPECT_EQ(o.weight_decay(), 0.0);
  EXPECT_EQ(o.momentum(), 0.0);
  EXPECT_FALSE(o.centered());
  EXPECT_TRUE(optim::RMSpropOptions(0.1) == optim::RMSpropOptions(0.1));
  EXPECT_FALSE(optim::RMSpropOptions(0.1) == optim::RMSpropOptions(0.1).centered(true));
  const optim::RMSpropParamState s;
  EXPECT_EQ(s.step(), 0);
  EXPECT_FALSE(s.momentum_buffer().defined());
  EXPECT_FALSE(s.grad_avg().defined());
}

TEST(RMSpropTest, OptionChecks) {
  Tensor p = sigma::zeros({2}).requires_grad_();
  expect_error([&] { optim::RMSprop({p}, optim::RMSpropOptions(-1)); },
               {"RMSprop", "learning rate", "-1"});
  expect_error([&] { optim::RMSprop({p}, optim::RMSpropOptions().eps(-1)); },
               {"RMSprop", "epsilon"});
  expect_error([&] { optim::RMSprop({p}, optim::RMSpropOptions().momentum(-0.5)); },
               {"RMSprop", "momentum", "-0.5"});
  expect_error([&] { optim::RMSprop({p}, optim::RMSpropOptions().weight_decay(-1)); },
               {"RMSprop", "weight_decay"});
  expect_error([&] { optim::RMSprop({p}, optim::RMSpropOptions().alpha(-0.1)); },
               {"RMSprop", "alpha", "-0.1"});
  optim::RMSprop opt({p});
  opt.param_groups()[0].options().lr(std::nan(""));
  p.mutable_grad() = sigma::ones({2});
  expect_error([&] { opt.step(); }, {"RMSprop", "learning rate", "nan"});
}

TEST(RMSpropTest, SkipsParametersWithoutGradAndStartsBuffersTurnedOnLater) {
  Tensor a = sigma::tensor({1.0}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({2.0}, sigma::kFloat64).requires_grad_();
  optim::RMSprop opt({a, b}, optim::RMSpropOptions(0.1).weight_decay(0.5));
  set_grad(a, {1.0});
  opt.step();
  EXPECT_EQ(values(b), (std::vector<double>{2.0}));
  EXPECT_EQ(opt.state().count(b.unsafeGetTensorImpl()), 0u);
  // Momentum and centering switched on after a step: their buffers start at zero.
  auto& o = static_cast<optim::RMSpropOptions&>(opt.param_groups()[0].options());
  RefRMSprop ref{0.1, 0.99, 1e-8, 0.5, 0.0, false, {}, {}, {}};
  std::vector<double> expect = {1.0};
  ref.step(expect, {1.0});
  o.momentum(0.9).centered(true);
  ref.momentum = 0.9;
  ref.centered = true;
  set_grad(a, {-0.5});
  ref.step(expect, {-0.5});
  opt.step();
  expect_near_all(values(a), expect, 1e-14, "after turning momentum and centered on");
}

TEST(RMSpropTest, SameBitsForAnyThreadCount) {
  sigma::test::expect_same_bits_for_any_thread_count(
      [] {
        Tensor p = sigma::test::random_tensor({1 << 16}, sigma::kFloat32, 1).requires_grad_();
        optim::RMSprop opt({p}, optim::RMSpropOptions(1e-2).momentum(0.5).centered(true));
        for (std::uint64_t step = 0; step < 3; ++step) {
          p.mutable_grad() = sigma::test::random_tensor({1 << 16}, sigma::kFloat32, 10 + step);
          opt.step();
        }
        return std::vector<Tensor>{p.detach()};
      },
      "RMSprop");
}

}  // namespace
