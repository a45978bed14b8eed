// Tests of src/ops/softmax.cpp and glu (src/ops/activation.cpp): softmax,
// log_softmax and logsumexp along every dimension of contiguous and
// transposed inputs against long double references, LibTorch's special
// values (-inf entries, rows with +inf, NaN or all -inf), dtypes (the dtype
// argument, bf16 rounding, errors for integers), zero-dimensional and empty
// inputs, gradients by central differences, and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "ulp.h"

namespace {

using sigma::Tensor;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::numel;
using sigma::test::Shape;
using sigma::test::ulp_error;
using LD = long double;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The multi-index of flat element i of shape s, and back.
std::vector<std::int64_t> unflatten(std::int64_t i, const Shape& s) {
  std::vector<std::int64_t> idx(s.size());
  for (std::size_t d = s.size(); d-- > 0;) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  return idx;
}
std::int64_t flatten_index(const std::vector<std::int64_t>& idx, const Shape& s) {
  std::int64_t i = 0;
  for (std::size_t d = 0; d < s.size(); ++d) i = i * s[d] + idx[d];
  return i;
}

// softmax / log_softmax of row-major values v (shape s) along dim d, in long
// double: for each element, the other elements of its line along d.
std::vector<LD> ld_softmax(const std::vector<double>& v, const Shape& s, std::int64_t d, bool log) {
  std::vector<LD> out(v.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i) {
    auto idx = unflatten(i, s);
    LD m = -INFINITY;
    for (std::int64_t j = 0; j < s[static_cast<std::size_t>(d)]; ++j) {
      idx[static_cast<std::size_t>(d)] = j;
      m = std::max(m, static_cast<LD>(v[static_cast<std::size_t>(flatten_index(idx, s))]));
    }
    LD sum = 0;
    for (std::int64_t j = 0; j < s[static_cast<std::size_t>(d)]; ++j) {
      idx[static_cast<std::size_t>(d)] = j;
      sum += std::exp(static_cast<LD>(v[static_cast<std::size_t>(flatten_index(idx, s))]) - m);
    }
    const LD xi = static_cast<LD>(v[static_cast<std::size_t>(i)]);
    out[static_cast<std::size_t>(i)] = log ? xi - m - std::log(sum) : std::exp(xi - m) / sum;
  }
  return out;
}

template <class T>
void check_values(bool log, bool transposed) {
  const auto dt = std::is_same_v<T, float> ? sigma::kFloat32 : sigma::kFloat64;
  const Shape s = {3, 4, 5};
  Tensor x;
  if (transposed) {
    x = sigma::tensor(draw(60, -6, 6, 11), sigma::kFloat64).reshape({5, 4, 3}).to(dt).permute({2, 1, 0});
  } else {
    x = sigma::tensor(draw(60, -6, 6, 12), sigma::kFloat64).reshape(s).to(dt);
  }
  const std::vector<double> xv = x.to_vector<double>();
  for (std::int64_t d = -3; d < 3; ++d) {
    const Tensor y = log ? sigma::log_softmax(x, d) : sigma::softmax(x, d);
    ASSERT_EQ(y.sizes().vec(), s);
    ASSERT_EQ(y.dtype(), dt);
    const auto ref = ld_softmax(xv, s, d < 0 ? d + 3 : d, log);
    const auto got = y.to_vector<T>();
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_LE(ulp_error<T>(got[i], ref[i]), 2.0)
          << (log ? "log_softmax" : "softmax") << " dim " << d << " element " << i;
  }
}

TEST(Softmax, ValuesAlongEveryDimensionWithinTwoUlp) {
  for (bool log : {false, true})
    for (bool transposed : {false, true}) {
      check_values<float>(log, transposed);
      check_values<double>(log, transposed);
    }
}

TEST(Softmax, LongRowsSumToOneAndMatchTheReference) {
  // 3000 columns spanning 60 units: the sum of the exponentials has terms
  // from 1 down to e^-60.
  const std::vector<double> v = draw(2 * 3000, -30, 30, 5);
  const Tensor x = sigma::tensor(v, sigma::kFloat64).reshape({2, 3000});
  const auto ref = ld_softmax(v, {2, 3000}, 1, false);
  const auto got = sigma::softmax(x, 1).to_vector<double>();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_LE(ulp_error<double>(got[i], ref[i]), 2.0) << i;
  const auto lref = ld_softmax(v, {2, 3000}, 1, true);
  const auto lgot = sigma::log_softmax(x, 1).to_vector<double>();
  for (std::size_t i = 0; i < lgot.size(); ++i) EXPECT_LE(ulp_error<double>(lgot[i], lref[i]), 2.0) << i;
}

TEST(Softmax, InfinitiesAndNaNFollowLibTorch) {
  // A finite maximum: -inf entries give 0 (log: -inf), the rest is exact.
  const Tensor a = sigma::tensor({-kInf, 0.0, 0.0, -kInf}, sigma::kFloat64).reshape({1, 4});
  EXPECT_EQ(sigma::softmax(a, 1).to_vector<double>(), (std::vector<double>{0, 0.5, 0.5, 0}));
  const auto la = sigma::log_softmax(a, 1).to_vector<double>();
  EXPECT_EQ(la[0], -kInf);
  EXPECT_EQ(la[3], -kInf);
  EXPECT_EQ(la[1], -std::log(2.0));
  // +inf, NaN or only -inf in a row: the whole row is NaN; other rows are not touched.
  const Tensor b = sigma::tensor({kInf, 1.0, 2.0, NAN, 3.0, 4.0, -kInf, -kInf, -kInf, 0.0, 0.0, 0.0},
                                 sigma::kFloat64)
                       .reshape({4, 3});
  for (bool log : {false, true}) {
    const auto y = (log ? sigma::log_softmax(b, 1) : sigma::softmax(b, 1)).to_vector<double>();
    for (int i = 0; i < 9; ++i) EXPECT_TRUE(std::isnan(y[static_cast<std::size_t>(i)])) << log << " " << i;
    for (int i = 9; i < 12; ++i)
      EXPECT_DOUBLE_EQ(y[static_cast<std::size_t>(i)], log ? -std::log(3.0) : 1.0 / 3.0);
  }
}

TEST(Softmax, HugeAndTinyInputsNeitherOverflowNorFlush) {
  const Tensor x = sigma::tensor({3e38f, -3e38f, 3e38f});
  const auto y = sigma::softmax(x, 0).to_vector<float>();
  EXPECT_EQ(y, (std::vector<float>{0.5f, 0.0f, 0.5f}));
  const auto ly = sigma::log_softmax(x, 0).to_vector<float>();
  EXPECT_EQ(ly[1], -std::numeric_limits<float>::infinity());  // -6e38 - log 2 overflows to -inf
  EXPECT_FLOAT_EQ(ly[0], -std::log(2.0f));
  // e^-100 / (1 + e^-100) is a subnormal float: produced, not flushed.
  const auto s = sigma::softmax(sigma::tensor({0.0f, -100.0f}), 0).to_vector<float>();
  EXPECT_GT(s[1], 0.0f);
  EXPECT_LE(ulp_error<float>(s[1], std::exp(-100.0L) / (1 + std::exp(-100.0L))), 1.0);
  // log_softmax next to 0: relative accuracy kept (-log1p(e^-40)).
  const auto l = sigma::log_softmax(sigma::tensor({0.0, -40.0}, sigma::kFloat64), 0).to_vector<double>();
  EXPECT_LE(ulp_error<double>(l[0], -std::log1p(std::exp(-40.0L))), 2.0);
}

TEST(Softmax, DtypeArgumentScalarsEmptyAndHalfPrecision) {
  const Tensor x = sigma::tensor({1.0f, 2.0f, 3.0f}).requires_grad_(true);
  const Tensor y = sigma::softmax(x, 0, sigma::kFloat64);
  EXPECT_EQ(y.dtype(), sigma::kFloat64);
  y.select(0, 2).backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), sigma::kFloat32);
  // d y2 / d x = y2 (delta - y)
  const auto yv = y.to_vector<double>();
  const auto g = x.grad().to_vector<float>();
  for (int i = 0; i < 3; ++i)
    EXPECT_FLOAT_EQ(g[static_cast<std::size_t>(i)],
                    static_cast<float>(yv[2] * ((i == 2 ? 1 : 0) - yv[static_cast<std::size_t>(i)])));
  // A zero-dimensional input is its own row: softmax 1, log_softmax 0.
  EXPECT_EQ(sigma::softmax(sigma::scalar_tensor(7.5), 0).item<float>(), 1.0f);
  EXPECT_EQ(sigma::log_softmax(sigma::scalar_tensor(7.5), -1).item<float>(), 0.0f);
  EXPECT_EQ(sigma::softmax(sigma::zeros({0, 3}), 1).sizes().vec(), (Shape{0, 3}));
  EXPECT_EQ(sigma::softmax(sigma::zeros({2, 0}), 1).sizes().vec(), (Shape{2, 0}));
  // bf16: computed in f32, rounded once.
  const Tensor h = sigma::tensor({0.5f, -1.25f, 2.0f}).to(sigma::kBFloat16);
  const Tensor hy = sigma::softmax(h, 0);
  EXPECT_EQ(hy.dtype(), sigma::kBFloat16);
  const auto ref = ld_softmax({0.5, -1.25, 2.0}, {3}, 0, false);
  const auto hv = hy.to_vector<float>();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(hv[static_cast<std::size_t>(i)],
              sigma::test::round_bf16(static_cast<float>(ref[static_cast<std::size_t>(i)])));
}

TEST(Softmax, GradientsMatchCentralDifferences) {
  const Tensor x = sigma::tensor(draw(24, -3, 3, 21), sigma::kFloat64).reshape({2, 3, 4});
  for (std::int64_t d : {0, 1, 2}) {
    for (bool log : {false, true}) {
      const auto r = sigma::gradcheck(
          [&](const sigma::TensorList& in) {
            return log ? sigma::log_softmax(in[0], d) : sigma::softmax(in[0], d);
          },
          {x.detach().requires_grad_(true)});
      EXPECT_TRUE(r.ok) << (log ? "log_softmax" : "softmax") << " dim " << d << ": " << r.message;
    }
  }
  // Through a transposed (non-contiguous) input.
  const Tensor xt = x.detach().transpose(0, 2).requires_grad_(true);
  const auto r = sigma::gradcheck([](const sigma::TensorList& in) { return sigma::log_softmax(in[0], 1); },
                                  {xt});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Logsumexp, ValuesInfinitiesAndGradient) {
  const std::vector<double> v = draw(24, -50, 50, 31);
  const Tensor x = sigma::tensor(v, sigma::kFloat64).reshape({2, 3, 4});
  const Tensor r = sigma::logsumexp(x, {0, 2});
  ASSERT_EQ(r.sizes().vec(), (Shape{3}));
  for (std::int64_t j = 0; j < 3; ++j) {
    LD m = -INFINITY, s = 0;
    for (int a = 0; a < 2; ++a)
      for (int c = 0; c < 4; ++c) m = std::max(m, static_cast<LD>(v[static_cast<std::size_t>(a * 12 + j * 4 + c)]));
    for (int a = 0; a < 2; ++a)
      for (int c = 0; c < 4; ++c) s += std::exp(static_cast<LD>(v[static_cast<std::size_t>(a * 12 + j * 4 + c)]) - m);
    EXPECT_LE(ulp_error<double>(r.to_vector<double>()[static_cast<std::size_t>(j)], m + std::log(s)), 2.0);
  }
  EXPECT_EQ(sigma::logsumexp(x, {1}, true).sizes().vec(), (Shape{2, 1, 4}));
  EXPECT_EQ(sigma::logsumexp(x, {}).dim(), 0);
  // No overflow: 1000 and 1000 give 1000 + log 2.
  EXPECT_DOUBLE_EQ(sigma::logsumexp(sigma::tensor({1000.0, 1000.0}, sigma::kFloat64), {0}).item<double>(),
                   1000.0 + std::log(2.0));
  EXPECT_EQ(sigma::logsumexp(sigma::tensor({-kInf, -kInf}, sigma::kFloat64), {0}).item<double>(), -kInf);
  EXPECT_EQ(sigma::logsumexp(sigma::tensor({kInf, 1.0}, sigma::kFloat64), {0}).item<double>(), kInf);
  // An empty sum: log 0 = -inf, as PyTorch.
  EXPECT_EQ(sigma::logsumexp(sigma::zeros({2, 0}), {1}).to_vector<float>(),
            (std::vector<float>{-INFINITY, -INFINITY}));
  // Integers compute in the default dtype.
  EXPECT_EQ(sigma::logsumexp(sigma::tensor({1, 2, 3}), {0}).dtype(), sigma::kFloat32);
  const auto g = sigma::gradcheck(
      [](const sigma::TensorList& in) { return sigma::logsumexp(in[0], {0, 2}, false); },
      {sigma::tensor(draw(24, -3, 3, 32), sigma::kFloat64).reshape({2, 3, 4}).requires_grad_(true)});
  EXPECT_TRUE(g.ok) << g.message;
}

TEST(Glu, HalvesGateWithSigmoidAndDifferentiate) {
  const std::vector<double> v = draw(12, -4, 4, 41);
  const Tensor x = sigma::tensor(v, sigma::kFloat64).reshape({3, 4});
  const auto y = sigma::glu(x).to_vector<double>();  // dim -1: halves of 2
  ASSERT_EQ(y.size(), 6u);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) {
      const LD a = v[static_cast<std::size_t>(r * 4 + c)], b = v[static_cast<std::size_t>(r * 4 + c + 2)];
      EXPECT_LE(ulp_error<double>(y[static_cast<std::size_t>(r * 2 + c)], a / (1 + std::exp(-b))), 2.0);
    }
  EXPECT_EQ(sigma::glu(sigma::zeros({4, 3}), 0).sizes().vec(), (Shape{2, 3}));
  const auto g = sigma::gradcheck([](const sigma::TensorList& in) { return sigma::glu(in[0], 1); },
                                  {x.detach().requires_grad_(true)});
  EXPECT_TRUE(g.ok) << g.message;
}

TEST(SoftmaxErrors, NameTheOpShapeAndDtype) {
  expect_error([] { sigma::softmax(sigma::tensor({1, 2}), 0); }, {"softmax", "int64", "floating"});
  expect_error([] { sigma::log_softmax(sigma::zeros({2, 3}), 2); }, {"log_softmax", "dim", "2"});
  expect_error([] { sigma::glu(sigma::zeros({2, 3})); }, {"glu", "[2, 3]", "even", "3"});
  expect_error([] { sigma::glu(sigma::scalar_tensor(1.0)); }, {"glu", "scalar"});
  expect_error([] { sigma::softmax(Tensor(), 0); }, {"softmax", "undefined"});
}

}  // namespace
