// sigma against LibTorch (Debian libtorch 1.13): for a table of ops, the same
// float64 and float32 inputs (values copied) go through both libraries; the
// forward values and the gradients of sum(out * v), for a random v, must agree
// to a relative 1e-10 (float64) or 1e-5 (float32). The error allowed on an
// element is rtol * (|torch| + 1e-3 * max|torch|), so entries that cancel to
// near zero (matmul, sums) are judged on the tensor's scale.
//
// Where sigma is deliberately more exact than LibTorch the difference is
// tested explicitly instead (SigmoidGradientWhereOutputRoundsToOne). Printing
// is not compared: LibTorch's C++ operator<< is not PyTorch's repr, which is
// what sigma prints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
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

struct OpCase {
  std::string name;
  std::vector<Input> inputs;
  std::function<sigma::Tensor(const SList&)> s;
  std::function<torch::Tensor(const TList&)> t;
};

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

void expect_close(const std::vector<double>& got, const std::vector<double>& ref, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  double scale = 0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  int reported = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double tol = rtol * (std::abs(ref[i]) + 1e-3 * scale);
    const bool ok = std::abs(got[i] - ref[i]) <= tol ||
                    (std::isnan(got[i]) && std::isnan(ref[i])) || got[i] == ref[i];
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << ": sigma " << got[i] << ", torch " << ref[i]
                    << " (tolerance " << tol << ")";
  }
}

void run(const OpCase& c, sigma::ScalarType dt, std::uint64_t seed, bool f64_reference) {
  const double rtol = dt == sigma::kFloat64 ? 1e-10 : 1e-5;
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
  expect_close(so.to_vector<double>(), torch_values(to), rtol, tag + " forward");

  auto [sv, tv] = twin(draw(so.numel(), -1.5, 1.5, ++seed), so.sizes().vec(), dt, f64_reference);
  (so * sv).sum().backward();
  (to * tv).sum().backward();
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i].grad) continue;
    const std::string what = tag + " gradient of input " + std::to_string(i);
    ASSERT_TRUE(s_in[i].grad().defined()) << what;
    ASSERT_TRUE(t_in[i].grad().defined()) << what;
    EXPECT_EQ(s_in[i].grad().dtype(), dt) << what;
    expect_close(s_in[i].grad().to_vector<double>(), torch_values(t_in[i].grad()), rtol, what);
  }
}

// f64_reference: LibTorch computes in float64 for every dtype, so a float32
// result is compared with the better answer rather than with LibTorch's own
// float32 rounding (used for the activations, whose float32 gradients in
// LibTorch cancel where sigma's do not).
void run_all(const std::vector<OpCase>& cases, bool f64_reference = false) {
  std::uint64_t seed = 1000;
  for (const OpCase& c : cases)
    for (auto dt : {sigma::kFloat64, sigma::kFloat32}) {
      run(c, dt, seed, f64_reference);
      seed += 100;
    }
}

Input in(Shape s, double lo = -2.0, double hi = 2.0) { return {std::move(s), lo, hi, false, true}; }
Input tr(Shape s, double lo = -2.0, double hi = 2.0) { return {std::move(s), lo, hi, true, true}; }
Input nograd(Shape s, double lo, double hi) { return {std::move(s), lo, hi, false, false}; }

TEST(TorchReference, Elementwise) {
  std::vector<OpCase> cases = {
      {"add broadcast",
       {in({2, 3}), in({3})},
       [](const SList& x) { return x[0] + x[1]; },
       [](const TList& x) { return x[0] + x[1]; }},
      {"add alpha transposed",
       {tr({3, 4}), in({3, 1})},
       [](const SList& x) { return sigma::add(x[0], x[1], 2.5); },
       [](const TList& x) { return torch::add(x[0], x[1], 2.5); }},
      {"sub alpha",
       {in({2, 1, 3}), tr({4, 3})},
       [](const SList& x) { return sigma::sub(x[0], x[1], -0.75); },
       [](const TList& x) { return torch::sub(x[0], x[1], -0.75); }},
      {"sub scalar",
       {in({5})},
       [](const SList& x) { return 1.5 - x[0].sub(0.25, 2); },
       [](const TList& x) { return 1.5 - x[0].sub(0.25, 2); }},
      {"mul broadcast",
       {in({4, 1}), tr({3, 2, 4})},
       [](const SList& x) { return x[0].t() * x[1]; },
       [](const TList& x) { return x[0].t() * x[1]; }},
      {"div",
       {in({2, 3}), in({3}, 0.5, 2.0)},
       [](const SList& x) { return x[0] / x[1]; },
       [](const TList& x) { return x[0] / x[1]; }},
      {"scalar div",
       {tr({3, 2}, 0.5, 2.0)},
       [](const SList& x) { return 3.0 / x[0]; },
       [](const TList& x) { return 3.0 / x[0]; }},
      {"pow tensor tensor",
       {in({2, 3}, 0.5, 2.0), in({3}, -1.5, 1.5)},
       [](const SList& x) { return sigma::pow(x[0], x[1]); },
       [](const TList& x) { return torch::pow(x[0], x[1]); }},
      {"pow tensor scalar",
       {tr({2, 3}, 0.5, 2.0)},
       [](const SList& x) { return x[0].pow(2.5) + x[0].pow(3) + x[0].pow(-1.5); },
       [](const TList& x) { return x[0].pow(2.5) + x[0].pow(3) + x[0].pow(-1.5); }},
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
      {"maximum minimum",
       {in({2, 3}), in({3})},
       [](const SList& x) { return sigma::maximum(x[0], x[1]) * sigma::minimum(x[0], x[1]); },
       [](const TList& x) { return torch::maximum(x[0], x[1]) * torch::minimum(x[0], x[1]); }},
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
  };
  for (const char* r : {"none", "mean", "sum"}) {
    const std::string red = r;
    const std::int64_t tr_red = red == "none"   ? at::Reduction::None
                                : red == "mean" ? at::Reduction::Mean
                                                : at::Reduction::Sum;
    cases.push_back({"bce_with_logits " + red,
                     {in({2, 3}, -4.0, 4.0), in({2, 3}, 0.0, 1.0)},
                     [red](const SList& x) {
                       return sigma::binary_cross_entropy_with_logits(x[0], x[1], {}, {}, red);
                     },
                     [tr_red](const TList& x) {
                       return torch::binary_cross_entropy_with_logits(x[0], x[1], {}, {}, tr_red);
                     }});
    cases.push_back({"bce_with_logits weight pos_weight " + red,
                     {tr({2, 3}, -4.0, 4.0), in({2, 3}, 0.0, 1.0), nograd({3}, 0.5, 2.0),
                      nograd({3}, 0.5, 3.0)},
                     [red](const SList& x) {
                       return sigma::binary_cross_entropy_with_logits(x[0], x[1], x[2], x[3], red);
                     },
                     [tr_red](const TList& x) {
                       return torch::binary_cross_entropy_with_logits(x[0], x[1], x[2], x[3],
                                                                      tr_red);
                     }});
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
    const std::string n = "matmul " + sigma::shape_string(a) + " x " + sigma::shape_string(b);
    cases.push_back({n,
                     {in(a), in(b)},
                     [](const SList& x) { return x[0].matmul(x[1]); },
                     [](const TList& x) { return x[0].matmul(x[1]); }});
    cases.push_back({n + " transposed",
                     {tr(a), tr(b)},
                     [](const SList& x) { return sigma::matmul(x[0], x[1]); },
                     [](const TList& x) { return torch::matmul(x[0], x[1]); }});
  }
  cases.push_back({"mm",
                   {tr({3, 4}), in({4, 2})},
                   [](const SList& x) { return x[0].mm(x[1]); },
                   [](const TList& x) { return x[0].mm(x[1]); }});
  cases.push_back({"bmm",
                   {in({2, 3, 4}), tr({2, 4, 2})},
                   [](const SList& x) { return x[0].bmm(x[1]); },
                   [](const TList& x) { return x[0].bmm(x[1]); }});
  cases.push_back({"dot",
                   {in({6}), in({6})},
                   [](const SList& x) { return x[0].dot(x[1]); },
                   [](const TList& x) { return x[0].dot(x[1]); }});
  cases.push_back({"linear layer",
                   {in({5, 3}), in({4, 3}), in({4})},
                   [](const SList& x) { return (x[0].matmul(x[1].t()) + x[2]).sigmoid(); },
                   [](const TList& x) { return (x[0].matmul(x[1].t()) + x[2]).sigmoid(); }});
  cases.push_back({"matmul 64 x 64 (blocked)",
                   {in({64, 64}), tr({64, 64})},
                   [](const SList& x) { return x[0].matmul(x[1]); },
                   [](const TList& x) { return x[0].matmul(x[1]); }});
  run_all(cases);
}

TEST(TorchReference, Reductions) {
  std::vector<OpCase> cases = {
      {"sum",
       {tr({3, 4})},
       [](const SList& x) { return x[0].sum(); },
       [](const TList& x) { return x[0].sum(); }},
      {"sum dims keepdim",
       {in({2, 3, 4})},
       [](const SList& x) {
         return x[0].sum({0, 2}, true);
       },
       [](const TList& x) {
         return x[0].sum(Shape{0, 2}, true);
       }},
      {"sum dim -1",
       {tr({2, 3, 4})},
       [](const SList& x) { return x[0].sum({-1}); },
       [](const TList& x) { return x[0].sum(Shape{-1}); }},
      {"mean",
       {in({3, 4})},
       [](const SList& x) { return x[0].mean(); },
       [](const TList& x) { return x[0].mean(); }},
      {"mean dims",
       {tr({2, 3, 4})},
       [](const SList& x) { return x[0].mean({1}, true); },
       [](const TList& x) { return x[0].mean(Shape{1}, true); }},
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
  for (double p : {1.0, 2.0, inf, 3.0}) {
    const std::string n = "norm p=" + std::to_string(p);
    cases.push_back({n,
                     {tr({3, 4})},
                     [p](const SList& x) { return x[0].norm(p); },
                     [p](const TList& x) { return x[0].norm(p); }});
    cases.push_back({n + " dim",
                     {in({3, 4})},
                     [p](const SList& x) { return x[0].norm(p, {1}); },
                     [p](const TList& x) { return torch::norm(x[0], p, Shape{1}); }});
    cases.push_back({n + " dims keepdim",
                     {tr({2, 3, 4})},
                     [p](const SList& x) {
                       return x[0].norm(p, {0, 2}, true);
                     },
                     [p](const TList& x) {
                       return torch::norm(x[0], p, Shape{0, 2}, true);
                     }});
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
      {"view chain",
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
       }},
      {"select narrow squeeze",
       {in({3, 1, 5})},
       [](const SList& x) {
         return x[0].select(-1, 2) * x[0].narrow(2, 1, 3).squeeze(1).sum({1}, true);
       },
       [](const TList& x) {
         return x[0].select(-1, 2) * x[0].narrow(2, 1, 3).squeeze(1).sum(Shape{1}, true);
       }},
  };
  run_all(cases);
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
