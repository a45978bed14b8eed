// Tests of src/ops/loss.cpp: binary_cross_entropy_with_logits with every
// option (weights, pos_weight, reductions) against long double references,
// infinite logits and losses, gradients against central differences,
// non-contiguous and bf16 operands, and error messages. binary_cross_entropy
// is tested through its module and functional forms in tests/nn/loss_test.cpp.
#include <gtest/gtest.h>

#include "activation_refs.h"

namespace {

// The references, checks and names both op tests share.
using namespace sigma::test::activation;

// ---- binary_cross_entropy_with_logits.

// loss_i = w [pw t softplus(-x) + (1 - t) softplus(x)], a zero coefficient
// contributing exactly 0.
LD ld_bce(LD x, LD t, LD w, LD pw) {
  const LD a = (pw * t == 0) ? 0 : pw * t * ld_softplus(-x);
  const LD b = (1 - t == 0) ? 0 : (1 - t) * ld_softplus(x);
  return w == 0 ? 0 : w * (a + b);
}
// The two terms of dloss/dx: (1 - t) s(x) and -pw t s(-x), times w.
std::pair<LD, LD> ld_bce_dx_terms(LD x, LD t, LD w, LD pw) {
  const LD a = (1 - t == 0) ? 0 : (1 - t) * ld_sigmoid(x);
  const LD b = (pw * t == 0) ? 0 : -pw * t * ld_sigmoid(-x);
  return {w * a, w * b};
}
LD ld_bce_dt(LD x, LD w, LD pw) { return w * (pw * ld_softplus(-x) - ld_softplus(x)); }

// Checks loss (all reductions) and both gradients of a [N, C] case against
// the long double formulas; weight / pos_weight are passed as wt / pwt (which
// broadcast to the given full-size w / pw).
template <class T>
void check_bce(const std::vector<double>& xs, const std::vector<double>& ts, std::int64_t n,
               std::int64_t c, const Tensor& wt, const Tensor& pwt, const std::vector<double>& w,
               const std::vector<double>& pw) {
  const auto dtype = std::is_same_v<T, float> ? sigma::kFloat32 : sigma::kFloat64;
  Tensor x = f64(xs).to(dtype).reshape({n, c});
  Tensor t = f64(ts).to(dtype).reshape({n, c});
  const auto xr = x.to_vector<double>(), tr = t.to_vector<double>();
  const std::size_t m = xr.size();
  auto wi = [&](std::size_t i) { return w.empty() ? 1.0L : static_cast<LD>(w[i]); };
  auto pwi = [&](std::size_t i) { return pw.empty() ? 1.0L : static_cast<LD>(pw[i]); };
  const Tensor wd = wt.defined() ? wt.to(dtype) : Tensor();
  const Tensor pwd = pwt.defined() ? pwt.to(dtype) : Tensor();
  // reduction = none
  {
    Tensor xl = x.detach().requires_grad_(true), tl = t.detach().requires_grad_(true);
    Tensor loss = sigma::binary_cross_entropy_with_logits(xl, tl, wd, pwd, "none");
    ASSERT_EQ(loss.sizes(), x.sizes());
    EXPECT_EQ(loss.grad_fn()->name(), "BinaryCrossEntropyWithLogitsBackward");
    const auto lv = loss.to_vector<T>();
    for (std::size_t i = 0; i < m; ++i)
      EXPECT_LE(ulp_error<T>(lv[i], ld_bce(xr[i], tr[i], wi(i), pwi(i))), 1.0)
          << "x=" << xr[i] << " t=" << tr[i];
    std::vector<double> dl(m);
    for (std::size_t i = 0; i < m; ++i) dl[i] = 0.5 + static_cast<double>(i % 3);
    loss.backward(f64(dl).to(dtype).reshape({n, c}));
    const auto gx = xl.grad().to_vector<T>(), gt = tl.grad().to_vector<T>();
    for (std::size_t i = 0; i < m; ++i) {
      const auto [a, b] = ld_bce_dx_terms(xr[i], tr[i], wi(i), pwi(i));
      const LD want = dl[i] * (a + b);
      const LD scale = dl[i] * std::max(std::fabs(a), std::fabs(b));
      EXPECT_LE(std::fabs(gx[i] - want), 4 * sigma::test::ulp_at<T>(scale) + 1e-300L)
          << "dx at x=" << xr[i] << " t=" << tr[i];
      if (std::isfinite(xr[i])) {
        const LD wdt = dl[i] * ld_bce_dt(xr[i], wi(i), pwi(i));
        const LD sc = dl[i] * wi(i) * std::max(pwi(i) * ld_softplus(-xr[i]), ld_softplus(xr[i]));
        EXPECT_LE(std::fabs(gt[i] - wdt), 4 * sigma::test::ulp_at<T>(sc) + 1e-300L)
            << "dt at x=" << xr[i];
      }
    }
  }
  // reduction = sum and mean
  for (const char* red : {"sum", "mean"}) {
    const bool mean = std::string(red) == "mean";
    Tensor xl = x.detach().requires_grad_(true);
    Tensor loss = sigma::binary_cross_entropy_with_logits(xl, t, wd, pwd, red);
    EXPECT_EQ(loss.dim(), 0);
    LD s = 0;
    for (std::size_t i = 0; i < m; ++i) s += ld_bce(xr[i], tr[i], wi(i), pwi(i));
    if (mean) s /= static_cast<LD>(m);
    EXPECT_LE(ulp_error<T>(loss.to_vector<T>()[0], s), 1.0) << red;
    loss.backward(sigma::scalar_tensor(2.0).to(dtype));
    const auto gx = xl.grad().to_vector<T>();
    for (std::size_t i = 0; i < m; ++i) {
      const auto [a, b] = ld_bce_dx_terms(xr[i], tr[i], wi(i), pwi(i));
      const LD k = mean ? 2.0L / static_cast<LD>(m) : 2.0L;
      const LD scale = k * std::max(std::fabs(a), std::fabs(b));
      EXPECT_LE(std::fabs(gx[i] - k * (a + b)), 5 * sigma::test::ulp_at<T>(scale) + 1e-300L)
          << red << " dx at x=" << xr[i];
    }
  }
}

const std::vector<double> kLogits = {-100, -3.5, -0.7, 0, 0.4, 2.2, 100, 1e4, -1e4, 7.5, -15, 30};
const std::vector<double> kTargets = {0, 1, 0.3, 1, 0, 0.75, 1, 0, 1, 0.5, 0, 1};

TEST(BCEWithLogits, PlainAllReductions) {
  check_bce<float>(kLogits, kTargets, 3, 4, {}, {}, {}, {});
  check_bce<double>(kLogits, kTargets, 3, 4, {}, {}, {}, {});
}

TEST(BCEWithLogits, WeightBroadcastAndPosWeight) {
  // weight [4] broadcast over rows; pos_weight [4] along the last dimension.
  const std::vector<double> wc = {0.5, 2.0, 0.0, 1.5}, pwc = {3.0, 0.25, 1.0, 0.0};
  std::vector<double> w, pw, wr;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      w.push_back(wc[static_cast<std::size_t>(j)]);
      pw.push_back(pwc[static_cast<std::size_t>(j)]);
    }
  check_bce<float>(kLogits, kTargets, 3, 4, f64(wc), {}, w, {});
  check_bce<float>(kLogits, kTargets, 3, 4, {}, f64(pwc), {}, pw);
  check_bce<float>(kLogits, kTargets, 3, 4, f64(wc), f64(pwc), w, pw);
  check_bce<double>(kLogits, kTargets, 3, 4, f64(wc), f64(pwc), w, pw);
  // weight [3, 1]: one weight per row.
  const std::vector<double> rowsw = {0.1, 1.0, 4.0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) wr.push_back(rowsw[static_cast<std::size_t>(i)]);
  check_bce<double>(kLogits, kTargets, 3, 4, f64(rowsw).reshape({3, 1}), {}, wr, {});
}

TEST(BCEWithLogits, InfiniteLogits) {
  const std::vector<double> x = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
  const std::vector<double> t = {1, 0, 0, 1};
  Tensor xl = f32(as_float(x)).requires_grad_(true);
  Tensor loss = sigma::binary_cross_entropy_with_logits(xl, f32(as_float(t)), {}, {}, "none");
  const auto l = loss.to_vector<float>();
  EXPECT_EQ(l[0], 0.f);  // exact where the math is finite
  EXPECT_EQ(l[1], kInf);
  EXPECT_EQ(l[2], 0.f);
  EXPECT_EQ(l[3], kInf);
  loss.backward(sigma::ones_like(loss));
  const auto g = xl.grad().to_vector<float>();
  EXPECT_EQ(g, (std::vector<float>{0.f, 1.f, 0.f, -1.f}));
  // x = 100, t = 1: the tiny true gradient -e^-100, not 0.
  Tensor x2 = f64({100.0}).requires_grad_(true);
  sigma::binary_cross_entropy_with_logits(x2, f64({1.0}), {}, {}, "sum").backward();
  EXPECT_LE(ulp_error<double>(x2.grad().to_vector<double>()[0], -std::exp(-100.0L)), 4.0);
}

// An infinite element loss makes the mean and the sum +inf, as the
// mathematics (and PyTorch) give, not NaN from compensating inf - inf.
TEST(BCEWithLogits, InfiniteLossReducesToInfinity) {
  for (const char* r : {"mean", "sum"}) {
    const Tensor x = f64({HUGE_VAL, 0.5, -2.0});
    const Tensor t = f64({0.0, 1.0, 0.0});
    EXPECT_EQ(sigma::binary_cross_entropy_with_logits(x, t, {}, {}, r).item<double>(), HUGE_VAL) << r;
    const Tensor xf = f32({kInf, 0.5f});
    EXPECT_EQ(sigma::binary_cross_entropy_with_logits(xf, f32({0.f, 1.f}), {}, {}, r).item<float>(),
              kInf)
        << r;
  }
}

// The enum and PyTorch's strings name the same reductions.
TEST(BCEWithLogits, ReductionEnumAndStringsAgree) {
  const Tensor x = f64({-3.0, 0.25, 7.5}), t = f64({0.0, 1.0, 0.3});
  const std::pair<sigma::Reduction, const char*> names[] = {
      {sigma::kNone, "none"}, {sigma::kMean, "mean"}, {sigma::kSum, "sum"}};
  for (const auto& [k, s] : names) {
    EXPECT_EQ(sigma::to_string(k), std::string(s));
    EXPECT_EQ(sigma::parse_reduction("op", s), k);
    EXPECT_TRUE(sigma::binary_cross_entropy_with_logits(x, t, {}, {}, k)
                    .equal(sigma::binary_cross_entropy_with_logits(x, t, {}, {}, s)))
        << s;
  }
  // The default is the mean.
  EXPECT_TRUE(sigma::binary_cross_entropy_with_logits(x, t).equal(
      sigma::binary_cross_entropy_with_logits(x, t, {}, {}, "mean")));
  expect_error([] { sigma::parse_reduction("my_loss", "avg"); }, {"my_loss", "\"avg\"", "mean"});
}

TEST(BCEWithLogits, GradientsMatchCentralDifferences) {
  const std::vector<double> x = {-2.0, -0.3, 0.6, 1.9, 3.3, -1.1};
  const std::vector<double> t = {0.0, 0.2, 1.0, 0.6, 0.0, 0.9};
  Tensor w = f64({0.7, 1.3, 2.0}), pw = f64({1.5, 0.4, 2.5});
  for (const char* red : {"none", "sum", "mean"}) {
    Fn fx = [&](const Tensor& xv) {
      return sigma::binary_cross_entropy_with_logits(xv, f64(t).reshape({2, 3}), w, pw, red);
    };
    Tensor x0 = f64(x).reshape({2, 3});
    Tensor v = std::string(red) == "none" ? f64({1.0, -0.5, 2.0, 0.25, 1.5, -1.0}).reshape({2, 3})
                                          : sigma::scalar_tensor(1.5, sigma::kFloat64);
    expect_close(autograd_grad(fx, x0, v), numeric_grad(fx, x0, v), 1e-6, 1e-9, red);
    Fn ft = [&](const Tensor& tv) {
      return sigma::binary_cross_entropy_with_logits(f64(x).reshape({2, 3}), tv, w, pw, red);
    };
    Tensor t0 = f64(t).reshape({2, 3});
    expect_close(autograd_grad(ft, t0, v), numeric_grad(ft, t0, v), 1e-6, 1e-9, red);
  }
}

TEST(BCEWithLogits, NonContiguousAndBFloat16) {
  Tensor base = f32({-2.f, 0.5f, 3.f, -0.25f, 1.f, -4.f}).reshape({2, 3});
  Tensor x = base.t();  // [3, 2]
  Tensor t = f32({1.f, 0.f, 0.f, 1.f, 0.5f, 0.25f}).reshape({3, 2});
  const auto got = sigma::binary_cross_entropy_with_logits(x, t, {}, {}, "none").to_vector<float>();
  const auto xs = x.contiguous().to_vector<float>(), ts = t.to_vector<float>();
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_LE(ulp_error<float>(got[i], ld_bce(xs[i], ts[i], 1, 1)), 1.0);
  Tensor xb = x.to(sigma::kBFloat16).detach().requires_grad_(true);
  Tensor lb = sigma::binary_cross_entropy_with_logits(xb, t.to(sigma::kBFloat16));
  EXPECT_EQ(lb.dtype(), sigma::kBFloat16);
  const auto xbv = xb.to_vector<double>(), tbv = t.to(sigma::kBFloat16).to_vector<double>();
  LD s = 0;
  for (std::size_t i = 0; i < xbv.size(); ++i) s += ld_bce(xbv[i], tbv[i], 1, 1);
  s /= 6;
  EXPECT_NEAR(lb.to_vector<double>()[0], static_cast<double>(s), static_cast<double>(s) / 128);
  lb.backward();
  EXPECT_EQ(xb.grad().dtype(), sigma::kBFloat16);
  const auto gb = xb.grad().to_vector<double>();
  for (std::size_t i = 0; i < gb.size(); ++i) {
    const auto [a, b] = ld_bce_dx_terms(xbv[i], tbv[i], 1, 1);
    const double want = static_cast<double>((a + b) / 6);
    EXPECT_NEAR(gb[i], want, std::fabs(want) / 128 + 1e-6);
  }
}

TEST(BCEWithLogits, Errors) {
  Tensor x = sigma::zeros({2, 3});
  expect_error([&] { sigma::binary_cross_entropy_with_logits(x, sigma::zeros({3, 2})); },
               {"binary_cross_entropy_with_logits", "[3, 2]", "[2, 3]"});
  expect_error([&] { sigma::binary_cross_entropy_with_logits(x, x, {}, {}, "avg"); },
               {"binary_cross_entropy_with_logits", "avg", "none", "mean", "sum"});
  expect_error([&] { sigma::binary_cross_entropy_with_logits(x, x, {}, sigma::ones({4})); },
               {"binary_cross_entropy_with_logits", "[4]", "[2, 3]"});
  expect_error([&] { sigma::binary_cross_entropy_with_logits(x, x, sigma::ones({2})); },
               {"binary_cross_entropy_with_logits", "[2]", "[2, 3]"});
  expect_error(
      [&] { sigma::binary_cross_entropy_with_logits(x, sigma::zeros({2, 3}, sigma::kInt64)); },
      {"binary_cross_entropy_with_logits", "int64"});
  Tensor wg = sigma::ones({3}).requires_grad_(true);
  expect_error([&] { sigma::binary_cross_entropy_with_logits(x, x, wg); },
               {"binary_cross_entropy_with_logits", "weight"});
}

TEST(BCEWithLogits, EmptyAndZeroDim) {
  Tensor e = sigma::zeros({0});
  EXPECT_EQ(sigma::binary_cross_entropy_with_logits(e, e, {}, {}, "sum").item<float>(), 0.f);
  EXPECT_TRUE(std::isnan(sigma::binary_cross_entropy_with_logits(e, e).item<float>()));
  Tensor x = sigma::scalar_tensor(0.5), t = sigma::scalar_tensor(1.0);
  EXPECT_LE(ulp_error<float>(sigma::binary_cross_entropy_with_logits(x, t).item<float>(),
                             ld_softplus(-0.5L)),
            1.0);
}

}  // namespace
