// Tests of the losses (src/nn/loss.cpp): BCEWithLogitsLoss, BCELoss, MSELoss
// and their functional forms, with every option and reduction. References are
// the textbook formulas evaluated in long double (a stable softplus for the
// logits form, PyTorch's -100 clamp of the logs for BCE); gradients against
// PyTorch's formulas written out here and against sigma::gradcheck in f64.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
namespace F = sigma::nn::functional;
using sigma::test::expect_error;
using sigma::test::make;
using sigma::test::Shape;
using sigma::test::values;
using LD = long double;

constexpr double kInf = std::numeric_limits<double>::infinity();

void expect_close(const std::vector<double>& got, const std::vector<LD>& ref, double rtol,
                  double atol = 0, const std::string& what = "") {
  ASSERT_EQ(got.size(), ref.size()) << what;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double r = static_cast<double>(ref[i]);
    if (std::isinf(r)) {
      EXPECT_EQ(got[i], r) << what << " element " << i;
      continue;
    }
    ASSERT_TRUE(std::isfinite(got[i])) << what << " element " << i << ": " << got[i];
    EXPECT_NEAR(got[i], r, atol + rtol * std::fabs(r)) << what << " element " << i;
  }
}

std::string repr(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

// Element i of a tensor of `shape` broadcast from w (NumPy rules), or 1.
LD broadcast_at(const std::vector<double>& w, const Shape& wshape, const Shape& shape,
                std::size_t flat) {
  if (w.empty()) return 1;
  std::vector<std::int64_t> idx(shape.size());
  std::int64_t rem = static_cast<std::int64_t>(flat);
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
  }
  std::int64_t off = 0, stride = 1;
  for (std::size_t k = wshape.size(); k-- > 0;) {
    const std::size_t d = shape.size() - wshape.size() + k;
    if (wshape[k] != 1) off += idx[d] * stride;
    stride *= wshape[k];
  }
  return w[static_cast<std::size_t>(off)];
}

LD reduce(const std::vector<LD>& v, sigma::Reduction r) {
  LD s = 0;
  for (LD e : v) s += e;
  if (r == sigma::kSum) return s;
  return s / static_cast<LD>(v.size());
}

// ---- References.

// log(1 + e^z) without overflow.
LD softplus(LD z) {
  if (std::isinf(z)) return z > 0 ? z : 0;
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}
LD sigmoid(LD z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }

// w [pw t softplus(-x) + (1 - t) softplus(x)]; a zero coefficient gives 0.
LD bce_logits_ref(LD x, LD t, LD w, LD pw) {
  const LD a = pw * t, b = 1 - t;
  return w * ((a == 0 ? 0 : a * softplus(-x)) + (b == 0 ? 0 : b * softplus(x)));
}
// d/dx: w [(1 - t) sigmoid(x) - pw t sigmoid(-x)].
LD bce_logits_grad_ref(LD x, LD t, LD w, LD pw) {
  return w * ((1 - t) * sigmoid(x) - pw * t * sigmoid(-x));
}

// PyTorch's BCE: w [(t - 1) max(log1p(-x), -100) - t max(log x, -100)].
LD clamp_log(LD v) { return std::max(v, static_cast<LD>(-100)); }
LD bce_ref(LD x, LD t, LD w) {
  return w * ((t - 1) * clamp_log(std::log1p(-x)) - t * clamp_log(std::log(x)));
}

// ---- Inputs: logits including the extremes, targets including 0 and 1.
const std::vector<double> kLogits = {0.0,  0.5,   -1.5, 3.0,  -100, 100,
                                     -1e4, 1e4,   kInf, -kInf, 20.0, -30.0};
const std::vector<double> kTargets = {0.0, 1.0, 0.3, 1.0, 0.0, 1.0,
                                      0.0, 1.0, 1.0, 0.0, 0.7, 0.25};
const Shape kShape = {4, 3};

struct BceCase {
  std::vector<double> weight;
  Shape weight_shape;
  std::vector<double> pos_weight;
  Shape pos_weight_shape;
};

std::vector<BceCase> bce_cases() {
  return {
      {{}, {}, {}, {}},
      {{0.5, 2.0, 1.0}, {3}, {}, {}},
      {{1.0, 0.0, 2.5, 0.5}, {4, 1}, {}, {}},
      {{}, {}, {3.0, 0.5, 1.0}, {3}},
      {{2.0, 1.5, 0.25}, {3}, {0.0, 4.0, 1.0}, {3}},
  };
}

// ---- BCEWithLogits.

TEST(BCEWithLogitsLossTest, ForwardMatchesFormulaForEveryOptionAtExtremeLogits) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-14 : 2e-6;
    // In f32, e^-100 = 3.7e-44 is subnormal (spacing 1.4e-45): an absolute floor.
    const double atol = dtype == sigma::kFloat64 ? 0 : 3e-45;
    const Tensor x = make(kShape, kLogits, dtype), t = make(kShape, kTargets, dtype);
    for (const auto& c : bce_cases()) {
      std::vector<LD> ref;
      for (std::size_t i = 0; i < kLogits.size(); ++i)
        ref.push_back(bce_logits_ref(kLogits[i], kTargets[i],
                                     broadcast_at(c.weight, c.weight_shape, kShape, i),
                                     broadcast_at(c.pos_weight, c.pos_weight_shape, kShape, i)));
      // The references are finite except x = +inf with t < 1, x = -inf with t > 0.
      for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
        auto o = nn::BCEWithLogitsLossOptions().reduction(r);
        if (!c.weight.empty()) o.weight(make(c.weight_shape, c.weight, dtype));
        if (!c.pos_weight.empty()) o.pos_weight(make(c.pos_weight_shape, c.pos_weight, dtype));
        nn::BCEWithLogitsLoss loss(o);
        const Tensor out = loss(x, t);
        const Tensor fout = F::binary_cross_entropy_with_logits(x, t, o);
        EXPECT_EQ(out.dtype(), dtype);
        EXPECT_EQ(values(out), values(fout));
        if (r == sigma::kNone) {
          EXPECT_EQ(out.sizes().vec(), kShape);
          expect_close(values(out), ref, rtol, atol, "none");
        } else {
          EXPECT_EQ(out.dim(), 0);
          expect_close(values(out), {reduce(ref, r)}, rtol, atol, "reduced");
        }
      }
    }
  }
}

TEST(BCEWithLogitsLossTest, FiniteWhereTheMathIsAndInfiniteOtherwise) {
  // x = +inf, t = 0.5 has an infinite loss; x = +-inf with the matching target is 0.
  const Tensor x = sigma::tensor({kInf, -kInf, kInf, -kInf, 1e4, -1e4}, sigma::kFloat64);
  const Tensor t = sigma::tensor({1.0, 0.0, 0.5, 0.5, 1.0, 0.0}, sigma::kFloat64);
  const auto v = values(F::binary_cross_entropy_with_logits(
      x, t, nn::BCEWithLogitsLossOptions().reduction(sigma::kNone)));
  EXPECT_EQ(v[0], 0.0);
  EXPECT_EQ(v[1], 0.0);
  EXPECT_EQ(v[2], kInf);
  EXPECT_EQ(v[3], kInf);
  EXPECT_EQ(v[4], 0.0);
  EXPECT_EQ(v[5], 0.0);
}

TEST(BCEWithLogitsLossTest, PosWeightOfOnesIsBitIdenticalToNone) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const Tensor x = make(kShape, kLogits, dtype), t = make(kShape, kTargets, dtype);
    for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
      const Tensor xa = x.detach().requires_grad_(), xb = x.detach().requires_grad_();
      const Tensor a = F::binary_cross_entropy_with_logits(
          xa, t, nn::BCEWithLogitsLossOptions().reduction(r));
      const Tensor b = F::binary_cross_entropy_with_logits(
          xb, t,
          nn::BCEWithLogitsLossOptions().reduction(r).pos_weight(sigma::ones({3}, dtype)));
      const auto va = values(a), vb = values(b);
      ASSERT_EQ(va.size(), vb.size());
      for (std::size_t i = 0; i < va.size(); ++i)
        EXPECT_TRUE(va[i] == vb[i] || (std::isnan(va[i]) && std::isnan(vb[i]))) << i;
      const Tensor seed = r == sigma::kNone ? sigma::ones(kShape, dtype) : Tensor();
      a.backward(seed);
      b.backward(seed);
      EXPECT_EQ(values(xa.grad()), values(xb.grad()));
    }
  }
}

TEST(BCEWithLogitsLossTest, GradientMatchesFormulaAtExtremeLogits) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-13 : 1e-5;
    for (const auto& c : bce_cases()) {
      for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
        const Tensor x = make(kShape, kLogits, dtype).requires_grad_();
        const Tensor t = make(kShape, kTargets, dtype);
        auto o = nn::BCEWithLogitsLossOptions().reduction(r);
        if (!c.weight.empty()) o.weight(make(c.weight_shape, c.weight, dtype));
        if (!c.pos_weight.empty()) o.pos_weight(make(c.pos_weight_shape, c.pos_weight, dtype));
        const Tensor out = F::binary_cross_entropy_with_logits(x, t, o);
        out.backward(r == sigma::kNone ? sigma::ones(kShape, dtype) : Tensor());
        const LD scale = r == sigma::kMean ? 1.0L / static_cast<LD>(kLogits.size()) : 1.0L;
        std::vector<LD> ref;
        for (std::size_t i = 0; i < kLogits.size(); ++i)
          ref.push_back(scale * bce_logits_grad_ref(
                                    kLogits[i], kTargets[i],
                                    broadcast_at(c.weight, c.weight_shape, kShape, i),
                                    broadcast_at(c.pos_weight, c.pos_weight_shape, kShape, i)));
        // f32 underflows e^-100 scaled by weights to a subnormal: an absolute floor.
        expect_close(values(x.grad()), ref, rtol, dtype == sigma::kFloat64 ? 0 : 1e-44, "grad");
      }
    }
  }
}

TEST(BCEWithLogitsLossTest, GradcheckInputAndTarget) {
  const Tensor x = sigma::test::random_tensor({3, 4}, sigma::kFloat64, 1, -3, 3);
  const Tensor t = sigma::test::random_tensor({3, 4}, sigma::kFloat64, 2, 0, 1);
  const Tensor w = sigma::test::random_tensor({4}, sigma::kFloat64, 3, 0.5, 2);
  const Tensor pw = sigma::test::random_tensor({4}, sigma::kFloat64, 4, 0.5, 3);
  for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
    auto fn = [&](const sigma::TensorList& in) {
      return F::binary_cross_entropy_with_logits(
          in[0], in[1], nn::BCEWithLogitsLossOptions().reduction(r).weight(w).pos_weight(pw));
    };
    auto res = sigma::gradcheck(fn, {x.detach().requires_grad_(), t.detach().requires_grad_()});
    EXPECT_TRUE(res) << res.message;
  }
}

TEST(BCEWithLogitsLossTest, NonContiguousInputsAndBuffers) {
  const Tensor xt = sigma::test::random_tensor({3, 4}, sigma::kFloat64, 5, -4, 4);
  const Tensor tt = sigma::test::random_tensor({3, 4}, sigma::kFloat64, 6, 0, 1);
  const Tensor x = xt.t(), t = tt.t();  // [4, 3], transposed views
  const auto xv = values(x), tv = values(t);
  std::vector<LD> ref;
  for (std::size_t i = 0; i < xv.size(); ++i) ref.push_back(bce_logits_ref(xv[i], tv[i], 1, 1));
  const Tensor out = F::binary_cross_entropy_with_logits(
      x, t, nn::BCEWithLogitsLossOptions().reduction(sigma::kNone));
  expect_close(values(out), ref, 1e-14);
  nn::BCEWithLogitsLoss loss(nn::BCEWithLogitsLossOptions()
                                 .weight(sigma::ones({3}, sigma::kFloat64))
                                 .pos_weight(sigma::ones({3}, sigma::kFloat64)));
  EXPECT_EQ(loss->named_buffers().keys(), (std::vector<std::string>{"weight", "pos_weight"}));
}

TEST(BCEWithLogitsLossTest, ShapeMismatchAndRepr) {
  expect_error(
      [] {
        F::binary_cross_entropy_with_logits(sigma::zeros({2, 3}), sigma::zeros({3, 2}));
      },
      {"binary_cross_entropy_with_logits", "[2, 3]", "[3, 2]"});
  EXPECT_EQ(repr(*nn::BCEWithLogitsLoss()), "BCEWithLogitsLoss()");
}

// ---- BCELoss.

const std::vector<double> kProbs = {0.0, 1.0, 0.0, 1.0, 0.5, 1e-30, 1 - 1e-12, 0.25, 0.9, 1e-50,
                                    0.999, 0.01};
const std::vector<double> kProbTargets = {0.0, 1.0, 1.0, 0.0, 0.3, 1.0, 0.0, 0.25, 1.0, 0.5,
                                          0.0, 0.6};

TEST(BCELossTest, ForwardMatchesClampedFormulaForEveryOption) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-14 : 2e-6;
    const Tensor x = make(kShape, kProbs, dtype), t = make(kShape, kProbTargets, dtype);
    const auto xv = values(x), tv = values(t);  // as rounded to dtype
    for (const auto& c : bce_cases()) {
      if (!c.pos_weight.empty()) continue;
      std::vector<LD> ref;
      for (std::size_t i = 0; i < xv.size(); ++i)
        ref.push_back(bce_ref(xv[i], tv[i], broadcast_at(c.weight, c.weight_shape, kShape, i)));
      for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
        auto o = nn::BCELossOptions().reduction(r);
        if (!c.weight.empty()) o.weight(make(c.weight_shape, c.weight, dtype));
        nn::BCELoss loss(o);
        const Tensor out = loss(x, t);
        EXPECT_EQ(values(out), values(F::binary_cross_entropy(x, t, o)));
        EXPECT_EQ(out.dtype(), dtype);
        if (r == sigma::kNone)
          expect_close(values(out), ref, rtol, 0, "none");
        else
          expect_close(values(out), {reduce(ref, r)}, rtol, 0, "reduced");
      }
    }
  }
}

TEST(BCELossTest, ClampAtTheEndpoints) {
  const Tensor x = sigma::tensor({0.0, 0.0, 1.0, 1.0}, sigma::kFloat64);
  const Tensor t = sigma::tensor({0.0, 1.0, 1.0, 0.0}, sigma::kFloat64);
  EXPECT_EQ(values(F::binary_cross_entropy(x, t, nn::BCELossOptions().reduction(sigma::kNone))),
            (std::vector<double>{0.0, 100.0, 0.0, 100.0}));
}

TEST(BCELossTest, GradientIsPyTorchsFormula) {
  // dx = g w (x - t) / max((1 - x) x, eps) with PyTorch's float eps = 1e-12f;
  // dt = g w (max(log1p(-x), -100) - max(log x, -100)), the clamped loss's derivative.
  const std::vector<double> w = {0.5, 2.0, 1.0};
  for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
    const Tensor x = make(kShape, kProbs).requires_grad_();
    const Tensor t = make(kShape, kProbTargets).requires_grad_();
    const Tensor out = F::binary_cross_entropy(
        x, t, nn::BCELossOptions().reduction(r).weight(make({3}, w)));
    const Tensor g = sigma::test::random_tensor(kShape, sigma::kFloat64, 7, 0.5, 1.5);
    if (r == sigma::kNone)
      out.backward(g);
    else
      out.backward();
    const auto gv = values(g);
    std::vector<LD> dx, dt;
    for (std::size_t i = 0; i < kProbs.size(); ++i) {
      LD gi = r == sigma::kNone ? gv[i] : 1.0L;
      if (r == sigma::kMean) gi /= static_cast<LD>(kProbs.size());
      const LD xi = kProbs[i], ti = kProbTargets[i], wi = w[i % 3];
      dx.push_back(gi * wi * (xi - ti) / std::max((1 - xi) * xi, static_cast<LD>(1e-12f)));
      dt.push_back(gi * wi * (clamp_log(std::log1p(-xi)) - clamp_log(std::log(xi))));
    }
    expect_close(values(x.grad()), dx, 1e-13, 0, "dx");
    expect_close(values(t.grad()), dt, 1e-13, 0, "dt");
  }
}

TEST(BCELossTest, GradcheckInputAndTarget) {
  const Tensor x = sigma::test::random_tensor({2, 5}, sigma::kFloat64, 8, 0.05, 0.95);
  const Tensor t = sigma::test::random_tensor({2, 5}, sigma::kFloat64, 9, 0, 1);
  const Tensor w = sigma::test::random_tensor({2, 1}, sigma::kFloat64, 10, 0.5, 2);
  for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
    auto fn = [&](const sigma::TensorList& in) {
      return F::binary_cross_entropy(in[0], in[1], nn::BCELossOptions().reduction(r).weight(w));
    };
    auto res = sigma::gradcheck(fn, {x.detach().requires_grad_(), t.detach().requires_grad_()});
    EXPECT_TRUE(res) << res.message;
  }
}

TEST(BCELossTest, DtypesShapesAndErrors) {
  // bf16 input: computed in f32, rounded once.
  const Tensor x = make({2, 2}, {0.25, 0.5, 0.75, 0.125}, sigma::kBFloat16);
  const Tensor t = make({2, 2}, {0.0, 1.0, 1.0, 0.5}, sigma::kBFloat16);
  const Tensor out = F::binary_cross_entropy(x, t, nn::BCELossOptions().reduction(sigma::kNone));
  EXPECT_EQ(out.dtype(), sigma::kBFloat16);
  const auto xv = values(x), tv = values(t);
  std::vector<LD> ref;
  for (std::size_t i = 0; i < 4; ++i) ref.push_back(bce_ref(xv[i], tv[i], 1));
  expect_close(values(out), ref, 1e-2);
  // 0-dim and empty.
  const Tensor s = F::binary_cross_entropy(sigma::scalar_tensor(0.25, sigma::kFloat64),
                                           sigma::scalar_tensor(1.0, sigma::kFloat64));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_NEAR(s.item<double>(), -std::log(0.25), 1e-15);
  const Tensor e = sigma::zeros({0, 3});
  EXPECT_EQ(F::binary_cross_entropy(e, e, nn::BCELossOptions().reduction(sigma::kSum))
                .item<double>(),
            0.0);
  EXPECT_TRUE(std::isnan(F::binary_cross_entropy(e, e).item<double>()));  // mean of nothing
  EXPECT_EQ(
      F::binary_cross_entropy(e, e, nn::BCELossOptions().reduction(sigma::kNone)).sizes().vec(),
      (Shape{0, 3}));
  // Errors.
  expect_error([] { F::binary_cross_entropy(sigma::zeros({2, 3}), sigma::zeros({3})); },
               {"binary_cross_entropy", "[2, 3]", "[3]"});
  expect_error(
      [] { F::binary_cross_entropy(sigma::tensor({0.5f, 1.5f}), sigma::tensor({0.0f, 1.0f})); },
      {"binary_cross_entropy", "between 0 and 1", "1.5"});
  expect_error(
      [] {
        F::binary_cross_entropy(sigma::tensor({0.5f}), sigma::tensor({1.0f}),
                                nn::BCELossOptions().weight(sigma::ones({1}).requires_grad_()));
      },
      {"binary_cross_entropy", "weight"});
  EXPECT_EQ(repr(*nn::BCELoss()), "BCELoss()");
  nn::BCELoss weighted(nn::BCELossOptions().weight(sigma::ones({3})));
  EXPECT_EQ(weighted->named_buffers().keys(), (std::vector<std::string>{"weight"}));
}

// ---- MSELoss.

TEST(MSELossTest, ForwardEveryReductionAndDtype) {
  for (auto dtype : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dtype == sigma::kFloat64 ? 1e-15 : 1e-6;
    const Tensor x = sigma::test::random_tensor({3, 4}, dtype, 11, -5, 5);
    const Tensor t = sigma::test::random_tensor({4, 3}, dtype, 12, -5, 5).t();  // non-contiguous
    const auto xv = values(x), tv = values(t);
    std::vector<LD> ref;
    for (std::size_t i = 0; i < xv.size(); ++i) {
      const LD d = static_cast<LD>(xv[i]) - tv[i];
      ref.push_back(d * d);
    }
    for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
      auto loss = nn::MSELoss(nn::MSELossOptions(r));
      const Tensor out = loss(x, t);
      EXPECT_EQ(values(out), values(F::mse_loss(x, t, r)));
      EXPECT_EQ(out.dtype(), dtype);
      if (r == sigma::kNone)
        expect_close(values(out), ref, rtol);
      else
        expect_close(values(out), {reduce(ref, r)}, rtol);
    }
  }
}

TEST(MSELossTest, GradcheckAndErrors) {
  const Tensor x = sigma::test::random_tensor({2, 3}, sigma::kFloat64, 13);
  const Tensor t = sigma::test::random_tensor({2, 3}, sigma::kFloat64, 14);
  for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum}) {
    auto fn = [&](const sigma::TensorList& in) { return F::mse_loss(in[0], in[1], r); };
    auto res = sigma::gradcheck(fn, {x.detach().requires_grad_(), t.detach().requires_grad_()});
    EXPECT_TRUE(res) << res.message;
  }
  // d/dx mean((x - t)^2) = 2 (x - t) / n.
  const Tensor xl = x.detach().requires_grad_();
  F::mse_loss(xl, t).backward();
  const auto xv = values(x), tv = values(t);
  std::vector<LD> ref;
  for (std::size_t i = 0; i < xv.size(); ++i) ref.push_back(2.0L * (xv[i] - tv[i]) / 6.0L);
  expect_close(values(xl.grad()), ref, 1e-15);
  expect_error([] { F::mse_loss(sigma::zeros({2, 3}), sigma::zeros({2, 1})); },
               {"mse_loss", "[2, 3]", "[2, 1]"});
  EXPECT_EQ(repr(*nn::MSELoss()), "MSELoss()");
}

}  // namespace

// ---- CrossEntropyLoss and NLLLoss: the modules are the ops with their
// options (the ops' formulas are tested in tests/ops/nll_loss_test.cpp).
namespace {

TEST(CrossEntropyLossTest, ModuleFunctionalAndOpAgreeForEveryOption) {
  const Tensor x = sigma::test::random_tensor({4, 3}, sigma::kFloat64, 3, -2, 2);
  const Tensor t = sigma::tensor({0, 2, 1, 2});
  const Tensor w = make({3}, {0.5, 1.0, 2.0});
  for (auto r : {sigma::kNone, sigma::kMean, sigma::kSum})
    for (double eps : {0.0, 0.3}) {
      const auto o = nn::CrossEntropyLossOptions().weight(w).reduction(r).ignore_index(1).label_smoothing(eps);
      nn::CrossEntropyLoss loss(o);
      const Tensor a = loss(x, t);
      const Tensor b = F::cross_entropy(x, t, o);
      const Tensor c = sigma::cross_entropy(x, t, w, r, 1, eps);
      EXPECT_TRUE(a.equal(c)) << sigma::to_string(r) << " " << eps;
      EXPECT_TRUE(b.equal(c)) << sigma::to_string(r) << " " << eps;
    }
  // The weight is a buffer, as in PyTorch's state dict.
  nn::CrossEntropyLoss weighted(nn::CrossEntropyLossOptions().weight(w));
  ASSERT_EQ(weighted->named_buffers().size(), 1u);
  EXPECT_TRUE(weighted->named_buffers()["weight"].equal(w));
  std::ostringstream s;
  s << *weighted;
  EXPECT_EQ(s.str(), "CrossEntropyLoss()");
}

TEST(NLLLossTest, ModuleMatchesTheOpAndComposesWithLogSoftmax) {
  const Tensor x = sigma::test::random_tensor({5, 4}, sigma::kFloat64, 4, -2, 2);
  const Tensor t = sigma::tensor({0, 3, 1, 2, 3});
  nn::NLLLoss nll(nn::NLLLossOptions().reduction(sigma::kSum));
  nn::LogSoftmax logsm(1);
  // cross_entropy is log_softmax followed by nll_loss.
  EXPECT_TRUE(nll(logsm(x), t).allclose(sigma::cross_entropy(x, t, {}, sigma::kSum), 1e-15, 0));
  EXPECT_TRUE(F::nll_loss(x, t, nn::NLLLossOptions().ignore_index(3)).equal(
      sigma::nll_loss(x, t, {}, sigma::kMean, 3)));
  std::ostringstream s;
  s << *nll << " " << *logsm << " " << *nn::Softmax(0) << " " << *nn::GLU();
  EXPECT_EQ(s.str(), "NLLLoss() LogSoftmax(dim=1) Softmax(dim=0) GLU(dim=-1)");
}

TEST(SoftmaxModulesTest, ForwardIsTheOp) {
  const Tensor x = sigma::test::random_tensor({2, 6}, sigma::kFloat32, 5);
  EXPECT_TRUE(nn::Softmax(1)(x).equal(sigma::softmax(x, 1)));
  EXPECT_TRUE(nn::Softmax(nn::SoftmaxOptions(0))(x).equal(sigma::softmax(x, 0)));
  EXPECT_TRUE(nn::LogSoftmax(0)(x).equal(sigma::log_softmax(x, 0)));
  EXPECT_TRUE(nn::GLU()(x).equal(sigma::glu(x, -1)));
  EXPECT_TRUE(nn::GLU(0)(x).equal(sigma::glu(x, 0)));
  EXPECT_TRUE(F::softmax(x, F::SoftmaxFuncOptions(1).dtype(sigma::kFloat64))
                  .equal(sigma::softmax(x.to(sigma::kFloat64), 1)));
  EXPECT_TRUE(F::log_softmax(x, 1).equal(sigma::log_softmax(x, 1)));
  EXPECT_TRUE(F::glu(x, 1).equal(sigma::glu(x, 1)));
  EXPECT_TRUE(x.softmax(1).equal(sigma::softmax(x, 1)));
  EXPECT_TRUE(x.log_softmax(-1).equal(sigma::log_softmax(x, -1)));
  EXPECT_TRUE(x.logsumexp({1}).equal(sigma::logsumexp(x, {1})));
}

}  // namespace
