// sigma against LibTorch (Debian libtorch 1.13): for a table of ops, the same
// float64 and float32 inputs (values copied) go through both libraries; the
// forward values and the gradients of sum(out * v), for a random v, must agree
// within a bound derived for each element:
//
//   |sigma - torch| <= rtol (|torch| + R) + (gamma_k(sigma) + gamma_k(torch)) M
//
// rtol (1e-10 float64, 1e-5 float32: 84 to 168 float32 ULP) is the bar for the
// element-wise functions (exp, pow, sigmoid, ...), whose implementations differ
// by a few ULP between the libraries. M is the sum of the absolute values of
// the terms that the element sums (an inner product, a reduction, a broadcast
// operand's gradient), computed in float64 from the same operands; R is the
// part of M whose terms are themselves element-wise function values. A sum of
// terms computed in floating point, in any order, blocked or not, with or
// without FMA, is off by at most gamma_k M, gamma_k = k u / (1 - k u), where u
// is the unit roundoff of the type it is computed in (2^-24 float32, 2^-53
// float64) and k counts the roundings on the longest path from the operands to
// the result: n - 1 additions for n terms plus the roundings that form a term
// or scale the sum (Higham, Accuracy and Stability of Numerical Algorithms,
// 2nd ed., Lemma 3.1 and section 3.1). Each library is within that of the
// exact value for the same (rounded) operands, so their difference is within
// the sum of the two. Each case gives n and the roundings per term, r:
// k = n - 1 + r; cases without sums have M = 0 and are compared at rtol alone.
//
// Where sigma is deliberately more exact than LibTorch the difference is
// tested explicitly instead (SigmoidGradientWhereOutputRoundsToOne). Printing
// is not compared: LibTorch's C++ operator<< is not PyTorch's repr, which is
// what sigma prints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::test::draw;
using sigma::test::numel;
using sigma::test::Shape;
using SList = std::vector<sigma::Tensor>;
using TList = std::vector<torch::Tensor>;


struct Input {
  Shape shape;
  double lo = -2.0, hi = 2.0;
  bool transposed = false;  // built as the transpose of the reversed shape
  bool grad = true;
};

// The sums behind a compared tensor's elements, as float64 LibTorch tensors of
// its shape: abs = sum |terms| (M above), rounded = the part of abs whose
// terms are element-wise function values, good only to rtol (R; undefined: 0).
struct Terms {
  torch::Tensor abs, rounded;
};
// Given the inputs x (float64, the values both libraries got) and v, the
// terms of the forward output, then of the gradient of each input (undefined
// Terms for an input without grad or without sums).
using TermsFn = std::function<std::vector<Terms>(const TList& x, const torch::Tensor& v)>;

// n: terms in the longest sum; r: roundings that form one term or scale the
// sum (a product, alpha, 1/n); k = n - 1 + r. No terms: no sums.
struct Sums {
  std::int64_t n = 1;
  std::int64_t r = 0;
  TermsFn terms;
};

struct OpCase {
  std::string name;
  std::vector<Input> inputs;
  std::function<sigma::Tensor(const SList&)> s;
  std::function<torch::Tensor(const TList&)> t;
  Sums sums = {};
};

// For an op whose output and gradients, evaluated at |x| and |v|, are sums
// whose terms all have one sign (polynomials with non-negative coefficients:
// matmul, sums, means, broadcasts, views, products, alpha > 0; and x0 / x1
// with x1 > 0, whose x1-gradient terms are all negative): each term there is
// the absolute value of the term at x and v, so |op(|x|)| and the gradients'
// absolute values are the sums of |terms|.
TermsFn same_op_on_abs(std::function<torch::Tensor(const TList&)> t) {
  return [t](const TList& x, const torch::Tensor& v) {
    TList ax;
    for (const auto& e : x) ax.push_back(e.abs().detach().requires_grad_());
    const torch::Tensor out = t(ax);
    (out * v.abs()).sum().backward();
    std::vector<Terms> r{{out.detach().abs(), {}}};
    for (const auto& e : ax)
      r.push_back({e.grad().defined() ? e.grad().abs() : torch::Tensor(), {}});
    return r;
  };
}

// The longest sum in matmul(a, b) and its gradients (NumPy's rules): the
// inner size for the forward; an element of a meets every column of b, in
// every batch entry that broadcasts over it (the output's batch size over
// a's), and likewise for b.
std::int64_t matmul_sum_length(Shape a, Shape b) {
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const std::int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  const Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  const std::size_t rank = std::max(ba.size(), bb.size());
  std::int64_t na = 1, nb = 1, no = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t da = i + ba.size() >= rank ? ba[i + ba.size() - rank] : 1;
    const std::int64_t db = i + bb.size() >= rank ? bb[i + bb.size() - rank] : 1;
    na *= da;
    nb *= db;
    no *= std::max(da, db);
  }
  return std::max({k, n * (no / na), m * (no / nb)});
}

std::vector<double> torch_values(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

Shape torch_shape(const torch::Tensor& t) { return t.sizes().vec(); }

// The same values, as a sigma tensor of dtype dt and a torch tensor (float32
// values are rounded once, in sigma, and copied exactly). The torch tensor is
// float64 when f64_reference, else of dtype dt.
std::pair<sigma::Tensor, torch::Tensor> twin(const std::vector<double>& v, const Shape& shape,
                                             sigma::ScalarType dt, bool f64_reference) {
  sigma::Tensor s = sigma::tensor(v, sigma::kFloat64).reshape(shape).to(dt);
  const std::vector<double> exact = s.to_vector<double>();
  torch::Tensor t = torch::tensor(exact, torch::dtype(torch::kDouble)).reshape(shape);
  if (!f64_reference && dt != sigma::kFloat64) t = t.to(torch::kFloat);
  return {s, t};
}

// gamma_k = k u / (1 - k u) (Higham's notation).
double gamma(std::int64_t k, double u) {
  const double ku = static_cast<double>(k) * u;
  return ku / (1.0 - ku);
}

// The largest |sigma - torch| / bound seen where the bound has a sum term, and
// where (printed per test, so a report can quote how close the data come).
struct Worst {
  double ratio = 0;
  std::string where;
};

// Elements of got against ref: |got - ref| <= rtol (|ref| + R) + gamma_sum M.
void expect_close(const std::vector<double>& got, const std::vector<double>& ref, double rtol,
                  const std::string& what, const Terms& terms = {}, double gamma_sum = 0,
                  Worst* worst = nullptr) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  const std::vector<double> m = terms.abs.defined() ? torch_values(terms.abs)
                                                    : std::vector<double>(ref.size(), 0.0);
  const std::vector<double> r = terms.rounded.defined() ? torch_values(terms.rounded)
                                                        : std::vector<double>(ref.size(), 0.0);
  ASSERT_EQ(m.size(), ref.size()) << what;
  ASSERT_EQ(r.size(), ref.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double tol = rtol * (std::abs(ref[i]) + r[i]) + gamma_sum * m[i];
    const double err = std::abs(got[i] - ref[i]);
    const bool ok = err <= tol || (std::isnan(got[i]) && std::isnan(ref[i])) || got[i] == ref[i];
    if (worst && m[i] > 0 && err / tol > worst->ratio) {
      worst->ratio = err / tol;
      worst->where = what + ", element " + std::to_string(i);
    }
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << ": sigma " << got[i] << ", torch " << ref[i]
                    << " (bound " << tol << " = rtol " << rtol << " * (|torch| + " << r[i]
                    << ") + " << gamma_sum << " * sum|terms| " << m[i] << ")";
  }
}

void run(const OpCase& c, sigma::ScalarType dt, std::uint64_t seed, bool f64_reference,
         Worst& worst) {
  const double rtol = dt == sigma::kFloat64 ? 1e-10 : 1e-5;
  const double u = dt == sigma::kFloat64 ? 0x1p-53 : 0x1p-24;
  const double u_torch = f64_reference ? 0x1p-53 : u;
  const std::int64_t k = c.sums.n - 1 + c.sums.r;
  const double gamma_sum = c.sums.terms ? gamma(k, u) + gamma(k, u_torch) : 0.0;
  const std::string tag = c.name + (dt == sigma::kFloat64 ? " [float64]" : " [float32]");
  SList s_in;
  TList t_in;
  for (const Input& in : c.inputs) {
    Shape base_shape(in.shape.rbegin(), in.shape.rend());
    if (!in.transposed) base_shape = in.shape;
    auto [s, t] = twin(draw(numel(in.shape), in.lo, in.hi, ++seed), base_shape, dt, f64_reference);
    if (in.transposed) {
      Shape perm;
      for (auto d = static_cast<std::int64_t>(in.shape.size()); d-- > 0;) perm.push_back(d);
      s = s.permute(perm);
      t = t.permute(perm);
    }
    if (in.grad) {
      s.requires_grad_();
      t.requires_grad_();
    }
    s_in.push_back(s);
    t_in.push_back(t);
  }
  sigma::Tensor so = c.s(s_in);
  torch::Tensor to = c.t(t_in);
  ASSERT_EQ(so.sizes().vec(), torch_shape(to)) << tag;
  ASSERT_EQ(so.dtype(), dt) << tag;

  auto [sv, tv] = twin(draw(so.numel(), -1.5, 1.5, ++seed), so.sizes().vec(), dt, f64_reference);
  std::vector<Terms> terms(c.inputs.size() + 1);
  if (c.sums.terms) {
    TList x64;
    for (const auto& t : t_in) x64.push_back(t.detach().to(torch::kDouble));
    terms = c.sums.terms(x64, tv.detach().to(torch::kDouble));
    ASSERT_EQ(terms.size(), c.inputs.size() + 1) << tag;
  }
  expect_close(so.to_vector<double>(), torch_values(to), rtol, tag + " forward", terms[0],
               gamma_sum, &worst);

  (so * sv).sum().backward();
  (to * tv).sum().backward();
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i].grad) continue;
    const std::string what = tag + " gradient of input " + std::to_string(i);
    ASSERT_TRUE(s_in[i].grad().defined()) << what;
    ASSERT_TRUE(t_in[i].grad().defined()) << what;
    EXPECT_EQ(s_in[i].grad().dtype(), dt) << what;
    expect_close(s_in[i].grad().to_vector<double>(), torch_values(t_in[i].grad()), rtol, what,
                 terms[i + 1], gamma_sum, &worst);
  }
}

// f64_reference: LibTorch computes in float64 for every dtype, so a float32
// result is compared with the better answer rather than with LibTorch's own
// float32 rounding (used for the activations, whose float32 gradients in
// LibTorch cancel where sigma's do not).
void run_all(const std::vector<OpCase>& cases, bool f64_reference = false) {
  std::uint64_t seed = 1000;
  Worst worst;
  for (const OpCase& c : cases)
    for (auto dt : {sigma::kFloat64, sigma::kFloat32}) {
      run(c, dt, seed, f64_reference, worst);
      seed += 100;
    }
  if (!worst.where.empty())
    std::printf("largest |sigma - torch| / bound where a sum bound applies: %.3g (%s)\n",
                worst.ratio, worst.where.c_str());
}

Input in(Shape s, double lo = -2.0, double hi = 2.0) { return {std::move(s), lo, hi, false, true}; }
Input tr(Shape s, double lo = -2.0, double hi = 2.0) { return {std::move(s), lo, hi, true, true}; }
Input nograd(Shape s, double lo, double hi) { return {std::move(s), lo, hi, false, false}; }

// c with the sums of its own op at |x| (same_op_on_abs): n terms in the
// longest sum, r roundings forming a term or scaling the sum.
OpCase summing(OpCase c, std::int64_t n, std::int64_t r) {
  c.sums = {n, r, same_op_on_abs(c.t)};
  return c;
}
OpCase with_terms(OpCase c, std::int64_t n, std::int64_t r, TermsFn terms) {
  c.sums = {n, r, std::move(terms)};
  return c;
}

TEST(TorchReference, Elementwise) {
  std::vector<OpCase> cases = {
      // The gradient of [3]: 2 rows of v.
      summing({"add broadcast",
               {in({2, 3}), in({3})},
               [](const SList& x) { return x[0] + x[1]; },
               [](const TList& x) { return x[0] + x[1]; }},
              2, 0),
      // The gradient of [3, 1]: 2.5 times 4 columns of v.
      summing({"add alpha transposed",
               {tr({3, 4}), in({3, 1})},
               [](const SList& x) { return sigma::add(x[0], x[1], 2.5); },
               [](const TList& x) { return torch::add(x[0], x[1], 2.5); }},
              4, 1),
      // x0 - (-0.75) x1: [2, 1, 3] meets 4 rows of v, [4, 3] 2 rows of 0.75 v.
      summing({"sub alpha",
               {in({2, 1, 3}), tr({4, 3})},
               [](const SList& x) { return sigma::sub(x[0], x[1], -0.75); },
               [](const TList& x) { return torch::sub(x[0], x[1], -0.75); }},
              4, 1),
      {"sub scalar",
       {in({5})},
       [](const SList& x) { return 1.5 - x[0].sub(0.25, 2); },
       [](const TList& x) { return 1.5 - x[0].sub(0.25, 2); }},
      // The gradient of [4, 1]: 3 * 2 products v x1.
      summing({"mul broadcast",
               {in({4, 1}), tr({3, 2, 4})},
               [](const SList& x) { return x[0].t() * x[1]; },
               [](const TList& x) { return x[0].t() * x[1]; }},
              6, 1),
      // The gradient of [3]: 2 rows of -v x0 / x1^2, three roundings a term.
      summing({"div",
               {in({2, 3}), in({3}, 0.5, 2.0)},
               [](const SList& x) { return x[0] / x[1]; },
               [](const TList& x) { return x[0] / x[1]; }},
              2, 3),
      {"scalar div",
       {tr({3, 2}, 0.5, 2.0)},
       [](const SList& x) { return 3.0 / x[0]; },
       [](const TList& x) { return 3.0 / x[0]; }},
      // The gradient of the exponent [3]: 2 rows of v x0^x1 ln(x0), two
      // products of function values.
      with_terms({"pow tensor tensor",
                  {in({2, 3}, 0.5, 2.0), in({3}, -1.5, 1.5)},
                  [](const SList& x) { return sigma::pow(x[0], x[1]); },
                  [](const TList& x) { return torch::pow(x[0], x[1]); }},
                 2, 2,
                 [](const TList& x, const torch::Tensor& v) {
                   const torch::Tensor g =
                       (v * torch::pow(x[0], x[1]) * torch::log(x[0])).abs().sum(0);
                   return std::vector<Terms>{{}, {}, {g, g}};
                 }),
      // Three powers (positive for x > 0) and their three gradient terms, of
      // which x^-1.5's is negative: each v times the exponent times a power.
      with_terms({"pow tensor scalar",
                  {tr({2, 3}, 0.5, 2.0)},
                  [](const SList& x) { return x[0].pow(2.5) + x[0].pow(3) + x[0].pow(-1.5); },
                  [](const TList& x) { return x[0].pow(2.5) + x[0].pow(3) + x[0].pow(-1.5); }},
                 3, 2,
                 [](const TList& x, const torch::Tensor& v) {
                   const torch::Tensor& a = x[0];
                   const torch::Tensor f = a.pow(2.5) + a.pow(3) + a.pow(-1.5);
                   const torch::Tensor g =
                       v.abs() * (2.5 * a.pow(1.5) + 3.0 * a.pow(2) + 1.5 * a.pow(-2.5));
                   return std::vector<Terms>{{f, f}, {g, g}};
                 }),
      {"pow scalar tensor",
       {in({4})},
       [](const SList& x) { return sigma::pow(2.5, x[0]); },
       [](const TList& x) { return torch::pow(2.5, x[0]); }},
      {"neg",
       {tr({2, 3})},
       [](const SList& x) { return -x[0]; },
       [](const TList& x) { return -x[0]; }},
      {"exp",
       {in({2, 3})},
       [](const SList& x) { return x[0].exp(); },
       [](const TList& x) { return x[0].exp(); }},
      {"log",
       {tr({3, 2}, 0.2, 5.0)},
       [](const SList& x) { return x[0].log(); },
       [](const TList& x) { return x[0].log(); }},
      {"log1p",
       {in({6}, -0.5, 4.0)},
       [](const SList& x) { return x[0].log1p(); },
       [](const TList& x) { return x[0].log1p(); }},
      {"abs",
       {in({2, 4}, 0.1, 2.0)},
       [](const SList& x) { return (x[0] - 1.05).abs(); },
       [](const TList& x) { return (x[0] - 1.05).abs(); }},
      {"sqrt",
       {tr({2, 3}, 0.2, 4.0)},
       [](const SList& x) { return x[0].sqrt(); },
       [](const TList& x) { return x[0].sqrt(); }},
      {"square",
       {in({5})},
       [](const SList& x) { return x[0].square(); },
       [](const TList& x) { return x[0].square(); }},
      {"reciprocal",
       {in({5}, 0.3, 3.0)},
       [](const SList& x) { return x[0].reciprocal(); },
       [](const TList& x) { return x[0].reciprocal(); }},
      {"clamp",
       {in({3, 4})},
       [](const SList& x) { return x[0].clamp(-0.5, 0.6); },
       [](const TList& x) { return x[0].clamp(-0.5, 0.6); }},
      {"clamp_min clamp_max",
       {tr({3, 4})},
       [](const SList& x) { return x[0].clamp_min(-0.5) + x[0].clamp_max(0.25); },
       [](const TList& x) { return x[0].clamp_min(-0.5) + x[0].clamp_max(0.25); }},
      // max * min = x0 x1; the gradient of [3] gathers v times the other
      // operand from maximum's and minimum's backward: 2 rows each.
      summing({"maximum minimum",
               {in({2, 3}), in({3})},
               [](const SList& x) { return sigma::maximum(x[0], x[1]) * sigma::minimum(x[0], x[1]); },
               [](const TList& x) { return torch::maximum(x[0], x[1]) * torch::minimum(x[0], x[1]); }},
              4, 1),
      {"where",
       {in({2, 3}), tr({3, 2})},
       [](const SList& x) { return sigma::where(x[0].detach() > 0.0, x[0], x[1].t()); },
       [](const TList& x) { return torch::where(x[0].detach() > 0.0, x[0], x[1].t()); }},
  };
  run_all(cases);
}

TEST(TorchReference, Activations) {
  std::vector<OpCase> cases = {
      {"sigmoid",
       {in({3, 4}, -8.0, 8.0)},
       [](const SList& x) { return x[0].sigmoid(); },
       [](const TList& x) { return x[0].sigmoid(); }},
      {"tanh",
       {tr({3, 4}, -5.0, 5.0)},
       [](const SList& x) { return x[0].tanh(); },
       [](const TList& x) { return x[0].tanh(); }},
      {"relu",
       {in({4, 3})},
       [](const SList& x) { return x[0].relu(); },
       [](const TList& x) { return x[0].relu(); }},
      {"gelu",
       {in({10}, -4.0, 4.0)},
       [](const SList& x) { return sigma::gelu(x[0]); },
       [](const TList& x) { return torch::gelu(x[0]); }},
      {"gelu tanh",
       {tr({2, 5}, -4.0, 4.0)},
       [](const SList& x) { return sigma::gelu(x[0], "tanh"); },
       [](const TList& x) { return torch::gelu(x[0], "tanh"); }},
      {"silu",
       {in({10}, -6.0, 6.0)},
       [](const SList& x) { return x[0].silu(); },
       [](const TList& x) { return torch::silu(x[0]); }},
      {"log_sigmoid",
       {tr({2, 5}, -6.0, 6.0)},
       [](const SList& x) { return x[0].log_sigmoid(); },
       [](const TList& x) { return torch::log_sigmoid(x[0]); }},
      {"softplus",
       {in({10}, -6.0, 6.0)},
       [](const SList& x) { return sigma::softplus(x[0]); },
       [](const TList& x) { return torch::softplus(x[0]); }},
      {"softplus beta threshold",
       {in({12}, -3.0, 3.0)},
       [](const SList& x) { return sigma::softplus(x[0], 2.0, 3.0); },
       [](const TList& x) { return torch::softplus(x[0], 2.0, 3.0); }},
      {"logit",
       {in({10}, 0.01, 0.99)},
       [](const SList& x) { return x[0].logit(); },
       [](const TList& x) { return x[0].logit(); }},
      {"logit eps",
       {tr({3, 4}, 0.0, 1.0)},
       [](const SList& x) { return sigma::logit(x[0], 0.2); },
       [](const TList& x) { return torch::logit(x[0], 0.2); }},
  };
  for (const char* r : {"none", "mean", "sum"}) {
    const std::string red = r;
    const std::int64_t tr_red = red == "none"   ? at::Reduction::None
                                : red == "mean" ? at::Reduction::Mean
                                                : at::Reduction::Sum;
    // mean and sum add the 6 element losses (function values, each >= 0),
    // mean then scales by 1/6; the gradients have no sums.
    const std::int64_t n = red == "none" ? 1 : 6;
    auto loss_terms = [red](const TList& x, const torch::Tensor&) {
      std::vector<Terms> t(x.size() + 1);
      if (red == "none") return t;
      const torch::Tensor w = x.size() > 2 ? x[2] : torch::Tensor();
      const torch::Tensor pw = x.size() > 2 ? x[3] : torch::Tensor();
      torch::Tensor l = torch::binary_cross_entropy_with_logits(x[0], x[1], w, pw,
                                                                at::Reduction::None)
                            .abs()
                            .sum();
      if (red == "mean") l = l / 6.0;
      t[0] = {l, l};
      return t;
    };
    cases.push_back(with_terms({"bce_with_logits " + red,
                                {in({2, 3}, -4.0, 4.0), in({2, 3}, 0.0, 1.0)},
                                [red](const SList& x) {
                                  return sigma::binary_cross_entropy_with_logits(x[0], x[1], {},
                                                                                 {}, red);
                                },
                                [tr_red](const TList& x) {
                                  return torch::binary_cross_entropy_with_logits(x[0], x[1], {},
                                                                                 {}, tr_red);
                                }},
                               n, 1, loss_terms));
    cases.push_back(with_terms({"bce_with_logits weight pos_weight " + red,
                                {tr({2, 3}, -4.0, 4.0), in({2, 3}, 0.0, 1.0),
                                 nograd({3}, 0.5, 2.0), nograd({3}, 0.5, 3.0)},
                                [red](const SList& x) {
                                  return sigma::binary_cross_entropy_with_logits(x[0], x[1], x[2],
                                                                                 x[3], red);
                                },
                                [tr_red](const TList& x) {
                                  return torch::binary_cross_entropy_with_logits(
                                      x[0], x[1], x[2], x[3], tr_red);
                                }},
                               n, 1, loss_terms));
  }
  run_all(cases, /*f64_reference=*/true);
}

TEST(TorchReference, LinearAlgebra) {
  std::vector<OpCase> cases;
  const std::vector<std::pair<Shape, Shape>> shapes = {{{4}, {4}},
                                                       {{3, 4}, {4}},
                                                       {{4}, {4, 5}},
                                                       {{3, 4}, {4, 5}},
                                                       {{2, 3, 4}, {4, 5}},
                                                       {{3, 4}, {2, 4, 5}},
                                                       {{2, 3, 4}, {2, 4, 5}},
                                                       {{1, 3, 4}, {2, 4, 5}},
                                                       {{2, 1, 3, 4}, {3, 4, 2}},
                                                       {{4}, {2, 4, 3}},
                                                       {{2, 3, 4}, {4}}};
  for (const auto& [a, b] : shapes) {
    // Sums of products a_ik b_kj: one rounding a term.
    const std::string n = "matmul " + sigma::shape_string(a) + " x " + sigma::shape_string(b);
    const std::int64_t len = matmul_sum_length(a, b);
    cases.push_back(summing({n,
                             {in(a), in(b)},
                             [](const SList& x) { return x[0].matmul(x[1]); },
                             [](const TList& x) { return x[0].matmul(x[1]); }},
                            len, 1));
    cases.push_back(summing({n + " transposed",
                             {tr(a), tr(b)},
                             [](const SList& x) { return sigma::matmul(x[0], x[1]); },
                             [](const TList& x) { return torch::matmul(x[0], x[1]); }},
                            len, 1));
  }
  // [3, 4] x [4, 2]: 4 products forward; 2 and 3 in the gradients.
  cases.push_back(summing({"mm",
                           {tr({3, 4}), in({4, 2})},
                           [](const SList& x) { return x[0].mm(x[1]); },
                           [](const TList& x) { return x[0].mm(x[1]); }},
                          4, 1));
  cases.push_back(summing({"bmm",
                           {in({2, 3, 4}), tr({2, 4, 2})},
                           [](const SList& x) { return x[0].bmm(x[1]); },
                           [](const TList& x) { return x[0].bmm(x[1]); }},
                          4, 1));
  cases.push_back(summing({"dot",
                           {in({6}), in({6})},
                           [](const SList& x) { return x[0].dot(x[1]); },
                           [](const TList& x) { return x[0].dot(x[1]); }},
                          6, 1));
  // sigmoid(x W^T + b), x: (5, 3), W: (4, 3), b: (4). z sums 3 products and
  // the bias, and sigmoid' <= 1/4 carries its error into the output. The
  // gradients sum |v| sigmoid'(z) (a function value) times W (4 terms) or x
  // (5 terms), or alone for b (5 terms): two roundings a term. z's own error
  // changes sigmoid'(z) by a relative |1 - 2 sigmoid(z)| |dz| <= gamma_4 14
  // (|x|, |W|, |b| <= 2) < 4e-6, inside the rtol that function values carry.
  cases.push_back(with_terms({"linear layer",
                              {in({5, 3}), in({4, 3}), in({4})},
                              [](const SList& x) { return (x[0].matmul(x[1].t()) + x[2]).sigmoid(); },
                              [](const TList& x) { return (x[0].matmul(x[1].t()) + x[2]).sigmoid(); }},
                             5, 2,
                             [](const TList& x, const torch::Tensor& v) {
                               const torch::Tensor z = x[0].matmul(x[1].t()) + x[2];
                               const torch::Tensor mz = x[0].abs().matmul(x[1].abs().t()) + x[2].abs();
                               const torch::Tensor s = torch::sigmoid(z);
                               const torch::Tensor g = v.abs() * s * (1 - s);
                               const torch::Tensor gx = g.matmul(x[1].abs());
                               const torch::Tensor gw = g.t().matmul(x[0].abs());
                               const torch::Tensor gb = g.sum(0);
                               return std::vector<Terms>{{0.25 * mz, {}}, {gx, gx}, {gw, gw}, {gb, gb}};
                             }));
  cases.push_back(summing({"matmul 64 x 64 (blocked)",
                           {in({64, 64}), tr({64, 64})},
                           [](const SList& x) { return x[0].matmul(x[1]); },
                           [](const TList& x) { return x[0].matmul(x[1]); }},
                          64, 1));
  run_all(cases);
}

TEST(TorchReference, Reductions) {
  std::vector<OpCase> cases = {
      // Sums of the elements: 12, 2 * 4 and 4 terms; the means then scale
      // by 1/n (a rounded 1/n and a product, or a division: two roundings).
      summing({"sum",
               {tr({3, 4})},
               [](const SList& x) { return x[0].sum(); },
               [](const TList& x) { return x[0].sum(); }},
              12, 0),
      summing({"sum dims keepdim",
               {in({2, 3, 4})},
               [](const SList& x) {
                 return x[0].sum({0, 2}, true);
               },
               [](const TList& x) {
                 return x[0].sum(Shape{0, 2}, true);
               }},
              8, 0),
      summing({"sum dim -1",
               {tr({2, 3, 4})},
               [](const SList& x) { return x[0].sum({-1}); },
               [](const TList& x) { return x[0].sum(Shape{-1}); }},
              4, 0),
      summing({"mean",
               {in({3, 4})},
               [](const SList& x) { return x[0].mean(); },
               [](const TList& x) { return x[0].mean(); }},
              12, 2),
      summing({"mean dims",
               {tr({2, 3, 4})},
               [](const SList& x) { return x[0].mean({1}, true); },
               [](const TList& x) { return x[0].mean(Shape{1}, true); }},
              3, 2),
      {"max",
       {in({3, 4})},
       [](const SList& x) { return x[0].max(); },
       [](const TList& x) { return x[0].max(); }},
      {"min",
       {tr({3, 4})},
       [](const SList& x) { return x[0].min(); },
       [](const TList& x) { return x[0].min(); }},
      {"max dim",
       {in({3, 4})},
       [](const SList& x) { return std::get<0>(x[0].max(1)); },
       [](const TList& x) { return std::get<0>(x[0].max(1)); }},
      {"min dim keepdim",
       {tr({3, 4})},
       [](const SList& x) { return std::get<0>(x[0].min(0, true)); },
       [](const TList& x) { return std::get<0>(x[0].min(0, true)); }},
  };
  const double inf = std::numeric_limits<double>::infinity();
  // A p-norm sums the non-negative |x|^p (a product or a function value,
  // then the root: two roundings a term), so sum |terms| is the sum itself
  // and the norm's relative error is at most the sum's (1/p of it). The
  // gradient x |x|^(p-2) / norm^(p-1) v carries p - 1 times that relative
  // error. The infinity norm is a selection: no sums.
  auto norm_case = [](OpCase c, double p, std::int64_t n) {
    if (std::isinf(p)) return c;
    auto t = c.t;
    return with_terms(std::move(c), n, 2, [t, p](const TList& x, const torch::Tensor& v) {
      const torch::Tensor a = x[0].detach().requires_grad_();
      const torch::Tensor out = t({a});
      (out * v).sum().backward();
      return std::vector<Terms>{{out.detach().abs(), {}}, {(p - 1) * a.grad().abs(), {}}};
    });
  };
  for (double p : {1.0, 2.0, inf, 3.0}) {
    const std::string n = "norm p=" + std::to_string(p);
    cases.push_back(norm_case({n,
                               {tr({3, 4})},
                               [p](const SList& x) { return x[0].norm(p); },
                               [p](const TList& x) { return x[0].norm(p); }},
                              p, 12));
    cases.push_back(norm_case({n + " dim",
                               {in({3, 4})},
                               [p](const SList& x) { return x[0].norm(p, {1}); },
                               [p](const TList& x) { return torch::norm(x[0], p, Shape{1}); }},
                              p, 4));
    cases.push_back(norm_case({n + " dims keepdim",
                               {tr({2, 3, 4})},
                               [p](const SList& x) {
                                 return x[0].norm(p, {0, 2}, true);
                               },
                               [p](const TList& x) {
                                 return torch::norm(x[0], p, Shape{0, 2}, true);
                               }},
                              p, 8));
  }
  run_all(cases);
}

TEST(TorchReference, JoinAndViews) {
  std::vector<OpCase> cases = {
      {"cat",
       {in({2, 3}), tr({1, 3}), in({4, 3})},
       [](const SList& x) { return sigma::cat(x, 0); },
       [](const TList& x) { return torch::cat(x, 0); }},
      {"cat dim -1",
       {tr({2, 3}), in({2, 2})},
       [](const SList& x) { return sigma::cat(x, -1); },
       [](const TList& x) { return torch::cat(x, -1); }},
      {"stack",
       {in({2, 3}), tr({2, 3})},
       [](const SList& x) { return sigma::stack(x, 1); },
       [](const TList& x) { return torch::stack(x, 1); }},
      // expand(3, ...): each input element's gradient sums 3 entries of v.
      summing({"view chain",
       {tr({2, 3, 4})},
       [](const SList& x) {
         return x[0]
             .permute({1, 2, 0})
             .reshape({12, 2})
             .slice(0, 1, 12, 3)
             .t()
             .unsqueeze(0)
             .expand({3, 2, 4});
       },
       [](const TList& x) {
         return x[0]
             .permute({1, 2, 0})
             .reshape({12, 2})
             .slice(0, 1, 12, 3)
             .t()
             .unsqueeze(0)
             .expand({3, 2, 4});
       }}, 3, 0),
      // x_i2 (x_i1 + x_i2 + x_i3): 3 products forward; x_i2's gradient
      // gathers v_i times the 3-term sum and v_i x_i2: 4 terms.
      summing({"select narrow squeeze",
               {in({3, 1, 5})},
               [](const SList& x) {
                 return x[0].select(-1, 2) * x[0].narrow(2, 1, 3).squeeze(1).sum({1}, true);
               },
               [](const TList& x) {
                 return x[0].select(-1, 2) * x[0].narrow(2, 1, 3).squeeze(1).sum(Shape{1}, true);
               }},
              4, 1),
  };
  run_all(cases);
}

// ---- The softmax family and the multi-class losses (issue 13). Their
// outputs and gradients are built from exponentials (good to rtol, so R = M
// where the terms contain them) and row sums:
//   softmax dx = y (v - sum(v y)): M = y (|v| + sum|v| y), n = row + 1, r = 2
//   log_softmax y = x - m - log S: M = |x| + 2|m| + |log S| (R = |log S|), n = 3
//     dx = v - e^y sum(v): M = |v| + e^y sum|v| (R = e^y sum|v|), n = row + 1, r = 2
//   logsumexp = m + log S: M = |m| + |log S| (R = |log S|), n = 2; its gradient
//     v e^(x - lse) has no sum
//   cross_entropy (mean): sum_i w_i (lse_i - x_i,t) / sum w: M = sum w_i (|lse_i|
//     + |x_i,t|) / sum w, all of it R; the gradient w_i (softmax - onehot) v / sum w
//     has no sum but four roundings.
TermsFn softmax_terms(std::int64_t d) {
  return [d](const TList& x, const torch::Tensor& v) {
    const torch::Tensor y = torch::softmax(x[0], d);
    const torch::Tensor g = y * (v.abs() + (v.abs() * y).sum(d, true));
    return std::vector<Terms>{{}, {g, g}};
  };
}
TermsFn log_softmax_terms(std::int64_t d) {
  return [d](const TList& x, const torch::Tensor& v) {
    const torch::Tensor m = std::get<0>(x[0].max(d, true));
    const torch::Tensor log_s = (torch::logsumexp(x[0], d, true) - m).abs();
    const torch::Tensor e = torch::log_softmax(x[0], d).exp() * v.abs().sum(d, true);
    return std::vector<Terms>{{x[0].abs() + 2 * m.abs() + log_s, log_s.expand_as(x[0])},
                              {v.abs() + e, e}};
  };
}

TEST(TorchReference, SoftmaxFamily) {
  std::vector<OpCase> cases = {
      with_terms({"softmax dim 1",
                  {in({3, 7}, -6.0, 6.0)},
                  [](const SList& x) { return sigma::softmax(x[0], 1); },
                  [](const TList& x) { return torch::softmax(x[0], 1); }},
                 8, 2, softmax_terms(1)),
      with_terms({"softmax dim 0 transposed",
                  {tr({5, 4}, -6.0, 6.0)},
                  [](const SList& x) { return sigma::softmax(x[0], 0); },
                  [](const TList& x) { return torch::softmax(x[0], 0); }},
                 6, 2, softmax_terms(0)),
      with_terms({"log_softmax dim -1",
                  {in({2, 3, 6}, -8.0, 8.0)},
                  [](const SList& x) { return sigma::log_softmax(x[0], -1); },
                  [](const TList& x) { return torch::log_softmax(x[0], -1); }},
                 7, 2, log_softmax_terms(-1)),
      with_terms({"log_softmax dim 1 transposed",
                  {tr({4, 5}, -8.0, 8.0)},
                  [](const SList& x) { return sigma::log_softmax(x[0], 1); },
                  [](const TList& x) { return torch::log_softmax(x[0], 1); }},
                 6, 2, log_softmax_terms(1)),
      with_terms({"logsumexp dims {0, 2}",
                  {in({2, 3, 4}, -5.0, 5.0)},
                  [](const SList& x) { return sigma::logsumexp(x[0], {0, 2}); },
                  [](const TList& x) { return torch::logsumexp(x[0], Shape{0, 2}); }},
                 8, 2,
                 [](const TList& x, const torch::Tensor&) {
                   const torch::Tensor m = x[0].amax(Shape{0, 2});
                   const torch::Tensor log_s = (torch::logsumexp(x[0], Shape{0, 2}) - m).abs();
                   return std::vector<Terms>{{m.abs() + log_s, log_s}, {}};
                 }),
      {"glu dim 0",
       {in({4, 3}, -4.0, 4.0)},
       [](const SList& x) { return sigma::glu(x[0], 0); },
       [](const TList& x) { return torch::glu(x[0], 0); }},
  };
  run_all(cases);
}

// cross_entropy and nll_loss against LibTorch on [4, 5, 3] scores with class
// weights, ignored targets and label smoothing; values compared at rtol plus
// gamma_k M with M the weighted sum of |terms| (see above; k = 12 + 4).
TEST(TorchReference, CrossEntropyAndNllLoss) {
  const std::vector<std::int64_t> tv = {0, 4, 2, -1, 1, 3, 3, 0, -1, 2, 4, 1};
  const sigma::Tensor ts = sigma::tensor(tv).reshape({4, 3});
  const torch::Tensor tt = torch::tensor(tv, torch::kLong).reshape({4, 3});
  const std::vector<double> wv = {0.5, 1.0, 2.0, 1.5, 0.25};
  for (auto dt : {sigma::kFloat64, sigma::kFloat32}) {
    const double rtol = dt == sigma::kFloat64 ? 1e-10 : 1e-5;
    const double u = dt == sigma::kFloat64 ? 0x1p-53 : 0x1p-24;
    const double g = 2 * gamma(16, u);
    for (double eps : {0.0, 0.2}) {
      auto [xs, xt] = twin(draw(60, -4, 4, 77), {4, 5, 3}, dt, false);
      auto [ws, wt] = twin(wv, {5}, dt, false);
      xs.requires_grad_();
      xt.requires_grad_();
      const sigma::Tensor ls = sigma::cross_entropy(xs, ts, ws, sigma::kMean, -1, eps);
      const torch::Tensor lt = torch::nn::functional::cross_entropy(
          xt, tt, torch::nn::functional::CrossEntropyFuncOptions().weight(wt).ignore_index(-1).label_smoothing(eps));
      // M: sum_i w_t (|lse_i| + sum_c |x_ic| (1 + eps)) / sum w_t, in float64.
      const torch::Tensor x64 = xt.detach().to(torch::kDouble);
      const torch::Tensor keep = (tt != -1).to(torch::kDouble);
      const torch::Tensor wi = wt.to(torch::kDouble).index({tt.clamp_min(0)}) * keep;
      const torch::Tensor per = torch::logsumexp(x64, 1).abs() + x64.abs().sum(1) * (1 + eps);
      const torch::Tensor m = ((wi * per).sum() / wi.sum()).reshape({});
      const std::string what = std::string(dt == sigma::kFloat64 ? "f64" : "f32") + " eps " + std::to_string(eps);
      expect_close(ls.to_vector<double>(), torch_values(lt), rtol, "cross_entropy " + what, {m, m}, g);
      ls.backward();
      lt.backward();
      // The gradient (w_t (y - onehot) + eps/C (y sum w - w)) / sum w_t per
      // element: M = (w_t + eps sum w) (y + 1) / sum w_t, all of it R.
      const torch::Tensor y = torch::softmax(x64, 1);
      const torch::Tensor mg = (wi.unsqueeze(1) + eps * wt.to(torch::kDouble).sum()) * (y + 1) / wi.sum();
      expect_close(xs.grad().to_vector<double>(), torch_values(xt.grad()), rtol,
                   "cross_entropy gradient " + what, {mg, mg}, 2 * gamma(8, u));
    }
    // nll_loss with reduction none and sum on log-probabilities.
    auto [ys, yt] = twin(draw(60, -5, -0.1, 78), {4, 5, 3}, dt, false);
    auto [ws, wt] = twin(wv, {5}, dt, false);
    expect_close(sigma::nll_loss(ys, ts, ws, sigma::kNone, -1).to_vector<double>(),
                 torch_values(torch::nll_loss2d(yt.unsqueeze(3), tt.unsqueeze(2), wt, at::Reduction::None, -1).squeeze(2)),
                 rtol, "nll_loss none");
    const torch::Tensor keep = (tt != -1).to(torch::kDouble);
    const torch::Tensor wi = wt.to(torch::kDouble).index({tt.clamp_min(0)}) * keep;
    const torch::Tensor m = (wi * yt.to(torch::kDouble).abs().amax(1)).sum().reshape({});
    expect_close(sigma::nll_loss(ys, ts, ws, sigma::kSum, -1).to_vector<double>(),
                 torch_values(torch::nll_loss2d(yt.unsqueeze(3), tt.unsqueeze(2), wt, at::Reduction::Sum, -1)),
                 rtol, "nll_loss sum", {m, {}}, 2 * gamma(13, u));
  }
}

// hardsigmoid: the same values in both dtypes and the same float32 gradient;
// the float64 gradient differs by design. LibTorch multiplies dy by 1/6
// rounded to float32 (3e-8 relative off in float64); sigma's is dy / 6
// rounded once, exactly.
TEST(TorchReference, HardsigmoidValuesAndGradientIsDyOverSix) {
  const std::vector<double> xv = {-4.0, -3.0, -2.9, -1.0, -0.2, 0.0, 0.7, 2.5, 2.99, 3.0, 5.0};
  const std::vector<double> gv = {0.3, -1.1, 2.0, 0.7, -0.4, 1.5, 3.3, -2.2, 0.9, 1.0, 4.0};
  const auto n = static_cast<std::int64_t>(xv.size());
  for (auto dt : {sigma::kFloat32, sigma::kFloat64}) {
    auto [s, t] = twin(xv, {n}, dt, false);
    auto [sv, tv] = twin(gv, {n}, dt, false);
    s.requires_grad_();
    t.requires_grad_();
    const sigma::Tensor sy = sigma::hardsigmoid(s);
    const torch::Tensor ty = torch::hardsigmoid(t);
    // Within an ULP: LibTorch rounds x + 3 and the quotient, sigma once.
    const double rtol = dt == sigma::kFloat32 ? 0x1p-23 : 0x1p-52;
    expect_close(sy.to_vector<double>(), torch_values(ty), rtol, "hardsigmoid values");
    sy.backward(sv);
    ty.backward(tv);
    const auto sg = s.grad().to_vector<double>(), tg = torch_values(t.grad());
    for (std::size_t i = 0; i < xv.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(xv[i]));
      const bool inside = xv[i] > -3 && xv[i] < 3;
      if (dt == sigma::kFloat32) {
        EXPECT_NEAR(sg[i], tg[i], 0x1p-23 * std::fabs(tg[i]));  // an ULP apart at most
        EXPECT_EQ(sg[i], inside ? double(float(gv[i]) / 6.0f) : 0.0);
      } else {
        EXPECT_EQ(sg[i], inside ? gv[i] / 6 : 0.0);
        EXPECT_EQ(tg[i], inside ? gv[i] * double(1.0f / 6.0f) : 0.0);
      }
    }
  }
}

// sigmoid's gradient from the saved output, y (1 - y), is 0 once y has
// rounded to 1 (x >= 17 in float32, x >= 37 in float64). LibTorch returns
// that 0; sigma computes the gradient from the input there, so it keeps the
// true value e^-x / (1 + e^-x)^2: 2.06e-9 at x = 20 in float32.
TEST(TorchReference, SigmoidGradientWhereOutputRoundsToOne) {
  auto reference = [](double x) {
    const long double e = std::exp(-static_cast<long double>(x));
    return static_cast<double>(e / ((1.0L + e) * (1.0L + e)));
  };
  struct Case {
    sigma::ScalarType dt;
    std::vector<double> x;
    double rtol;
  };
  for (const Case& c : {Case{sigma::kFloat32, {20.0, 25.0, 30.0}, 1e-5},
                        Case{sigma::kFloat64, {40.0, 50.0}, 1e-10}}) {
    auto [s, t] = twin(c.x, {static_cast<std::int64_t>(c.x.size())}, c.dt, false);
    s.requires_grad_();
    t.requires_grad_();
    s.sigmoid().sum().backward();
    t.sigmoid().sum().backward();
    // Both forwards give exactly 1.
    for (double y : torch_values(t.sigmoid())) EXPECT_EQ(y, 1.0);
    for (double y : s.sigmoid().to_vector<double>()) EXPECT_EQ(y, 1.0);
    const auto sg = s.grad().to_vector<double>();
    const auto tg = torch_values(t.grad());
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      SCOPED_TRACE("x = " + std::to_string(c.x[i]));
      EXPECT_EQ(tg[i], 0.0);  // LibTorch: y (1 - y) with y == 1
      EXPECT_NEAR(sg[i], reference(c.x[i]), c.rtol * reference(c.x[i]));
      EXPECT_GT(sg[i], 0.0);
    }
  }
  // Below the rounding point the two agree.
  auto [s, t] = twin({0.0, 2.0, -3.0}, {3}, sigma::kFloat32, false);
  s.requires_grad_();
  t.requires_grad_();
  s.sigmoid().sum().backward();
  t.sigmoid().sum().backward();
  expect_close(s.grad().to_vector<double>(), torch_values(t.grad()), 1e-5,
               "sigmoid gradient away from the rounding point");
  EXPECT_EQ(s.grad().to_vector<double>()[0], 0.25);
}

}  // namespace
