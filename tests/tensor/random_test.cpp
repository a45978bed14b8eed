// Tests of src/tensor/random.cpp: reproducibility after manual_seed, ranges,
// moments of 1e6 samples within a few standard errors (computed here in long
// double), chi-square uniformity of randint / randperm, bernoulli rates,
// dtype and requires_grad options, in-place fills and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;

struct Moments {
  long double mean = 0, var = 0, m4 = 0;  // central moments
};

Moments moments(const std::vector<double>& v) {
  Moments m;
  const auto n = static_cast<long double>(v.size());
  for (double x : v) m.mean += x;
  m.mean /= n;
  for (double x : v) {
    const long double d = x - m.mean;
    m.var += d * d;
    m.m4 += d * d * d * d;
  }
  m.var /= n;
  m.m4 /= n;
  return m;
}

// Pearson's chi-square statistic of observed counts against equal expectation.
double chi_square(const std::vector<std::int64_t>& counts) {
  double total = 0;
  for (auto c : counts) total += static_cast<double>(c);
  const double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (auto c : counts) {
    const double d = static_cast<double>(c) - expected;
    chi += d * d / expected;
  }
  return chi;
}

TEST(Random, ManualSeedReproduces) {
  sigma::manual_seed(123);
  const auto a = sigma::rand({100}).to_vector<float>();
  const auto b = sigma::randn({7, 3}, sigma::kFloat64).to_vector<double>();
  const auto c = sigma::randint(-5, 5, {50}).to_vector<std::int64_t>();
  const auto d = sigma::randperm(20).to_vector<std::int64_t>();
  sigma::manual_seed(123);
  EXPECT_EQ(sigma::rand({100}).to_vector<float>(), a);
  EXPECT_EQ(sigma::randn({7, 3}, sigma::kFloat64).to_vector<double>(), b);
  EXPECT_EQ(sigma::randint(-5, 5, {50}).to_vector<std::int64_t>(), c);
  EXPECT_EQ(sigma::randperm(20).to_vector<std::int64_t>(), d);
  // Another seed, another stream; the stream advances between calls.
  sigma::manual_seed(124);
  EXPECT_NE(sigma::rand({100}).to_vector<float>(), a);
  sigma::manual_seed(123);
  sigma::rand({100});
  EXPECT_NE(sigma::rand({100}).to_vector<float>(), a);
}

TEST(Random, RandRangeAndDtypes) {
  sigma::manual_seed(1);
  for (auto dt : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16, sigma::kFloat16}) {
    Tensor r = sigma::rand({20000}, dt);
    EXPECT_EQ(r.dtype(), dt);
    const auto v = r.to_vector<double>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    EXPECT_GE(*lo, 0.0) << sigma::to_string(dt);
    EXPECT_LT(*hi, 1.0) << sigma::to_string(dt);
    EXPECT_GT(*hi, 0.99) << sigma::to_string(dt);
    EXPECT_LT(*lo, 0.01) << sigma::to_string(dt);
  }
  EXPECT_EQ(sigma::rand({2, 3}).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::rand({2, 3}).sizes(), sigma::IntArrayRef({2, 3}));
  EXPECT_EQ(sigma::rand({}).dim(), 0);
  EXPECT_EQ(sigma::rand({0, 4}).numel(), 0);
}

TEST(Random, UniformMoments) {
  sigma::manual_seed(7);
  const auto v = sigma::rand({1000000}, sigma::kFloat64).to_vector<double>();
  const Moments m = moments(v);
  const long double n = 1e6L;
  // U[0, 1): mean 1/2, variance 1/12, fourth central moment 1/80.
  EXPECT_NEAR(static_cast<double>(m.mean), 0.5, 5 * std::sqrt(1.0 / 12 / 1e6));
  const double var_se = std::sqrt(static_cast<double>((1.0L / 80 - 1.0L / 144) / n));
  EXPECT_NEAR(static_cast<double>(m.var), 1.0 / 12, 5 * var_se);
  // Histogram of 20 bins.
  std::vector<std::int64_t> bins(20, 0);
  for (double x : v) ++bins[static_cast<std::size_t>(x * 20)];
  EXPECT_LT(chi_square(bins), 60.0);  // df 19: p < 1e-5 above ~50
}

TEST(Random, NormalMoments) {
  sigma::manual_seed(11);
  const auto v = sigma::randn({1000000}, sigma::kFloat64).to_vector<double>();
  const Moments m = moments(v);
  EXPECT_NEAR(static_cast<double>(m.mean), 0.0, 5 * std::sqrt(1.0 / 1e6));
  EXPECT_NEAR(static_cast<double>(m.var), 1.0, 5 * std::sqrt(2.0 / 1e6));
  // Kurtosis 3: E[z^4] has variance 96 for a standard normal.
  EXPECT_NEAR(static_cast<double>(m.m4), 3.0, 5 * std::sqrt(96.0 / 1e6));
  // P(|z| < 1) = 0.682689...
  std::int64_t inside = 0;
  for (double x : v) inside += std::fabs(x) < 1;
  const double p = 0.6826894921370859;
  EXPECT_NEAR(static_cast<double>(inside) / 1e6, p, 5 * std::sqrt(p * (1 - p) / 1e6));
  // Float32 too.
  const auto f = sigma::randn({200000}).to_vector<double>();
  const Moments mf = moments(f);
  EXPECT_NEAR(static_cast<double>(mf.mean), 0.0, 5 * std::sqrt(1.0 / 2e5));
  EXPECT_NEAR(static_cast<double>(mf.var), 1.0, 5 * std::sqrt(2.0 / 2e5));
}

TEST(Random, InPlaceUniformAndNormal) {
  sigma::manual_seed(3);
  Tensor t = sigma::empty({500000}, sigma::kFloat64);
  const auto v0 = t._version();
  Tensor& r = t.uniform_(-2.0, 6.0);
  EXPECT_TRUE(r.is_same(t));
  EXPECT_GT(t._version(), v0);
  const auto u = t.to_vector<double>();
  const auto [lo, hi] = std::minmax_element(u.begin(), u.end());
  EXPECT_GE(*lo, -2.0);
  EXPECT_LT(*hi, 6.0);
  const Moments mu = moments(u);
  EXPECT_NEAR(static_cast<double>(mu.mean), 2.0, 5 * std::sqrt(64.0 / 12 / 5e5));
  EXPECT_NEAR(static_cast<double>(mu.var), 64.0 / 12,
              5 * std::sqrt(static_cast<double>((4096.0L / 80 - 4096.0L / 144) / 5e5L)));

  t.normal_(3.0, 0.5);
  const Moments mn = moments(t.to_vector<double>());
  EXPECT_NEAR(static_cast<double>(mn.mean), 3.0, 5 * 0.5 / std::sqrt(5e5));
  EXPECT_NEAR(static_cast<double>(mn.var), 0.25, 5 * 0.25 * std::sqrt(2.0 / 5e5));

  // std = 0 gives the mean; from == to gives from.
  Tensor c = sigma::empty({4});
  c.normal_(1.5, 0.0);
  EXPECT_EQ(c.to_vector<float>(), std::vector<float>(4, 1.5f));
  c.uniform_(2.0, 2.0);
  EXPECT_EQ(c.to_vector<float>(), std::vector<float>(4, 2.0f));
}

TEST(Random, UniformNeverReachesUpperBoundInNarrowTypes) {
  sigma::manual_seed(5);
  // In bfloat16 a draw just below 1 rounds to 1; uniform_ must stay below.
  Tensor b = sigma::empty({100000}, sigma::kBFloat16);
  b.uniform_(0.0, 1.0);
  for (double x : b.to_vector<double>()) ASSERT_LT(x, 1.0);
  Tensor f = sigma::empty({100000});
  f.uniform_(1.0, 1.0000001);  // a range of about one float ULP
  for (double x : f.to_vector<double>()) {
    ASSERT_GE(x, 1.0);
    ASSERT_LT(x, 1.0000001);
  }
}

TEST(Random, InPlaceFillsNonContiguousInRowMajorOrder) {
  sigma::manual_seed(9);
  Tensor a = sigma::empty({6, 4});
  a.uniform_();
  sigma::manual_seed(9);
  Tensor base = sigma::zeros({4, 6});
  Tensor b = base.t();  // [6, 4], not contiguous
  b.uniform_();
  EXPECT_EQ(b.to_vector<float>(), a.to_vector<float>());
  // The base sees the transpose.
  EXPECT_EQ(base.t().contiguous().to_vector<float>(), a.to_vector<float>());
}

TEST(Random, InPlaceErrors) {
  Tensor leaf = sigma::zeros({3}, sigma::requires_grad());
  expect_error([&] { leaf.uniform_(); }, {"uniform_", "leaf"});
  expect_error([&] { leaf.normal_(); }, {"normal_", "leaf"});
  {
    sigma::NoGradGuard g;
    leaf.uniform_();  // allowed without gradient recording (as nn init)
  }
  Tensor t = sigma::zeros({3});
  expect_error([&] { t.uniform_(2.0, 1.0); }, {"uniform_", "from=2", "to=1"});
  expect_error([&] { t.uniform_(0.0, HUGE_VAL); }, {"uniform_"});
  expect_error([&] { t.normal_(0.0, -1.0); }, {"normal_", "std=-1"});
  expect_error([&] { t.normal_(0.0, std::nan("")); }, {"normal_"});
  Tensor i = sigma::zeros({3}, sigma::kInt64);
  expect_error([&] { i.uniform_(); }, {"uniform_", "int64"});
}

TEST(Random, RandintRangeAndUniformity) {
  sigma::manual_seed(21);
  Tensor r = sigma::randint(-3, 7, {100000});
  EXPECT_EQ(r.dtype(), sigma::kInt64);
  std::vector<std::int64_t> counts(10, 0);
  for (auto v : r.to_vector<std::int64_t>()) {
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 7);
    ++counts[static_cast<std::size_t>(v + 3)];
  }
  EXPECT_LT(chi_square(counts), 45.0);  // df 9: p ~ 1e-6
  for (auto c : counts) EXPECT_GT(c, 0);
  // randint(high, shape) is randint(0, high, shape).
  for (auto v : sigma::randint(3, {1000}).to_vector<std::int64_t>()) {
    EXPECT_GE(v, 0);
    EXPECT_LT(v, 3);
  }
  // A range of one value.
  EXPECT_EQ(sigma::randint(5, 6, {4}).to_vector<std::int64_t>(), std::vector<std::int64_t>(4, 5));
  // The whole int64 range (high - low overflows int64).
  const auto big = sigma::randint(std::numeric_limits<std::int64_t>::min(),
                                  std::numeric_limits<std::int64_t>::max(), {1000})
                       .to_vector<std::int64_t>();
  std::int64_t negatives = 0;
  for (auto v : big) {
    EXPECT_LT(v, std::numeric_limits<std::int64_t>::max());
    negatives += v < 0;
  }
  EXPECT_GT(negatives, 400);
  EXPECT_LT(negatives, 600);
  // A range not dividing 2^64, far from small: rejection keeps it unbiased,
  // so the two halves of [0, 3 * 2^61) are equally likely.
  const std::int64_t high = std::int64_t{3} << 61;
  std::int64_t low_half = 0;
  for (auto v : sigma::randint(high, {100000}).to_vector<std::int64_t>()) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, high);
    low_half += v < high / 2;
  }
  EXPECT_NEAR(static_cast<double>(low_half) / 1e5, 0.5, 5 * 0.5 / std::sqrt(1e5));
}

TEST(Random, RandintOptionsAndErrors) {
  Tensor f = sigma::randint(0, 10, {50}, sigma::kFloat32);
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  for (float v : f.to_vector<float>()) {
    EXPECT_EQ(v, std::floor(v));
    EXPECT_GE(v, 0.f);
    EXPECT_LT(v, 10.f);
  }
  Tensor g = sigma::randint(0, 10, {5}, sigma::dtype(sigma::kFloat64).requires_grad(true));
  EXPECT_TRUE(g.requires_grad());
  expect_error([] { sigma::randint(5, 5, {3}); }, {"randint", "5"});
  expect_error([] { sigma::randint(0, {3}); }, {"randint", "0"});
  expect_error([] { sigma::randint(0, 4, {3}, sigma::requires_grad()); }, {"requires_grad"});
}

TEST(Random, RandpermIsAPermutationAndUniform) {
  sigma::manual_seed(31);
  for (std::int64_t n : {0, 1, 2, 17, 1000}) {
    Tensor p = sigma::randperm(n);
    EXPECT_EQ(p.dtype(), sigma::kInt64);
    EXPECT_EQ(p.sizes(), sigma::IntArrayRef({n}));
    auto v = p.to_vector<std::int64_t>();
    std::sort(v.begin(), v.end());
    for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], i);
  }
  // All 6 orders of 3 elements equally likely.
  std::map<std::vector<std::int64_t>, std::int64_t> seen;
  for (int k = 0; k < 60000; ++k) ++seen[sigma::randperm(3).to_vector<std::int64_t>()];
  ASSERT_EQ(seen.size(), 6u);
  std::vector<std::int64_t> counts;
  for (const auto& [perm, c] : seen) counts.push_back(c);
  EXPECT_LT(chi_square(counts), 35.0);  // df 5: p ~ 1e-6
  // Each position is uniform over the values for a longer permutation.
  std::vector<std::int64_t> first(10, 0);
  for (int k = 0; k < 20000; ++k)
    ++first[static_cast<std::size_t>(sigma::randperm(10).to_vector<std::int64_t>()[0])];
  EXPECT_LT(chi_square(first), 45.0);
  EXPECT_EQ(sigma::randperm(4, sigma::kFloat64).dtype(), sigma::kFloat64);
  expect_error([] { sigma::randperm(-1); }, {"randperm", "-1"});
}

TEST(Random, LikeAndOptions) {
  Tensor t = sigma::zeros({3, 2}, sigma::kFloat64);
  Tensor r = sigma::rand_like(t);
  EXPECT_EQ(r.dtype(), sigma::kFloat64);
  EXPECT_EQ(r.sizes(), t.sizes());
  EXPECT_EQ(sigma::randn_like(t, sigma::kBFloat16).dtype(), sigma::kBFloat16);
  Tensor w = sigma::randn({4, 4}, sigma::requires_grad());
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  EXPECT_FALSE(sigma::rand({2}).requires_grad());
  expect_error([] { sigma::rand({2}, sigma::kInt64); }, {"rand", "int64"});
  expect_error([] { sigma::randn({2}, sigma::kBool); }, {"randn", "bool"});
  expect_error([] { sigma::rand({-1}); }, {"-1"});
}

TEST(Random, Bernoulli) {
  sigma::manual_seed(41);
  Tensor p = sigma::full({200000}, 0.3, sigma::kFloat64);
  Tensor b = sigma::bernoulli(p);
  EXPECT_EQ(b.dtype(), sigma::kFloat64);
  std::int64_t ones = 0;
  for (double v : b.to_vector<double>()) {
    ASSERT_TRUE(v == 0.0 || v == 1.0);
    ones += v == 1.0;
  }
  EXPECT_NEAR(static_cast<double>(ones) / 2e5, 0.3, 5 * std::sqrt(0.21 / 2e5));
  // Per-element probabilities, non-contiguous.
  Tensor q = sigma::tensor({{0.f, 1.f}, {1.f, 0.f}, {0.f, 1.f}}).t();
  EXPECT_EQ(sigma::bernoulli(q).to_vector<float>(), (std::vector<float>{0, 1, 0, 1, 0, 1}));
  EXPECT_FALSE(sigma::bernoulli(sigma::full({3}, 0.5, sigma::requires_grad())).requires_grad());
  expect_error([] { sigma::bernoulli(sigma::tensor({0.5f, 1.5f})); }, {"bernoulli", "1.5"});
  expect_error([] { sigma::bernoulli(sigma::tensor({-0.1f})); }, {"bernoulli"});
  expect_error([] { sigma::bernoulli(sigma::tensor({std::nanf("")})); }, {"bernoulli", "nan"});
  expect_error([] { sigma::bernoulli(sigma::tensor({1, 0})); }, {"bernoulli", "int64"});
}

TEST(Random, ConcurrentCallsAreSafe) {
  // Each call holds the generator while drawing: four threads drawing
  // together use the same stream as one thread drawing the four blocks.
  sigma::manual_seed(51);
  std::vector<std::vector<double>> out(4);
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < 4; ++k)
    threads.emplace_back(
        [&out, k] { out[k] = sigma::rand({10000}, sigma::kFloat64).to_vector<double>(); });
  for (auto& th : threads) th.join();
  sigma::manual_seed(51);
  std::vector<double> all = sigma::rand({40000}, sigma::kFloat64).to_vector<double>();
  std::vector<double> got;
  for (const auto& o : out) got.insert(got.end(), o.begin(), o.end());
  std::sort(got.begin(), got.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(got, all);
}

}  // namespace
