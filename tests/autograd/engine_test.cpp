// Tests of the autograd engine (src/autograd/{engine,function}.cpp): graph
// recording, leaves, backward() and autograd::grad, gradient accumulation,
// retain_graph, detach, NoGradGuard, retain_grad, the version counter and
// in-place checks. Expected gradients are closed forms evaluated in plain
// double / long double.
#include <gtest/gtest.h>

#include <pthread.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::Shape;
using sigma::test::values;

Tensor leaf(std::vector<double> v, Shape shape) {
  return sigma::tensor(v, sigma::kFloat64).reshape(shape).detach().requires_grad_();
}

void expect_values(const Tensor& t, const std::vector<double>& ref, double tol = 1e-14) {
  ASSERT_TRUE(t.defined());
  const auto v = values(t);
  ASSERT_EQ(v.size(), ref.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(v[i], ref[i], tol * (1.0 + std::abs(ref[i]))) << "element " << i;
}

// ---- Recording (view ops and copies only: the core of the library).

TEST(AutogradRecording, RequiresGradPropagatesThroughViews) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor c = sigma::ones({2, 3}, sigma::kFloat64);
  EXPECT_TRUE(x.requires_grad());
  EXPECT_FALSE(c.requires_grad());
  for (Tensor v : {x.t(), x.view({6}), x.reshape({3, 2}), x.slice(1, 0, 3, 2), x.select(0, 1),
                   x.unsqueeze(0), x.permute({1, 0}), x.narrow(1, 1, 1), x.clone(),
                   x.to(sigma::kFloat32), x.expand({4, 2, 3})}) {
    EXPECT_TRUE(v.requires_grad());
    EXPECT_FALSE(v.is_leaf());
    ASSERT_NE(v.grad_fn(), nullptr);
  }
  EXPECT_FALSE(c.t().requires_grad());
  EXPECT_TRUE(c.t().is_leaf());
  EXPECT_EQ(c.t().grad_fn(), nullptr);
}

TEST(AutogradRecording, LeafAndNodeNames) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
  EXPECT_EQ(x.t().grad_fn()->name(), "TransposeBackward");
  EXPECT_EQ(x.view({4}).grad_fn()->name(), "ViewBackward");
  EXPECT_EQ(x.select(0, 0).grad_fn()->name(), "SelectBackward");
  EXPECT_EQ(x.slice(0, 0, 1).grad_fn()->name(), "SliceBackward");
  EXPECT_EQ(x.expand({3, 2, 2}).grad_fn()->name(), "ExpandBackward");
  EXPECT_EQ(x.clone().grad_fn()->name(), "CloneBackward");
  EXPECT_EQ(x.to(sigma::kFloat32).grad_fn()->name(), "ToCopyBackward");
  // The view's node leads to the leaf's AccumulateGrad.
  const auto node = x.t().grad_fn();
  const auto& edges = node->next_edges();
  ASSERT_EQ(edges.size(), 1u);
  ASSERT_TRUE(edges[0].is_valid());
  EXPECT_EQ(edges[0].function->name(), "AccumulateGrad");
  // A tensor made by a creation function with no grad is a leaf without grad.
  Tensor z = sigma::zeros({2});
  EXPECT_TRUE(z.is_leaf());
  EXPECT_FALSE(z.requires_grad());
}

TEST(AutogradRecording, RequiresGradRules) {
  expect_error([] { sigma::zeros({2}, sigma::kInt64).requires_grad_(); },
               {"requires_grad_", "floating-point", "int64"});
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x.clone();
  expect_error([&] { y.requires_grad_(false); }, {"requires_grad_", "non-leaf", "detach"});
  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
  EXPECT_FALSE(x.clone().requires_grad());
  x.set_requires_grad(true);
  EXPECT_TRUE(x.requires_grad());
  expect_error([&] { x.to(sigma::kInt64); }, {"to", "int64", "detach"});
}

TEST(AutogradRecording, NoGradGuard) {
  Tensor x = leaf({1, 2, 3}, {3});
  EXPECT_TRUE(sigma::GradMode::is_enabled());
  {
    sigma::NoGradGuard guard;
    EXPECT_FALSE(sigma::GradMode::is_enabled());
    Tensor v = x.t().clone();
    EXPECT_FALSE(v.requires_grad());
    EXPECT_EQ(v.grad_fn(), nullptr);
    Tensor s = x.sigmoid();
    EXPECT_FALSE(s.requires_grad());
    EXPECT_EQ(s.grad_fn(), nullptr);
    {
      sigma::AutoGradMode on(true);
      EXPECT_TRUE(x.clone().requires_grad());
    }
    EXPECT_FALSE(sigma::GradMode::is_enabled());
    // In-place on a leaf that requires grad is allowed without grad mode.
    x.fill_(4.0);
  }
  EXPECT_TRUE(sigma::GradMode::is_enabled());
  EXPECT_EQ(values(x), (std::vector<double>{4, 4, 4}));
  EXPECT_TRUE(x.clone().requires_grad());
}

TEST(AutogradRecording, DetachSharesDataDropsHistory) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x.clone();
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_TRUE(d.is_alias_of(y));
  d.fill_(9.0);  // allowed: d is not part of a graph
  EXPECT_EQ(values(y), (std::vector<double>{9, 9, 9}));
  EXPECT_TRUE(y.requires_grad());
  y.detach_();
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_EQ(y.grad_fn(), nullptr);
  // x itself is untouched.
  EXPECT_TRUE(x.requires_grad());
  EXPECT_EQ(values(x), (std::vector<double>{1, 2, 3}));
}

// ---- Backward through views (core ops only).

TEST(AutogradBackward, ThroughViewChain) {
  // x: (3, 4); y = x.t()[0:4:2].unsqueeze(0): (1, 2, 3), y[0][a][b] = x[b][2a].
  std::vector<double> xv(12);
  for (int i = 0; i < 12; ++i) xv[static_cast<std::size_t>(i)] = i;
  Tensor x = leaf(xv, {3, 4});
  Tensor y = x.t().slice(0, 0, 4, 2).unsqueeze(0);
  ASSERT_EQ(y.sizes(), (Shape{1, 2, 3}));
  Tensor g = sigma::tensor({10.0, 20.0, 30.0, 40.0, 50.0, 60.0}, sigma::kFloat64).view({1, 2, 3});
  y.backward(g);
  std::vector<double> ref(12, 0.0);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      ref[static_cast<std::size_t>(b * 4 + 2 * a)] = 10.0 * (a * 3 + b + 1);
  expect_values(x.grad(), ref);
  EXPECT_EQ(x.grad().sizes(), x.sizes());
  EXPECT_TRUE(x.grad().is_contiguous());
  EXPECT_FALSE(x.grad().is_alias_of(g));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(AutogradBackward, GradientConvertsToLeafDtype) {
  Tensor x = leaf({1.5, -2.5}, {2});
  Tensor y = x.to(sigma::kFloat32);
  y.backward(sigma::tensor({3.0f, 4.0f}));
  EXPECT_EQ(x.grad().dtype(), sigma::kFloat64);
  expect_values(x.grad(), {3.0, 4.0});
}

TEST(AutogradBackward, NonScalarNeedsGradient) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = x.t();
  expect_error([&] { y.backward(); }, {"backward", "[3, 2]", "gradient"});
  expect_error(
      [&] {
        y.backward(sigma::ones({2, 3}, sigma::kFloat64));
      },
      {"backward", "[2, 3]", "[3, 2]"});
  expect_error([] { sigma::ones({2}).backward(); }, {"backward", "does not require grad"});
  expect_error(
      [&] {
        y.backward(sigma::ones({3, 2}, sigma::kFloat64), std::nullopt, true);
      },
      {"backward", "create_graph"});
  // A one-element output needs no gradient argument.
  Tensor e = x.select(0, 1).select(0, 2);
  e.backward();
  expect_values(x.grad(), {0, 0, 0, 0, 0, 1});
}

TEST(AutogradBackward, InPlaceChecks) {
  Tensor x = leaf({1, 2, 3}, {3});
  expect_error([&] { x.fill_(0.0); }, {"fill_", "leaf", "requires grad"});
  expect_error([&] { x.zero_(); }, {"leaf"});
  expect_error([&] { x.copy_(sigma::zeros({3}, sigma::kFloat64)); }, {"copy_", "leaf"});
  expect_error([&] { x.add_(1.0); }, {"add_", "leaf"});
  expect_error([&] { x.mul_(2.0); }, {"mul_", "leaf"});
  expect_error([&] { x.sigmoid_(); }, {"sigmoid_", "leaf"});
  // A view that is part of a graph cannot be modified in place.
  Tensor v = x.clone().t();
  expect_error([&] { v.fill_(0.0); }, {"fill_", "view"});
  EXPECT_EQ(values(x), (std::vector<double>{1, 2, 3}));
}

// ---- Backward with arithmetic and activations.

TEST(AutogradBackward, ScalarBackward) {
  Tensor x = leaf({0.5, -1.5, 2.0}, {3});
  Tensor y = (x * x).sum();
  EXPECT_EQ(y.dim(), 0);
  y.backward();
  expect_values(x.grad(), {1.0, -3.0, 4.0});
}

TEST(AutogradBackward, NonScalarWithGradient) {
  Tensor x = leaf({0.5, -1.5, 2.0, 3.0}, {2, 2});
  Tensor y = x * 3.0;
  y.backward(sigma::tensor({1.0, 2.0, 3.0, 4.0}, sigma::kFloat64).view({2, 2}));
  expect_values(x.grad(), {3.0, 6.0, 9.0, 12.0});
}

TEST(AutogradBackward, AccumulatesAcrossCalls) {
  Tensor x = leaf({1.0, -2.0}, {2});
  (x * x).sum().backward();
  (x * x).sum().backward();
  expect_values(x.grad(), {4.0, -8.0});
  // Zeroing the gradient in place restarts the accumulation.
  x.mutable_grad().zero_();
  expect_values(x.grad(), {0.0, 0.0});
  (x * 5.0).sum().backward();
  expect_values(x.grad(), {5.0, 5.0});
  // Resetting it to undefined does too.
  x.mutable_grad() = Tensor();
  (x * 7.0).sum().backward();
  expect_values(x.grad(), {7.0, 7.0});
}

TEST(AutogradBackward, RetainGraph) {
  Tensor x = leaf({0.25, -0.75}, {2});
  Tensor y = x.sigmoid().sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();  // the graph was kept, so this works and accumulates
  std::vector<double> ref;
  for (double v : {0.25, -0.75}) {
    const long double s = 1.0L / (1.0L + std::exp(-static_cast<long double>(v)));
    ref.push_back(static_cast<double>(2.0L * s * (1.0L - s)));
  }
  expect_values(x.grad(), ref, 1e-14);
  // The second call freed it.
  expect_error([&] { y.backward(); }, {"retain_graph"});
}

TEST(AutogradBackward, DiamondGraph) {
  // z = (2x)(3x) + x: dz/dx = 12x + 1, with x reaching z along three paths.
  Tensor x = leaf({1.0, -0.5, 2.0}, {3});
  Tensor a = x * 2.0;
  Tensor b = x * 3.0;
  Tensor z = (a * b + x).sum();
  z.backward();
  expect_values(x.grad(), {13.0, -5.0, 25.0});
  // The same tensor twice in one op.
  Tensor w = leaf({3.0, -4.0}, {2});
  (w * w * w).sum().backward();
  expect_values(w.grad(), {27.0, 48.0});
}

TEST(AutogradBackward, RetainGradOnNonLeaf) {
  Tensor x = leaf({1.0, 2.0, -3.0}, {3});
  Tensor h = x * 2.0;
  Tensor k = h * 4.0;
  h.retain_grad();
  EXPECT_TRUE(h.retains_grad());
  EXPECT_FALSE(k.retains_grad());
  (h * k).sum().backward();  // = 4 h^2: d/dh = 8 h (both paths), d/dx = 32 x
  expect_values(h.grad(), {16.0, 32.0, -48.0});
  expect_values(x.grad(), {32.0, 64.0, -96.0});
  EXPECT_FALSE(k.grad().defined());
  expect_error([] { sigma::zeros({2}).retain_grad(); }, {"retain_grad", "does not require grad"});
}

TEST(AutogradBackward, InPlaceModificationOfSavedTensorIsDetected) {
  {
    Tensor x = leaf({0.5, -0.5}, {2});
    Tensor y = x.sigmoid();  // saves y for its backward
    const auto v0 = y._version();
    y.mul_(2.0);
    EXPECT_GT(y._version(), v0);
    expect_error([&] { y.sum().backward(); }, {"modified by an in-place operation"});
  }
  {
    Tensor x = leaf({0.5, -0.5}, {2});
    Tensor y = x.sigmoid();
    y.add_(1.0);
    expect_error([&] { y.sum().backward(); }, {"modified by an in-place operation"});
  }
  {
    // Modifying the saved input (through a view of it) is caught too.
    Tensor x = leaf({0.5, -0.5}, {2});
    Tensor x2 = x.clone();
    Tensor y = x2 * x2;  // saves x2
    x2.view({2}).detach().fill_(3.0);
    expect_error([&] { y.sum().backward(); }, {"modified by an in-place operation"});
  }
  {
    // An in-place op whose result nothing saved backpropagates normally:
    // y = sigmoid(x) * 2 + 1 (in place on a clone) -> dy/dx = 2 s (1 - s).
    Tensor x = leaf({0.5}, {1});
    Tensor y = x.sigmoid().clone();
    y.mul_(2.0).add_(1.0);
    y.sum().backward();
    const long double s = 1.0L / (1.0L + std::exp(-0.5L));
    expect_values(x.grad(), {static_cast<double>(2.0L * s * (1.0L - s))});
  }
}

TEST(AutogradGrad, ReturnsGradientsWithoutTouchingGrad) {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor w = leaf({3.0, 4.0}, {2});
  Tensor y = (x * w).sum();
  auto g = sigma::autograd::grad({y}, {x, w}, {}, /*retain_graph=*/true);
  ASSERT_EQ(g.size(), 2u);
  expect_values(g[0], {3.0, 4.0});
  expect_values(g[1], {1.0, 2.0});
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  // With an explicit grad_output for a non-scalar output.
  Tensor z = x * w;
  auto gz = sigma::autograd::grad({z}, {x}, {sigma::tensor({10.0, 100.0}, sigma::kFloat64)});
  expect_values(gz[0], {30.0, 400.0});
}

TEST(AutogradGrad, AllowUnused) {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor u = leaf({5.0}, {1});
  Tensor y = (x * x).sum();
  expect_error(
      [&] {
        sigma::autograd::grad({y}, {x, u}, {}, true);
      },
      {"grad", "input 1", "allow_unused"});
  auto g = sigma::autograd::grad({y}, {x, u}, {}, true, false, /*allow_unused=*/true);
  ASSERT_EQ(g.size(), 2u);
  expect_values(g[0], {2.0, 4.0});
  EXPECT_FALSE(g[1].defined());
  expect_error([&] { sigma::autograd::grad({y}, {sigma::zeros({2}, sigma::kFloat64)}); },
               {"grad", "input 0", "does not require grad"});
  expect_error([&] { sigma::autograd::grad({y}, {x}, {}, true, /*create_graph=*/true); },
               {"grad", "create_graph"});
}

TEST(AutogradGrad, WithRespectToNonLeaf) {
  Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  Tensor h = x * 2.0;
  Tensor y = (h * h).sum();
  auto g = sigma::autograd::grad({y}, {h});
  expect_values(g[0], {4.0, 8.0, 12.0});
  EXPECT_FALSE(x.grad().defined());
}

// The seed's numbers: sigmoid'(0) = 1/4, and at x = 20 in float32 the
// gradient is e^-20 / (1 + e^-20)^2 ~ 2.06e-9, not 0 (y rounds to 1 there).
TEST(AutogradSigmoid, SeedGradients) {
  Tensor x = sigma::tensor({0.0f, 20.0f, -20.0f, 2.0f}).requires_grad_();
  Tensor y = x.sigmoid();
  EXPECT_EQ(y.grad_fn()->name(), "SigmoidBackward");
  y.backward(sigma::ones_like(y));
  ASSERT_EQ(x.grad().dtype(), sigma::kFloat32);
  const auto g = x.grad().to_vector<float>();
  EXPECT_EQ(g[0], 0.25f);
  auto ref = [](long double v) {
    const long double e = std::exp(-v);
    return e / ((1.0L + e) * (1.0L + e));
  };
  const long double r20 = ref(20.0L);
  EXPECT_NEAR(static_cast<double>(r20), 2.0611536e-9, 1e-15);  // the seed's value
  EXPECT_NEAR(g[1], static_cast<double>(r20), 1e-5 * static_cast<double>(r20));
  EXPECT_NEAR(g[2], static_cast<double>(ref(-20.0L)), 1e-5 * static_cast<double>(r20));
  EXPECT_NEAR(g[3], static_cast<double>(ref(2.0L)), 1e-6);
}

// ---- Long graphs: building, back-propagating and freeing never recurse per
// node. Each body runs on a thread with an explicit 8 MiB stack (the usual
// default), so the result does not depend on the machine's ulimit; a
// recursive release of a million nodes needs far more than that.

constexpr std::int64_t kLongChain = 1'000'000;

void run_with_8mib_stack(const std::function<void()>& body) {
  struct Call {
    const std::function<void()>* body;
    std::exception_ptr error;
  } call{&body, nullptr};
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 8u << 20), 0);
  pthread_t thread;
  const int rc = pthread_create(
      &thread, &attr,
      [](void* p) -> void* {
        auto* c = static_cast<Call*>(p);
        try {
          (*c->body)();
        } catch (...) {
          c->error = std::current_exception();
        }
        return nullptr;
      },
      &call);
  pthread_attr_destroy(&attr);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  if (call.error) std::rethrow_exception(call.error);
}

// Every node the chain recorded, weakly: all must be gone once the last
// tensor referring to the graph is.
using NodeRefs = std::vector<std::weak_ptr<sigma::autograd::Node>>;
std::int64_t live_nodes(const NodeRefs& nodes) {
  std::int64_t live = 0;
  for (const auto& n : nodes) live += !n.expired();
  return live;
}

TEST(AutogradLongGraph, MillionNodeChainBackwardAndFree) {
  // y = x * c, a million times, in float64: dy/dx = c^n, which the backward
  // pass forms as a product of n roundings (relative error <= n * 2^-53).
  const double c = 1.0000001;
  NodeRefs nodes;
  nodes.reserve(kLongChain);
  Tensor x = leaf({1.0}, {});
  double grad = 0;
  run_with_8mib_stack([&] {
    Tensor y = x;
    for (std::int64_t i = 0; i < kLongChain; ++i) {
      y = y * c;
      nodes.push_back(y.grad_fn());
    }
    EXPECT_EQ(live_nodes(nodes), kLongChain);
    y.backward();
    grad = x.grad().item<double>();
  });
  EXPECT_EQ(live_nodes(nodes), 0) << "the graph's nodes were not freed";
  const long double ref = std::pow(static_cast<long double>(c), static_cast<long double>(kLongChain));
  EXPECT_NEAR(grad, static_cast<double>(ref), 1e-9 * static_cast<double>(ref));
}

TEST(AutogradLongGraph, MillionNodeChainFreedWithoutBackward) {
  // `total = total + loss` in a loop without .item(): a chain of AddBackward
  // nodes that is only ever freed.
  NodeRefs nodes;
  nodes.reserve(kLongChain);
  Tensor w = leaf({0.5}, {});
  run_with_8mib_stack([&] {
    Tensor total = sigma::zeros({}, sigma::kFloat64);
    for (std::int64_t i = 0; i < kLongChain; ++i) {
      total = total + w;
      nodes.push_back(total.grad_fn());
    }
    EXPECT_EQ(live_nodes(nodes), kLongChain);
    EXPECT_EQ(total.item<double>(), 0.5 * static_cast<double>(kLongChain));
  });
  EXPECT_EQ(live_nodes(nodes), 0) << "the graph's nodes were not freed";
}

TEST(AutogradLongGraph, MillionNodeChainThroughGrad) {
  // autograd::grad walks the same chain without touching x.grad(); the graph
  // is retained for a second call, then freed with the output.
  NodeRefs nodes;
  nodes.reserve(kLongChain);
  const double c = 0.9999999;
  Tensor x = leaf({2.0}, {});
  run_with_8mib_stack([&] {
    Tensor y = x;
    for (std::int64_t i = 0; i < kLongChain; ++i) {
      y = y * c;
      nodes.push_back(y.grad_fn());
    }
    const double ref = static_cast<double>(
        std::pow(static_cast<long double>(c), static_cast<long double>(kLongChain)));
    for (int pass = 0; pass < 2; ++pass) {
      auto g = sigma::autograd::grad({y}, {x}, {}, /*retain_graph=*/pass == 0);
      EXPECT_NEAR(g[0].item<double>(), ref, 1e-9 * ref);
    }
    EXPECT_FALSE(x.grad().defined());
  });
  EXPECT_EQ(live_nodes(nodes), 0) << "the graph's nodes were not freed";
}

}  // namespace
