// Tests of the broadcasting arithmetic of src/ops/binary.cpp: add, sub, mul,
// div, pow, maximum, minimum, the operators and the in-place members.
// Forward references are plain loops in double / long double over the
// row-major values; gradients are checked against central differences in
// float64.
#include <gtest/gtest-spi.h>
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
using sigma::test::numel;
using sigma::test::round_bf16;
using sigma::test::Shape;

// Deterministic, varied values: flat index i -> a value in about [-2, 2].
double pattern(std::int64_t i, double phase = 0.0) {
  return 2.0 * std::sin(0.7 * static_cast<double>(i) + 0.3 + phase);
}

std::vector<double> values(const Shape& s, double phase = 0.0) {
  std::vector<double> v(static_cast<std::size_t>(numel(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = pattern(static_cast<std::int64_t>(i), phase);
  return v;
}

// The broadcast of two shapes (reference; assumes they are compatible).
Shape bshape(const Shape& a, const Shape& b) {
  const std::size_t r = std::max(a.size(), b.size());
  Shape o(r, 1);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    o[i] = da == 1 ? db : da;
  }
  return o;
}

// Flat index into a row-major tensor of shape s broadcast to out, for the
// out element with flat index k.
std::int64_t source_index(const Shape& s, const Shape& out, std::int64_t k) {
  std::int64_t idx = 0, stride = 1;
  for (std::size_t i = out.size(); i-- > 0;) {
    const std::int64_t c = k % out[i];
    k /= out[i];
    const std::size_t off = out.size() - s.size();
    if (i >= off) {
      const std::int64_t d = s[i - off];
      if (d != 1) idx += c * stride;
      stride *= d;
    }
  }
  return idx;
}

// out[k] = f(a[.], b[.]) with broadcasting, in long double.
template <class F>
std::vector<long double> ref_binary(const Shape& sa, const std::vector<double>& va, const Shape& sb,
                                    const std::vector<double>& vb, F f) {
  const Shape so = bshape(sa, sb);
  std::vector<long double> r(static_cast<std::size_t>(numel(so)));
  for (std::int64_t k = 0; k < numel(so); ++k)
    r[static_cast<std::size_t>(k)] = f(static_cast<long double>(va[static_cast<std::size_t>(source_index(sa, so, k))]),
                                       static_cast<long double>(vb[static_cast<std::size_t>(source_index(sb, so, k))]));
  return r;
}

void expect_near_all(const std::vector<double>& got, const std::vector<long double>& want,
                     double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const long double w = want[i];
    if (std::isnan(static_cast<double>(w))) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " at " << i;
      continue;
    }
    if (std::isinf(static_cast<double>(w))) {
      EXPECT_EQ(got[i], static_cast<double>(w)) << what << " at " << i;
      continue;
    }
    EXPECT_LE(std::fabs(static_cast<long double>(got[i]) - w), rel * (1.0L + std::fabs(w)))
        << what << " at " << i << ": got " << got[i] << ", want " << static_cast<double>(w);
  }
}

// Values rounded to float as the reference for one correctly rounded f32 op.
std::vector<double> as_float(const std::vector<long double>& v) {
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = static_cast<float>(static_cast<double>(v[i]));
  return r;
}

// ---- Gradients by central differences in float64.

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Checks the autograd gradients of sum(fn(inputs) * w), w a fixed pattern,
// against central differences, for every element of every input.
void check_grad(const Fn& fn, const std::vector<Shape>& shapes,
                const std::vector<std::vector<double>>& vals, const std::string& what,
                double tol = 1e-6) {
  std::vector<Tensor> leaves;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    leaves.push_back(make(shapes[i], vals[i]).requires_grad_(true));
  Tensor out = fn(leaves);
  const Shape so = out.sizes().vec();
  const std::vector<double> w = values(so, 1.234);
  out.backward(make(so, w));
  auto objective = [&](const std::vector<std::vector<double>>& v) {
    std::vector<Tensor> in;
    for (std::size_t i = 0; i < shapes.size(); ++i) in.push_back(make(shapes[i], v[i]));
    const std::vector<double> o = fn(in).to_vector<double>();
    long double s = 0;
    for (std::size_t k = 0; k < o.size(); ++k) s += static_cast<long double>(o[k]) * w[k];
    return s;
  };
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    ASSERT_TRUE(leaves[i].grad().defined()) << what << ": input " << i << " got no gradient";
    EXPECT_EQ(leaves[i].grad().sizes(), leaves[i].sizes()) << what;
    const std::vector<double> g = leaves[i].grad().to_vector<double>();
    for (std::size_t j = 0; j < vals[i].size(); ++j) {
      auto v = vals;
      const double h = 1e-6 * std::max(1.0, std::fabs(vals[i][j]));
      v[i][j] = vals[i][j] + h;
      const long double fp = objective(v);
      v[i][j] = vals[i][j] - h;
      const long double fm = objective(v);
      const double num = static_cast<double>((fp - fm) / (2 * h));
      EXPECT_NEAR(g[j], num, tol * (1.0 + std::fabs(num)))
          << what << ": input " << i << " element " << j;
    }
  }
}

// ---- Forward values.

// Element-wise ops above the map's grain (kParallelGrain), contiguous and
// broadcast, and the kernel-backed activations: the same bits for any
// thread count.
TEST(BinaryForward, SameBitsForAnyThreadCount) {
  const Tensor a = sigma::test::random_tensor({1 << 20}, sigma::kFloat32, 1);
  const Tensor b = sigma::test::random_tensor({1 << 20}, sigma::kFloat32, 2, 0.5, 2.0);
  const Tensor c = sigma::test::random_tensor({512, 1024}, sigma::kFloat64, 3);
  const Tensor bias = sigma::test::random_tensor({1024}, sigma::kFloat64, 4);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        return std::vector<Tensor>{a * b + a, (a - b) / b, c + bias, c * c.t().contiguous().t(),
                                   a.sigmoid(), a.tanh(), (a * b).exp()};
      },
      "element-wise");
}

TEST(BinaryForward, BroadcastMatchesLoopsF64) {
  const Shape sa{2, 1, 3}, sb{4, 1};
  const auto va = values(sa), vb = values(sb, 0.5);
  const Tensor a = make(sa, va), b = make(sb, vb);
  const Shape so{2, 4, 3};
  auto check = [&](const Tensor& got, auto f, const char* what) {
    EXPECT_EQ(got.sizes(), so) << what;
    EXPECT_EQ(got.dtype(), sigma::kFloat64) << what;
    expect_near_all(got.to_vector<double>(), ref_binary(sa, va, sb, vb, f), 1e-15, what);
  };
  check(sigma::add(a, b), [](long double x, long double y) { return x + y; }, "add");
  check(sigma::add(a, b, 2.5), [](long double x, long double y) { return x + 2.5L * y; }, "add alpha");
  check(sigma::sub(a, b), [](long double x, long double y) { return x - y; }, "sub");
  check(sigma::sub(a, b, -3), [](long double x, long double y) { return x + 3 * y; }, "sub alpha");
  check(sigma::mul(a, b), [](long double x, long double y) { return x * y; }, "mul");
  check(sigma::div(a, b), [](long double x, long double y) { return x / y; }, "div");
  check(a + b, [](long double x, long double y) { return x + y; }, "operator+");
  check(a - b, [](long double x, long double y) { return x - y; }, "operator-");
  check(a * b, [](long double x, long double y) { return x * y; }, "operator*");
  check(a / b, [](long double x, long double y) { return x / y; }, "operator/");
}

TEST(BinaryForward, F32IsCorrectlyRoundedOnce) {
  const Shape sa{5, 3}, sb{3};
  auto va = values(sa), vb = values(sb, 0.9);
  for (auto& v : va) v = static_cast<float>(v);
  for (auto& v : vb) v = static_cast<float>(v);
  const Tensor a = make(sa, va, sigma::kFloat32), b = make(sb, vb, sigma::kFloat32);
  auto exact = [&](const Tensor& got, auto f, const char* what) {
    EXPECT_EQ(got.dtype(), sigma::kFloat32) << what;
    const auto want = as_float(ref_binary(sa, va, sb, vb, f));
    const auto g = got.to_vector<double>();
    ASSERT_EQ(g.size(), want.size());
    for (std::size_t i = 0; i < g.size(); ++i) EXPECT_EQ(g[i], want[i]) << what << " at " << i;
  };
  exact(a + b, [](long double x, long double y) { return x + y; }, "add");
  exact(a - b, [](long double x, long double y) { return x - y; }, "sub");
  exact(a * b, [](long double x, long double y) { return x * y; }, "mul");
  exact(a / b, [](long double x, long double y) { return x / y; }, "div");
  exact(sigma::maximum(a, b), [](long double x, long double y) { return std::max(x, y); }, "maximum");
  exact(sigma::minimum(a, b), [](long double x, long double y) { return std::min(x, y); }, "minimum");
}

TEST(BinaryForward, SwappedOperandsOfSub) {
  const Shape sa{3}, sb{2, 1};
  const auto va = values(sa), vb = values(sb, 2.0);
  const Tensor r = make(sb, vb) - make(sa, va);
  expect_near_all(r.to_vector<double>(),
                  ref_binary(sb, vb, sa, va, [](long double x, long double y) { return x - y; }),
                  1e-15, "b - a");
}

TEST(BinaryForward, NonContiguousInputs) {
  // Transposed, sliced with a step and expanded operands.
  const Shape s{4, 6};
  const auto v = values(s);
  const Tensor base = make(s, v);
  const Tensor t = base.t();                            // [6, 4], strides [1, 6]
  const Tensor sl = base.slice(1, 0, 6, 2);             // [4, 3], strides [6, 2]
  const Tensor col = make({4, 1}, values({4, 1}, 1.0));  // expanded to [4, 3]
  const Tensor ex = col.expand({4, 3});
  ASSERT_FALSE(t.is_contiguous());
  ASSERT_FALSE(sl.is_contiguous());

  const Tensor r1 = sl * ex;
  const auto vcol = values({4, 1}, 1.0);
  std::vector<long double> want;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      want.push_back(static_cast<long double>(v[static_cast<std::size_t>(i * 6 + 2 * j)]) *
                     vcol[static_cast<std::size_t>(i)]);
  expect_near_all(r1.to_vector<double>(), want, 1e-15, "slice * expand");

  const Tensor r2 = t + t;
  want.clear();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) want.push_back(2.0L * v[static_cast<std::size_t>(j * 6 + i)]);
  expect_near_all(r2.to_vector<double>(), want, 1e-15, "t + t");

  // Transposed against contiguous of the same shape.
  const Tensor c = make({6, 4}, values({6, 4}, 0.1));
  const auto vc = values({6, 4}, 0.1);
  const Tensor r3 = t / c;
  want.clear();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j)
      want.push_back(static_cast<long double>(v[static_cast<std::size_t>(j * 6 + i)]) /
                     vc[static_cast<std::size_t>(i * 4 + j)]);
  expect_near_all(r3.to_vector<double>(), want, 1e-15, "t / c");
}

TEST(BinaryForward, ZeroDimAndEmpty) {
  const Tensor s = sigma::scalar_tensor(2.5, sigma::dtype(sigma::kFloat64));
  const Tensor x = make({3}, {1.0, -2.0, 4.0}, sigma::kFloat32);
  const Tensor r = x * s;  // a 0-dim float64 does not promote a float32 tensor
  EXPECT_EQ(r.dtype(), sigma::kFloat32);
  EXPECT_EQ(r.to_vector<double>(), (std::vector<double>{2.5, -5.0, 10.0}));
  const Tensor ss = s + s;
  EXPECT_EQ(ss.dim(), 0);
  EXPECT_EQ(ss.item<double>(), 5.0);

  const Tensor e = sigma::zeros({0, 3});
  const Tensor er = e + sigma::ones({3});
  EXPECT_EQ(er.sizes(), (Shape{0, 3}));
  EXPECT_EQ(er.numel(), 0);
  const Tensor er2 = sigma::ones({2, 1}) * sigma::zeros({0});
  EXPECT_EQ(er2.sizes(), (Shape{2, 0}));
}

TEST(BinaryForward, TypePromotion) {
  const Tensor f = sigma::ones({2});
  const Tensor d = sigma::ones({2}, sigma::dtype(sigma::kFloat64));
  const Tensor i = sigma::tensor({3, 4});
  const Tensor b = sigma::tensor({true, false});
  const Tensor h = sigma::ones({2}, sigma::dtype(sigma::kBFloat16));
  EXPECT_EQ((f + d).dtype(), sigma::kFloat64);
  EXPECT_EQ((i + f).dtype(), sigma::kFloat32);
  EXPECT_EQ((i + i).dtype(), sigma::kInt64);
  EXPECT_EQ((i * b).dtype(), sigma::kInt64);
  EXPECT_EQ((b + b).dtype(), sigma::kBool);
  EXPECT_EQ((h + h).dtype(), sigma::kBFloat16);
  EXPECT_EQ((h + f).dtype(), sigma::kFloat32);
  EXPECT_EQ((h + d).dtype(), sigma::kFloat64);
  EXPECT_EQ((i / i).dtype(), sigma::kFloat32);  // true division
  EXPECT_EQ((i + 2.5).dtype(), sigma::kFloat32);
  EXPECT_EQ((i + 2).dtype(), sigma::kInt64);
  EXPECT_EQ((b * 3).dtype(), sigma::kInt64);
  EXPECT_EQ((f * 2).dtype(), sigma::kFloat32);
  EXPECT_EQ((d * 2.0f).dtype(), sigma::kFloat64);
  EXPECT_EQ((h * 3.0).dtype(), sigma::kBFloat16);
  EXPECT_EQ((i / 2).dtype(), sigma::kFloat32);
  EXPECT_EQ((2 / i).dtype(), sigma::kFloat32);
  // A 0-dim operand of a higher category wins.
  EXPECT_EQ((i + sigma::scalar_tensor(1.5)).dtype(), sigma::kFloat32);
  {
    sigma::set_default_dtype(sigma::kFloat64);
    const Tensor q = i / i;
    sigma::set_default_dtype(sigma::kFloat32);
    EXPECT_EQ(q.dtype(), sigma::kFloat64);
  }
}

TEST(BinaryForward, IntegerAndBoolValues) {
  const Tensor a = sigma::tensor({7, -3, 0, 5});
  const Tensor b = sigma::tensor({2, 4, -6, -5});
  EXPECT_EQ((a + b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{9, 1, -6, 0}));
  EXPECT_EQ(sigma::add(a, b, 3).to_vector<std::int64_t>(), (std::vector<std::int64_t>{13, 9, -18, -10}));
  EXPECT_EQ((a - b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{5, -7, 6, 10}));
  EXPECT_EQ((a * b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{14, -12, 0, -25}));
  EXPECT_EQ((a / b).to_vector<double>(),
            (std::vector<double>{3.5, -0.75, -0.0, -1.0}));
  EXPECT_EQ((-a).to_vector<std::int64_t>(), (std::vector<std::int64_t>{-7, 3, 0, -5}));
  EXPECT_EQ((10 - a).to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 13, 10, 5}));
  EXPECT_EQ(sigma::maximum(a, b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, 4, 0, 5}));
  EXPECT_EQ(sigma::minimum(a, b).to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, -3, -6, -5}));
  // int64 wraps around on overflow, as PyTorch.
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  const Tensor m = sigma::tensor(std::vector<std::int64_t>{big});
  EXPECT_EQ((m + 1).item<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ((m * 2).item<std::int64_t>(), -2);
  EXPECT_EQ((-(m + 1)).item<std::int64_t>(), std::numeric_limits<std::int64_t>::min());

  const Tensor t = sigma::tensor({true, true, false, false});
  const Tensor u = sigma::tensor({true, false, true, false});
  EXPECT_EQ((t + u).to_vector<bool>(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ((t * u).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(sigma::maximum(t, u).to_vector<bool>(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(sigma::minimum(t, u).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ((t + 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 2, 1, 1}));
  EXPECT_EQ((t / u).to_vector<double>()[0], 1.0);
}

TEST(BinaryForward, ScalarOperands) {
  const auto v = values({5});
  const Tensor x = make({5}, v, sigma::kFloat32);
  std::vector<double> vf(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) vf[i] = static_cast<float>(v[i]);
  auto check = [&](const Tensor& got, auto f, const char* what) {
    EXPECT_EQ(got.dtype(), sigma::kFloat32) << what;
    const auto g = got.to_vector<double>();
    for (std::size_t i = 0; i < g.size(); ++i)
      EXPECT_EQ(g[i], static_cast<double>(static_cast<float>(f(static_cast<double>(vf[i])))))
          << what << " at " << i;
  };
  check(x + 2.0, [](double a) { return a + 2.0; }, "x + 2.0");
  check(2.0 + x, [](double a) { return a + 2.0; }, "2.0 + x");
  check(x - 0.5, [](double a) { return a - 0.5; }, "x - 0.5");
  check(2.0 - x, [](double a) { return 2.0 - a; }, "2.0 - x");
  check(x * 3, [](double a) { return a * 3.0; }, "x * 3");
  check(3 * x, [](double a) { return a * 3.0; }, "3 * x");
  check(x / 2, [](double a) { return a / 2.0; }, "x / 2");
  check(x / 3.0, [](double a) { return a / static_cast<double>(3.0f); }, "x / 3.0");
  check(1.0 / x, [](double a) { return 1.0 / a; }, "1.0 / x");
  check(sigma::add(x, 2.0, 3), [](double a) { return a + static_cast<double>(6.0f); }, "add alpha");
  check(sigma::sub(x, 1, 2), [](double a) { return a - 2.0; }, "sub alpha");
  check(x.pow(2), [](double a) { return a * a; }, "pow 2");
  check(-x, [](double a) { return -a; }, "neg");
}

TEST(BinaryForward, BFloat16RoundsOnce) {
  const Shape sa{4, 3}, sb{3};
  auto va = values(sa), vb = values(sb, 0.77);
  for (auto& v : va) v = round_bf16(static_cast<float>(v));
  for (auto& v : vb) v = round_bf16(static_cast<float>(v));
  const Tensor a = make(sa, va, sigma::kBFloat16), b = make(sb, vb, sigma::kBFloat16);
  auto check = [&](const Tensor& got, auto f, const char* what) {
    EXPECT_EQ(got.dtype(), sigma::kBFloat16) << what;
    const auto g = got.to_vector<float>();
    for (std::int64_t k = 0; k < 12; ++k) {
      const float x = static_cast<float>(va[static_cast<std::size_t>(source_index(sa, sa, k))]);
      const float y = static_cast<float>(vb[static_cast<std::size_t>(source_index(sb, sa, k))]);
      EXPECT_EQ(g[static_cast<std::size_t>(k)], round_bf16(f(x, y))) << what << " at " << k;
    }
  };
  check(a + b, [](float x, float y) { return x + y; }, "add");
  check(a * b, [](float x, float y) { return x * y; }, "mul");
  check(a / b, [](float x, float y) { return x / y; }, "div");
  check(a - b * 0.3, [](float x, float y) { return x - round_bf16(y * 0.3f); }, "sub of mul");
  check(sigma::add(a, b, 0.3), [](float x, float y) { return x + 0.3f * y; }, "add alpha");
  // f16 too.
  const Tensor h = make({3}, {1.0, 2.0, 0.5}, sigma::kFloat16);
  const Tensor hr = h / 3.0;
  EXPECT_EQ(hr.dtype(), sigma::kFloat16);
  EXPECT_NEAR(hr.to_vector<double>()[0], 1.0 / 3.0, 1e-3);
}

TEST(BinaryForward, PowValues) {
  const Shape sb{2, 3}, se{3};
  const std::vector<double> vb{0.5, 2.0, 0.0, 3.0, 1.5, 0.0};
  const std::vector<double> ve{2.0, -1.5, 0.0};
  const Tensor r = sigma::pow(make(sb, vb), make(se, ve));
  expect_near_all(r.to_vector<double>(),
                  ref_binary(sb, vb, se, ve, [](long double x, long double y) { return std::pow(x, y); }),
                  1e-15, "pow tensor tensor");
  const Tensor x = make(sb, vb);
  for (double e : {2.0, 0.5, 3.0, -1.0, 0.0, 1.7}) {
    std::vector<long double> want;
    for (double v : vb) want.push_back(std::pow(static_cast<long double>(v), static_cast<long double>(e)));
    expect_near_all(x.pow(e).to_vector<double>(), want, 1e-15, "pow scalar " + std::to_string(e));
  }
  std::vector<long double> want;
  for (double v : ve) want.push_back(std::pow(2.0L, static_cast<long double>(v)));
  expect_near_all(sigma::pow(2.0, make(se, ve)).to_vector<double>(), want, 1e-15, "scalar base");

  // Integers: int64 results; negative tensor exponents give 0 except for +-1.
  const Tensor ib = sigma::tensor({2, -3, 1, -1, 5});
  EXPECT_EQ(ib.pow(3).to_vector<std::int64_t>(), (std::vector<std::int64_t>{8, -27, 1, -1, 125}));
  EXPECT_EQ(ib.pow(3).dtype(), sigma::kInt64);
  EXPECT_EQ(ib.pow(0.5).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::pow(ib, sigma::tensor({-1, 2, -2, -3, 0})).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{0, 9, 1, -1, 1}));
  EXPECT_EQ(sigma::pow(2, sigma::tensor({0, 10, 62})).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{1, 1024, std::int64_t{1} << 62}));
  expect_error([&] { (void)ib.pow(-2); }, {"pow", "negative", "int64"});
  // x.square() is x.pow(2).
  EXPECT_EQ(ib.square().to_vector<std::int64_t>(), (std::vector<std::int64_t>{4, 9, 1, 1, 25}));
}

TEST(BinaryForward, MaximumMinimumNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor a = make({3}, {nan, 1.0, 2.0});
  const Tensor b = make({3}, {0.0, nan, 3.0});
  const auto mx = sigma::maximum(a, b).to_vector<double>();
  const auto mn = sigma::minimum(a, b).to_vector<double>();
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]));
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mx[2], 3.0);
  EXPECT_EQ(mn[2], 2.0);
}

TEST(BinaryForward, Errors) {
  const Tensor a = sigma::ones({2, 3}), b = sigma::ones({4});
  expect_error([&] { (void)(a + b); }, {"add", "[2, 3]", "[4]"});
  expect_error([&] { (void)(a - b); }, {"sub", "[2, 3]", "[4]"});
  expect_error([&] { (void)(a * b); }, {"mul", "[2, 3]", "[4]"});
  expect_error([&] { (void)(a / b); }, {"div", "[2, 3]", "[4]"});
  expect_error([&] { (void)sigma::pow(a, b); }, {"pow", "[2, 3]", "[4]"});
  expect_error([&] { (void)sigma::maximum(a, b); }, {"maximum", "[2, 3]", "[4]"});
  expect_error([&] { (void)(a + Tensor()); }, {"add", "undefined"});
  const Tensor t = sigma::tensor({true, false});
  expect_error([&] { (void)(t - t); }, {"sub", "bool"});
  EXPECT_EQ((1 - t).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1}));  // int64
  expect_error([&] { (void)(t - true); }, {"sub", "bool"});
  expect_error([&] { (void)(-t); }, {"neg", "bool"});
  const Tensor i = sigma::tensor({1, 2});
  expect_error([&] { (void)sigma::add(i, i, 0.5); }, {"add", "alpha", "int64"});
}

// ---- Gradients.

TEST(BinaryGrad, ArithmeticWithBroadcasting) {
  const Shape sa{2, 1, 3}, sb{4, 1};
  const std::vector<std::vector<double>> v{values(sa), values(sb, 0.4)};
  check_grad([](const auto& x) { return sigma::add(x[0], x[1], 2.5); }, {sa, sb}, v, "add alpha");
  check_grad([](const auto& x) { return sigma::sub(x[0], x[1], -1.5); }, {sa, sb}, v, "sub alpha");
  check_grad([](const auto& x) { return x[0] - x[1]; }, {sa, sb}, v, "sub");
  check_grad([](const auto& x) { return x[0] * x[1]; }, {sa, sb}, v, "mul");
  check_grad([](const auto& x) { return x[1] / x[0]; }, {sa, sb}, v, "div");
  check_grad([](const auto& x) { return x[0] * x[0]; }, {sa}, {v[0]}, "mul same input");
  check_grad([](const auto& x) { return sigma::maximum(x[0], x[1]); }, {sa, sb}, v, "maximum");
  check_grad([](const auto& x) { return sigma::minimum(x[0], x[1]); }, {sa, sb}, v, "minimum");
}

TEST(BinaryGrad, HarnessDetectsAWrongGradient) {
  // detach() hides one factor from autograd: the analytic gradient is x, not 2x.
  EXPECT_NONFATAL_FAILURE(check_grad([](const auto& x) { return x[0].detach() * x[0]; }, {Shape{1}},
                                     {values({1})}, "detached"),
                          "detached");
}

TEST(BinaryGrad, ScalarOperandsAndNeg) {
  const Shape s{2, 3};
  const std::vector<std::vector<double>> v{values(s)};
  check_grad([](const auto& x) { return x[0] + 2.0; }, {s}, v, "x + 2");
  check_grad([](const auto& x) { return sigma::add(x[0], 2.0, 3.0); }, {s}, v, "add alpha");
  check_grad([](const auto& x) { return 2.0 - x[0]; }, {s}, v, "2 - x");
  check_grad([](const auto& x) { return x[0] - 2.0; }, {s}, v, "x - 2");
  check_grad([](const auto& x) { return 3 * x[0]; }, {s}, v, "3 x");
  check_grad([](const auto& x) { return x[0] / 4.0; }, {s}, v, "x / 4");
  check_grad([](const auto& x) { return 1.5 / x[0]; }, {s}, v, "1.5 / x");
  check_grad([](const auto& x) { return -x[0]; }, {s}, v, "neg");
}

TEST(BinaryGrad, NonContiguousInputs) {
  const Shape s{3, 4};
  const std::vector<std::vector<double>> v{values(s), values({4, 3}, 0.3)};
  check_grad([](const auto& x) { return x[0].t() * x[1]; }, {s, {4, 3}}, v, "t * x");
  check_grad([](const auto& x) { return x[0].slice(1, 0, 4, 2) / (x[1].slice(0, 1, 3).t() + 3.0); },
             {s, {4, 3}}, v, "slice / slice");
  check_grad([](const auto& x) { return x[0].select(1, 2).unsqueeze(1).expand({3, 5}) * 2.0; },
             {s}, {v[0]}, "expand");
}

TEST(BinaryGrad, Pow) {
  const Shape sb{2, 3}, se{3};
  const std::vector<double> vb{0.5, 2.0, 1.3, 3.0, 1.5, 0.7};
  const std::vector<double> ve{2.0, -1.5, 0.6};
  check_grad([](const auto& x) { return sigma::pow(x[0], x[1]); }, {sb, se}, {vb, ve}, "pow t t");
  for (double e : {2.0, 3.0, 0.5, -1.0, 1.0, 2.7})
    check_grad([e](const auto& x) { return x[0].pow(e); }, {sb}, {vb}, "pow " + std::to_string(e));
  check_grad([](const auto& x) { return sigma::pow(1.7, x[0]); }, {se}, {ve}, "scalar base");
  check_grad([](const auto& x) { return x[0].square(); }, {sb}, {values(sb)}, "square");
}

TEST(BinaryGrad, PowEdgeCases) {
  // d/db b^0 = 0 even at b = 0; d/de b^e = 0 at b = 0, e >= 0.
  Tensor b = make({3}, {0.0, 2.0, -1.0}).requires_grad_(true);
  Tensor e = make({3}, {0.0, 0.0, 2.0}).requires_grad_(true);
  sigma::pow(b, e).backward(sigma::ones({3}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0, -2.0}));
  const auto ge = e.grad().to_vector<double>();
  EXPECT_EQ(ge[0], 0.0);
  EXPECT_DOUBLE_EQ(ge[1], std::log(2.0));
  EXPECT_TRUE(std::isnan(ge[2]));  // log(-1): the math has no real value

  Tensor z = make({2}, {0.0, 3.0}).requires_grad_(true);
  z.pow(0).backward(sigma::ones({2}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(z.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0}));

  Tensor ex = make({2}, {0.0, 1.0}).requires_grad_(true);
  sigma::pow(0.0, ex).backward(sigma::ones({2}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(ex.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0}));
}

TEST(BinaryGrad, MaximumTiesSplitEvenly) {
  Tensor a = make({3}, {1.0, 2.0, 5.0}).requires_grad_(true);
  Tensor b = make({3}, {1.0, 3.0, 4.0}).requires_grad_(true);
  sigma::maximum(a, b).backward(make({3}, {2.0, 2.0, 2.0}));
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1.0, 0.0, 2.0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{1.0, 2.0, 0.0}));
  Tensor c = make({3}, {1.0, 2.0, 5.0}).requires_grad_(true);
  Tensor d = make({3}, {1.0, 3.0, 4.0}).requires_grad_(true);
  sigma::minimum(c, d).backward(make({3}, {2.0, 2.0, 2.0}));
  EXPECT_EQ(c.grad().to_vector<double>(), (std::vector<double>{1.0, 2.0, 0.0}));
  EXPECT_EQ(d.grad().to_vector<double>(), (std::vector<double>{1.0, 0.0, 2.0}));
}

TEST(BinaryGrad, MixedDtypesGiveEachInputItsDtype) {
  Tensor f = sigma::ones({2, 3}).requires_grad_(true);
  Tensor d = sigma::full({3}, 2.0, sigma::dtype(sigma::kFloat64)).requires_grad_(true);
  Tensor r = f * d;
  EXPECT_EQ(r.dtype(), sigma::kFloat64);
  r.backward(sigma::ones({2, 3}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(f.grad().dtype(), sigma::kFloat32);
  EXPECT_EQ(d.grad().dtype(), sigma::kFloat64);
  EXPECT_EQ(f.grad().to_vector<double>(), std::vector<double>(6, 2.0));
  EXPECT_EQ(d.grad().to_vector<double>(), std::vector<double>(3, 2.0));
  // A non-differentiable int64 operand.
  Tensor x = sigma::ones({3}).requires_grad_(true);
  (x / sigma::tensor({1, 2, 4})).backward(sigma::ones({3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1.0, 0.5, 0.25}));
}

TEST(BinaryGrad, BackwardNames) {
  Tensor x = sigma::ones({2}).requires_grad_(true);
  Tensor y = sigma::ones({2}).requires_grad_(true);
  auto name = [](const Tensor& t) { return t.grad_fn()->name(); };
  EXPECT_EQ(name(x + y), "AddBackward");
  EXPECT_EQ(name(x + 1), "AddBackward");
  EXPECT_EQ(name(x - y), "SubBackward");
  EXPECT_EQ(name(x - 1), "SubBackward");
  EXPECT_EQ(name(1 - x), "RsubBackward");
  EXPECT_EQ(name(x * y), "MulBackward");
  EXPECT_EQ(name(x * 2), "MulBackward");
  EXPECT_EQ(name(x / y), "DivBackward");
  EXPECT_EQ(name(x / 2), "DivBackward");
  EXPECT_EQ(name(2 / x), "DivBackward");
  EXPECT_EQ(name(x.pow(2)), "PowBackward");
  EXPECT_EQ(name(x.pow(y)), "PowBackward");
  EXPECT_EQ(name(sigma::pow(2, y)), "PowBackward");
  EXPECT_EQ(name(-x), "NegBackward");
  EXPECT_EQ(name(sigma::maximum(x, y)), "MaximumBackward");
  EXPECT_EQ(name(sigma::minimum(x, y)), "MinimumBackward");
  // Nothing is recorded without an input that requires grad, or in no-grad mode.
  EXPECT_EQ((sigma::ones({2}) + 1).grad_fn(), nullptr);
  sigma::NoGradGuard guard;
  EXPECT_FALSE((x * y).requires_grad());
}

// ---- In place.

TEST(BinaryInplace, ValuesBroadcastAndVersion) {
  const auto v = values({2, 3});
  Tensor x = make({2, 3}, v);
  const auto v0 = x._version();
  Tensor& r = x.add_(make({3}, {1.0, 2.0, 3.0}), 2);
  EXPECT_TRUE(r.is_same(x));
  EXPECT_EQ(x._version(), v0 + 1);
  std::vector<long double> want;
  for (std::size_t i = 0; i < 6; ++i) want.push_back(static_cast<long double>(v[i]) + 2.0L * static_cast<long double>(1 + i % 3));
  expect_near_all(x.to_vector<double>(), want, 1e-15, "add_");
  x.sub_(1.0).mul_(2).div_(4.0);
  for (auto& w : want) w = (w - 1) * 2 / 4;
  expect_near_all(x.to_vector<double>(), want, 1e-15, "chain");
  EXPECT_EQ(x._version(), v0 + 4);
  x.neg_();
  for (auto& w : want) w = -w;
  expect_near_all(x.to_vector<double>(), want, 1e-15, "neg_");
  x += 1.0;
  x -= make({2, 1}, {1.0, 2.0});
  x *= x;
  x /= 2.0;
  for (std::size_t i = 0; i < 6; ++i) {
    const long double t = want[i] + 1 - (i < 3 ? 1 : 2);
    want[i] = t * t / 2;
  }
  expect_near_all(x.to_vector<double>(), want, 1e-14, "compound operators");
}

TEST(BinaryInplace, NonContiguousSelfAndAliasing) {
  Tensor base = make({3, 3}, values({3, 3}));
  const auto v = values({3, 3});
  Tensor t = base.t();
  t.add_(make({3}, {10.0, 20.0, 30.0}));  // t[i][j] += c[j] -> base[j][i] += c[j]
  std::vector<double> got = base.to_vector<double>();
  for (std::size_t j = 0; j < 3; ++j)
    for (std::size_t i = 0; i < 3; ++i)
      EXPECT_DOUBLE_EQ(got[j * 3 + i], v[j * 3 + i] + 10.0 * static_cast<double>(j + 1));

  Tensor a = make({3, 3}, v);
  a.add_(a);  // same geometry
  for (std::size_t k = 0; k < 9; ++k) EXPECT_DOUBLE_EQ(a.to_vector<double>()[k], 2 * v[k]);
  Tensor c = make({3, 3}, v);
  c.add_(c.t());  // overlapping with another geometry: reads the old values
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_DOUBLE_EQ(c.to_vector<double>()[i * 3 + j], v[i * 3 + j] + v[j * 3 + i]);

  Tensor s = make({6}, values({6}));
  s.slice(0, 0, 6, 2).mul_(0.0);
  const auto sv = s.to_vector<double>();
  const auto v6 = values({6});
  for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(sv[k], k % 2 == 0 ? 0.0 : v6[k]);

  Tensor e = sigma::zeros({1}).expand({3});
  expect_error([&] { e.add_(1); }, {"add_", "single memory location"});
}

TEST(BinaryInplace, DtypesAndErrors) {
  Tensor i = sigma::tensor({1, 2, 3});
  i.add_(2).mul_(sigma::tensor({2, 2, 2}));
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{6, 8, 10}));
  expect_error([&] { i.add_(0.5); }, {"add_: result type float32 can't be cast to the desired output type int64"});
  expect_error([&] { i.div_(2); }, {"div_", "float32", "int64"});
  expect_error([&] { i.mul_(sigma::ones({3})); }, {"mul_", "float32", "int64"});
  Tensor b = sigma::tensor({true, false});
  expect_error([&] { b.add_(1); }, {"add_", "int64", "bool"});

  // A float64 operand into float32 is allowed (same category), rounded once.
  Tensor f = sigma::ones({2});
  f.add_(make({2}, {1e-9, 0.1}));
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{1.0, static_cast<float>(1.1)}));
  Tensor h = sigma::ones({2}, sigma::dtype(sigma::kBFloat16));
  h.add_(sigma::full({2}, 0.00390625f));  // 1 + 2^-8 rounds to even in bf16
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{1.0, 1.0}));
  h.mul_(3.0);
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{3.0, 3.0}));

  // self is never resized.
  Tensor small = sigma::ones({3});
  expect_error([&] { small.add_(sigma::ones({2, 3})); }, {"add_", "[3]", "[2, 3]"});
  expect_error([&] { small.mul_(sigma::ones({4})); }, {"mul_", "[3]", "[4]"});

  // A leaf that requires grad, unless gradients are off.
  Tensor leaf = sigma::ones({3}).requires_grad_(true);
  expect_error([&] { leaf.add_(1); }, {"add_", "leaf"});
  expect_error([&] { leaf.mul_(leaf); }, {"mul_", "leaf"});
  {
    sigma::NoGradGuard guard;
    leaf.add_(1);
  }
  EXPECT_EQ(leaf.to_vector<double>(), std::vector<double>(3, 2.0));
  EXPECT_TRUE(leaf.is_leaf());
}

TEST(BinaryInplace, RecordsGradient) {
  // y = x * 1 (non-leaf); y.mul_(w); y.add_(w, 2): d/dx = w, d/dw = x + 2.
  const auto vx = values({4}), vw = values({4}, 0.8);
  Tensor x = make({4}, vx).requires_grad_(true);
  Tensor w = make({4}, vw).requires_grad_(true);
  Tensor y = x * 1.0;
  y.mul_(w);
  y.add_(w, 2);
  EXPECT_EQ(y.grad_fn()->name(), "AddBackward");
  y.backward(sigma::ones({4}, sigma::dtype(sigma::kFloat64)));
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_DOUBLE_EQ(x.grad().to_vector<double>()[k], vw[k]);
    EXPECT_DOUBLE_EQ(w.grad().to_vector<double>()[k], vx[k] + 2.0);
  }
  // x.add_(x) on a non-leaf: d/dx0 (2 x0) = 2.
  Tensor a = make({3}, values({3})).requires_grad_(true);
  Tensor z = a * 1.0;
  z.add_(z);
  z.neg_();
  z.div_(2.0);
  z.backward(sigma::ones({3}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(a.grad().to_vector<double>(), std::vector<double>(3, -1.0));
  // In-place into a tensor that does not require grad, from one that does.
  Tensor p = sigma::zeros({3}, sigma::dtype(sigma::kFloat64));
  Tensor q = make({3}, {1.0, 2.0, 3.0}).requires_grad_(true);
  p.add_(q, 3);
  EXPECT_TRUE(p.requires_grad());
  p.backward(sigma::ones({3}, sigma::dtype(sigma::kFloat64)));
  EXPECT_EQ(q.grad().to_vector<double>(), std::vector<double>(3, 3.0));
}

TEST(BinaryInplace, ModifyingASavedTensorIsDetected) {
  Tensor x = sigma::ones({3}).requires_grad_(true);
  Tensor y = sigma::full({3}, 2.0);
  Tensor z = x * y;  // saves y
  y.add_(1);
  expect_error([&] { z.backward(sigma::ones({3})); }, {"MulBackward", "in-place"});
}

TEST(BinaryInplace, GradientAccumulationUsesAdd) {
  Tensor x = make({2, 2}, values({2, 2})).requires_grad_(true);
  (x * 3.0).backward(sigma::ones({2, 2}, sigma::dtype(sigma::kFloat64)));
  (x * x).backward(sigma::ones({2, 2}, sigma::dtype(sigma::kFloat64)));
  const auto v = values({2, 2});
  for (std::size_t k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(x.grad().to_vector<double>()[k], 3.0 + 2 * v[k]);
}

}  // namespace
