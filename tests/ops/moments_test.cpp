// Tests of src/ops/moments.cpp: var, std, var_mean and std_mean with the
// unbiased and correction overloads, against two-pass long double references
// written from the definition; precision on data with a large mean; edge
// cases (n - correction <= 0, one element, empty dims); errors; gradients by
// central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::make;
using sigma::test::Shape;
using LD = long double;

// The variance of v with the given correction, two passes in long double.
double ref_var(const std::vector<double>& v, std::int64_t correction) {
  LD mean = 0;
  for (double e : v) mean += e;
  mean /= static_cast<LD>(v.size());
  LD ss = 0;
  for (double e : v) ss += (e - mean) * (e - mean);
  return static_cast<double>(ss / static_cast<LD>(static_cast<std::int64_t>(v.size()) - correction));
}

TEST(Moments, AllElementsHandChecked) {
  // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5.
  const Tensor x = make({2, 2}, {1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(x.var().item<double>(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(x.var(false).item<double>(), 5.0 / 4.0);
  EXPECT_DOUBLE_EQ(x.std().item<double>(), std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(sigma::var(x, std::nullopt, std::optional<std::int64_t>(2)).item<double>(), 2.5);
  auto [v, m] = sigma::var_mean(x);
  EXPECT_DOUBLE_EQ(v.item<double>(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.item<double>(), 2.5);
  auto [s, m2] = sigma::std_mean(x, false);
  EXPECT_DOUBLE_EQ(s.item<double>(), std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(m2.item<double>(), 2.5);
}

TEST(Moments, AlongDimsAgainstTwoPassReference) {
  const std::vector<double> d = draw(60, -3, 5, 7);
  const Tensor x = make({3, 4, 5}, d);
  // var over dim 1 (keepdim and not), correction 0, 1, 3.
  for (std::int64_t corr : {0, 1, 3}) {
    for (bool keepdim : {false, true}) {
      const Tensor r = x.var({1}, std::optional<std::int64_t>(corr), keepdim);
      EXPECT_EQ(r.sizes().vec(), keepdim ? (Shape{3, 1, 5}) : (Shape{3, 5}));
      const auto got = r.to_vector<double>();
      for (std::int64_t a = 0; a < 3; ++a)
        for (std::int64_t c = 0; c < 5; ++c) {
          std::vector<double> line;
          for (std::int64_t b = 0; b < 4; ++b) line.push_back(d[static_cast<std::size_t>((a * 4 + b) * 5 + c)]);
          EXPECT_NEAR(got[static_cast<std::size_t>(a * 5 + c)], ref_var(line, corr), 1e-14);
        }
    }
  }
  // Two dims, negative index; std is the root of var.
  const Tensor v = x.var({0, -1}, true, false), s = x.std({0, -1}, true, false);
  ASSERT_EQ(v.sizes().vec(), (Shape{4}));
  for (std::int64_t b = 0; b < 4; ++b) {
    std::vector<double> plane;
    for (std::int64_t a = 0; a < 3; ++a)
      for (std::int64_t c = 0; c < 5; ++c) plane.push_back(d[static_cast<std::size_t>((a * 4 + b) * 5 + c)]);
    EXPECT_NEAR(v.to_vector<double>()[static_cast<std::size_t>(b)], ref_var(plane, 1), 1e-14);
    EXPECT_NEAR(s.to_vector<double>()[static_cast<std::size_t>(b)], std::sqrt(ref_var(plane, 1)), 1e-14);
  }
  // An int is a dimension (as LibTorch), an empty list all dims.
  EXPECT_EQ(x.std(0).sizes().vec(), (Shape{4, 5}));
  EXPECT_EQ(sigma::std(x, 0).sizes().vec(), (Shape{4, 5}));
  EXPECT_EQ(sigma::var(x, {2}).sizes().vec(), (Shape{3, 4}));
  EXPECT_EQ(std::get<0>(sigma::std_mean(x, 1)).sizes().vec(), (Shape{3, 5}));
  EXPECT_EQ(std::get<1>(sigma::var_mean(x, {1})).sizes().vec(), (Shape{3, 5}));
  EXPECT_EQ(sigma::var(x, false).dim(), 0);  // a bool is unbiased
  EXPECT_NEAR(x.var(std::vector<std::int64_t>{}, true, false).item<double>(), ref_var(d, 1), 1e-14);
}

TEST(Moments, Float32IsAccurateWithALargeMean) {
  // 1e4 + small offsets: a one-pass sum of squares in float32 loses every
  // digit; two passes in double keep the float32 result within an ulp or two.
  std::vector<double> v;
  for (int k = 0; k < 1000; ++k) v.push_back(10000.0 + 0.01 * static_cast<double>(k % 7));
  const Tensor x = make({1000}, v, sigma::kFloat32);
  const std::vector<double> rounded = x.to_vector<double>();
  const double want = ref_var(rounded, 1);
  EXPECT_EQ(x.var().dtype(), sigma::kFloat32);
  EXPECT_NEAR(x.var().item<double>(), want, 4 * std::ldexp(want, -24));
}

TEST(Moments, DegenerateCountsGiveNaNOrInf) {
  EXPECT_TRUE(std::isnan(make({1}, {3.0}).std().item<double>()));  // 0 / 0
  EXPECT_EQ(make({1}, {3.0}).var(false).item<double>(), 0.0);
  // n - correction < 0: divisor clamped to 0, as LibTorch.
  EXPECT_TRUE(std::isinf(make({2}, {1.0, 2.0}).var({0}, std::optional<std::int64_t>(3)).item<double>()));
}

TEST(Moments, Errors) {
  expect_error([] { (void)sigma::tensor({1, 2, 3}).var(); }, {"var", "floating", "int64"});
  expect_error([] { (void)sigma::tensor({1, 2, 3}).std(); }, {"std", "int64"});
  expect_error([] { (void)make({2, 2}, {1, 2, 3, 4}).var({2}); }, {"dim"});
}

TEST(Moments, GradientsMatchCentralDifferences) {
  const Tensor x = make({3, 4}, draw(12, -2, 2, 11)).requires_grad_();
  using L = sigma::TensorList;
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].var(); }, {x}).ok);
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].std({1}, false, true); }, {x}).ok);
  EXPECT_TRUE(sigma::gradcheck(
      [](const L& in) { return in[0].var({0}, std::optional<std::int64_t>(2), false); }, {x}).ok);
  EXPECT_TRUE(sigma::gradcheck([](const L& in) {
    auto [s, m] = sigma::std_mean(in[0], {1});
    return s * 2 + m;
  }, {x}).ok);
  const Tensor xt = make({4, 3}, draw(12, -2, 2, 12)).t().requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].std(1); }, {xt}).ok);
  // A constant line: std's gradient is 0 there, not NaN (as LibTorch).
  const Tensor c = make({3}, {2, 2, 2}).requires_grad_();
  c.std().backward();
  EXPECT_EQ(c.grad().to_vector<double>(), (std::vector<double>{0, 0, 0}));
}

}  // namespace
