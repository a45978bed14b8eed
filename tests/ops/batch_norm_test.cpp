// Tests of src/ops/batch_norm.cpp: training and eval outputs against the
// formulas evaluated here in double, the running-stat update (biased var for
// normalising, unbiased for running_var), a hand-computed case, gradients by
// central differences (gradcheck, float64) in both modes with and without
// weight and bias, and the error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;

TEST(BatchNorm, HandComputedTraining) {
  // One channel holding 1, 2, 3, 4 (N = 2, L = 2): mean 2.5, biased var
  // 1.25, unbiased 5/3. eps 0: y = (x - 2.5) / sqrt(1.25).
  const Tensor x = sigma::tensor({1.0, 2.0, 3.0, 4.0}, sigma::kFloat64).reshape({2, 1, 2});
  Tensor rm = sigma::zeros({1}, sigma::kFloat64), rv = sigma::ones({1}, sigma::kFloat64);
  const Tensor y = sigma::batch_norm(x, {}, {}, rm, rv, true, 0.1, 0.0);
  const double s = std::sqrt(1.25);
  const auto yv = values(y);
  const std::vector<double> want = {-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(yv[i], want[i], 1e-15);
  EXPECT_NEAR(values(rm)[0], 0.25, 1e-15);                  // 0.9 * 0 + 0.1 * 2.5
  EXPECT_NEAR(values(rv)[0], 0.9 + 0.1 * 5.0 / 3.0, 1e-15);  // unbiased var
}

// y = (x - mean_c) / sqrt(var_c + eps) w_c + b_c from the given stats.
std::vector<double> reference(const Tensor& x, const std::vector<double>& mean,
                              const std::vector<double>& var, const std::vector<double>& w,
                              const std::vector<double>& b, double eps) {
  const auto xv = values(x);
  const std::int64_t C = x.size(1), S = x.numel() / (x.size(0) * C);
  std::vector<double> y(xv.size());
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const auto c = static_cast<std::size_t>((static_cast<std::int64_t>(i) / S) % C);
    y[i] = (xv[i] - mean[c]) / std::sqrt(var[c] + eps) * w[c] + b[c];
  }
  return y;
}

TEST(BatchNorm, TrainingAndEvalMatchFormulas) {
  const Tensor x = random_tensor({4, 3, 2, 5}, sigma::kFloat64, 3, -2, 3);
  const auto xv = values(x);
  const std::vector<double> w = {0.5, -1.5, 2.0}, b = {0.1, 0.2, -0.3};
  std::vector<double> mean(3, 0), var(3, 0);
  for (std::size_t i = 0; i < xv.size(); ++i) mean[(i / 10) % 3] += xv[i] / 40;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const double d = xv[i] - mean[(i / 10) % 3];
    var[(i / 10) % 3] += d * d / 40;
  }
  const Tensor wt = sigma::tensor(w, sigma::kFloat64), bt = sigma::tensor(b, sigma::kFloat64);
  const std::vector<double> rm0 = {0.3, -0.2, 1.0}, rv0 = {2.0, 0.5, 1.5};
  Tensor rm = sigma::tensor(rm0, sigma::kFloat64), rv = sigma::tensor(rv0, sigma::kFloat64);
  const Tensor y = sigma::batch_norm(x, wt, bt, rm, rv, true, 0.2, 1e-3);
  const auto want = reference(x, mean, var, w, b, 1e-3);
  const auto yv = values(y);
  for (std::size_t i = 0; i < yv.size(); ++i) ASSERT_NEAR(yv[i], want[i], 1e-13);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(values(rm)[c], 0.8 * rm0[c] + 0.2 * mean[c], 1e-14);
    EXPECT_NEAR(values(rv)[c], 0.8 * rv0[c] + 0.2 * var[c] * 40 / 39, 1e-14);
  }
  // Eval: the running stats, which stay unchanged.
  const auto rm1 = values(rm), rv1 = values(rv);
  const Tensor ye = sigma::batch_norm(x, wt, bt, rm, rv, false, 0.2, 1e-3);
  const auto want_e = reference(x, rm1, rv1, w, b, 1e-3);
  const auto yev = values(ye);
  for (std::size_t i = 0; i < yev.size(); ++i) ASSERT_NEAR(yev[i], want_e[i], 1e-13);
  EXPECT_EQ(values(rm), rm1);
  // float32 input, float32 stats.
  Tensor rm32 = sigma::zeros({3}), rv32 = sigma::ones({3});
  const Tensor y32 = sigma::batch_norm(x.to(sigma::kFloat32), wt.to(sigma::kFloat32),
                                       bt.to(sigma::kFloat32), rm32, rv32, true, 0.2, 1e-3);
  const auto y32v = values(y32);
  for (std::size_t i = 0; i < y32v.size(); ++i) ASSERT_NEAR(y32v[i], want[i], 1e-5);
  // No running stats in training: only the output.
  EXPECT_TRUE(sigma::batch_norm(x, wt, bt, {}, {}, true, 0.2, 1e-3).allclose(y, 0, 1e-15));
}

TEST(BatchNorm, Gradcheck) {
  const Tensor x = random_tensor({3, 2, 4}, sigma::kFloat64, 10).requires_grad_();
  const Tensor w = random_tensor({2}, sigma::kFloat64, 11, 0.5, 2).requires_grad_();
  const Tensor b = random_tensor({2}, sigma::kFloat64, 12).requires_grad_();
  const Tensor rm = random_tensor({2}, sigma::kFloat64, 13);
  const Tensor rv = random_tensor({2}, sigma::kFloat64, 14, 0.5, 2);
  for (bool training : {true, false}) {
    const auto r = sigma::gradcheck(
        [&](const sigma::TensorList& in) {
          return sigma::batch_norm(in[0], in[1], in[2], training ? Tensor() : rm,
                                   training ? Tensor() : rv, training, 0.1, 1e-5);
        },
        {x, w, b});
    EXPECT_TRUE(r.ok) << (training ? "training: " : "eval: ") << r.message;
    const auto r2 = sigma::gradcheck(
        [&](const sigma::TensorList& in) {
          return sigma::batch_norm(in[0], {}, {}, training ? Tensor() : rm,
                                   training ? Tensor() : rv, training, 0.1, 1e-5);
        },
        {x});
    EXPECT_TRUE(r2.ok) << r2.message;
  }
  // [N, C] input.
  const auto r3 = sigma::gradcheck(
      [&](const sigma::TensorList& in) {
        return sigma::batch_norm(in[0], in[1], in[2], {}, {}, true, 0.1, 1e-5);
      },
      {random_tensor({5, 2}, sigma::kFloat64, 15).requires_grad_(), w, b});
  EXPECT_TRUE(r3.ok) << r3.message;
}

TEST(BatchNorm, Errors) {
  const Tensor x = sigma::zeros({2, 3, 4});
  expect_error([&] { sigma::batch_norm(x, sigma::ones({2}), {}, {}, {}, true, 0.1, 1e-5); },
               {"batch_norm", "weight", "[3]", "[2]"});
  expect_error([&] { sigma::batch_norm(x, {}, {}, {}, {}, false, 0.1, 1e-5); },
               {"batch_norm", "running_mean", "evaluation mode"});
  expect_error([&] { sigma::batch_norm(sigma::zeros({3}), {}, {}, {}, {}, true, 0.1, 1e-5); },
               {"batch_norm", "at least 2 dimensions", "[3]"});
  expect_error(
      [&] { sigma::batch_norm(x, sigma::ones({3}, sigma::kFloat64), {}, {}, {}, true, 0.1, 1e-5); },
      {"batch_norm", "float32", "float64"});
}

}  // namespace
