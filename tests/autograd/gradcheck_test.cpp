// Every differentiable op of sigma/ops.h against central differences, through
// sigma::gradcheck (src/autograd/gradcheck.cpp), in float64: with broadcast
// operands, non-contiguous (transposed, strided) inputs, 0-dim inputs and
// keepdim variants. Inputs stay away from kinks (abs and relu at 0, clamp
// bounds, max/min ties, the softplus threshold). The last tests check that
// gradcheck itself fails on a wrong gradient (by a factor of two, and by one
// part in a million with the default tolerances) and rejects bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::TensorList;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::numel;
using sigma::test::Shape;
using sigma::test::splitmix;
using sigma::test::uniform;
using Fn = std::function<Tensor(const TensorList&)>;

// ---- Inputs: splitmix64 (sigma::test::uniform), independent of sigma::rand.

// A float64 tensor without grad, values in [lo, hi].
Tensor values(const Shape& shape, double lo, double hi, std::uint64_t seed) {
  return sigma::tensor(draw(numel(shape), lo, hi, seed), sigma::kFloat64).reshape(shape);
}
// A contiguous leaf that requires grad, values in [lo, hi].
Tensor rnd(const Shape& shape, std::uint64_t seed, double lo = -2.0, double hi = 2.0) {
  return values(shape, lo, hi, seed).requires_grad_();
}
// Values with |x| in [lo, hi] and random signs (away from a kink at 0).
Tensor away(const Shape& shape, std::uint64_t seed, double lo = 0.2, double hi = 2.0) {
  std::vector<double> v(static_cast<std::size_t>(numel(shape)));
  for (auto& e : v) e = uniform(seed, lo, hi) * ((splitmix(seed) & 1) ? 1.0 : -1.0);
  return sigma::tensor(v, sigma::kFloat64).reshape(shape).requires_grad_();
}
// A non-contiguous leaf of the given shape: the transpose of a tensor of the
// reversed shape.
Tensor transposed(const Shape& shape, std::uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Shape rev(shape.rbegin(), shape.rend());
  Shape perm;
  for (auto d = static_cast<std::int64_t>(shape.size()); d-- > 0;) perm.push_back(d);
  Tensor t = values(rev, lo, hi, seed).permute(perm);
  return t.requires_grad_();
}
// A non-contiguous leaf: every other element along the last dimension.
Tensor strided(const Shape& shape, std::uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Shape wide = shape;
  wide.back() *= 2;
  return values(wide, lo, hi, seed).slice(-1, 0, std::nullopt, 2).requires_grad_();
}

void check(const char* what, const Fn& fn, const TensorList& inputs,
           const sigma::GradcheckOptions& o = {}) {
  SCOPED_TRACE(what);
  for (const auto& t : inputs) ASSERT_EQ(t.dtype(), sigma::kFloat64);
  const sigma::GradcheckResult r = sigma::gradcheck(fn, inputs, o);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(static_cast<bool>(r) == r.ok);
}

// ---- Element-wise arithmetic.

TEST(Gradcheck, AddSub) {
  Fn add = [](const TensorList& in) { return sigma::add(in[0], in[1]); };
  Fn add_alpha = [](const TensorList& in) { return sigma::add(in[0], in[1], 2.5); };
  Fn sub_alpha = [](const TensorList& in) { return sigma::sub(in[0], in[1], -0.75); };
  Fn ops = [](const TensorList& in) { return in[0] + in[1] - in[0] * 0.5; };
  check("add", add, {rnd({2, 3}, 1), rnd({2, 3}, 2)});
  check("add broadcast", add, {rnd({2, 3}, 3), rnd({3}, 4)});
  check("add broadcast both", add, {rnd({4, 1}, 5), rnd({1, 3}, 6)});
  check("add 0-dim", add, {rnd({2, 3}, 7), rnd({}, 8)});
  check("add alpha broadcast", add_alpha, {rnd({3, 1}, 9), rnd({2, 3, 4}, 10)});
  check("sub alpha", sub_alpha, {rnd({2, 3}, 11), rnd({2, 1}, 12)});
  check("sub alpha transposed", sub_alpha, {transposed({3, 4}, 13), strided({3, 4}, 14)});
  check("operators", ops, {strided({2, 3}, 15), rnd({3}, 16)});
  check("add scalar alpha", [](const TensorList& in) { return sigma::add(in[0], 1.5, 3); },
        {rnd({2, 2}, 17)});
  check("sub scalar alpha", [](const TensorList& in) { return sigma::sub(in[0], 1.5, -2.0); },
        {transposed({2, 3}, 18)});
  check("scalar minus tensor", [](const TensorList& in) { return 3.0 - in[0]; }, {rnd({3}, 19)});
  check("tensor plus scalar", [](const TensorList& in) { return 2.0 + in[0] + 1.0; },
        {rnd({3}, 20)});
  check("only the second input", add, {values({2, 3}, -1, 1, 21), rnd({3}, 22)});
}

TEST(Gradcheck, MulDiv) {
  Fn mul = [](const TensorList& in) { return sigma::mul(in[0], in[1]); };
  Fn div = [](const TensorList& in) { return sigma::div(in[0], in[1]); };
  check("mul", mul, {rnd({2, 3}, 30), rnd({2, 3}, 31)});
  check("mul broadcast", mul, {rnd({2, 1, 3}, 32), rnd({4, 1}, 33)});
  check("mul transposed", mul, {transposed({3, 4}, 34), rnd({4}, 35)});
  check("mul same tensor twice", [](const TensorList& in) { return in[0] * in[0]; },
        {rnd({5}, 36)});
  check("mul scalar", [](const TensorList& in) { return sigma::mul(in[0], -1.25); },
        {strided({2, 3}, 37)});
  check("div", div, {rnd({2, 3}, 38), away({2, 3}, 39, 0.5, 2.0)});
  check("div broadcast", div, {rnd({3}, 40), away({2, 1}, 41, 0.5, 2.0)});
  check("div transposed", div, {transposed({3, 2}, 42), away({2}, 43, 0.5, 2.0)});
  check("div scalar", [](const TensorList& in) { return sigma::div(in[0], 4.0); }, {rnd({3}, 44)});
  check("scalar over tensor", [](const TensorList& in) { return 2.0 / in[0]; },
        {away({4}, 45, 0.5, 2.0)});
  check("mul 0-dim", mul, {rnd({}, 46), rnd({3, 2}, 47)});
}

TEST(Gradcheck, Pow) {
  Fn pow_tt = [](const TensorList& in) { return sigma::pow(in[0], in[1]); };
  check("pow tensor tensor", pow_tt, {rnd({2, 3}, 50, 0.5, 2.0), rnd({2, 3}, 51, -1.5, 1.5)});
  check("pow tensor tensor broadcast", pow_tt,
        {rnd({2, 3}, 52, 0.5, 2.0), rnd({3}, 53, -1.5, 1.5)});
  check("pow tensor tensor transposed", pow_tt,
        {transposed({3, 2}, 54, 0.5, 2.0), rnd({1, 2}, 55, -1.5, 1.5)});
  for (double e : {3.0, 2.0, -2.0}) {
    check("pow tensor scalar (any sign)",
          [e](const TensorList& in) { return sigma::pow(in[0], e); }, {away({2, 3}, 56, 0.3, 2.0)});
  }
  for (double e : {0.5, 2.5, -1.5}) {
    check("pow tensor scalar (positive base)", [e](const TensorList& in) { return in[0].pow(e); },
          {strided({2, 3}, 57, 0.5, 2.0)});
  }
  check("pow integer scalar", [](const TensorList& in) { return sigma::pow(in[0], 3); },
        {rnd({4}, 58)});
  check("pow scalar tensor", [](const TensorList& in) { return sigma::pow(2.5, in[0]); },
        {transposed({2, 3}, 59)});
  check("pow scalar tensor (base < 1)", [](const TensorList& in) { return sigma::pow(0.4, in[0]); },
        {rnd({3}, 60)});
}

TEST(Gradcheck, UnaryMath) {
  struct Case {
    const char* name;
    Fn fn;
    double lo, hi;
    bool signed_away;  // values with |x| in [lo, hi], random sign
  };
  const Case cases[] = {
      {"neg", [](const TensorList& in) { return sigma::neg(in[0]); }, -2, 2, false},
      {"unary minus", [](const TensorList& in) { return -in[0]; }, -2, 2, false},
      {"exp", [](const TensorList& in) { return sigma::exp(in[0]); }, -2, 2, false},
      {"log", [](const TensorList& in) { return sigma::log(in[0]); }, 0.3, 3, false},
      {"log1p", [](const TensorList& in) { return sigma::log1p(in[0]); }, -0.6, 3, false},
      {"abs", [](const TensorList& in) { return sigma::abs(in[0]); }, 0.1, 2, true},
      {"sqrt", [](const TensorList& in) { return sigma::sqrt(in[0]); }, 0.3, 3, false},
      {"square", [](const TensorList& in) { return sigma::square(in[0]); }, -2, 2, false},
      {"reciprocal", [](const TensorList& in) { return sigma::reciprocal(in[0]); }, 0.4, 2, true},
      {"member exp", [](const TensorList& in) { return in[0].exp(); }, -2, 2, false},
      {"member log", [](const TensorList& in) { return in[0].log(); }, 0.3, 3, false},
      {"member abs", [](const TensorList& in) { return in[0].abs(); }, 0.1, 2, true},
  };
  std::uint64_t seed = 70;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto make = [&](const Shape& s) {
      return c.signed_away ? away(s, ++seed, c.lo, c.hi) : rnd(s, ++seed, c.lo, c.hi);
    };
    check("contiguous", c.fn, {make({2, 3})});
    // Non-contiguous: transpose of a contiguous input (a non-leaf view).
    Tensor base = make({3, 2});
    check("transposed view", [&c](const TensorList& in) { return c.fn({in[0].t()}); }, {base});
    Tensor s = c.signed_away ? away({2, 6}, ++seed, c.lo, c.hi) : rnd({2, 6}, ++seed, c.lo, c.hi);
    check("strided input", c.fn, {s.detach().slice(1, 0, 6, 2).requires_grad_()});
    check("0-dim", c.fn, {make({})});
  }
}

TEST(Gradcheck, Clamp) {
  // Bounds -0.5 and 0.6; every value at least 0.05 from them.
  auto x = [] {
    return sigma::tensor({-1.7, -0.8, -0.3, 0.1, 0.45, 0.7, 1.3, 1.9}, sigma::kFloat64)
        .reshape({2, 4})
        .requires_grad_();
  };
  check("clamp both", [](const TensorList& in) { return sigma::clamp(in[0], -0.5, 0.6); }, {x()});
  check("clamp min only",
        [](const TensorList& in) { return sigma::clamp(in[0], -0.5, std::nullopt); }, {x()});
  check("clamp max only",
        [](const TensorList& in) { return sigma::clamp(in[0], std::nullopt, 0.6); }, {x()});
  check("clamp_min", [](const TensorList& in) { return sigma::clamp_min(in[0], -0.5); }, {x()});
  check("clamp_max", [](const TensorList& in) { return sigma::clamp_max(in[0], 0.6); }, {x()});
  check("member clamp transposed",
        [](const TensorList& in) { return in[0].t().clamp(-0.5, 0.6) * 3.0; }, {x()});
  check("integer bounds", [](const TensorList& in) { return in[0].clamp(-1, 1); }, {x()});
}

TEST(Gradcheck, MaximumMinimum) {
  // Operands drawn from disjoint-enough values: ties are improbable, and the
  // fixed seeds make the check deterministic.
  Fn mx = [](const TensorList& in) { return sigma::maximum(in[0], in[1]); };
  Fn mn = [](const TensorList& in) { return sigma::minimum(in[0], in[1]); };
  check("maximum", mx, {rnd({2, 3}, 90), rnd({2, 3}, 91)});
  check("minimum", mn, {rnd({2, 3}, 92), rnd({2, 3}, 93)});
  check("maximum broadcast", mx, {rnd({2, 3}, 94), rnd({3}, 95)});
  check("minimum broadcast transposed", mn, {transposed({3, 2}, 96), rnd({3, 1}, 97)});
}

// ---- Activations.

TEST(Gradcheck, Activations) {
  struct Case {
    const char* name;
    Fn fn;
    bool away_from_zero;
  };
  const Case cases[] = {
      {"sigmoid", [](const TensorList& in) { return sigma::sigmoid(in[0]); }, false},
      {"tanh", [](const TensorList& in) { return sigma::tanh(in[0]); }, false},
      {"relu", [](const TensorList& in) { return sigma::relu(in[0]); }, true},
      {"gelu none", [](const TensorList& in) { return sigma::gelu(in[0]); }, false},
      {"gelu tanh", [](const TensorList& in) { return sigma::gelu(in[0], "tanh"); }, false},
      {"silu", [](const TensorList& in) { return sigma::silu(in[0]); }, false},
      {"log_sigmoid", [](const TensorList& in) { return sigma::log_sigmoid(in[0]); }, false},
      {"softplus", [](const TensorList& in) { return sigma::softplus(in[0]); }, false},
      {"member sigmoid", [](const TensorList& in) { return in[0].sigmoid(); }, false},
      {"member silu", [](const TensorList& in) { return in[0].silu(); }, false},
  };
  std::uint64_t seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto make = [&](const Shape& s, double scale) {
      return c.away_from_zero ? away(s, ++seed, 0.1 * scale, scale) : rnd(s, ++seed, -scale, scale);
    };
    check("moderate", c.fn, {make({3, 4}, 3.0)});
    check("wide range", c.fn, {make({2, 5}, 12.0)});
    check("transposed", c.fn, {transposed({3, 2}, ++seed, -4.0, 4.0)});
    check("strided", c.fn, {strided({2, 3}, ++seed, -4.0, 4.0)});
    check("0-dim", c.fn, {make({}, 2.0)});
  }
}

TEST(Gradcheck, SoftplusBetaThreshold) {
  // softplus(x; beta, threshold) = x where beta x > threshold, else
  // log1p(exp(beta x)) / beta. The function jumps slightly at the threshold,
  // so values stay clear of it.
  auto x = [] {
    return sigma::tensor({-2.0, -0.9, -0.1, 0.4, 1.2, 1.8, 2.5, 3.1}, sigma::kFloat64)
        .requires_grad_();
  };
  check("beta 2 threshold 3 (linear above x = 1.5)",
        [](const TensorList& in) { return sigma::softplus(in[0], 2.0, 3.0); }, {x()});
  check("beta 0.5 threshold 20",
        [](const TensorList& in) { return sigma::softplus(in[0], 0.5, 20.0); }, {x()});
  check("integer beta, threshold 1 (linear above x = 0.33)",
        [](const TensorList& in) { return sigma::softplus(in[0], 3, 1); }, {x()});
  check("large inputs past the default threshold",
        [](const TensorList& in) { return sigma::softplus(in[0] * 10.0); }, {x()});
}

TEST(Gradcheck, HardsigmoidAndLogit) {
  // hardsigmoid has kinks at +-3: values stay clear of them. logit lives on
  // (0, 1): inputs there, clear of the eps clamp's ends.
  auto x = [] {
    return sigma::tensor({-5.0, -2.9, -1.4, -0.2, 0.0, 0.7, 1.9, 2.8, 4.2}, sigma::kFloat64)
        .requires_grad_();
  };
  check("hardsigmoid", [](const TensorList& in) { return sigma::hardsigmoid(in[0]); }, {x()});
  check("hardsigmoid transposed", [](const TensorList& in) { return sigma::hardsigmoid(in[0]); },
        {transposed({3, 2}, 41, -4.0, 4.0)});
  auto p = [] {
    return sigma::tensor({0.003, 0.05, 0.2, 0.37, 0.5, 0.66, 0.8, 0.95, 0.997}, sigma::kFloat64)
        .requires_grad_();
  };
  check("logit", [](const TensorList& in) { return sigma::logit(in[0]); }, {p()});
  check("logit eps 0.1 (constant outside [0.1, 0.9])",
        [](const TensorList& in) { return sigma::logit(in[0], 0.1); }, {p()});
  check("logit strided", [](const TensorList& in) { return in[0].logit(); },
        {strided({2, 3}, 42, 0.1, 0.9)});
  check("logit of sigmoid is the identity",
        [](const TensorList& in) { return sigma::logit(sigma::sigmoid(in[0])); },
        {rnd({2, 4}, 43, -3.0, 3.0)});
}

TEST(Gradcheck, BinaryCrossEntropyWithLogits) {
  const Shape s = {2, 3};
  Tensor w = values({3}, 0.5, 2.0, 120);  // broadcasts to the input's shape
  Tensor w_full = values(s, 0.5, 2.0, 121);
  Tensor pw = values({3}, 0.5, 3.0, 122);  // along the last dimension
  for (const char* red : {"none", "mean", "sum"}) {
    SCOPED_TRACE(red);
    const std::string r = red;
    auto input = [&](std::uint64_t seed) { return rnd(s, seed, -4.0, 4.0); };
    auto target = [&](std::uint64_t seed) { return rnd(s, seed, 0.0, 1.0); };
    check("plain",
          [r](const TensorList& in) {
            return sigma::binary_cross_entropy_with_logits(in[0], in[1], {}, {}, r);
          },
          {input(123), target(124)});
    check("weight",
          [r, w](const TensorList& in) {
            return sigma::binary_cross_entropy_with_logits(in[0], in[1], w, {}, r);
          },
          {input(125), target(126)});
    check("full weight and pos_weight",
          [r, w_full, pw](const TensorList& in) {
            return sigma::binary_cross_entropy_with_logits(in[0], in[1], w_full, pw, r);
          },
          {input(127), target(128)});
    check("pos_weight, transposed input, target without grad",
          [r, pw](const TensorList& in) {
            return sigma::binary_cross_entropy_with_logits(in[0], in[1], {}, pw, r);
          },
          {transposed(s, 129, -4.0, 4.0), values(s, 0.0, 1.0, 130)});
    check("large logits",
          [r, pw](const TensorList& in) {
            return sigma::binary_cross_entropy_with_logits(in[0] * 10.0, in[1], {}, pw, r);
          },
          {input(131), target(132)});
  }
}

// ---- Linear algebra.

TEST(Gradcheck, MatmulEveryRankCombination) {
  Fn mm = [](const TensorList& in) { return sigma::matmul(in[0], in[1]); };
  struct Case {
    const char* name;
    Shape a, b;
  };
  const Case cases[] = {
      {"1-d x 1-d", {4}, {4}},
      {"2-d x 1-d", {3, 4}, {4}},
      {"1-d x 2-d", {4}, {4, 5}},
      {"2-d x 2-d", {3, 4}, {4, 5}},
      {"3-d x 2-d", {2, 3, 4}, {4, 5}},
      {"2-d x 3-d", {3, 4}, {2, 4, 5}},
      {"3-d x 3-d", {2, 3, 4}, {2, 4, 5}},
      {"3-d x 3-d broadcast batch", {1, 3, 4}, {2, 4, 5}},
      {"4-d x 3-d broadcast batch", {2, 1, 3, 4}, {3, 4, 2}},
      {"1-d x 3-d", {4}, {2, 4, 3}},
      {"3-d x 1-d", {2, 3, 4}, {4}},
      {"4-d x 1-d", {2, 2, 3, 4}, {4}},
      {"1-d x 4-d", {4}, {2, 1, 4, 3}},
  };
  std::uint64_t seed = 200;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    check("contiguous", mm, {rnd(c.a, ++seed), rnd(c.b, ++seed)});
    check("transposed", mm, {transposed(c.a, ++seed), transposed(c.b, ++seed)});
    check("strided and member", [](const TensorList& in) { return in[0].matmul(in[1]); },
          {strided(c.a, ++seed), strided(c.b, ++seed)});
    check("only b requires grad", mm, {values(c.a, -2, 2, ++seed), rnd(c.b, ++seed)});
  }
}

TEST(Gradcheck, MmBmmDot) {
  Fn mm = [](const TensorList& in) { return sigma::mm(in[0], in[1]); };
  Fn bmm = [](const TensorList& in) { return sigma::bmm(in[0], in[1]); };
  Fn dot = [](const TensorList& in) { return sigma::dot(in[0], in[1]); };
  check("mm", mm, {rnd({3, 4}, 230), rnd({4, 2}, 231)});
  check("mm transposed", mm, {transposed({3, 4}, 232), transposed({4, 2}, 233)});
  check("mm member strided", [](const TensorList& in) { return in[0].mm(in[1]); },
        {strided({2, 3}, 234), strided({3, 3}, 235)});
  check("bmm", bmm, {rnd({2, 3, 4}, 236), rnd({2, 4, 2}, 237)});
  check("bmm transposed", bmm, {transposed({2, 3, 4}, 238), rnd({2, 4, 2}, 239)});
  check("bmm batch-strided", [](const TensorList& in) { return in[0].transpose(0, 1).bmm(in[1]); },
        {rnd({3, 2, 4}, 240), rnd({2, 4, 3}, 241)});
  check("dot", dot, {rnd({5}, 242), rnd({5}, 243)});
  check("dot strided", dot, {strided({4}, 244), transposed({4}, 245)});
  check("dot same tensor", [](const TensorList& in) { return in[0].dot(in[0]); }, {rnd({3}, 246)});
  check("linear layer",
        [](const TensorList& in) { return (in[0].matmul(in[1].t()) + in[2]).sigmoid().sum(); },
        {rnd({5, 3}, 247), rnd({4, 3}, 248), rnd({4}, 249)});
}

// ---- Reductions.

TEST(Gradcheck, SumMean) {
  Tensor x = rnd({2, 3, 4}, 300);
  check("sum all", [](const TensorList& in) { return sigma::sum(in[0]); }, {x});
  check("sum dtype", [](const TensorList& in) { return in[0].sum(sigma::kFloat64); }, {x});
  check("mean all", [](const TensorList& in) { return sigma::mean(in[0]); }, {x});
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keepdim" : "no keepdim");
    check("sum dim 1", [keep](const TensorList& in) { return sigma::sum(in[0], {1}, keep); }, {x});
    check("sum dims 0, 2",
          [keep](const TensorList& in) {
            return sigma::sum(in[0], {0, 2}, keep);
          },
          {x});
    check("sum dim -1", [keep](const TensorList& in) { return in[0].sum({-1}, keep); }, {x});
    check("sum all dims", [keep](const TensorList& in) { return in[0].sum({0, 1, 2}, keep); }, {x});
    check("mean dim 1", [keep](const TensorList& in) { return sigma::mean(in[0], {1}, keep); },
          {x});
    check("mean dims -1, 0",
          [keep](const TensorList& in) {
            return in[0].mean({-1, 0}, keep);
          },
          {x});
    check("sum transposed", [keep](const TensorList& in) { return in[0].sum({0}, keep); },
          {transposed({3, 4}, 301)});
    check("mean strided", [keep](const TensorList& in) { return in[0].mean({1}, keep); },
          {strided({3, 4}, 302)});
  }
  check("sum 0-dim", [](const TensorList& in) { return in[0].sum(); }, {rnd({}, 303)});
  check("mean 0-dim", [](const TensorList& in) { return in[0].mean(); }, {rnd({}, 304)});
  check("sum of broadcast", [](const TensorList& in) { return (in[0] + in[1]).sum({0}); },
        {rnd({3, 1}, 305), rnd({4}, 306)});
}

TEST(Gradcheck, MaxMin) {
  // Distinct values: a random draw has no ties (and the seeds are fixed).
  Tensor x = rnd({3, 4}, 310);
  check("max all", [](const TensorList& in) { return sigma::max(in[0]); }, {x});
  check("min all", [](const TensorList& in) { return sigma::min(in[0]); }, {x});
  check("max member transposed", [](const TensorList& in) { return in[0].max(); },
        {transposed({3, 4}, 311)});
  for (bool keep : {false, true}) {
    for (std::int64_t d : {0, 1, -1}) {
      SCOPED_TRACE("dim " + std::to_string(d) + (keep ? " keepdim" : ""));
      check("max dim",
            [d, keep](const TensorList& in) { return std::get<0>(sigma::max(in[0], d, keep)); },
            {x});
      check("min dim",
            [d, keep](const TensorList& in) { return std::get<0>(sigma::min(in[0], d, keep)); },
            {x});
      check("max dim strided",
            [d, keep](const TensorList& in) { return std::get<0>(in[0].max(d, keep)); },
            {strided({3, 4}, 312)});
    }
  }
  check("max dim of 3-d", [](const TensorList& in) { return std::get<0>(in[0].max(1)); },
        {rnd({2, 3, 4}, 313)});
}

TEST(Gradcheck, Norm) {
  Tensor x = away({3, 4}, 320, 0.2, 2.0);
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {1.0, 2.0, inf, 3.0}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    check("all", [p](const TensorList& in) { return sigma::norm(in[0], p); }, {x});
    check("dim 1", [p](const TensorList& in) { return sigma::norm(in[0], p, {1}); }, {x});
    check("dim 0 keepdim", [p](const TensorList& in) { return sigma::norm(in[0], p, {0}, true); },
          {x});
    check("dims 0, 1", [p](const TensorList& in) { return in[0].norm(p, {0, 1}); }, {x});
    check("transposed", [p](const TensorList& in) { return in[0].norm(p, {-1}); },
          {transposed({3, 4}, 321)});
  }
  check("default p", [](const TensorList& in) { return in[0].norm(); }, {x});
  check("integer p", [](const TensorList& in) { return in[0].norm(1); }, {x});
}

// ---- Joining.

TEST(Gradcheck, CatStack) {
  Fn cat0 = [](const TensorList& in) { return sigma::cat(in, 0); };
  Fn cat_last = [](const TensorList& in) { return sigma::cat(in, -1); };
  check("cat dim 0", cat0, {rnd({2, 3}, 400), rnd({1, 3}, 401), rnd({4, 3}, 402)});
  check("cat dim -1 non-contiguous", cat_last,
        {transposed({2, 3}, 403), rnd({2, 2}, 404), strided({2, 1}, 405)});
  check("cat 1-d", cat0, {rnd({3}, 406), rnd({2}, 407)});
  check("cat one input without grad", cat0, {rnd({2, 2}, 408), values({1, 2}, -1, 1, 409)});
  check("cat dim 1 of 3-d", [](const TensorList& in) { return sigma::cat(in, 1); },
        {rnd({2, 1, 3}, 410), rnd({2, 2, 3}, 411)});
  for (std::int64_t d : {0, 1, 2, -1}) {
    SCOPED_TRACE("stack dim " + std::to_string(d));
    check("stack", [d](const TensorList& in) { return sigma::stack(in, d); },
          {rnd({2, 3}, 420), transposed({2, 3}, 421), strided({2, 3}, 422)});
  }
  check("stack 0-dim", [](const TensorList& in) { return sigma::stack(in); },
        {rnd({}, 423), rnd({}, 424)});
  check("cat of the same tensor twice",
        [](const TensorList& in) {
          return sigma::cat({in[0], in[0] * 2.0}, 1);
        },
        {rnd({2, 2}, 425)});
}

TEST(Gradcheck, Where) {
  Tensor cond = sigma::tensor({true, false, true, true, false, false}).reshape({2, 3});
  Tensor cond_col = sigma::tensor({false, true}).reshape({2, 1});
  check("where", [cond](const TensorList& in) { return sigma::where(cond, in[0], in[1]); },
        {rnd({2, 3}, 430), rnd({2, 3}, 431)});
  check("where broadcast a and b",
        [cond](const TensorList& in) { return sigma::where(cond, in[0], in[1]); },
        {rnd({3}, 432), rnd({2, 1}, 433)});
  check("where broadcast condition",
        [cond_col](const TensorList& in) { return sigma::where(cond_col, in[0], in[1]); },
        {transposed({2, 3}, 434), rnd({3}, 435)});
  check("where scalar", [cond](const TensorList& in) { return sigma::where(cond, in[0], 0.5); },
        {strided({2, 3}, 436)});
}

// ---- Views and copies.

TEST(Gradcheck, ViewOps) {
  Tensor x = rnd({2, 3, 4}, 500);
  Tensor nc = transposed({2, 3, 4}, 501);
  struct Case {
    const char* name;
    Fn fn;
  };
  const Case cases[] = {
      {"reshape",
       [](const TensorList& in) {
         return in[0].reshape({4, 6});
       }},
      {"reshape -1",
       [](const TensorList& in) {
         return sigma::reshape(in[0], {-1, 2});
       }},
      {"view or reshape",
       [](const TensorList& in) {
         return in[0].is_contiguous() ? in[0].view({6, 4}) : in[0].reshape({6, 4});
       }},
      {"flatten", [](const TensorList& in) { return in[0].flatten(1); }},
      {"transpose", [](const TensorList& in) { return in[0].transpose(0, 2); }},
      {"transpose negative", [](const TensorList& in) { return sigma::transpose(in[0], -1, -2); }},
      {"permute",
       [](const TensorList& in) {
         return in[0].permute({2, 0, 1});
       }},
      {"slice step", [](const TensorList& in) { return in[0].slice(2, 1, 4, 2); }},
      {"slice negative", [](const TensorList& in) { return in[0].slice(-2, -2); }},
      {"narrow", [](const TensorList& in) { return in[0].narrow(1, 1, 2); }},
      {"chunk",
       [](const TensorList& in) {
         auto c = in[0].chunk(2, -1);
         return c[0] * c[1] + c[1];
       }},
      {"chunk uneven", [](const TensorList& in) { return sigma::chunk(in[0], 2, 1)[1]; }},
      {"split", [](const TensorList& in) { return in[0].split(3, 2)[0]; }},
      {"unbind",
       [](const TensorList& in) {
         auto u = in[0].unbind(1);
         return u[0] - u[2] * 2.0;
       }},
      {"select", [](const TensorList& in) { return in[0].select(1, 2); }},
      {"select negative", [](const TensorList& in) { return in[0].select(-1, -3); }},
      {"index", [](const TensorList& in) { return in[0][1]; }},
      {"unsqueeze", [](const TensorList& in) { return in[0].unsqueeze(1); }},
      {"unsqueeze last", [](const TensorList& in) { return sigma::unsqueeze(in[0], -1); }},
      {"squeeze", [](const TensorList& in) { return in[0].unsqueeze(0).unsqueeze(3).squeeze(); }},
      {"squeeze dim", [](const TensorList& in) { return in[0].unsqueeze(2).squeeze(2); }},
      {"expand",
       [](const TensorList& in) {
         return in[0].unsqueeze(0).expand({3, 2, 3, 4});
       }},
      {"contiguous", [](const TensorList& in) { return in[0].transpose(0, 1).contiguous(); }},
      {"clone", [](const TensorList& in) { return in[0].clone(); }},
      {"to float64", [](const TensorList& in) { return in[0].to(sigma::kFloat64); }},
      {"to float64 copy", [](const TensorList& in) { return in[0].to(sigma::kFloat64, true); }},
      {"view chain",
       [](const TensorList& in) {
         return in[0].permute({1, 2, 0}).reshape({12, 2}).slice(0, 1, 12, 3).t();
       }},
      {"views then arithmetic",
       [](const TensorList& in) { return in[0].select(0, 0) * in[0].select(0, 1).sigmoid(); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    check("contiguous", c.fn, {x});
    check("non-contiguous", c.fn, {nc});
  }
  check("expand size-1 dims",
        [](const TensorList& in) {
          return in[0].expand({2, 3, 4});
        },
        {rnd({3, 1}, 502)});
  check("expand 0-dim", [](const TensorList& in) { return in[0].expand({2, 2}); }, {rnd({}, 503)});
  check("expand_as", [](const TensorList& in) { return in[0].expand_as(in[1]) * in[1]; },
        {rnd({1, 3}, 504), rnd({2, 3}, 505)});
  check("view_as", [](const TensorList& in) { return in[0].view_as(in[1]) * in[1]; },
        {rnd({6}, 506), rnd({2, 3}, 507)});
  check("t", [](const TensorList& in) { return in[0].t(); }, {strided({2, 3}, 508)});
  check("non-leaf view input", [](const TensorList& in) { return in[0].sigmoid(); },
        {rnd({3, 4}, 509).t()});
}

TEST(Gradcheck, ToFloat32RoundTrip) {
  // Through float32 the function is a rounding of x, so the central difference
  // needs a step far above float32's spacing.
  sigma::GradcheckOptions o;
  o.eps = 1e-2;
  o.atol = 1e-4;
  check(
      "to float32 and back",
      [](const TensorList& in) { return (in[0].to(sigma::kFloat32) * 2.0f).to(sigma::kFloat64); },
      {rnd({2, 3}, 510, -1.0, 1.0)}, o);
}

TEST(Gradcheck, InPlaceOpsOnNonLeaves) {
  check("add_ mul_ sub_ div_ neg_",
        [](const TensorList& in) {
          Tensor y = in[0].clone();
          y.mul_(in[1]).add_(in[1], 2.0).sub_(0.5).div_(in[1]).neg_();
          y.mul_(3.0).div_(2.0).add_(1.0).sub_(in[0], 0.25);
          return y;
        },
        {rnd({2, 3}, 520), away({3}, 521, 0.5, 2.0)});
  check("sigmoid_ tanh_",
        [](const TensorList& in) {
          Tensor y = in[0] * 1.5;
          y.sigmoid_();
          y.tanh_();
          return y;
        },
        {rnd({2, 3}, 522)});
  check("relu_",
        [](const TensorList& in) {
          Tensor y = in[0] * 1.0;
          y.relu_();
          return y;
        },
        {away({2, 3}, 523)});
  check("clamp_",
        [](const TensorList& in) {
          Tensor y = in[0] + 0.0;
          y.clamp_(-0.5, 0.6);
          return y;
        },
        {sigma::tensor({-1.7, -0.3, 0.45, 1.3}, sigma::kFloat64).requires_grad_()});
  check("operators +=, *=",
        [](const TensorList& in) {
          Tensor y = in[0].clone();
          y += in[1];
          y *= in[1];
          y -= 1.0;
          y /= 2.0;
          return y;
        },
        {rnd({3}, 524), rnd({3}, 525)});
  check("copy_ into a non-leaf",
        [](const TensorList& in) {
          Tensor y = sigma::zeros({2, 3}, sigma::kFloat64);
          y.copy_(in[0]);  // broadcast [3] -> [2, 3]
          return y * in[1];
        },
        {rnd({3}, 526), rnd({2, 3}, 527)});
}

TEST(Gradcheck, EmptyInput) {
  check("empty mul", [](const TensorList& in) { return in[0] * 2.0; }, {rnd({0, 3}, 530)});
  check("empty sum", [](const TensorList& in) { return in[0].sum(); }, {rnd({2, 0}, 531)});
}

// ---- gradcheck itself.

TEST(GradcheckSelf, FailsOnWrongGradient) {
  // x * x.detach(): autograd sees d/dx = x, the function's true derivative is 2x.
  Tensor x = sigma::tensor({0.5, -1.25, 2.0}, sigma::kFloat64).requires_grad_();
  const sigma::GradcheckResult r =
      sigma::gradcheck([](const TensorList& in) { return in[0] * in[0].detach(); }, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(static_cast<bool>(r));
  // First mismatch: element [0], output [0]: analytic 0.5, numeric ~1.0.
  for (const char* part :
       {"input 0", "element [0]", "output element [0]", "analytic 0.5,", "numeric "})
    EXPECT_NE(r.message.find(part), std::string::npos) << part << " not in: " << r.message;
}

// The defaults must catch an analytic gradient off by one part in a million.
// f(x) = e^x + 1e-6 e^x.detach() has the value (1 + 1e-6) e^x, so its true
// derivative is (1 + 1e-6) e^x while autograd reports e^x: off by 1e-6
// relative, at points where the gradient is 0.1, 1, 10 and 100 (each checked
// alone, so each must fail on its own). e^x itself must pass there.
TEST(GradcheckSelf, CatchesAGradientOffByOneMillionthRelative) {
  for (double x0 : {std::log(0.1), 0.0, std::log(10.0), std::log(100.0)}) {
    SCOPED_TRACE("x = " + std::to_string(x0));
    const Tensor x = sigma::tensor({x0}, sigma::kFloat64).requires_grad_();
    const sigma::GradcheckResult good =
        sigma::gradcheck([](const TensorList& in) { return in[0].exp(); }, {x});
    EXPECT_TRUE(good.ok) << good.message;
    const sigma::GradcheckResult bad = sigma::gradcheck(
        [](const TensorList& in) { return in[0].exp() + in[0].exp().detach() * 1e-6; }, {x});
    EXPECT_FALSE(bad.ok);
  }
}

// And one off by 1e-6 absolute where the gradient is about 1: f(x) = tanh(x)
// + 1e-6 x.detach() has the derivative 1 - tanh(x)^2 + 1e-6, autograd reports
// 1 - tanh(x)^2 (0.91 to 1 at these points). tanh itself must pass.
TEST(GradcheckSelf, CatchesAGradientOffByOneMillionthAbsoluteNearOne) {
  for (double x0 : {-0.3, -0.05, 0.0, 0.1, 0.3}) {
    SCOPED_TRACE("x = " + std::to_string(x0));
    const Tensor x = sigma::tensor({x0}, sigma::kFloat64).requires_grad_();
    const sigma::GradcheckResult good =
        sigma::gradcheck([](const TensorList& in) { return in[0].tanh(); }, {x});
    EXPECT_TRUE(good.ok) << good.message;
    const sigma::GradcheckResult bad = sigma::gradcheck(
        [](const TensorList& in) { return in[0].tanh() + in[0].detach() * 1e-6; }, {x});
    EXPECT_FALSE(bad.ok);
    EXPECT_NE(bad.message.find("analytic"), std::string::npos) << bad.message;
  }
}

TEST(GradcheckSelf, FailsOnMissingGradient) {
  // The output is computed without grad from input 1 (a tensor made outside
  // autograd): the analytic Jacobian for input 1 is 0, the numeric one is not.
  Tensor a = sigma::tensor({1.0, 2.0}, sigma::kFloat64).requires_grad_();
  Tensor b = sigma::tensor({{0.5, 1.5}, {2.5, -3.5}}, sigma::kFloat64).requires_grad_();
  const sigma::GradcheckResult r = sigma::gradcheck(
      [](const TensorList& in) {
        Tensor without_grad;
        {
          sigma::NoGradGuard g;
          without_grad = in[1] * 3.0;
        }
        return in[0] + without_grad;
      },
      {a, b});
  EXPECT_FALSE(r.ok);
  for (const char* part : {"input 1", "element [0, 0]", "analytic 0,", "numeric "})
    EXPECT_NE(r.message.find(part), std::string::npos) << part << " not in: " << r.message;
}

TEST(GradcheckSelf, FailsOnSlightlyWrongGradientWithTightTolerance) {
  // The numeric derivative of a float32 round trip is off by the rounding, so
  // with eps 1e-6 (finer than float32's spacing near 1) the check must fail.
  Tensor x = sigma::tensor({1.1, 0.7}, sigma::kFloat64).requires_grad_();
  const sigma::GradcheckResult r = sigma::gradcheck(
      [](const TensorList& in) { return in[0].to(sigma::kFloat32).to(sigma::kFloat64); }, {x});
  EXPECT_FALSE(r.ok);
}

TEST(GradcheckSelf, PassesAndRestoresInputsExactly) {
  Tensor base = values({3, 4}, -2, 2, 600);
  Tensor x = base.t().requires_grad_();  // non-contiguous leaf
  const std::vector<double> before = base.to_vector<double>();
  const auto version = x._version();
  const sigma::GradcheckResult r =
      sigma::gradcheck([](const TensorList& in) { return in[0] * in[0] * in[0]; }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(r.message.empty());
  const std::vector<double> after = base.to_vector<double>();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(std::memcmp(&after[i], &before[i], sizeof(double)), 0) << i;
  EXPECT_EQ(x._version(), version);
  EXPECT_FALSE(x.grad().defined());  // gradcheck uses autograd::grad, not .grad()
}

TEST(GradcheckSelf, RecordsTheGraphUnderACallersNoGradGuard) {
  sigma::NoGradGuard guard;
  check("sigmoid under NoGradGuard", [](const TensorList& in) { return in[0].sigmoid(); },
        {rnd({3}, 610)});
  EXPECT_FALSE(sigma::GradMode::is_enabled());
}

TEST(GradcheckSelf, RejectsBadInputs) {
  Fn id = [](const TensorList& in) { return in[0] * in[1]; };
  expect_error(
      [&] {
        sigma::gradcheck(id, {rnd({2}, 1), sigma::ones({2}, sigma::kFloat32).requires_grad_()});
      },
      {"gradcheck", "input 1", "float32", "float64"});
  expect_error(
      [&] {
        sigma::gradcheck(id, {rnd({2}, 1), sigma::ones({2}, sigma::kInt64)});
      },
      {"gradcheck", "input 1", "int64"});
  expect_error(
      [&] {
        sigma::gradcheck(id, {values({2}, 0, 1, 1), values({2}, 0, 1, 2)});
      },
      {"gradcheck", "no input requires grad"});
  expect_error(
      [&] {
        Tensor e = values({1, 3}, 0, 1, 3).expand({2, 3}).requires_grad_();
        sigma::gradcheck(id, {e, rnd({2, 3}, 4)});
      },
      {"gradcheck", "input 0", "share memory"});
  expect_error(
      [&] {
        sigma::gradcheck([](const TensorList& in) { return in[0].to(sigma::kFloat32); },
                         {rnd({2}, 5)});
      },
      {"gradcheck", "float32", "output"});
  expect_error(
      [&] {
        sigma::gradcheck(id, {Tensor(), rnd({2}, 6)});
      },
      {"gradcheck", "input 0", "undefined"});
}

}  // namespace
