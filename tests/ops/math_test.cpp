// Tests of the ops that close LibTorch gaps: tan, rsqrt, erf, log2, log10,
// exp2, sinh, cosh, asin, acos, atan with their in-place forms, and exp_,
// abs_, sqrt_, pow_ (src/ops/unary.cpp); logical_not / _and / _or, isclose,
// amax, amin, count_nonzero (src/ops/logical.cpp); outer, addmm, baddbmm
// (src/ops/products.cpp). Forward references are
// std:: math in long double or written from the definitions; gradients are
// checked against central differences in float64 (sigma::gradcheck).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
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

using Fn = std::function<Tensor(const Tensor&)>;
using LFn = std::function<long double(long double)>;

struct MathCase {
  const char* name;
  Fn method, free_fn;
  std::function<void(Tensor&)> inplace;
  LFn reference;
  std::vector<double> inputs;  // inside the domain, away from poles
};

std::vector<MathCase> cases() {
  const std::vector<double> wide{-2.5, -0.7, -1e-9, 0.0, 0.3, 1.2, 2.9};
  const std::vector<double> positive{1e-6, 0.04, 0.5, 1.0, 2.0, 9.0, 1e6};
  const std::vector<double> unit{-0.999, -0.6, -1e-9, 0.0, 0.25, 0.7, 1.0};
  return {
      {"tan", [](const Tensor& x) { return x.tan(); }, [](const Tensor& x) { return sigma::tan(x); },
       [](Tensor& x) { x.tan_(); }, [](long double v) { return std::tan(v); }, {-1.5, -0.7, -1e-9, 0.0, 0.3, 1.2, 1.55}},
      {"rsqrt", [](const Tensor& x) { return x.rsqrt(); }, [](const Tensor& x) { return sigma::rsqrt(x); },
       [](Tensor& x) { sigma::rsqrt_(x); }, [](long double v) { return 1 / std::sqrt(v); }, positive},
      {"erf", [](const Tensor& x) { return x.erf(); }, [](const Tensor& x) { return sigma::erf(x); },
       [](Tensor& x) { x.erf_(); }, [](long double v) { return std::erf(v); }, wide},
      {"log2", [](const Tensor& x) { return x.log2(); }, [](const Tensor& x) { return sigma::log2(x); },
       [](Tensor& x) { x.log2_(); }, [](long double v) { return std::log2(v); }, positive},
      {"log10", [](const Tensor& x) { return x.log10(); }, [](const Tensor& x) { return sigma::log10(x); },
       [](Tensor& x) { sigma::log10_(x); }, [](long double v) { return std::log10(v); }, positive},
      {"exp2", [](const Tensor& x) { return x.exp2(); }, [](const Tensor& x) { return sigma::exp2(x); },
       [](Tensor& x) { x.exp2_(); }, [](long double v) { return std::exp2(v); }, wide},
      {"sinh", [](const Tensor& x) { return x.sinh(); }, [](const Tensor& x) { return sigma::sinh(x); },
       [](Tensor& x) { x.sinh_(); }, [](long double v) { return std::sinh(v); }, wide},
      {"cosh", [](const Tensor& x) { return x.cosh(); }, [](const Tensor& x) { return sigma::cosh(x); },
       [](Tensor& x) { sigma::cosh_(x); }, [](long double v) { return std::cosh(v); }, wide},
      {"asin", [](const Tensor& x) { return x.asin(); }, [](const Tensor& x) { return sigma::asin(x); },
       [](Tensor& x) { x.asin_(); }, [](long double v) { return std::asin(v); }, unit},
      {"acos", [](const Tensor& x) { return x.acos(); }, [](const Tensor& x) { return sigma::acos(x); },
       [](Tensor& x) { x.acos_(); }, [](long double v) { return std::acos(v); }, unit},
      {"atan", [](const Tensor& x) { return x.atan(); }, [](const Tensor& x) { return sigma::atan(x); },
       [](Tensor& x) { sigma::atan_(x); }, [](long double v) { return std::atan(v); }, {-1e6, -2.5, -1e-9, 0.0, 0.3, 1.0, 40.0}},
  };
}

// Within 2 ulp of the long double value, in float64; float32 within 2 float ulp.
TEST(Math, ValuesAgainstLongDouble) {
  for (const MathCase& c : cases()) {
    const auto n = static_cast<std::int64_t>(c.inputs.size());
    const Tensor x = make({n}, c.inputs, sigma::kFloat64);
    for (const Tensor& y : {c.method(x), c.free_fn(x)}) {
      ASSERT_EQ(y.dtype(), sigma::kFloat64) << c.name;
      const auto got = y.to_vector<double>();
      for (std::size_t k = 0; k < got.size(); ++k) {
        const double want = static_cast<double>(c.reference(static_cast<long double>(c.inputs[k])));
        EXPECT_NEAR(got[k], want, 2 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(want)))
            << c.name << "(" << c.inputs[k] << ")";
      }
    }
    const auto got32 = c.method(x.to(sigma::kFloat32)).to_vector<float>();
    for (std::size_t k = 0; k < got32.size(); ++k) {
      const float in = static_cast<float>(c.inputs[k]);
      const double want = static_cast<double>(c.reference(static_cast<long double>(in)));
      EXPECT_NEAR(got32[k], want, 2 * std::numeric_limits<float>::epsilon() * std::max(1.0, std::abs(want)))
          << c.name << " float32 (" << in << ")";
    }
  }
}

// Outside the domain: NaN (asin(2), log2(-1)) or the pole's infinity, as libm.
TEST(Math, DomainEdges) {
  const Tensor z = make({2}, {0.0, -0.0});
  EXPECT_EQ(z.rsqrt().to_vector<double>(), (std::vector<double>{INFINITY, -INFINITY}));
  EXPECT_EQ(z.log2().to_vector<double>(), (std::vector<double>{-INFINITY, -INFINITY}));
  EXPECT_EQ(z.log10().to_vector<double>()[0], -INFINITY);
  EXPECT_TRUE(std::isnan(make({1}, {-1.0}).log2().to_vector<double>()[0]));
  EXPECT_TRUE(std::isnan(make({1}, {-4.0}).rsqrt().to_vector<double>()[0]));
  EXPECT_TRUE(std::isnan(make({1}, {2.0}).asin().to_vector<double>()[0]));
  EXPECT_TRUE(std::isnan(make({1}, {-1.5}).acos().to_vector<double>()[0]));
  const Tensor inf = make({2}, {INFINITY, -INFINITY});
  EXPECT_EQ(inf.erf().to_vector<double>(), (std::vector<double>{1.0, -1.0}));
  EXPECT_EQ(inf.exp2().to_vector<double>(), (std::vector<double>{INFINITY, 0.0}));
  EXPECT_EQ(inf.cosh().to_vector<double>(), (std::vector<double>{INFINITY, INFINITY}));
  EXPECT_NEAR(inf.atan().to_vector<double>()[1], -std::numbers::pi / 2, 1e-16);
  EXPECT_EQ(make({1}, {3.0}).exp2().to_vector<double>()[0], 8.0);
  EXPECT_EQ(make({1}, {1000.0}).log10().to_vector<double>()[0], 3.0);
  EXPECT_EQ(make({1}, {0.25}).rsqrt().to_vector<double>()[0], 2.0);
}

TEST(Math, IntegralInputsGiveDefaultDtypeInPlaceRefused) {
  const Tensor i = sigma::tensor({1, 4});
  const Tensor b = sigma::tensor({true, false});
  for (const MathCase& c : cases()) {
    EXPECT_EQ(c.method(i).dtype(), sigma::get_default_dtype()) << c.name;
    EXPECT_EQ(c.free_fn(b).dtype(), sigma::get_default_dtype()) << c.name;
    Tensor j = sigma::tensor({1, 4});
    // As LibTorch: the float result cannot be cast back to int64.
    expect_error([&] { c.inplace(j); }, {std::string(c.name) + "_", "float32", "int64"});
  }
  EXPECT_EQ(i.rsqrt().to_vector<double>(), (std::vector<double>{1.0, 0.5}));
  EXPECT_EQ(i.log2().to_vector<double>(), (std::vector<double>{0.0, 2.0}));
  expect_error([] { (void)sigma::erf(Tensor()); }, {"erf", "undefined"});
}

TEST(Math, GradientsMatchCentralDifferences) {
  for (const MathCase& c : cases()) {
    // Interior points, away from poles and the domain's ends.
    std::vector<double> v;
    if (std::string(c.name) == "rsqrt" || std::string(c.name) == "log2" || std::string(c.name) == "log10")
      v = {0.3, 0.9, 1.7, 2.4, 3.1, 5.0};
    else if (std::string(c.name) == "asin" || std::string(c.name) == "acos")
      v = {-0.8, -0.4, -0.05, 0.2, 0.5, 0.9};
    else
      v = {-1.3, -0.4, 0.1, 0.6, 0.9, 1.4};
    const Tensor x = make({2, 3}, v).requires_grad_();
    const auto r = sigma::gradcheck([&](const sigma::TensorList& in) { return c.method(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << c.name << ": " << r.message;
    // A transposed (non-contiguous) input through the free function.
    const Tensor xt = make({3, 2}, v).t().requires_grad_();
    const auto rt = sigma::gradcheck([&](const sigma::TensorList& in) { return c.free_fn(in[0]) * 2; }, {xt});
    EXPECT_TRUE(rt.ok) << c.name << " transposed: " << rt.message;
    // In place on a non-leaf: the same gradient.
    const auto ri = sigma::gradcheck([&](const sigma::TensorList& in) {
      Tensor y = in[0] * 1;
      c.inplace(y);
      return y;
    }, {x});
    EXPECT_TRUE(ri.ok) << c.name << "_: " << ri.message;
  }
}

TEST(Math, InPlaceFormsMatchOutOfPlace) {
  for (const MathCase& c : cases()) {
    Tensor x = make({7}, c.inputs, sigma::kFloat32);
    const Tensor want = c.method(x);
    const auto version = x._version();
    c.inplace(x);
    EXPECT_EQ(x.to_vector<double>(), want.to_vector<double>()) << c.name;
    EXPECT_GT(x._version(), version) << c.name;
    // A leaf that requires grad is refused unless gradients are off.
    Tensor leaf = make({2}, {0.5, 0.25}).requires_grad_();
    expect_error([&] { c.inplace(leaf); }, {std::string(c.name) + "_", "leaf"});
    {
      sigma::NoGradGuard guard;
      c.inplace(leaf);
    }
    EXPECT_TRUE(leaf.requires_grad()) << c.name;
  }
}

TEST(Math, ExpAbsSqrtInPlace) {
  Tensor e = make({3}, {-1.0, 0.0, 2.0});
  sigma::exp_(e);
  EXPECT_EQ(e.to_vector<double>(), (std::vector<double>{std::exp(-1.0), 1.0, std::exp(2.0)}));
  Tensor a = make({4}, {-1.5, -0.0, 0.0, 2.0});
  a.abs_();
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1.5, 0.0, 0.0, 2.0}));
  EXPECT_FALSE(std::signbit(a.to_vector<double>()[1]));
  // abs_ keeps int64 (wrapping at the lowest value, as LibTorch); bool refused.
  Tensor i = sigma::tensor({std::numeric_limits<std::int64_t>::min(), std::int64_t{-3}, std::int64_t{5}});
  sigma::abs_(i);
  EXPECT_EQ(i.to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), 3, 5}));
  Tensor b = sigma::tensor({true});
  expect_error([&] { b.abs_(); }, {"abs_", "bool"});
  Tensor s = make({3}, {0.25, 4.0, 9.0});
  s.sqrt_();
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{0.5, 2.0, 3.0}));
  Tensor si = sigma::tensor({4});
  expect_error([&] { si.sqrt_(); }, {"sqrt_", "int64"});
  expect_error([&] { si.exp_(); }, {"exp_", "int64"});
  // Gradients through the in-place forms: exp' = exp, |x|' = sign(x), sqrt' = 1 / (2 sqrt).
  for (const auto& f : std::vector<std::function<void(Tensor&)>>{
           [](Tensor& t) { t.exp_(); }, [](Tensor& t) { t.abs_(); }, [](Tensor& t) { t.sqrt_(); }}) {
    const Tensor x = make({2, 2}, {0.3, 0.8, 1.6, 2.2}).requires_grad_();
    const auto r = sigma::gradcheck([&](const sigma::TensorList& in) {
      Tensor y = in[0] * 1;
      f(y);
      return y;
    }, {x});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(Math, PowInPlace) {
  Tensor x = make({3}, {2.0, -3.0, 0.5});
  x.pow_(2);
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{4.0, 9.0, 0.25}));
  Tensor y = make({2, 2}, {2.0, 3.0, 4.0, 5.0});
  y.pow_(make({2}, {0.5, 3.0}));  // the exponent broadcasts over rows
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{std::sqrt(2.0), 27.0, 2.0, 125.0}));
  Tensor i = sigma::tensor({2, 3});
  i.pow_(3);
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{8, 27}));
  EXPECT_EQ(i.dtype(), sigma::kLong);
  expect_error([&] { i.pow_(0.5); }, {"pow_", "float32", "int64"});
  expect_error([&] { i.pow_(-1); }, {"pow", "negative"});
  // In-place ops do not resize: self must hold the broadcast shape.
  Tensor small = make({2}, {1.0, 2.0});
  expect_error([&] { small.pow_(make({3, 2}, {1, 2, 3, 4, 5, 6})); }, {"pow_", "[2]", "[3, 2]"});
  expect_error([&] { small.pow_(Tensor()); }, {"pow_", "undefined"});
  // Float exponent into a float32 tensor: computed in float64, written back as float32.
  Tensor f = make({2}, {4.0, 9.0}, sigma::kFloat32);
  f.pow_(make({2}, {0.5, 0.5}, sigma::kFloat64));
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{2.0, 3.0}));
  // Gradients to self and to the exponent: d/dx x^e = e x^(e-1), d/de = x^e ln x.
  const Tensor base = make({2, 2}, {0.4, 1.1, 1.7, 2.3}).requires_grad_();
  const Tensor ex = make({2}, {1.5, -0.7}).requires_grad_();
  const auto r = sigma::gradcheck([](const sigma::TensorList& in) {
    Tensor t = in[0] * 1;
    t.pow_(in[1]);
    Tensor u = in[0] * 1;
    u.pow_(2.5);
    return t + u;
  }, {base, ex});
  EXPECT_TRUE(r.ok) << r.message;
  // Unrecorded on a leaf under NoGradGuard: values change, requires_grad stays.
  Tensor leaf = make({2}, {2.0, 3.0}).requires_grad_();
  {
    sigma::NoGradGuard guard;
    leaf.pow_(2);
  }
  EXPECT_TRUE(leaf.requires_grad());
  EXPECT_EQ(leaf.to_vector<double>(), (std::vector<double>{4.0, 9.0}));
}

}  // namespace

// ---- logical_not / logical_and / logical_or, isclose, amax / amin,
// count_nonzero (src/ops/logical.cpp).
namespace {

TEST(Logical, TruthOfEachDtype) {
  const Tensor f = make({4}, {0.0, -0.0, 2.5, NAN});
  EXPECT_EQ(f.logical_not().dtype(), sigma::kBool);
  EXPECT_EQ(f.logical_not().to_vector<bool>(), (std::vector<bool>{true, true, false, false}));
  const Tensor i = sigma::tensor({0, -3, 7, 0});
  EXPECT_EQ(sigma::logical_not(i).to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
  const Tensor b = sigma::tensor({true, false, true, false});
  EXPECT_EQ(b.logical_and(f).to_vector<bool>(), (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(sigma::logical_or(i, f).to_vector<bool>(), (std::vector<bool>{false, true, true, true}));
  // Broadcasting: [2, 1] with [3].
  const Tensor col = sigma::tensor({0, 1}).reshape({2, 1});
  const Tensor row = make({3}, {0.0, 1.0, 0.5});
  const Tensor a = sigma::logical_and(col, row);
  EXPECT_EQ(a.sizes().vec(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.to_vector<bool>(), (std::vector<bool>{false, false, false, false, true, true}));
  EXPECT_EQ(col.logical_or(row).to_vector<bool>(), (std::vector<bool>{false, true, true, true, true, true}));
  expect_error([&] { (void)f.logical_and(make({3}, {1, 2, 3})); }, {"logical_and", "[4]", "[3]"});
  expect_error([&] { (void)sigma::logical_or(f, Tensor()); }, {"logical_or", "undefined"});
  expect_error([] { (void)sigma::logical_not(Tensor()); }, {"logical_not", "undefined"});
}

TEST(Logical, IsCloseFromTheDefinition) {
  // |a - b| <= atol + rtol |b|: 1e-8 + 1e-5 * 1 at b = 1.
  const Tensor a = make({6}, {1.0, 1.0, 1.0, NAN, INFINITY, INFINITY});
  const Tensor b = make({6}, {1.0 + 1.0e-5, 1.0 + 1.2e-5, 1.0, NAN, INFINITY, -INFINITY});
  EXPECT_EQ(a.isclose(b).to_vector<bool>(), (std::vector<bool>{true, false, true, false, true, false}));
  EXPECT_EQ(sigma::isclose(a, b, 1e-5, 1e-8, true).to_vector<bool>(),
            (std::vector<bool>{true, false, true, true, true, false}));
  // rtol scales |b| (not |a|): asymmetric.
  const Tensor x = make({1}, {100.0}), y = make({1}, {110.0});
  EXPECT_TRUE(x.isclose(y, 0.095, 0.0).to_vector<bool>()[0]);   // 10 <= 0.095 * 110 = 10.45
  EXPECT_FALSE(y.isclose(x, 0.095, 0.0).to_vector<bool>()[0]);  // 10 > 0.095 * 100
  // Integral tensors: compared through the default float dtype; bool result.
  const Tensor i = sigma::tensor({100, 7}), j = sigma::tensor({101, 7});
  EXPECT_EQ(i.isclose(j, 0.0, 1.0).to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ(i.isclose(j).to_vector<bool>(), (std::vector<bool>{false, true}));
  // Broadcast.
  EXPECT_EQ(make({2, 1}, {0.0, 1.0}).isclose(make({2}, {0.0, 1.0})).sizes().vec(),
            (std::vector<std::int64_t>{2, 2}));
  expect_error([&] { (void)a.isclose(a.to(sigma::kFloat32)); }, {"isclose", "float64", "float32"});
  expect_error([&] { (void)a.isclose(b, -1.0); }, {"isclose", "rtol", "-1"});
  expect_error([&] { (void)a.isclose(b, 1e-5, -2.0); }, {"isclose", "atol", "-2"});
}

TEST(Amax, ValuesOverSeveralDims) {
  // x[i][j][k] = +/-(100 i + 10 j + k), + where i + j + k is even.
  std::vector<double> v;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) v.push_back(((i + j + k) % 2 ? -1 : 1) * (100.0 * i + 10.0 * j + k));
  const Tensor x = make({2, 3, 4}, v);
  // Over dims {0, 2}: for each j, the max / min of the 8 values (written out).
  const Tensor mx = x.amax({0, 2});
  EXPECT_EQ(mx.sizes().vec(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(mx.to_vector<double>(), (std::vector<double>{103.0, 112.0, 123.0}));
  EXPECT_EQ(sigma::amin(x, {-1, 0}).to_vector<double>(), (std::vector<double>{-102.0, -113.0, -122.0}));
  EXPECT_EQ(x.amax({0, 2}, true).sizes().vec(), (std::vector<std::int64_t>{1, 3, 1}));
  // Empty dims: all of them.
  EXPECT_EQ(x.amax().dim(), 0);
  EXPECT_EQ(x.amax().item<double>(), 123.0);
  EXPECT_EQ(x.amin({}, true).sizes().vec(), (std::vector<std::int64_t>{1, 1, 1}));
  EXPECT_EQ(x.amin({}, true).item<double>(), -122.0);
  // int64 keeps its dtype; NaN propagates.
  EXPECT_EQ(sigma::tensor({3, -9, 4}).amax().item<std::int64_t>(), 4);
  EXPECT_TRUE(std::isnan(make({3}, {1.0, NAN, 2.0}).amin().item<double>()));
  expect_error([&] { (void)x.amax({1, -2}); }, {"amax", "dim 1", "multiple"});
  expect_error([&] { (void)x.amin({3}); }, {"amin", "3", "out of range"});
  expect_error([&] { (void)sigma::zeros({2, 0}).amax({1}); }, {"amax", "size 0"});
}

TEST(Amax, GradientSharedAmongTies) {
  // Row 0 has its maximum 3 twice: each gets half the gradient.
  const Tensor x = make({2, 3}, {3.0, 1.0, 3.0, -1.0, 5.0, 2.0}).requires_grad_();
  x.amax({1}).backward(make({2}, {1.0, 1.0}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.5, 0.0, 0.5, 0.0, 1.0, 0.0}));
  const Tensor y = make({2, 2}, {-4.0, -4.0, -4.0, 0.0}).requires_grad_();
  (sigma::amin(y) * 6).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{2.0, 2.0, 2.0, 0.0}));
  // Central differences where the extremum is unique.
  const Tensor z = make({2, 3, 2}, {0.3, -1.2, 2.2, 0.8, -0.5, 1.9, 1.1, 0.05, -2.0, 0.6, 1.4, -0.9}).requires_grad_();
  for (bool keepdim : {false, true}) {
    auto r = sigma::gradcheck([&](const sigma::TensorList& in) { return in[0].amax({0, 2}, keepdim); }, {z});
    EXPECT_TRUE(r.ok) << r.message;
    r = sigma::gradcheck([&](const sigma::TensorList& in) { return sigma::amin(in[0].transpose(0, 1), {1}, keepdim); }, {z});
    EXPECT_TRUE(r.ok) << r.message;
  }
  EXPECT_TRUE(sigma::gradcheck([](const sigma::TensorList& in) { return in[0].amin(); }, {z}).ok);
}

TEST(CountNonzero, Int64Counts) {
  const Tensor x = make({2, 3}, {0.0, 1.5, -0.0, NAN, 2.0, 0.0});
  const Tensor all = x.count_nonzero();
  EXPECT_EQ(all.dtype(), sigma::kLong);
  EXPECT_EQ(all.dim(), 0);
  EXPECT_EQ(all.item<std::int64_t>(), 3);
  EXPECT_EQ(sigma::count_nonzero(x, std::optional<std::int64_t>(0)).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2, 0}));
  EXPECT_EQ(x.count_nonzero(std::optional<std::int64_t>(-1)).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(x.count_nonzero(sigma::IntArrayRef{0, 1}).item<std::int64_t>(), 3);
  EXPECT_EQ(sigma::tensor({true, false, true}).count_nonzero().item<std::int64_t>(), 2);
  EXPECT_EQ(sigma::tensor({0, 4, -1}).count_nonzero().item<std::int64_t>(), 2);
  expect_error([&] { (void)x.count_nonzero(sigma::IntArrayRef{1, 1}); }, {"count_nonzero", "multiple"});
  expect_error([&] { (void)x.count_nonzero(std::optional<std::int64_t>(2)); }, {"count_nonzero", "2", "out of range"});
}

}  // namespace

// ---- outer, addmm, baddbmm (src/ops/products.cpp).
namespace {

TEST(Products, OuterFromTheDefinition) {
  const Tensor a = make({3}, {1.0, -2.0, 0.5}), b = make({2}, {4.0, 3.0});
  const Tensor o = a.outer(b);
  EXPECT_EQ(o.sizes().vec(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(o.to_vector<double>(), (std::vector<double>{4.0, 3.0, -8.0, -6.0, 2.0, 1.5}));
  EXPECT_EQ(sigma::ger(a, b).to_vector<double>(), o.to_vector<double>());
  // Dtypes promote as in mul: int64 x float32 is float32.
  const Tensor oi = sigma::outer(sigma::tensor({1, 2}), make({2}, {0.5, 1.0}, sigma::kFloat32));
  EXPECT_EQ(oi.dtype(), sigma::kFloat32);
  EXPECT_EQ(oi.to_vector<double>(), (std::vector<double>{0.5, 1.0, 1.0, 2.0}));
  expect_error([&] { (void)sigma::outer(o, b); }, {"outer", "1-D", "[3, 2]"});
  expect_error([&] { (void)a.outer(Tensor()); }, {"outer", "vec2", "undefined"});
  const Tensor ag = make({3}, {0.3, -1.1, 2.0}).requires_grad_(), bg = make({2}, {0.7, -0.4}).requires_grad_();
  const auto r = sigma::gradcheck([](const sigma::TensorList& in) { return sigma::outer(in[0], in[1]); }, {ag, bg});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Products, AddmmFromTheDefinition) {
  // self [2] broadcast over rows; mat1 [2, 3], mat2 [3, 2].
  const Tensor self = make({2}, {1.0, -1.0});
  const Tensor m1 = make({2, 3}, {1.0, 2.0, 3.0, 4.0, 5.0, 6.0});
  const Tensor m2 = make({3, 2}, {1.0, 0.0, 0.0, 1.0, 1.0, 1.0});
  // m1 m2 = [[4, 5], [10, 11]].
  EXPECT_EQ(self.addmm(m1, m2).to_vector<double>(), (std::vector<double>{5.0, 4.0, 11.0, 10.0}));
  EXPECT_EQ(sigma::addmm(self, m1, m2, 2, 0.5).to_vector<double>(),
            (std::vector<double>{4.0, 0.5, 7.0, 3.5}));
  // beta = 0: self's NaN and inf are ignored.
  const Tensor bad = make({2, 2}, {NAN, INFINITY, -INFINITY, NAN});
  EXPECT_EQ(sigma::addmm(bad, m1, m2, 0).to_vector<double>(), (std::vector<double>{4.0, 5.0, 10.0, 11.0}));
  expect_error([&] { (void)sigma::addmm(self, m1, m1); }, {"addmm", "2x3", "2x3"});
  expect_error([&] { (void)sigma::addmm(self, make({3}, {1, 2, 3}), m2); }, {"addmm", "matrices", "[3]"});
  expect_error([&] { (void)sigma::addmm(make({3}, {1, 2, 3}), m1, m2); }, {"addmm", "[3]", "[2, 2]"});
  expect_error([&] { (void)sigma::addmm(self.to(sigma::kFloat32), m1, m2); }, {"addmm", "float32", "float64"});
  // Gradients to all three (self broadcast), with beta and alpha, and with beta = 0.
  const Tensor s = make({1, 2}, {0.2, -0.6}).requires_grad_();
  const Tensor a = make({2, 3}, {0.1, -0.5, 0.9, 1.3, 0.4, -0.8}).requires_grad_();
  const Tensor b = make({3, 2}, {0.6, -0.2, 1.1, 0.3, -0.9, 0.7}).requires_grad_();
  for (double beta : {1.0, -1.5, 0.0}) {
    const auto r = sigma::gradcheck(
        [beta](const sigma::TensorList& in) { return sigma::addmm(in[0], in[1], in[2].t().t(), beta, 0.75); }, {s, a, b});
    EXPECT_TRUE(r.ok) << "beta " << beta << ": " << r.message;
  }
  const Tensor s0 = make({1, 2}, {NAN, 1.0}).requires_grad_();
  sigma::addmm(s0, a.detach(), b.detach(), 0).sum().backward();
  EXPECT_EQ(s0.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0}));
}

TEST(Products, BaddbmmFromTheDefinition) {
  // Two batches of [1, 2] x [2, 1]; self [1] broadcast to [2, 1, 1].
  const Tensor self = make({1}, {10.0});
  const Tensor b1 = make({2, 1, 2}, {1.0, 2.0, 3.0, 4.0});
  const Tensor b2 = make({2, 2, 1}, {5.0, 6.0, 7.0, 8.0});
  // Products: 1*5 + 2*6 = 17, 3*7 + 4*8 = 53.
  const Tensor r = self.baddbmm(b1, b2);
  EXPECT_EQ(r.sizes().vec(), (std::vector<std::int64_t>{2, 1, 1}));
  EXPECT_EQ(r.to_vector<double>(), (std::vector<double>{27.0, 63.0}));
  EXPECT_EQ(sigma::baddbmm(self, b1, b2, 0.5, 2).to_vector<double>(), (std::vector<double>{39.0, 111.0}));
  EXPECT_EQ(sigma::baddbmm(make({1}, {NAN}), b1, b2, 0).to_vector<double>(), (std::vector<double>{17.0, 53.0}));
  expect_error([&] { (void)sigma::baddbmm(self, b1, b1); }, {"baddbmm", "[2, 2]", "[2, 1, 2]"});
  expect_error([&] { (void)sigma::baddbmm(self, make({2, 2}, {1, 2, 3, 4}), b2); }, {"baddbmm", "3-D"});
  expect_error([&] { (void)sigma::baddbmm(make({3, 1, 1}, {1, 2, 3}), b1, b2); }, {"baddbmm", "[3, 1, 1]", "[2, 1, 1]"});
  const Tensor s = make({3, 1}, {0.2, -0.6, 1.0}).requires_grad_();
  const Tensor a = make({2, 3, 2}, {0.1, -0.5, 0.9, 1.3, 0.4, -0.8, 0.3, 0.2, -1.0, 0.6, 0.5, -0.4}).requires_grad_();
  const Tensor b = make({2, 2, 2}, {0.6, -0.2, 1.1, 0.3, -0.9, 0.7, 0.25, 0.5}).requires_grad_();
  for (double beta : {1.0, 2.5, 0.0}) {
    const auto g = sigma::gradcheck(
        [beta](const sigma::TensorList& in) { return sigma::baddbmm(in[0], in[1], in[2], beta, -1.25); }, {s, a, b});
    EXPECT_TRUE(g.ok) << "beta " << beta << ": " << g.message;
  }
}

}  // namespace
