// Tests of src/ops/nll_loss.cpp: nll_loss and cross_entropy against long
// double references written from PyTorch's documented formulas, for 1-D, 2-D
// and 4-D inputs (the class dimension moved last must keep the target's
// order), class weights, ignore_index, label_smoothing, class-probability
// targets and every reduction; gradients by central differences; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "ulp.h"

namespace {

using sigma::Tensor;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::Shape;
using LD = long double;

// One element of the loss: its C scores, its target (or probabilities),
// computed independently: log_softmax in long double.
std::vector<LD> ld_log_softmax(const std::vector<LD>& x) {
  LD m = -INFINITY, s = 0;
  for (LD v : x) m = std::max(m, v);
  for (LD v : x) s += std::exp(v - m);
  std::vector<LD> out;
  for (LD v : x) out.push_back(v - m - std::log(s));
  return out;
}

// Input [N, C, H, W] values (row-major) -> per (n, h, w) element its C scores.
std::vector<std::vector<LD>> rows(const std::vector<double>& v, std::int64_t n, std::int64_t c,
                                  std::int64_t hw) {
  std::vector<std::vector<LD>> r;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t p = 0; p < hw; ++p) {
      std::vector<LD> row;
      for (std::int64_t k = 0; k < c; ++k) row.push_back(v[static_cast<std::size_t>((i * c + k) * hw + p)]);
      r.push_back(row);
    }
  return r;
}

struct Ref {
  std::vector<LD> none;
  LD sum = 0, mean = 0;
};

// cross_entropy with class indices (PyTorch's definition, label smoothing eps):
// per element (1 - eps) w[t] (-logp[t]) + eps / C sum_c w_c (-logp_c), 0 when
// ignored; mean divides both parts by sum w[t] over the elements kept.
Ref ld_cross_entropy(const std::vector<std::vector<LD>>& x, const std::vector<std::int64_t>& t,
                     const std::vector<double>& w, std::int64_t ignore, LD eps, bool log_input) {
  Ref r;
  LD wsum = 0;
  for (std::size_t m = 0; m < x.size(); ++m) {
    if (t[m] == ignore) {
      r.none.push_back(0);
      continue;
    }
    const auto lp = log_input ? x[m] : ld_log_softmax(x[m]);
    const std::size_t C = lp.size();
    const auto wc = [&](std::size_t c) { return w.empty() ? 1.0L : static_cast<LD>(w[c]); };
    LD smooth = 0;
    for (std::size_t c = 0; c < C; ++c) smooth -= wc(c) * lp[c];
    const LD l = (1 - eps) * -wc(static_cast<std::size_t>(t[m])) * lp[static_cast<std::size_t>(t[m])] +
                 eps / static_cast<LD>(C) * smooth;
    r.none.push_back(l);
    r.sum += l;
    wsum += wc(static_cast<std::size_t>(t[m]));
  }
  r.mean = r.sum / wsum;
  return r;
}

void expect_loss(const Tensor& got, LD want, double ulps, const std::string& what) {
  EXPECT_LE(sigma::test::ulp_error<double>(got.item<double>(), want), ulps) << what;
}

TEST(NllLoss, FourDimensionalInputWeightsIgnoreIndexAndReductions) {
  const std::int64_t N = 2, C = 5, H = 3, W = 2;
  const std::vector<double> xv = draw(N * C * H * W, -3, 3, 1);
  // nll_loss takes log-probabilities, but any scores work for the formula.
  const Tensor x = sigma::tensor(xv, sigma::kFloat64).reshape({N, C, H, W});
  std::vector<std::int64_t> tv;
  std::uint64_t s = 9;
  for (int i = 0; i < N * H * W; ++i) tv.push_back(static_cast<std::int64_t>(sigma::test::splitmix(s) % C));
  tv[3] = -100;
  tv[7] = 2;
  const Tensor t = sigma::tensor(tv).reshape({N, H, W});
  const std::vector<double> w = {0.5, 1.0, 2.0, 0.25, 1.5};
  const auto xr = rows(xv, N, C, H * W);
  for (bool weighted : {false, true}) {
    const Ref ref = ld_cross_entropy(xr, tv, weighted ? w : std::vector<double>{}, -100, 0, true);
    const Tensor wt = weighted ? sigma::tensor(w, sigma::kFloat64) : Tensor();
    const Tensor none = sigma::nll_loss(x, t, wt, sigma::kNone);
    ASSERT_EQ(none.sizes().vec(), (Shape{N, H, W}));
    const auto nv = none.to_vector<double>();
    for (std::size_t i = 0; i < nv.size(); ++i)
      EXPECT_LE(sigma::test::ulp_error<double>(nv[i], ref.none[i]), 1.0) << i;
    expect_loss(sigma::nll_loss(x, t, wt, sigma::kSum), ref.sum, 1.0, "sum");
    expect_loss(sigma::nll_loss(x, t, wt, "mean"), ref.mean, 1.0, "mean");
    for (auto red : {sigma::kNone, sigma::kSum, sigma::kMean}) {
      const auto g = sigma::gradcheck(
          [&](const sigma::TensorList& in) { return sigma::nll_loss(in[0], t, wt, red); },
          {x.detach().requires_grad_(true)});
      EXPECT_TRUE(g.ok) << sigma::to_string(red) << ": " << g.message;
    }
  }
}

TEST(NllLoss, OneDimensionalInputAndAllIgnored) {
  const Tensor x = sigma::tensor({-1.0, -2.0, -0.5}, sigma::kFloat64);
  EXPECT_EQ(sigma::nll_loss(x, sigma::scalar_tensor(2, sigma::kInt64)).item<double>(), 0.5);
  const Tensor xs = sigma::tensor({{-1.0f, -2.0f}, {-3.0f, -4.0f}});
  // Every target ignored: "mean" is 0/0, as PyTorch; "sum" is 0.
  const Tensor all_ignored = sigma::tensor({-100, -100});
  EXPECT_TRUE(std::isnan(sigma::nll_loss(xs, all_ignored).item<float>()));
  EXPECT_EQ(sigma::nll_loss(xs, all_ignored, {}, sigma::kSum).item<float>(), 0.0f);
  // A custom ignore_index; float32 stays float32.
  const Tensor r = sigma::nll_loss(xs, sigma::tensor({1, 7}), {}, sigma::kMean, 7);
  EXPECT_EQ(r.dtype(), sigma::kFloat32);
  EXPECT_EQ(r.item<float>(), 2.0f);
}

TEST(CrossEntropy, IndicesWithWeightIgnoreIndexAndLabelSmoothing) {
  const std::int64_t N = 3, C = 4, L = 2;
  const std::vector<double> xv = draw(N * C * L, -4, 4, 2);
  const Tensor x = sigma::tensor(xv, sigma::kFloat64).reshape({N, C, L});
  const std::vector<std::int64_t> tv = {0, 3, -1, 2, 1, 1};
  const Tensor t = sigma::tensor(tv).reshape({N, L});
  const std::vector<double> w = {1.0, 0.5, 2.0, 3.0};
  const auto xr = rows(xv, N, C, L);
  for (double eps : {0.0, 0.1, 1.0})
    for (bool weighted : {false, true}) {
      const Tensor wt = weighted ? sigma::tensor(w, sigma::kFloat64) : Tensor();
      const Ref ref = ld_cross_entropy(xr, tv, weighted ? w : std::vector<double>{}, -1, eps, false);
      const std::string what = "eps " + std::to_string(eps) + (weighted ? " weighted" : "");
      const auto nv = sigma::cross_entropy(x, t, wt, sigma::kNone, -1, eps).to_vector<double>();
      for (std::size_t i = 0; i < nv.size(); ++i)
        EXPECT_NEAR(nv[i], static_cast<double>(ref.none[i]), 4e-16 * (1 + std::fabs(static_cast<double>(ref.none[i]))))
            << what << " element " << i;
      EXPECT_NEAR(sigma::cross_entropy(x, t, wt, sigma::kSum, -1, eps).item<double>(),
                  static_cast<double>(ref.sum), 1e-15 * (1 + std::fabs(static_cast<double>(ref.sum))))
          << what;
      EXPECT_NEAR(sigma::cross_entropy(x, t, wt, "mean", -1, eps).item<double>(),
                  static_cast<double>(ref.mean), 1e-15 * (1 + std::fabs(static_cast<double>(ref.mean))))
          << what;
      const auto g = sigma::gradcheck(
          [&](const sigma::TensorList& in) {
            return sigma::cross_entropy(in[0], t, wt, sigma::kMean, -1, eps);
          },
          {x.detach().requires_grad_(true)});
      EXPECT_TRUE(g.ok) << what << ": " << g.message;
    }
}

TEST(CrossEntropy, ClassProbabilities) {
  const std::int64_t N = 3, C = 4;
  const std::vector<double> xv = draw(N * C, -4, 4, 3);
  std::vector<double> pv = draw(N * C, 0, 1, 4);
  for (int n = 0; n < N; ++n) {  // rows of probabilities
    double s = 0;
    for (int c = 0; c < C; ++c) s += pv[static_cast<std::size_t>(n * C + c)];
    for (int c = 0; c < C; ++c) pv[static_cast<std::size_t>(n * C + c)] /= s;
  }
  const Tensor x = sigma::tensor(xv, sigma::kFloat64).reshape({N, C});
  const Tensor p = sigma::tensor(pv, sigma::kFloat64).reshape({N, C});
  const std::vector<double> w = {1.0, 0.5, 2.0, 3.0};
  for (double eps : {0.0, 0.2}) {
    std::vector<LD> none;
    LD sum = 0;
    for (int n = 0; n < N; ++n) {
      const auto lp = ld_log_softmax({xv.begin() + n * C, xv.begin() + (n + 1) * C});
      LD l = 0;
      for (int c = 0; c < C; ++c) {
        const LD q = (1 - eps) * pv[static_cast<std::size_t>(n * C + c)] + eps / C;
        l -= w[static_cast<std::size_t>(c)] * q * lp[static_cast<std::size_t>(c)];
      }
      none.push_back(l);
      sum += l;
    }
    const Tensor wt = sigma::tensor(w, sigma::kFloat64);
    const auto nv = sigma::cross_entropy(x, p, wt, sigma::kNone, -100, eps).to_vector<double>();
    for (int n = 0; n < N; ++n)
      EXPECT_NEAR(nv[static_cast<std::size_t>(n)], static_cast<double>(none[static_cast<std::size_t>(n)]), 1e-14);
    // "mean" divides by the number of elements, not by the weights.
    EXPECT_NEAR(sigma::cross_entropy(x, p, wt, sigma::kMean, -100, eps).item<double>(),
                static_cast<double>(sum / N), 1e-14);
    const auto g = sigma::gradcheck(
        [&](const sigma::TensorList& in) { return sigma::cross_entropy(in[0], in[1], wt, sigma::kSum, -100, eps); },
        {x.detach().requires_grad_(true), p.detach().requires_grad_(true)});
    EXPECT_TRUE(g.ok) << g.message;
  }
}

TEST(CrossEntropy, Float32AndHalfInputs) {
  const Tensor x = sigma::tensor({{2.0f, 1.0f, 0.1f}, {0.5f, 2.5f, 0.3f}});
  const Tensor t = sigma::tensor({0, 1});
  const float got = sigma::cross_entropy(x, t).item<float>();
  const LD want = (-ld_log_softmax({2.0L, 1.0L, 0.1L})[0] - ld_log_softmax({0.5L, 2.5L, 0.3L})[1]) / 2;
  EXPECT_LE(sigma::test::ulp_error<float>(got, want), 2.0);
  EXPECT_EQ(sigma::cross_entropy(x.to(sigma::kBFloat16), t).dtype(), sigma::kBFloat16);
}

TEST(CrossEntropyErrors, NameTheOpAndShapes) {
  const Tensor x = sigma::zeros({2, 3});
  expect_error([&] { sigma::cross_entropy(x, sigma::tensor({0, 3})); },
               {"cross_entropy", "target 3", "out of bounds", "3 classes"});
  expect_error([&] { sigma::nll_loss(x, sigma::tensor({0, -2})); }, {"nll_loss", "target -2", "flat index 1"});
  expect_error([&] { sigma::cross_entropy(x, sigma::tensor({0, 1, 2})); },
               {"cross_entropy", "target of shape [2]", "[2, 3]", "got [3]"});
  expect_error([&] { sigma::cross_entropy(x, sigma::zeros({3, 2})); },
               {"cross_entropy", "probabilities", "[2, 3]", "[3, 2]"});
  expect_error([&] { sigma::nll_loss(x, sigma::tensor({0, 1}).to(sigma::kBool)); }, {"nll_loss", "bool", "int64"});
  expect_error([&] { sigma::cross_entropy(x, sigma::tensor({0, 1}), sigma::ones({2})); },
               {"cross_entropy", "weight of shape [2]", "3"});
  expect_error([&] { sigma::cross_entropy(x, sigma::tensor({0, 1}), {}, sigma::kMean, -100, 1.5); },
               {"cross_entropy", "label_smoothing", "1.5"});
  expect_error([&] { sigma::nll_loss(sigma::scalar_tensor(1.0), sigma::tensor({0})); },
               {"nll_loss", "zero-dimensional"});
  expect_error([&] { sigma::nll_loss(x, sigma::tensor({0, 1}), {}, "average"); }, {"nll_loss", "average"});
}

}  // namespace
