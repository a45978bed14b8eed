// sigma's RMSprop, Adagrad, LBFGS and StepLR-driven training against LibTorch's
// torch::optim (Debian libtorch-dev 1.13): the same parameters and the same
// gradients at every step, in float32 and float64, for every combination of
// the options; the parameters and the state compared after each step. LibTorch
// 1.13 has no ExponentialLR, LambdaLR or ReduceLROnPlateau; those are tested
// against PyTorch's rules in schedulers_test.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sigma/optim/adagrad.h"
#include "sigma/optim/lbfgs.h"
#include "sigma/optim/rmsprop.h"
#include "sigma/optim/schedulers.h"
#include "tensor_checks.h"
#include "torch_twin.h"

namespace {

using sigma::test::torch_values;
using sigma::test::values;

const std::vector<std::int64_t> kShape = {3, 4};

struct Pair {
  sigma::Tensor s;
  torch::Tensor t;
};

// The same values (from doubles) in both libraries, of dtype float32 or float64.
Pair make_pair(const std::vector<double>& v, bool f64, bool grad) {
  Pair r{
      sigma::tensor(v, sigma::kFloat64).reshape(kShape).to(f64 ? sigma::kFloat64 : sigma::kFloat32),
      torch::tensor(v, torch::dtype(torch::kDouble))
          .reshape(kShape)
          .to(f64 ? torch::kDouble : torch::kFloat)};
  if (grad) {
    r.s.requires_grad_();
    r.t.requires_grad_();
  }
  return r;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& ref, double rtol,
                  double atol, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], ref[i], atol + rtol * std::fabs(ref[i])) << what << " element " << i;
}

// Runs steps of both optimizers over two parameters with identical gradients;
// check compares the state of parameter 0 after each step.
template <class SOpt, class TOpt>
void run_pair(bool f64,
              const std::function<std::unique_ptr<SOpt>(std::vector<sigma::Tensor>)>& make_s,
              const std::function<std::unique_ptr<TOpt>(std::vector<torch::Tensor>)>& make_t,
              const std::function<void(SOpt&, TOpt&, const Pair&, const std::string&)>& check,
              const std::string& what) {
  const double rtol = f64 ? 1e-12 : 2e-5, atol = f64 ? 1e-14 : 1e-6;
  std::vector<Pair> params = {make_pair(sigma::test::draw(12, -1, 1, 51), f64, true),
                              make_pair(sigma::test::draw(12, -2, 2, 52), f64, true)};
  auto so = make_s({params[0].s, params[1].s});
  auto to = make_t({params[0].t, params[1].t});
  for (int step = 0; step < 8; ++step) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      // Gradients of changing scale, so that the running averages move.
      const double scale = step % 3 == 2 ? 0.05 : 1.0 + step;
      std::vector<double> g = sigma::test::draw(12, -scale, scale, 100 + 10 * step + i);
      const Pair gp = make_pair(g, f64, false);
      params[i].s.mutable_grad() = gp.s;
      params[i].t.mutable_grad() = gp.t;
    }
    so->step();
    to->step();
    const std::string at = what + (f64 ? " float64" : " float32") + " step " + std::to_string(step);
    for (std::size_t i = 0; i < params.size(); ++i)
      expect_close(values(params[i].s), torch_values(params[i].t), rtol, atol,
                   at + " parameter " + std::to_string(i));
    check(*so, *to, params[0], at);
  }
}

template <class S>
const S& torch_state(torch::optim::Optimizer& o, const torch::Tensor& p) {
  return static_cast<const S&>(*o.state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
}

template <class S>
const S& sigma_state(sigma::optim::Optimizer& o, const sigma::Tensor& p) {
  return static_cast<const S&>(*o.state().at(p.unsafeGetTensorImpl()));
}

TEST(TorchParityOptim, RMSpropEveryOptionCombination) {
  for (bool f64 : {false, true})
    for (bool centered : {false, true})
      for (double momentum : {0.0, 0.8})
        for (double wd : {0.0, 0.05}) {
          const double lr = 0.01, alpha = 0.9, eps = 1e-6;
          const std::string what = "RMSprop centered " + std::to_string(centered) + " momentum " +
                                   std::to_string(momentum) + " wd " + std::to_string(wd);
          run_pair<sigma::optim::RMSprop, torch::optim::RMSprop>(
              f64,
              [&](std::vector<sigma::Tensor> p) {
                return std::make_unique<sigma::optim::RMSprop>(p, sigma::optim::RMSpropOptions(lr)
                                                                      .alpha(alpha)
                                                                      .eps(eps)
                                                                      .weight_decay(wd)
                                                                      .momentum(momentum)
                                                                      .centered(centered));
              },
              [&](std::vector<torch::Tensor> p) {
                return std::make_unique<torch::optim::RMSprop>(p, torch::optim::RMSpropOptions(lr)
                                                                      .alpha(alpha)
                                                                      .eps(eps)
                                                                      .weight_decay(wd)
                                                                      .momentum(momentum)
                                                                      .centered(centered));
              },
              [&](sigma::optim::RMSprop& so, torch::optim::RMSprop& to, const Pair& p,
                  const std::string& at) {
                const auto& ss = sigma_state<sigma::optim::RMSpropParamState>(so, p.s);
                const auto& ts = torch_state<torch::optim::RMSpropParamState>(to, p.t);
                EXPECT_EQ(ss.step(), ts.step()) << at;
                const double rtol = f64 ? 1e-12 : 2e-5, atol = f64 ? 1e-14 : 1e-6;
                expect_close(values(ss.square_avg()), torch_values(ts.square_avg()), rtol, atol,
                             at + " square_avg");
                ASSERT_EQ(ss.grad_avg().defined(), ts.grad_avg().defined()) << at;
                ASSERT_EQ(ss.momentum_buffer().defined(), ts.momentum_buffer().defined()) << at;
                if (centered)
                  expect_close(values(ss.grad_avg()), torch_values(ts.grad_avg()), rtol, atol,
                               at + " grad_avg");
                if (momentum > 0)
                  expect_close(values(ss.momentum_buffer()), torch_values(ts.momentum_buffer()),
                               rtol * 10, atol * 10, at + " momentum_buffer");
              },
              what);
        }
}

TEST(TorchParityOptim, AdagradEveryOptionCombination) {
  for (bool f64 : {false, true})
    for (double lr_decay : {0.0, 0.2})
      for (double wd : {0.0, 0.05})
        for (double initial : {0.0, 0.3})
          for (double eps : {1e-10, 1e-3}) {
            const double lr = 0.05;
            const std::string what = "Adagrad lr_decay " + std::to_string(lr_decay) + " wd " +
                                     std::to_string(wd) + " initial " + std::to_string(initial) +
                                     " eps " + std::to_string(eps);
            auto s_options = sigma::optim::AdagradOptions(lr)
                                 .lr_decay(lr_decay)
                                 .weight_decay(wd)
                                 .initial_accumulator_value(initial)
                                 .eps(eps);
            auto t_options = torch::optim::AdagradOptions(lr)
                                 .lr_decay(lr_decay)
                                 .weight_decay(wd)
                                 .initial_accumulator_value(initial)
                                 .eps(eps);
            run_pair<sigma::optim::Adagrad, torch::optim::Adagrad>(
                f64,
                [&](std::vector<sigma::Tensor> p) {
                  auto o = std::make_unique<sigma::optim::Adagrad>(p, s_options);
                  EXPECT_EQ(o->state().size(), 2u);  // made at construction, as LibTorch
                  return o;
                },
                [&](std::vector<torch::Tensor> p) {
                  return std::make_unique<torch::optim::Adagrad>(p, t_options);
                },
                [&](sigma::optim::Adagrad& so, torch::optim::Adagrad& to, const Pair& p,
                    const std::string& at) {
                  const auto& ss = sigma_state<sigma::optim::AdagradParamState>(so, p.s);
                  const auto& ts = torch_state<torch::optim::AdagradParamState>(to, p.t);
                  EXPECT_EQ(ss.step(), ts.step()) << at;
                  const double rtol = f64 ? 1e-12 : 2e-5, atol = f64 ? 1e-14 : 1e-6;
                  expect_close(values(ss.sum()), torch_values(ts.sum()), rtol, atol, at + " sum");
                },
                what);
          }
}

TEST(TorchParityOptim, AdagradStateBeforeAnyStep) {
  const Pair p = make_pair(sigma::test::draw(12, -1, 1, 53), false, true);
  sigma::optim::Adagrad so({p.s}, sigma::optim::AdagradOptions().initial_accumulator_value(0.7));
  torch::optim::Adagrad to({p.t}, torch::optim::AdagradOptions().initial_accumulator_value(0.7));
  const auto& ss = sigma_state<sigma::optim::AdagradParamState>(so, p.s);
  const auto& ts = torch_state<torch::optim::AdagradParamState>(to, p.t);
  EXPECT_EQ(ss.step(), ts.step());
  EXPECT_EQ(values(ss.sum()), torch_values(ts.sum()));
}

// The learning rates StepLR sets, fed into RMSprop in both libraries.
TEST(TorchParityOptim, RMSpropUnderStepLR) {
  const Pair p = make_pair(sigma::test::draw(12, -1, 1, 54), true, true);
  sigma::optim::RMSprop so({p.s}, sigma::optim::RMSpropOptions(0.1).momentum(0.5));
  torch::optim::RMSprop to({p.t}, torch::optim::RMSpropOptions(0.1).momentum(0.5));
  sigma::optim::StepLR ss(so, 2, 0.5);
  torch::optim::StepLR ts(to, 2, 0.5);
  ts.step();  // LibTorch 1.13's StepLR lags PyTorch's by one call (its first step() is a no-op)
  for (int step = 0; step < 7; ++step) {
    const Pair g = make_pair(sigma::test::draw(12, -1, 1, 200 + step), true, false);
    p.s.mutable_grad() = g.s;
    p.t.mutable_grad() = g.t;
    so.step();
    to.step();
    ss.step();
    ts.step();
    EXPECT_EQ(so.param_groups()[0].options().lr(), to.param_groups()[0].options().get_lr());
    expect_close(values(p.s), torch_values(p.t), 1e-12, 1e-14, "step " + std::to_string(step));
  }
}

// LBFGS on a smooth non-quadratic loss coupling two parameters, in float64:
// three step() calls of a few iterations each (history_size 3, so the
// history is cut), with and without the strong-Wolfe search.
TEST(TorchParityOptim, LBFGSWithAndWithoutStrongWolfe) {
  for (bool wolfe : {false, true})
    for (double lr : {1.0, 0.5}) {
      const std::string what = std::string("LBFGS ") + (wolfe ? "strong_wolfe" : "no line search") +
                               " lr " + std::to_string(lr);
      const std::vector<double> xv = {1.0, -0.5, 2.0}, yv = {0.3, -1.2, 0.8, 1.5};
      sigma::Tensor sx = sigma::tensor(xv, sigma::kFloat64).requires_grad_();
      sigma::Tensor sy = sigma::tensor(yv, sigma::kFloat64).reshape({2, 2}).requires_grad_();
      torch::Tensor tx = torch::tensor(xv, torch::kDouble).requires_grad_();
      torch::Tensor ty = torch::tensor(yv, torch::kDouble).reshape({2, 2}).requires_grad_();
      auto s_options = sigma::optim::LBFGSOptions(lr).max_iter(4).history_size(3);
      auto t_options = torch::optim::LBFGSOptions(lr).max_iter(4).history_size(3);
      if (wolfe) {
        s_options.line_search_fn("strong_wolfe");
        t_options.line_search_fn("strong_wolfe");
      }
      sigma::optim::LBFGS so({sx, sy}, s_options);
      torch::optim::LBFGS to({tx, ty}, t_options);
      const sigma::Tensor sc = sigma::tensor({1.0, 2.0, 3.0}, sigma::kFloat64);
      const torch::Tensor tc = torch::tensor({1.0, 2.0, 3.0}, torch::kDouble);
      int s_calls = 0, t_calls = 0;
      auto s_closure = [&] {
        ++s_calls;
        so.zero_grad();
        sigma::Tensor l = (sc * (sx - 0.5) * (sx - 0.5)).sum() + (sy * sy * sy * sy).sum() * 0.25 +
                          sx.sum() * sy.sum() * sx.sum() * sy.sum() * 0.1;
        l.backward();
        return l;
      };
      auto t_closure = [&] {
        ++t_calls;
        to.zero_grad();
        torch::Tensor l = (tc * (tx - 0.5) * (tx - 0.5)).sum() + (ty * ty * ty * ty).sum() * 0.25 +
                          tx.sum() * ty.sum() * tx.sum() * ty.sum() * 0.1;
        l.backward();
        return l;
      };
      for (int step = 0; step < 3; ++step) {
        const double sl = so.step(s_closure).item<double>();
        const double tl = to.step(t_closure).item<double>();
        const std::string at = what + " step " + std::to_string(step);
        EXPECT_NEAR(sl, tl, 1e-12 * (1 + std::fabs(tl))) << at << " loss";
        EXPECT_EQ(s_calls, t_calls) << at << " closure calls";
        expect_close(values(sx), torch_values(tx), 1e-10, 1e-12, at + " x");
        expect_close(values(sy), torch_values(ty), 1e-10, 1e-12, at + " y");
        const auto& ss = sigma_state<sigma::optim::LBFGSParamState>(so, sx);
        const auto& ts = torch_state<torch::optim::LBFGSParamState>(to, tx);
        EXPECT_EQ(ss.n_iter(), ts.n_iter()) << at;
        EXPECT_EQ(ss.func_evals(), ts.func_evals()) << at;
        EXPECT_EQ(ss.old_dirs().size(), ts.old_dirs().size()) << at;
      }
    }
}

}  // namespace
