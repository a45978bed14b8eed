// Tests of src/ops/compare.cpp: eq/ne/lt/le/gt/ge and their operators,
// isnan, isfinite, where (with its gradient), equal and allclose.
// References are plain loops over the row-major values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::make;
using sigma::test::Shape;

// Small integers with repeats, so that ties occur.
std::vector<double> ints(std::size_t n, int seed) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>((static_cast<int>(i) * 7 + seed) % 5) - 2.0;
  return v;
}

struct CmpCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  std::function<Tensor(const Tensor&, const Tensor&)> oper;
  std::function<Tensor(const Tensor&, double)> scalar_op;
  std::function<bool(double, double)> ref;
};

std::vector<CmpCase> cases() {
  return {
      {"eq", [](auto& a, auto& b) { return sigma::eq(a, b); }, [](auto& a, auto& b) { return a == b; },
       [](auto& a, double s) { return a.eq(s); }, [](double x, double y) { return x == y; }},
      {"ne", [](auto& a, auto& b) { return sigma::ne(a, b); }, [](auto& a, auto& b) { return a != b; },
       [](auto& a, double s) { return a.ne(s); }, [](double x, double y) { return x != y; }},
      {"lt", [](auto& a, auto& b) { return sigma::lt(a, b); }, [](auto& a, auto& b) { return a < b; },
       [](auto& a, double s) { return a < s; }, [](double x, double y) { return x < y; }},
      {"le", [](auto& a, auto& b) { return sigma::le(a, b); }, [](auto& a, auto& b) { return a <= b; },
       [](auto& a, double s) { return a <= s; }, [](double x, double y) { return x <= y; }},
      {"gt", [](auto& a, auto& b) { return sigma::gt(a, b); }, [](auto& a, auto& b) { return a > b; },
       [](auto& a, double s) { return a.gt(s); }, [](double x, double y) { return x > y; }},
      {"ge", [](auto& a, auto& b) { return sigma::ge(a, b); }, [](auto& a, auto& b) { return a >= b; },
       [](auto& a, double s) { return a >= s; }, [](double x, double y) { return x >= y; }},
  };
}

TEST(Compare, BroadcastAgainstLoops) {
  // [2, 1, 3] against [4, 1] -> [2, 4, 3].
  const auto va = ints(6, 1), vb = ints(4, 3);
  for (const auto& c : cases()) {
    for (auto dt : {sigma::kFloat64, sigma::kFloat32, sigma::kInt64, sigma::kBFloat16}) {
      const Tensor a = make({2, 1, 3}, va, dt), b = make({4, 1}, vb, dt);
      for (const Tensor& r : {c.op(a, b), c.oper(a, b)}) {
        EXPECT_EQ(r.dtype(), sigma::kBool) << c.name;
        EXPECT_EQ(r.sizes(), (Shape{2, 4, 3})) << c.name;
        EXPECT_FALSE(r.requires_grad());
        const auto got = r.to_vector<bool>();
        for (std::size_t i = 0; i < 2; ++i)
          for (std::size_t j = 0; j < 4; ++j)
            for (std::size_t k = 0; k < 3; ++k)
              EXPECT_EQ(got[(i * 4 + j) * 3 + k], c.ref(va[i * 3 + k], vb[j]))
                  << c.name << " " << sigma::to_string(dt) << " at " << i << "," << j << "," << k;
      }
    }
  }
}

TEST(Compare, ScalarsNonContiguousAndNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> v{-1.0, 0.0, 0.5, nan, 2.0, 0.5};
  const Tensor x = make({2, 3}, v);
  for (const auto& c : cases()) {
    for (double s : {0.5, 0.0, nan}) {
      const auto got = c.scalar_op(x, s).to_vector<bool>();
      for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(got[i], c.ref(v[i], s)) << c.name << " " << s;
    }
    // Transposed operand against a contiguous one.
    const Tensor y = make({3, 2}, {0.5, -1.0, nan, 0.0, 2.0, 3.0});
    const auto yv = y.to_vector<double>();
    const auto got = c.op(x.t(), y).to_vector<bool>();
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 2; ++j)
        EXPECT_EQ(got[i * 2 + j], c.ref(v[j * 3 + i], yv[i * 2 + j])) << c.name;
  }
  // 0-dim and empty.
  const Tensor z = sigma::scalar_tensor(1.0) < sigma::scalar_tensor(2.0);
  EXPECT_EQ(z.dim(), 0);
  EXPECT_TRUE(z.item<bool>());
  EXPECT_EQ((sigma::zeros({0, 2}) == 0).sizes(), (Shape{0, 2}));
}

TEST(Compare, PromotesLikePyTorch) {
  // int64 against a float scalar compares in float32.
  const Tensor i = sigma::tensor({1, 2, 3});
  EXPECT_EQ((i < 2.5).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ((i == 2).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  // Large int64 values compare exactly in int64.
  const std::int64_t big = (std::int64_t{1} << 53) + 1;
  const Tensor a = sigma::tensor(std::vector<std::int64_t>{big});
  const Tensor b = sigma::tensor(std::vector<std::int64_t>{big - 1});
  EXPECT_FALSE((a == b).item<bool>());
  EXPECT_TRUE((a > b).item<bool>());
  // float32 against float64: promoted to float64.
  const Tensor f = sigma::full({1}, 0.1f);
  const Tensor d = sigma::full({1}, 0.1, sigma::dtype(sigma::kFloat64));
  EXPECT_FALSE((f == d).item<bool>());
  EXPECT_TRUE((f == sigma::full({1}, static_cast<double>(0.1f), sigma::dtype(sigma::kFloat64))).item<bool>());
  // bool tensors.
  const Tensor t = sigma::tensor({true, false});
  EXPECT_EQ((t == true).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ((t < sigma::tensor({true, true})).to_vector<bool>(), (std::vector<bool>{false, true}));
}

TEST(Compare, Errors) {
  const Tensor a = sigma::ones({2, 3}), b = sigma::ones({2});
  expect_error([&] { (void)(a == b); }, {"eq", "[2, 3]", "[2]"});
  expect_error([&] { (void)sigma::lt(a, b); }, {"lt", "[2, 3]", "[2]"});
  expect_error([&] { (void)(a >= Tensor()); }, {"ge", "undefined"});
}

TEST(Compare, IsNanIsFinite) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto dt : {sigma::kFloat64, sigma::kFloat32, sigma::kBFloat16, sigma::kFloat16}) {
    const Tensor x = make({5}, {1.0, nan, inf, -inf, 0.0}, dt);
    EXPECT_EQ(sigma::isnan(x).to_vector<bool>(), (std::vector<bool>{false, true, false, false, false}));
    EXPECT_EQ(sigma::isfinite(x).to_vector<bool>(), (std::vector<bool>{true, false, false, false, true}));
    EXPECT_EQ(sigma::isnan(x).dtype(), sigma::kBool);
  }
  const Tensor i = sigma::tensor({1, 2});
  EXPECT_EQ(sigma::isnan(i).to_vector<bool>(), (std::vector<bool>{false, false}));
  EXPECT_EQ(sigma::isfinite(i).to_vector<bool>(), (std::vector<bool>{true, true}));
  const Tensor t = make({2, 2}, {nan, 1.0, 2.0, inf}).t();
  EXPECT_EQ(sigma::isnan(t).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(sigma::isfinite(t).to_vector<bool>(), (std::vector<bool>{false, true, true, false}));
}

// ---- where.

TEST(Where, ForwardBroadcastsAllThree) {
  // cond [2, 1, 3], a [4, 1], b [3] -> [2, 4, 3].
  const std::vector<bool> cv{true, false, true, false, false, true};
  const Tensor cond = sigma::tensor({true, false, true, false, false, true}).reshape({2, 1, 3});
  const std::vector<double> av{1, 2, 3, 4}, bv{-1, -2, -3};
  const Tensor r = sigma::where(cond, make({4, 1}, av), make({3}, bv, sigma::kFloat32));
  EXPECT_EQ(r.dtype(), sigma::kFloat64);
  EXPECT_EQ(r.sizes(), (Shape{2, 4, 3}));
  const auto got = r.to_vector<double>();
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(got[(i * 4 + j) * 3 + k], cv[i * 3 + k] ? av[j] : bv[k]);

  const Tensor s = sigma::where(cond.squeeze(1), make({2, 3}, {1, 2, 3, 4, 5, 6}).t().t(), 0.5);
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{1, 0.5, 3, 0.5, 0.5, 6}));
  const Tensor si = sigma::where(sigma::tensor({true, false}), sigma::tensor({7, 8}), 2.5);
  EXPECT_EQ(si.dtype(), sigma::kFloat32);
  EXPECT_EQ(si.to_vector<double>(), (std::vector<double>{7, 2.5}));
  const Tensor sb = sigma::where(sigma::tensor({false, true}), make({2}, {1.0, 2.0}, sigma::kBFloat16), -1);
  EXPECT_EQ(sb.dtype(), sigma::kBFloat16);
  EXPECT_EQ(sb.to_vector<double>(), (std::vector<double>{-1.0, 2.0}));
}

TEST(Where, GradientGoesToTheSelectedOperand) {
  const Tensor cond = sigma::tensor({true, false, true, false, false, true}).reshape({2, 3});
  Tensor a = make({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_(true);
  Tensor b = make({3}, {10, 20, 30}).requires_grad_(true);
  Tensor r = sigma::where(cond, a, b);
  EXPECT_EQ(r.grad_fn()->name(), "WhereBackward");
  r.backward(make({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 0, 3, 0, 0, 6}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{4, 7, 0}));  // summed over rows

  Tensor c = make({3}, {1, 2, 3}).requires_grad_(true);
  sigma::where(sigma::tensor({false, true, true}), c, 0.0).backward(make({3}, {5, 5, 5}));
  EXPECT_EQ(c.grad().to_vector<double>(), (std::vector<double>{0, 5, 5}));

  // Only b requires grad.
  Tensor d = make({2}, {1, 2}).requires_grad_(true);
  sigma::where(sigma::tensor({true, false}), sigma::zeros({2}, sigma::dtype(sigma::kFloat64)), d)
      .backward(make({2}, {3, 3}));
  EXPECT_EQ(d.grad().to_vector<double>(), (std::vector<double>{0, 3}));
}

TEST(Where, Errors) {
  expect_error([] { (void)sigma::where(sigma::ones({2}), sigma::ones({2}), sigma::ones({2})); },
               {"where", "bool", "float32"});
  expect_error([] { (void)sigma::where(sigma::tensor({true, false}), sigma::ones({3}), 0.0); },
               {"where", "[2]", "[3]"});
  expect_error(
      [] { (void)sigma::where(sigma::tensor({true, false}), sigma::ones({2}), sigma::ones({4})); },
      {"where", "[2]", "[4]"});
}

// ---- equal, allclose.

TEST(EqualAllclose, Equal) {
  const Tensor a = make({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(sigma::equal(a, make({2, 3}, {1, 2, 3, 4, 5, 6})));
  EXPECT_TRUE(a.equal(a.t().t()));
  EXPECT_FALSE(sigma::equal(a, make({2, 3}, {1, 2, 3, 4, 5, 7})));
  EXPECT_FALSE(sigma::equal(a, make({3, 2}, {1, 2, 3, 4, 5, 6})));  // shape mismatch, no error
  EXPECT_FALSE(sigma::equal(a, make({3}, {1, 2, 3})));              // no broadcasting
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(sigma::equal(make({1}, {nan}), make({1}, {nan})));
  EXPECT_TRUE(sigma::equal(sigma::zeros({0}), sigma::zeros({0})));
  EXPECT_TRUE(sigma::equal(sigma::tensor({1, 2}), sigma::tensor({1, 2})));
}

TEST(EqualAllclose, Allclose) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor a = make({3}, {1.0, 100.0, -2.0});
  // |a - b| <= atol + rtol |b| with the defaults rtol = 1e-5, atol = 1e-8.
  EXPECT_TRUE(sigma::allclose(a, make({3}, {1.0 + 5e-6, 100.0 - 9e-4, -2.0})));
  EXPECT_FALSE(sigma::allclose(a, make({3}, {1.0 + 2e-5, 100.0, -2.0})));
  EXPECT_FALSE(sigma::allclose(a, make({3}, {1.0, 100.0 + 2e-3, -2.0})));
  EXPECT_TRUE(sigma::allclose(a, make({3}, {1.1, 100.0, -2.0}), 0.0, 0.11));
  EXPECT_FALSE(sigma::allclose(a, make({3}, {1.1, 100.0, -2.0}), 0.0, 0.09));
  EXPECT_TRUE(a.allclose(make({3}, {1.5, 150.0, -3.0}), 0.5));
  // Asymmetric: the tolerance scales with |b|.
  EXPECT_TRUE(sigma::allclose(make({1}, {1.0}), make({1}, {2.0}), 0.5, 0.0));
  EXPECT_FALSE(sigma::allclose(make({1}, {2.0}), make({1}, {1.0}), 0.5, 0.0));
  // NaN is never close, equal infinities are.
  EXPECT_FALSE(sigma::allclose(make({1}, {nan}), make({1}, {nan})));
  EXPECT_TRUE(sigma::allclose(make({2}, {inf, -inf}), make({2}, {inf, -inf})));
  EXPECT_FALSE(sigma::allclose(make({1}, {inf}), make({1}, {-inf})));
  EXPECT_FALSE(sigma::allclose(make({1}, {inf}), make({1}, {1e308}), 1.0, 1.0));
  // Broadcasting and mixed dtypes.
  EXPECT_TRUE(sigma::allclose(sigma::ones({2, 3}), make({3}, {1.0, 1.0, 1.0 + 1e-9})));
  expect_error([] { (void)sigma::allclose(sigma::ones({2}), sigma::ones({3})); }, {"allclose", "[2]", "[3]"});
}

}  // namespace
