// Tests of sigma::nn (src/nn/module.cpp, src/nn/modules.cpp): OrderedDict,
// Module registration and listings, holders, Linear, the activation layers,
// Sequential, BCEWithLogitsLoss, init, train/eval, zero_grad, to(dtype) and
// PyTorch's repr. References are plain double loops over the layer's own
// weights, closed forms, and PyTorch's documented key names and repr text.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
namespace F = sigma::nn::functional;
using sigma::test::expect_error;
using sigma::test::values;

void expect_close(const Tensor& t, const std::vector<double>& ref, double rtol, double atol) {
  const std::vector<double> got = values(t);
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(got[i], ref[i], atol + rtol * std::abs(ref[i])) << "element " << i;
}

std::string repr(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

// A user-defined module, written as in LibTorch.
struct NetImpl : nn::Module {
  NetImpl()
      : fc1(register_module("fc1", nn::Linear(10, 32))),
        network(register_module("network",
                                nn::Sequential(nn::Linear(32, 4), nn::Sigmoid(),
                                               nn::Linear(nn::LinearOptions(4, 1).bias(false))))) {
    scale = register_parameter("scale", sigma::ones({1}));
    register_buffer("steps", sigma::zeros({1}));
  }
  Tensor forward(const Tensor& x) { return network(fc1(x)) * scale; }
  nn::Linear fc1;
  nn::Sequential network;
  Tensor scale;
};
SIGMA_MODULE(Net);

std::vector<std::string> keys_of(const sigma::OrderedDict<std::string, Tensor>& d) {
  return d.keys();
}

// ---- OrderedDict.

TEST(OrderedDict, KeepsInsertionOrderAndLooksUpByKeyAndIndex) {
  sigma::OrderedDict<std::string, int> d;
  d.insert("b", 2);
  d.insert("a", 1);
  d.insert("c", 3);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(d.values(), (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(d["a"], 1);
  EXPECT_EQ(d[std::size_t{2}].key(), "c");
  EXPECT_EQ(*d[std::size_t{0}], 2);
  EXPECT_TRUE(d.contains("c"));
  EXPECT_FALSE(d.contains("z"));
  EXPECT_EQ(d.find("z"), nullptr);
  std::string joined;
  for (const auto& item : d) joined += item.key() + "=" + std::to_string(item.value()) + ";";
  EXPECT_EQ(joined, "b=2;a=1;c=3;");
  d.erase("a");
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(d["c"], 3);
  sigma::OrderedDict<std::string, int> copy = d;
  copy["b"] = 7;
  EXPECT_EQ(d["b"], 2);
  EXPECT_EQ(copy.keys(), d.keys());
}

TEST(OrderedDict, DuplicateAndMissingKeysThrow) {
  sigma::OrderedDict<std::string, int> d("Parameter");
  d.insert("w", 1);
  expect_error([&] { d.insert("w", 2); }, {"Parameter 'w' already defined"});
  expect_error([&] { (void)d["x"]; }, {"Parameter 'x' is not defined"});
  expect_error([&] { (void)d[std::size_t{5}]; }, {"index 5", "size 1"});
}

// ---- Registration and listings.

TEST(Module, NamedParametersUsePyTorchKeysInRegistrationOrder) {
  Net net;
  // PyTorch: a module's own parameters first, then each child's, recursively.
  EXPECT_EQ(keys_of(net->named_parameters()),
            (std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "network.0.weight",
                                      "network.0.bias", "network.2.weight"}));
  EXPECT_EQ(keys_of(net->named_parameters(/*recurse=*/false)), (std::vector<std::string>{"scale"}));
  auto params = net->named_parameters();
  EXPECT_TRUE(params["fc1.weight"].is_same(net->fc1->weight));
  EXPECT_EQ(params["fc1.weight"].sizes(), (std::vector<std::int64_t>{32, 10}));
  EXPECT_EQ(params["fc1.bias"].sizes(), (std::vector<std::int64_t>{32}));
  EXPECT_EQ(params["network.2.weight"].sizes(), (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(net->parameters().size(), 6u);
  for (const Tensor& p : net->parameters()) EXPECT_TRUE(p.requires_grad());

  EXPECT_EQ(keys_of(net->named_buffers()), (std::vector<std::string>{"steps"}));
  EXPECT_FALSE(net->named_buffers()["steps"].requires_grad());
  EXPECT_EQ(net->named_children().keys(), (std::vector<std::string>{"fc1", "network"}));
  EXPECT_EQ(net->children().size(), 2u);
  EXPECT_EQ(
      net->named_modules().keys(),
      (std::vector<std::string>{"", "fc1", "network", "network.0", "network.1", "network.2"}));
  EXPECT_EQ(net->named_modules("net", false).keys(),
            (std::vector<std::string>{"net.fc1", "net.network", "net.network.0", "net.network.1",
                                      "net.network.2"}));
  EXPECT_EQ(net->modules().front().get(), net.get());
  EXPECT_EQ(net->modules(false).size(), 5u);
}

TEST(Module, SharedSubmoduleAndParameterAreListedOnce) {
  auto m = std::make_shared<nn::Module>();
  nn::Linear shared(3, 2);
  m->register_module("a", shared);
  m->register_module("b", shared);
  m->register_parameter("tied", shared->weight);
  EXPECT_EQ(keys_of(m->named_parameters()), (std::vector<std::string>{"tied", "a.bias"}));
  EXPECT_EQ(m->named_modules().keys(), (std::vector<std::string>{"", "a"}));
  EXPECT_EQ(m->named_children().keys(), (std::vector<std::string>{"a", "b"}));
}

TEST(Module, NameIsTheClassNameWithoutImpl) {
  EXPECT_EQ(Net()->name(), "Net");
  EXPECT_EQ(nn::Linear(1, 1)->name(), "Linear");
  EXPECT_EQ(nn::Module().name(), "Module");
  EXPECT_EQ(nn::Module("Custom").name(), "Custom");
}

TEST(Module, AsCastsToImplOrHolderType) {
  Net net;
  nn::Module& fc1 = *net->named_children()["fc1"];
  ASSERT_NE(fc1.as<nn::Linear>(), nullptr);
  EXPECT_EQ(fc1.as<nn::Linear>(), net->fc1.get());
  EXPECT_EQ(fc1.as<nn::LinearImpl>(), net->fc1.get());
  EXPECT_EQ(fc1.as<nn::Sigmoid>(), nullptr);
}

TEST(Module, ApplyVisitsEveryModuleInPreOrder) {
  Net net;
  std::vector<std::string> names;
  net->apply(
      [&](const std::string& name, nn::Module& m) { names.push_back(name + ":" + m.name()); });
  EXPECT_EQ(names, (std::vector<std::string>{":Net", "fc1:Linear", "network:Sequential",
                                             "network.0:Linear", "network.1:Sigmoid",
                                             "network.2:Linear"}));
  int count = 0;
  net->apply([&](nn::Module&) { ++count; });
  EXPECT_EQ(count, 6);
}

TEST(Module, ReplaceAndUnregisterModule) {
  auto m = std::make_shared<nn::Module>();
  m->register_module("act", nn::Sigmoid());
  auto tanh = m->replace_module("act", nn::Tanh());
  EXPECT_EQ(m->named_children()["act"].get(), tanh.get());
  m->unregister_module("act");
  EXPECT_TRUE(m->children().empty());
  expect_error([&] { m->unregister_module("act"); }, {"unregister_module", "'act'"});
  expect_error([&] { m->replace_module("x", nn::Tanh()); }, {"replace_module", "'x'"});
}

TEST(Module, RegistrationErrors) {
  auto m = std::make_shared<nn::Module>();
  m->register_parameter("w", sigma::zeros({1}));
  expect_error([&] { m->register_parameter("w", sigma::zeros({1})); },
               {"register_parameter", "'w'", "already a parameter"});
  expect_error([&] { m->register_buffer("w", sigma::zeros({1})); }, {"register_buffer", "'w'"});
  expect_error([&] { m->register_module("w", nn::Sigmoid()); }, {"register_module", "'w'"});
  m->register_module("act", nn::Sigmoid());
  expect_error([&] { m->register_parameter("act", sigma::zeros({1})); },
               {"register_parameter", "'act'", "already a submodule"});
  expect_error([&] { m->register_parameter("", sigma::zeros({1})); },
               {"register_parameter", "empty"});
  expect_error([&] { m->register_buffer("a.b", sigma::zeros({1})); },
               {"register_buffer", "'.'", "a.b"});
  expect_error([&] { m->register_module("fc.1", nn::Sigmoid()); }, {"register_module", "fc.1"});
  expect_error([&] { m->register_module("null", std::shared_ptr<nn::LinearImpl>()); },
               {"register_module", "'null'", "null"});
  expect_error([&] { m->register_parameter("idx", sigma::zeros({2}, sigma::kLong)); },
               {"register_parameter", "'idx'", "int64"});
  // An integer tensor is fine as a buffer or as a parameter without grad.
  m->register_buffer("counts", sigma::zeros({2}, sigma::kLong));
  m->register_parameter("frozen", sigma::zeros({2}, sigma::kLong), /*requires_grad=*/false);
  EXPECT_EQ(m->named_buffers().keys(), (std::vector<std::string>{"counts"}));
}

TEST(Module, ListingItselfNeedsSharedOwnership) {
  nn::Module plain;
  plain.register_module("act", nn::Sigmoid());
  EXPECT_EQ(plain.modules(/*include_self=*/false).size(), 1u);
  expect_error([&] { (void)plain.modules(); }, {"shared_ptr"});
}

TEST(ModuleHolder, EmptyHolderThrowsOnAccess) {
  nn::Linear fc{nullptr};
  EXPECT_TRUE(fc.is_empty());
  EXPECT_FALSE(static_cast<bool>(fc));
  expect_error([&] { (void)fc->weight; }, {"ModuleHolder", "empty"});
  fc = nn::Linear(2, 3);
  EXPECT_FALSE(fc.is_empty());
  nn::Linear alias = fc;  // copies share the module
  EXPECT_EQ(alias.get(), fc.get());
}

// ---- Linear.

// y[n][o] = sum_i x[n][i] w[o][i] + b[o], in double over the layer's own values.
std::vector<double> linear_reference(const std::vector<double>& x, std::int64_t rows,
                                     const nn::Linear& fc) {
  const std::int64_t in = fc->options.in_features(), out = fc->options.out_features();
  const std::vector<double> w = values(fc->weight);
  const std::vector<double> b =
      fc->bias.defined() ? values(fc->bias) : std::vector<double>(out, 0.0);
  std::vector<double> y(static_cast<std::size_t>(rows * out));
  for (std::int64_t n = 0; n < rows; ++n)
    for (std::int64_t o = 0; o < out; ++o) {
      double s = b[static_cast<std::size_t>(o)];
      for (std::int64_t i = 0; i < in; ++i)
        s += x[static_cast<std::size_t>(n * in + i)] * w[static_cast<std::size_t>(o * in + i)];
      y[static_cast<std::size_t>(n * out + o)] = s;
    }
  return y;
}

TEST(Linear, ForwardMatchesPlainLoop) {
  sigma::manual_seed(1);
  nn::Linear fc(5, 3);
  EXPECT_EQ(fc->weight.sizes(), (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(fc->bias.sizes(), (std::vector<std::int64_t>{3}));
  Tensor x = sigma::randn({4, 5});
  Tensor y = fc(x);
  EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(y.dtype(), sigma::kFloat);
  expect_close(y, linear_reference(values(x), 4, fc), 1e-5, 1e-6);

  // [*, in]: a batch of batches, a single vector, and a transposed (strided) input.
  Tensor x3 = sigma::randn({2, 3, 5});
  Tensor y3 = fc(x3);
  EXPECT_EQ(y3.sizes(), (std::vector<std::int64_t>{2, 3, 3}));
  expect_close(y3, linear_reference(values(x3), 6, fc), 1e-5, 1e-6);
  Tensor x1 = sigma::randn({5});
  Tensor y1 = fc(x1);
  EXPECT_EQ(y1.sizes(), (std::vector<std::int64_t>{3}));
  expect_close(y1, linear_reference(values(x1), 1, fc), 1e-5, 1e-6);
  Tensor xt = sigma::randn({5, 4}).t();
  ASSERT_FALSE(xt.is_contiguous());
  expect_close(fc(xt), linear_reference(values(xt), 4, fc), 1e-5, 1e-6);
}

TEST(Linear, WithoutBias) {
  sigma::manual_seed(2);
  nn::Linear fc(nn::LinearOptions(4, 2).bias(false));
  EXPECT_FALSE(fc->bias.defined());
  EXPECT_EQ(keys_of(fc->named_parameters()), (std::vector<std::string>{"weight"}));
  Tensor x = sigma::randn({3, 4});
  expect_close(fc(x), linear_reference(values(x), 3, fc), 1e-5, 1e-6);
}

TEST(Linear, GradientsMatchClosedForm) {
  sigma::manual_seed(3);
  nn::Linear fc(4, 3);
  Tensor x = sigma::randn({5, 4}, sigma::requires_grad());
  fc(x).sum().backward();
  // d(sum y)/dW[o][i] = sum_n x[n][i]; d/db[o] = N; d/dx[n][i] = sum_o W[o][i].
  const std::vector<double> xv = values(x), wv = values(fc->weight);
  std::vector<double> gw(12), gb(3, 5.0), gx(20);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 4; ++i)
      for (int n = 0; n < 5; ++n) gw[o * 4 + i] += xv[n * 4 + i];
  for (int n = 0; n < 5; ++n)
    for (int i = 0; i < 4; ++i)
      for (int o = 0; o < 3; ++o) gx[n * 4 + i] += wv[o * 4 + i];
  expect_close(fc->weight.grad(), gw, 1e-5, 1e-6);
  expect_close(fc->bias.grad(), gb, 1e-6, 0);
  expect_close(x.grad(), gx, 1e-5, 1e-6);
}

TEST(Linear, DefaultInitIsPyTorchsUniformBound) {
  sigma::manual_seed(4);
  nn::Linear fc(100, 200);
  const double bound = 1.0 / std::sqrt(100.0);
  const std::vector<double> w = values(fc->weight), b = values(fc->bias);
  double max_abs = 0, sum = 0, sum_sq = 0;
  for (double v : w) {
    EXPECT_LE(std::abs(v), bound * (1 + 1e-6));
    max_abs = std::max(max_abs, std::abs(v));
    sum += v;
    sum_sq += v * v;
  }
  for (double v : b) EXPECT_LE(std::abs(v), bound * (1 + 1e-6));
  const double n = static_cast<double>(w.size());
  // U(-b, b): max near b, mean 0 (sd b/sqrt(3n)), variance b^2/3 (sd ~0.4% here).
  EXPECT_GT(max_abs, 0.99 * bound);
  EXPECT_NEAR(sum / n, 0.0, 5 * bound / std::sqrt(3 * n));
  EXPECT_NEAR(sum_sq / n, bound * bound / 3, 0.03 * bound * bound / 3);
  EXPECT_GT(*std::max_element(b.begin(), b.end()) - *std::min_element(b.begin(), b.end()), bound);
}

TEST(Linear, TwoLayersDifferButSeedReproduces) {
  sigma::manual_seed(5);
  nn::Linear a(6, 4), b(6, 4);
  EXPECT_NE(values(a->weight), values(b->weight));
  EXPECT_NE(values(a->bias), values(b->bias));
  sigma::manual_seed(5);
  nn::Linear c(6, 4);
  EXPECT_EQ(values(a->weight), values(c->weight));
  EXPECT_EQ(values(a->bias), values(c->bias));
  c->reset_parameters();
  EXPECT_NE(values(a->weight), values(c->weight));
}

TEST(Linear, ZeroInputFeatures) {
  nn::Linear fc(0, 3);
  EXPECT_EQ(fc->weight.numel(), 0);
  EXPECT_EQ(values(fc->bias), (std::vector<double>{0, 0, 0}));
}

TEST(Linear, Errors) {
  nn::Linear fc(10, 32);
  expect_error([&] { fc(sigma::zeros({4, 7})); }, {"linear", "[4, 7]", "[32, 10]"});
  expect_error([&] { fc(sigma::scalar_tensor(1.0)); }, {"linear", "[32, 10]"});
  expect_error([&] { nn::Linear(-1, 3); }, {"Linear", "in_features=-1"});
  expect_error(
      [&] {
        F::linear(sigma::zeros({2, 3}), sigma::zeros({4, 3}), sigma::zeros({3}));
      },
      {"linear", "bias", "[3]", "[4, 3]"});
}

// ---- Activations.

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(Activation, ModulesMatchClosedForms) {
  Tensor x = sigma::tensor({-30.0, -3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 25.0});
  const std::vector<double> xv = values(x);
  auto ref = [&](auto f) {
    std::vector<double> out;
    for (double v : xv) out.push_back(f(v));
    return out;
  };
  expect_close(nn::Sigmoid()(x), ref(sigmoid_ref), 1e-6, 1e-7);
  expect_close(nn::Tanh()(x), ref([](double v) { return std::tanh(v); }), 1e-6, 1e-7);
  expect_close(nn::ReLU()(x), ref([](double v) { return v > 0 ? v : 0.0; }), 0, 0);
  expect_close(nn::SiLU()(x), ref([](double v) { return v * sigmoid_ref(v); }), 1e-6, 1e-7);
  expect_close(nn::GELU()(x),
               ref([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }), 1e-5,
               1e-6);
  const double k = std::sqrt(2.0 / std::numbers::pi);
  expect_close(nn::GELU(nn::GELUOptions().approximate("tanh"))(x), ref([&](double v) {
                 return 0.5 * v * (1 + std::tanh(k * (v + 0.044715 * v * v * v)));
               }),
               1e-5, 1e-6);
  expect_close(nn::Softplus()(x),
               ref([](double v) { return v > 20 ? v : std::log1p(std::exp(v)); }), 1e-6, 1e-7);
  expect_close(nn::Softplus(nn::SoftplusOptions().beta(2).threshold(4))(x),
               ref([](double v) { return 2 * v > 4 ? v : std::log1p(std::exp(2 * v)) / 2; }), 1e-6,
               1e-7);
  expect_close(nn::LogSigmoid()(x), ref([](double v) { return -std::log1p(std::exp(-v)); }), 1e-6,
               1e-7);
  // Functional forms are the same computation.
  EXPECT_TRUE(F::sigmoid(x).equal(sigma::sigmoid(x)));
  EXPECT_TRUE(F::logsigmoid(x).equal(nn::LogSigmoid()(x)));
  expect_close(nn::Hardsigmoid()(x), ref([](double v) { return std::clamp((v + 3) / 6, 0.0, 1.0); }),
               1e-7, 1e-8);
  EXPECT_TRUE(F::hardsigmoid(x).equal(nn::Hardsigmoid()(x)));
}

TEST(Activation, InplaceReLUOverwritesItsInput) {
  Tensor x = sigma::tensor({-1.0, 2.0, -3.0});
  nn::ReLU relu(nn::ReLUOptions().inplace(true));
  Tensor y = relu(x);
  EXPECT_TRUE(y.is_alias_of(x));
  EXPECT_EQ(values(x), (std::vector<double>{0.0, 2.0, 0.0}));
}

// ---- Sequential.

TEST(Sequential, IndexingAndForward) {
  sigma::manual_seed(6);
  nn::Linear first(3, 4);
  nn::Sequential seq(first, nn::Sigmoid());
  seq->push_back(nn::Linear(4, 2));
  seq->push_back("out", nn::Tanh());
  EXPECT_EQ(seq->size(), 4u);
  EXPECT_EQ(seq->named_children().keys(), (std::vector<std::string>{"0", "1", "2", "out"}));
  EXPECT_EQ(seq->ptr(0).get(), first.get());
  EXPECT_EQ(seq[0].get(), first.get());
  EXPECT_EQ(seq->ptr<nn::LinearImpl>(0).get(), first.get());
  EXPECT_EQ(seq->ptr<nn::Linear>(0).get(), first.get());
  EXPECT_EQ(&seq->at<nn::LinearImpl>(0), first.get());
  EXPECT_NE(seq[1]->as<nn::Sigmoid>(), nullptr);
  auto second = seq->ptr<nn::LinearImpl>(2);

  Tensor x = sigma::randn({5, 3});
  // The chain by hand, in double over the layers' own weights.
  std::vector<double> h = linear_reference(values(x), 5, first);
  for (double& v : h) v = sigmoid_ref(v);
  std::vector<double> y = linear_reference(h, 5, nn::Linear(second));
  for (double& v : y) v = std::tanh(v);
  Tensor out = seq(x);
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{5, 2}));
  expect_close(out, y, 1e-5, 1e-6);
  expect_close(seq->forward(x), y, 1e-5, 1e-6);

  expect_error([&] { (void)seq->ptr(4); }, {"Sequential", "index 4", "4 modules"});
  expect_error([&] { (void)seq->ptr<nn::LinearImpl>(1); }, {"Sigmoid"});
  expect_error([&] { nn::Sequential()->forward(x); }, {"Sequential", "empty"});
  expect_error([&] { seq->push_back("0", nn::Sigmoid()); }, {"'0'", "already"});
}

TEST(Sequential, NestsAndNamesParametersLikePyTorch) {
  nn::Sequential inner(nn::Linear(2, 2), nn::ReLU());
  nn::Sequential outer;
  outer->push_back(nn::Linear(3, 2));
  outer->push_back(inner);
  outer->push_back(nn::SigmoidImpl());  // a module value, not a holder
  EXPECT_EQ(keys_of(outer->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.0.weight", "1.0.bias"}));
  nn::Sequential copy;
  copy->extend(*outer);
  EXPECT_EQ(copy->size(), 3u);
  EXPECT_EQ(copy[1].get(), inner.get());
  EXPECT_EQ(outer(sigma::zeros({4, 3})).sizes(), (std::vector<std::int64_t>{4, 2}));
}

// ---- State.

TEST(Module, TrainAndEvalReachEverySubmodule) {
  Net net;
  for (const auto& m : net->modules()) EXPECT_TRUE(m->is_training());
  net->eval();
  for (const auto& m : net->modules()) EXPECT_FALSE(m->is_training()) << m->name();
  net->network[1]->train();
  EXPECT_TRUE(net->network[1]->is_training());
  EXPECT_FALSE(net->network->is_training());
  net->train();
  for (const auto& m : net->modules()) EXPECT_TRUE(m->is_training());
}

TEST(Module, ZeroGradSetsToNoneOrZeroes) {
  sigma::manual_seed(7);
  Net net;
  net(sigma::randn({2, 10})).sum().backward();
  for (const Tensor& p : net->parameters()) EXPECT_TRUE(p.grad().defined());
  net->zero_grad();
  for (const Tensor& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
  net(sigma::randn({2, 10})).sum().backward();
  net->zero_grad(/*set_to_none=*/false);
  for (const Tensor& p : net->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    for (double v : values(p.grad())) EXPECT_EQ(v, 0.0);
  }
}

TEST(Module, ToFloat64ConvertsInPlace) {
  sigma::manual_seed(8);
  Net net;
  const std::vector<double> before = values(net->fc1->weight);
  Tensor handle = net->fc1->weight;
  net->to(sigma::kFloat64);
  for (const auto& p : net->named_parameters()) {
    EXPECT_EQ(p->dtype(), sigma::kFloat64) << p.key();
    EXPECT_TRUE(p->requires_grad()) << p.key();
    EXPECT_TRUE(p->is_leaf()) << p.key();
  }
  EXPECT_EQ(net->named_buffers()["steps"].dtype(), sigma::kFloat64);
  // Members and earlier handles share the converted tensor.
  EXPECT_EQ(net->fc1->weight.dtype(), sigma::kFloat64);
  EXPECT_EQ(handle.dtype(), sigma::kFloat64);
  EXPECT_EQ(values(handle), before);
  Tensor x = sigma::randn({3, 10}, sigma::kFloat64);
  Tensor y = net->fc1(x);
  EXPECT_EQ(y.dtype(), sigma::kFloat64);
  expect_close(y, linear_reference(values(x), 3, net->fc1), 1e-12, 1e-14);
  net(x).sum().backward();
  EXPECT_EQ(net->fc1->weight.grad().dtype(), sigma::kFloat64);
  expect_error([&] { net->to(sigma::kLong); }, {"to", "int64"});
}

// ---- Losses.

// -w [p y log s + (1 - y) log(1 - s)], s = sigmoid(x), in long double.
long double bce_ref(long double x, long double y, long double w, long double p) {
  const long double s = 1.0L / (1.0L + std::exp(-x));
  return -w * (p * y * std::log(s) + (1 - y) * std::log(1 - s));
}

TEST(BCEWithLogitsLoss, MatchesDefinitionForEachReduction) {
  Tensor x = sigma::tensor({{-2.0, 0.5, 3.0}, {1.0, -0.25, 0.0}});
  Tensor y = sigma::tensor({{0.0, 1.0, 1.0}, {0.0, 0.5, 1.0}});
  const std::vector<double> xv = values(x), yv = values(y);
  Tensor w = sigma::tensor({0.5, 1.0, 2.0});
  Tensor pw = sigma::tensor({3.0, 1.0, 0.5});
  const std::vector<double> wv = values(w), pv = values(pw);
  std::vector<double> plain, weighted;
  for (std::size_t i = 0; i < 6; ++i) {
    plain.push_back(static_cast<double>(bce_ref(xv[i], yv[i], 1, 1)));
    weighted.push_back(static_cast<double>(bce_ref(xv[i], yv[i], wv[i % 3], pv[i % 3])));
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e;
    return s / static_cast<double>(v.size());
  };
  auto sum = [](const std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e;
    return s;
  };

  nn::BCEWithLogitsLoss criterion;
  Tensor loss = criterion(x, y);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item<double>(), mean(plain), 1e-6);
  nn::BCEWithLogitsLoss summed(nn::BCEWithLogitsLossOptions().reduction(sigma::kSum));
  EXPECT_NEAR(summed(x, y).item<double>(), sum(plain), 1e-5);
  nn::BCEWithLogitsLoss none(
      nn::BCEWithLogitsLossOptions().reduction(sigma::kNone).weight(w).pos_weight(pw));
  Tensor per_element = none(x, y);
  EXPECT_EQ(per_element.sizes(), (std::vector<std::int64_t>{2, 3}));
  expect_close(per_element, weighted, 1e-6, 1e-7);
  EXPECT_EQ(keys_of(none->named_buffers()), (std::vector<std::string>{"weight", "pos_weight"}));
  EXPECT_TRUE(criterion->named_buffers().is_empty());
  // The functional form with the same options.
  expect_close(F::binary_cross_entropy_with_logits(x, y,
                                                   F::BinaryCrossEntropyWithLogitsFuncOptions()
                                                       .reduction(sigma::kNone)
                                                       .weight(w)
                                                       .pos_weight(pw)),
               weighted, 1e-6, 1e-7);
  EXPECT_NEAR(F::binary_cross_entropy_with_logits(x, y).item<double>(), mean(plain), 1e-6);
}

TEST(BCEWithLogitsLoss, GradientIsSigmoidMinusTargetOverN) {
  Tensor x = sigma::tensor({-1.5, 0.0, 2.0, 4.0}, sigma::requires_grad());
  Tensor y = sigma::tensor({0.0, 1.0, 1.0, 0.0});
  nn::BCEWithLogitsLoss()(x, y).backward();
  const std::vector<double> xv = values(x), yv = values(y);
  std::vector<double> g;
  for (std::size_t i = 0; i < 4; ++i) g.push_back((sigmoid_ref(xv[i]) - yv[i]) / 4);
  expect_close(x.grad(), g, 1e-6, 1e-7);
}

// ---- init.

TEST(Init, GainsAndFans) {
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(sigma::kLinear), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(sigma::kSigmoid), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(sigma::kTanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(sigma::kReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(sigma::kLeakyReLU, std::sqrt(5.0)),
                   std::sqrt(1.0 / 3.0));
  auto [fan_in, fan_out] = nn::init::_calculate_fan_in_and_fan_out(sigma::zeros({3, 4, 5}));
  EXPECT_EQ(fan_in, 20);
  EXPECT_EQ(fan_out, 15);
  expect_error([&] { nn::init::_calculate_fan_in_and_fan_out(sigma::zeros({3})); },
               {"_calculate_fan_in_and_fan_out", "[3]"});
}

TEST(Init, FillsInPlaceWithoutRecordingGradients) {
  Tensor w = sigma::empty({8, 50}, sigma::requires_grad());
  nn::init::constant_(w, 0.5);
  for (double v : values(w)) EXPECT_EQ(v, 0.5);
  nn::init::ones_(w);
  for (double v : values(w)) EXPECT_EQ(v, 1.0);
  nn::init::zeros_(w);
  for (double v : values(w)) EXPECT_EQ(v, 0.0);
  EXPECT_TRUE(w.is_leaf());
  sigma::manual_seed(9);
  nn::init::xavier_uniform_(w, 2.0);
  const double xb = 2.0 * std::sqrt(6.0 / 58.0);
  for (double v : values(w)) EXPECT_LE(std::abs(v), xb * (1 + 1e-6));
  nn::init::kaiming_uniform_(w, 0, sigma::kFanOut, sigma::kReLU);
  const double kb = std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(8.0);
  double max_abs = 0;
  for (double v : values(w)) {
    EXPECT_LE(std::abs(v), kb * (1 + 1e-6));
    max_abs = std::max(max_abs, std::abs(v));
  }
  EXPECT_GT(max_abs, 0.95 * kb);
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
}

// ---- Printing.

TEST(Repr, MatchesPyTorch) {
  EXPECT_EQ(repr(*nn::Linear(30, 32)), "Linear(in_features=30, out_features=32, bias=True)");
  EXPECT_EQ(repr(*nn::Linear(nn::LinearOptions(4, 1).bias(false))),
            "Linear(in_features=4, out_features=1, bias=False)");
  EXPECT_EQ(repr(*nn::Sigmoid()), "Sigmoid()");
  EXPECT_EQ(repr(*nn::Tanh()), "Tanh()");
  EXPECT_EQ(repr(*nn::ReLU()), "ReLU()");
  EXPECT_EQ(repr(*nn::ReLU(true)), "ReLU(inplace=True)");
  EXPECT_EQ(repr(*nn::SiLU()), "SiLU()");
  EXPECT_EQ(repr(*nn::GELU()), "GELU(approximate='none')");
  EXPECT_EQ(repr(*nn::Softplus()), "Softplus(beta=1.0, threshold=20.0)");
  EXPECT_EQ(repr(*nn::Softplus(nn::SoftplusOptions().beta(0.5))),
            "Softplus(beta=0.5, threshold=20.0)");
  EXPECT_EQ(repr(*nn::LogSigmoid()), "LogSigmoid()");
  EXPECT_EQ(repr(*nn::Hardsigmoid()), "Hardsigmoid()");
  EXPECT_EQ(repr(*nn::BCEWithLogitsLoss()), "BCEWithLogitsLoss()");
  EXPECT_EQ(repr(*nn::Sequential()), "Sequential()");
  EXPECT_EQ(repr(nn::Module()), "Module()");
  EXPECT_EQ(repr(*nn::Sequential(nn::Linear(30, 32), nn::Sigmoid())),
            "Sequential(\n"
            "  (0): Linear(in_features=30, out_features=32, bias=True)\n"
            "  (1): Sigmoid()\n"
            ")");
  std::ostringstream holder_stream;
  holder_stream << Net();
  EXPECT_EQ(holder_stream.str(),
            "Net(\n"
            "  (fc1): Linear(in_features=10, out_features=32, bias=True)\n"
            "  (network): Sequential(\n"
            "    (0): Linear(in_features=32, out_features=4, bias=True)\n"
            "    (1): Sigmoid()\n"
            "    (2): Linear(in_features=4, out_features=1, bias=False)\n"
            "  )\n"
            ")");
}

// A module with both a description and children prints the description on
// its own first line, as PyTorch does for extra_repr.
struct WrapperImpl : nn::Module {
  WrapperImpl() { register_module("act", nn::Sigmoid()); }
  void pretty_print(std::ostream& os) const override { os << "Wrapper(scale=2)"; }
};
SIGMA_MODULE(Wrapper);

TEST(Repr, DescriptionAndChildren) {
  EXPECT_EQ(repr(*Wrapper()), "Wrapper(\n  scale=2\n  (act): Sigmoid()\n)");
}

}  // namespace
