// Tests of sigma::optim::Adam and AdamW (src/optim/adam.cpp): every step
// against a plain double implementation of PyTorch's updates
// (torch/optim/adam.py, adamw.py) written here, with weight decay (L2 for
// Adam, decoupled for AdamW), AMSGrad, other betas and eps; the state, the
// defaults, the option checks, and convergence on a quadratic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace optim = sigma::optim;
using sigma::test::expect_error;
using sigma::test::values;

// PyTorch's Adam (decoupled = false) or AdamW (decoupled = true) on one
// parameter, in double.
struct RefAdam {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, decoupled;
  std::vector<double> m, v, vmax;
  int t = 0;
  void step(std::vector<double>& p, std::vector<double> g) {
    if (m.empty()) m = v = vmax = std::vector<double>(p.size(), 0.0);
    ++t;
    const double bc1 = 1 - std::pow(beta1, t), bc2 = 1 - std::pow(beta2, t);
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (decoupled)
        p[i] *= 1 - lr * weight_decay;
      else
        g[i] += weight_decay * p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      vmax[i] = std::max(vmax[i], v[i]);
      const double denom = std::sqrt(amsgrad ? vmax[i] : v[i]) / std::sqrt(bc2) + eps;
      p[i] -= lr / bc1 * m[i] / denom;
    }
  }
};

std::vector<double> grad_at(const std::vector<double>& p, int step) {
  std::vector<double> g(p.size());
  // Gradients that shrink at some steps, so AMSGrad's max differs from v.
  const double scale = (step % 3 == 2) ? 0.05 : 1.0;
  for (std::size_t i = 0; i < p.size(); ++i)
    g[i] = scale * (std::cos(p[i] * static_cast<double>(i + 1)) + 0.2 * p[i] - 0.1);
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

struct Variant {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad;
};

const std::vector<Variant> kVariants = {
    {1e-3, 0.9, 0.999, 1e-8, 0, false}, {0.05, 0.9, 0.999, 1e-8, 0.1, false},
    {0.05, 0.9, 0.999, 1e-8, 0, true},  {0.02, 0.5, 0.9, 1e-3, 0.3, true},
    {0.1, 0.0, 0.5, 0.1, 0, false},
};

// One optimizer (Adam or AdamW) against RefAdam for every variant, dtype and step.
template <class Opt, class Options>
void check_against_reference(bool decoupled) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-12 : 1e-5;
    for (const auto& c : kVariants) {
      const std::string what = std::string(decoupled ? "AdamW" : "Adam") + " lr " +
                               std::to_string(c.lr) + " betas " + std::to_string(c.beta1) + "," +
                               std::to_string(c.beta2) + " wd " + std::to_string(c.weight_decay) +
                               " amsgrad " + std::to_string(c.amsgrad) + " " +
                               sigma::to_string(dtype);
      const auto options = Options(c.lr)
                               .betas(std::make_tuple(c.beta1, c.beta2))
                               .eps(c.eps)
                               .weight_decay(c.weight_decay)
                               .amsgrad(c.amsgrad);
      // Step by step from sigma's own parameter (in its dtype).
      Tensor p = sigma::tensor(sigma::test::draw(5, -1, 1, 31), sigma::kFloat64).to(dtype);
      p.requires_grad_();
      Opt opt({p}, options);
      RefAdam ref{c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.amsgrad, decoupled, {}, {}, {}};
      for (int step = 0; step < 8; ++step) {
        set_grad(p, grad_at(values(p), step));
        std::vector<double> expect = values(p);
        ref.step(expect, values(p.grad()));
        opt.step();
        expect_near_all(values(p), expect, rtol, what + " step " + std::to_string(step));
      }
      const auto& st = static_cast<const optim::AdamParamState&>(
          *opt.state().at(p.unsafeGetTensorImpl()));
      EXPECT_EQ(st.step(), 8);
      expect_near_all(values(st.exp_avg()), ref.m, rtol, what + " exp_avg");
      expect_near_all(values(st.exp_avg_sq()), ref.v, rtol, what + " exp_avg_sq");
      EXPECT_EQ(st.max_exp_avg_sq().defined(), c.amsgrad);
      if (c.amsgrad) expect_near_all(values(st.max_exp_avg_sq()), ref.vmax, rtol, what + " max");
    }
  }
  // The whole float64 trajectory against the reference alone.
  for (const auto& c : kVariants) {
    std::vector<double> q = sigma::test::draw(5, -1, 1, 37);
    Tensor p = sigma::tensor(q, sigma::kFloat64).requires_grad_();
    Opt opt({p}, Options(c.lr)
                     .betas(std::make_tuple(c.beta1, c.beta2))
                     .eps(c.eps)
                     .weight_decay(c.weight_decay)
                     .amsgrad(c.amsgrad));
    RefAdam ref{c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.amsgrad, decoupled, {}, {}, {}};
    for (int step = 0; step < 12; ++step) {
      set_grad(p, grad_at(values(p), step));
      opt.step();
      ref.step(q, grad_at(q, step));
    }
    expect_near_all(values(p), q, 1e-11, "trajectory");
  }
}

TEST(AdamTest, StepsMatchPyTorchsEquations) {
  check_against_reference<optim::Adam, optim::AdamOptions>(false);
}

TEST(AdamWTest, StepsMatchPyTorchsEquations) {
  check_against_reference<optim::AdamW, optim::AdamWOptions>(true);
}

TEST(AdamTest, AmsgradDiffersFromAdamWhenGradientsShrink) {
  // Guards the reference itself: with the shrinking gradients the max matters.
  std::vector<double> a = {0.5}, b = {0.5};
  RefAdam plain{0.05, 0.9, 0.999, 1e-8, 0, false, false, {}, {}, {}};
  RefAdam ams{0.05, 0.9, 0.999, 1e-8, 0, true, false, {}, {}, {}};
  for (int step = 0; step < 6; ++step) {
    plain.step(a, grad_at(a, step));
    ams.step(b, grad_at(b, step));
  }
  EXPECT_GT(std::fabs(a[0] - b[0]), 1e-6);
}

TEST(AdamTest, DefaultsAsLibTorch) {
  const optim::AdamOptions a;
  EXPECT_EQ(a.lr(), 1e-3);
  EXPECT_EQ(a.betas(), std::make_tuple(0.9, 0.999));
  EXPECT_EQ(a.eps(), 1e-8);
  EXPECT_EQ(a.weight_decay(), 0.0);
  EXPECT_FALSE(a.amsgrad());
  const optim::AdamWOptions w;
  EXPECT_EQ(w.lr(), 1e-3);
  EXPECT_EQ(w.weight_decay(), 1e-2);
  EXPECT_TRUE(optim::AdamOptions(0.1) == optim::AdamOptions(0.1));
  EXPECT_FALSE(optim::AdamOptions(0.1) == optim::AdamOptions(0.1).amsgrad(true));
}

TEST(AdamTest, FirstStepMovesEachParameterByAboutLr) {
  // After bias correction m = g and sqrt(v) = |g|: the step is lr g / (|g| + eps).
  Tensor p = sigma::tensor({1.0, -1.0, 3.0}, sigma::kFloat64).requires_grad_();
  optim::Adam opt({p}, optim::AdamOptions(0.01));
  set_grad(p, {2.0, -0.001, 1e3});
  opt.step();
  const auto v = values(p);
  EXPECT_NEAR(v[0], 1.0 - 0.01, 1e-9);
  EXPECT_NEAR(v[1], -1.0 + 0.01, 1e-7);
  EXPECT_NEAR(v[2], 3.0 - 0.01, 1e-9);
}

TEST(AdamTest, SkipsParametersWithoutGradAndLowPrecision) {
  Tensor a = sigma::tensor({1.0}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({2.0}, sigma::kFloat64).requires_grad_();
  optim::AdamW opt({a, b}, optim::AdamWOptions(0.1));
  set_grad(a, {1.0});
  opt.step();
  EXPECT_EQ(values(b), (std::vector<double>{2.0}));  // no grad: not even decayed
  EXPECT_EQ(opt.state().count(b.unsafeGetTensorImpl()), 0u);
  for (auto dtype : {sigma::kBFloat16, sigma::kHalf}) {
    Tensor p = sigma::tensor({1.0, -2.0}, sigma::kFloat64).to(dtype).requires_grad_();
    optim::Adam adam({p}, optim::AdamOptions(0.25));
    set_grad(p, {3.0, -1.0});
    adam.step();
    EXPECT_EQ(p.dtype(), dtype);
    const auto v = values(p);
    EXPECT_NEAR(v[0], 0.75, 0.01);
    EXPECT_NEAR(v[1], -1.75, 0.01);
  }
}

TEST(AdamTest, OptionChecks) {
  Tensor p = sigma::zeros({2}).requires_grad_();
  expect_error([&] { optim::Adam({p}, optim::AdamOptions(-1)); }, {"Adam", "learning rate"});
  expect_error([&] { optim::Adam({p}, optim::AdamOptions().eps(-1e-8)); }, {"Adam", "epsilon"});
  expect_error([&] { optim::Adam({p}, optim::AdamOptions().betas(std::make_tuple(1.0, 0.9))); },
               {"Adam", "beta parameter at index 0", "1"});
  expect_error([&] { optim::AdamW({p}, optim::AdamWOptions().betas(std::make_tuple(0.9, -0.1))); },
               {"AdamW", "beta parameter at index 1", "-0.1"});
  expect_error([&] { optim::AdamW({p}, optim::AdamWOptions().weight_decay(-1)); },
               {"AdamW", "weight_decay"});
}

// A parameter above the update loop's grain (kUpdateGrain): the same bits
// for any thread count.
TEST(AdamTest, SameBitsForAnyThreadCount) {
  sigma::test::expect_same_bits_for_any_thread_count(
      [] {
        Tensor p = sigma::test::random_tensor({1 << 17}, sigma::kFloat32, 1).requires_grad_();
        optim::Adam opt({p}, optim::AdamOptions(1e-2).amsgrad(true));
        for (std::uint64_t step = 0; step < 3; ++step) {
          p.mutable_grad() = sigma::test::random_tensor({1 << 17}, sigma::kFloat32, 10 + step);
          opt.step();
        }
        return std::vector<Tensor>{p.detach()};
      },
      "Adam");
}

TEST(AdamTest, ConvergesOnAQuadratic) {
  const Tensor c = sigma::tensor({1.5, -2.0, 0.25, 3.0}, sigma::kFloat64);
  const Tensor s = sigma::tensor({1.0, 0.5, 2.0, 0.1}, sigma::kFloat64);
  for (bool amsgrad : {false, true}) {
    Tensor p = sigma::zeros({4}, sigma::kFloat64).requires_grad_();
    optim::Adam opt({p}, optim::AdamOptions(0.05).amsgrad(amsgrad));
    for (int i = 0; i < 3000; ++i) {
      opt.zero_grad();
      (s * (p - c).square()).sum().backward();
      opt.step();
    }
    const auto pv = values(p), cv = values(c);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(pv[i], cv[i], 1e-4) << amsgrad << " " << i;
  }
  // AdamW without decay is Adam: it reaches the minimum too.
  Tensor p = sigma::zeros({4}, sigma::kFloat64).requires_grad_();
  optim::AdamW opt({p}, optim::AdamWOptions(0.05).weight_decay(0.0));
  for (int i = 0; i < 3000; ++i) {
    opt.zero_grad();
    (s * (p - c).square()).sum().backward();
    opt.step();
  }
  const auto pv = values(p), cv = values(c);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(pv[i], cv[i], 1e-4) << i;
}

}  // namespace
