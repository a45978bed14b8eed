// Tests of Module::state_dict and Module::load_state_dict (src/nn/module.cpp):
// PyTorch's keys and order (a module's parameters, its buffers, then each
// child's subtree), aliasing, in-place loads that keep handles and
// requires_grad, dtype conversion, and the one error that lists every
// missing key, unexpected key and shape mismatch. References are PyTorch's
// documented key names and the values the tests put in themselves.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
using sigma::test::expect_error;
using sigma::test::values;
using Dict = sigma::OrderedDict<std::string, Tensor>;
using Keys = std::vector<std::string>;

// Children registered before the module's own parameter and buffer, to show
// that the order is still PyTorch's: own parameters, own buffers, children.
struct NetImpl : nn::Module {
  NetImpl()
      : fc1(register_module("fc1", nn::Linear(3, 4))),
        network(register_module("network",
                                nn::Sequential(nn::Linear(4, 2), nn::Sigmoid(),
                                               nn::Linear(nn::LinearOptions(2, 1).bias(false))))) {
    scale = register_parameter("scale", sigma::ones({1}));
    steps = register_buffer("steps", sigma::zeros({2}, sigma::kLong));
  }
  Tensor forward(const Tensor& x) { return network(fc1(x)) * scale; }
  nn::Linear fc1;
  nn::Sequential network;
  Tensor scale;
  Tensor steps;
};
SIGMA_MODULE(Net);

const Keys kNetKeys = {"scale",          "steps",          "fc1.weight",      "fc1.bias",
                       "network.0.weight", "network.0.bias", "network.2.weight"};

// A dict with the model's keys and shapes holding 0.25 * (index + 1) + 10 *
// key number (index + 1 + 10 * key number for integer tensors), so every
// element of every tensor is distinct and known.
Dict distinct_values_like(const Dict& model, sigma::ScalarType dtype = sigma::kFloat64) {
  Dict out;
  double k = 0;
  for (const auto& item : model) {
    const std::int64_t n = item->numel();
    const double step = item->is_floating_point() ? 0.25 : 1.0;
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = step * (i + 1) + 10 * k;
    out.insert(item.key(), sigma::tensor(v, sigma::kFloat64).reshape(item->sizes()).to(dtype));
    ++k;
  }
  return out;
}

TEST(StateDict, KeysFollowPyTorchOrder) {
  Net net;
  const Dict d = net->state_dict();
  EXPECT_EQ(d.keys(), kNetKeys);
  EXPECT_EQ(d["fc1.weight"].sizes(), (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(d["network.2.weight"].sizes(), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(d["steps"].dtype(), sigma::kLong);
  // Linear(bias=false) registers an undefined bias, which has no key.
  EXPECT_FALSE(d.contains("network.2.bias"));
  // Activations have no state.
  EXPECT_FALSE(d.contains("network.1"));
}

TEST(StateDict, TensorsAreDetachedAliasesOfTheModule) {
  Net net;
  const Dict d = net->state_dict();
  const Tensor w = d["fc1.weight"];
  EXPECT_FALSE(w.requires_grad());
  EXPECT_TRUE(net->fc1->weight.requires_grad());
  EXPECT_FALSE(w.is_same(net->fc1->weight));
  EXPECT_TRUE(w.is_alias_of(net->fc1->weight));
  // Writing through the dict writes the model, as in PyTorch.
  Tensor(w).fill_(0.5);
  for (double v : values(net->fc1->weight)) EXPECT_EQ(v, 0.5);
}

TEST(StateDict, ModuleRegisteredTwiceIsListedUnderBothNames) {
  // PyTorch's state_dict does not deduplicate (named_parameters does).
  auto m = std::make_shared<nn::Module>();
  nn::Linear shared(3, 2);
  m->register_module("a", shared);
  m->register_module("b", shared);
  EXPECT_EQ(m->state_dict().keys(), (Keys{"a.weight", "a.bias", "b.weight", "b.bias"}));
  EXPECT_EQ(m->named_parameters().keys(), (Keys{"a.weight", "a.bias"}));
}

TEST(StateDict, EmptyModuleHasEmptyDict) {
  EXPECT_TRUE(nn::Sigmoid()->state_dict().is_empty());
  EXPECT_TRUE(nn::Sequential()->state_dict().is_empty());
}

TEST(LoadStateDict, CopiesInPlaceKeepingHandlesAndRequiresGrad) {
  Net net;
  const Tensor weight_handle = net->fc1->weight;
  const Dict src = distinct_values_like(net->state_dict(), sigma::kFloat32);
  const nn::IncompatibleKeys r = net->load_state_dict(src);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(net->fc1->weight.is_same(weight_handle));
  EXPECT_TRUE(net->named_parameters()["fc1.weight"].is_same(weight_handle));
  for (const Tensor& p : net->parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  const Dict now = net->state_dict();
  for (const auto& item : src) EXPECT_EQ(values(now[item.key()]), values(item.value())) << item.key();
  // The source dict does not alias the model after the copy.
  Tensor(src["fc1.bias"]).fill_(-1.0);
  EXPECT_NE(values(net->fc1->bias)[0], -1.0);
  // Training still reaches the loaded leaves.
  net->zero_grad();
  net->forward(sigma::ones({2, 3})).sum().backward();
  ASSERT_TRUE(net->fc1->weight.grad().defined());
  EXPECT_EQ(net->fc1->weight.grad().sizes(), net->fc1->weight.sizes());
}

TEST(LoadStateDict, ConvertsToTheModelDtype) {
  Net net;
  // float64 values that float32 rounds: 1/3 + k.
  Dict src;
  for (const auto& item : net->state_dict()) {
    if (item->dtype() == sigma::kLong) {
      src.insert(item.key(), sigma::full(item->sizes(), 7.0, sigma::kFloat64));
      continue;
    }
    src.insert(item.key(), sigma::full(item->sizes(), 1.0 / 3.0, sigma::kFloat64));
  }
  net->load_state_dict(src);
  EXPECT_EQ(net->fc1->weight.dtype(), sigma::kFloat32);
  for (double v : values(net->fc1->weight)) EXPECT_EQ(v, static_cast<double>(1.0f / 3.0f));
  EXPECT_EQ(net->steps.dtype(), sigma::kLong);
  EXPECT_EQ(values(net->steps), (std::vector<double>{7, 7}));

  // And the other way: a float64 model takes float32 and bf16 checkpoints.
  Net wide;
  wide->to(sigma::kFloat64);
  wide->load_state_dict(distinct_values_like(wide->state_dict(), sigma::kBFloat16));
  EXPECT_EQ(wide->fc1->weight.dtype(), sigma::kFloat64);
  // 0.25 * (i + 1) + 20 is exact in bf16 for i < 3 (8 significant bits).
  EXPECT_EQ(values(wide->fc1->weight)[0], 20.25);
  EXPECT_EQ(values(wide->fc1->weight)[2], 20.75);
}

TEST(LoadStateDict, OwnStateDictIsANoOp) {
  Net net;
  const std::vector<double> before = values(net->fc1->weight);
  const std::uint32_t version = net->fc1->weight._version();
  EXPECT_TRUE(net->load_state_dict(net->state_dict()).empty());
  EXPECT_EQ(values(net->fc1->weight), before);
  EXPECT_EQ(net->fc1->weight._version(), version);
}

TEST(LoadStateDict, StrictListsEveryProblemInOneErrorAndChangesNothing) {
  Net net;
  const std::vector<double> before = values(net->fc1->bias);
  Dict src = distinct_values_like(net->state_dict());
  src.erase("network.0.bias");
  src.erase("scale");
  src.insert("network.5.weight", sigma::zeros({2}));
  src["fc1.weight"] = sigma::zeros({4, 30});
  try {
    net->load_state_dict(src);
    FAIL() << "expected sigma::Error";
  } catch (const sigma::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "load_state_dict: missing keys: [scale, network.0.bias]; unexpected keys: "
              "[network.5.weight]; shape mismatch for fc1.weight: checkpoint [4, 30], model [4, 3]");
  }
  // fc1.bias matched, but nothing is copied when anything fails.
  EXPECT_EQ(values(net->fc1->bias), before);
}

TEST(LoadStateDict, MessageHasOnlyTheProblemsPresent) {
  Net net;
  Dict src = distinct_values_like(net->state_dict());
  src.erase("steps");
  expect_error([&] { net->load_state_dict(src); }, {"load_state_dict: missing keys: [steps]"});
  try {
    net->load_state_dict(src);
  } catch (const sigma::Error& e) {
    EXPECT_EQ(std::string(e.what()).find("unexpected"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("mismatch"), std::string::npos);
  }
  Dict extra = distinct_values_like(net->state_dict());
  extra.insert("fc2.weight", sigma::zeros({1}));
  expect_error([&] { net->load_state_dict(extra); },
               {"load_state_dict: unexpected keys: [fc2.weight]"});
}

TEST(LoadStateDict, LongKeyListsAreCut) {
  auto m = std::make_shared<nn::Module>();
  Dict src;
  for (int i = 0; i < 25; ++i) {
    std::string key = "k";  // (appending: g++ 12 misreports -Wrestrict on "k" + to_string)
    key += std::to_string(i);
    src.insert(key, sigma::zeros({1}));
  }
  expect_error([&] { m->load_state_dict(src); }, {"unexpected keys: [k0, k1,", "k19, ... (5 more)]"});
  const nn::IncompatibleKeys r = m->load_state_dict(src, /*strict=*/false);
  EXPECT_EQ(r.unexpected_keys.size(), 25u);
}

TEST(LoadStateDict, NonStrictReturnsTheKeysAndLoadsTheRest) {
  Net net;
  Dict src = distinct_values_like(net->state_dict());
  src.erase("fc1.bias");
  src.insert("extra", sigma::zeros({3}));
  const std::vector<double> bias_before = values(net->fc1->bias);
  const nn::IncompatibleKeys r = net->load_state_dict(src, /*strict=*/false);
  EXPECT_EQ(r.missing_keys, (Keys{"fc1.bias"}));
  EXPECT_EQ(r.unexpected_keys, (Keys{"extra"}));
  EXPECT_FALSE(r.empty());
  EXPECT_EQ(values(net->fc1->weight), values(src["fc1.weight"]));
  EXPECT_EQ(values(net->fc1->bias), bias_before);
}

TEST(LoadStateDict, NonStrictStillRejectsShapeMismatches) {
  // As PyTorch: strict=False forgives missing and unexpected keys only.
  Net net;
  Dict src = distinct_values_like(net->state_dict());
  src["network.0.weight"] = sigma::zeros({4, 2});
  src.erase("scale");
  expect_error([&] { net->load_state_dict(src, /*strict=*/false); },
               {"load_state_dict: shape mismatch for network.0.weight: checkpoint [4, 2], model "
                "[2, 4]"});
  try {
    net->load_state_dict(src, false);
  } catch (const sigma::Error& e) {
    EXPECT_EQ(std::string(e.what()).find("missing"), std::string::npos);
  }
}

TEST(LoadStateDict, ZeroDimAndScalarShapesMustMatchToo) {
  auto m = std::make_shared<nn::Module>();
  m->register_buffer("count", sigma::scalar_tensor(3, sigma::kLong));
  m->register_parameter("w", sigma::zeros({1}));
  Dict src;
  src.insert("count", sigma::tensor({5}, sigma::kLong));  // [1], not []
  src.insert("w", sigma::scalar_tensor(2.0));             // [], not [1]
  expect_error([&] { m->load_state_dict(src); },
               {"shape mismatch for count: checkpoint [1], model []",
                "shape mismatch for w: checkpoint [], model [1]"});
  Dict ok;
  ok.insert("count", sigma::scalar_tensor(5, sigma::kLong));
  ok.insert("w", sigma::tensor({2.0f}));
  m->load_state_dict(ok);
  EXPECT_EQ(m->state_dict()["count"].item<std::int64_t>(), 5);
  EXPECT_EQ(m->state_dict()["w"].item<double>(), 2.0);
}

TEST(LoadStateDict, UndefinedTensorInTheDictIsAnError) {
  nn::Linear fc(2, 2);
  Dict src = fc->state_dict();
  src["bias"] = Tensor();
  expect_error([&] { fc->load_state_dict(src); }, {"load_state_dict", "undefined tensor for bias"});
}

TEST(LoadStateDict, NonContiguousSourceIsCopiedByValue) {
  nn::Linear fc(3, 2);
  // weight is [2, 3]; the source is the transpose of a [3, 2] tensor.
  const Tensor base = sigma::test::from_index({3, 2}, [](std::int64_t i) { return i + 0.5; });
  fc->load_state_dict(Dict{{"weight", base.t()}, {"bias", sigma::zeros({2})}});
  // weight[r][c] = base[c][r] = 2c + r + 0.5.
  std::vector<double> expected;
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) expected.push_back(2 * c + r + 0.5);
  EXPECT_EQ(values(fc->weight), expected);
}

TEST(LoadStateDict, RoundTripGivesIdenticalOutputs) {
  sigma::manual_seed(1);
  Net a;
  sigma::manual_seed(2);
  Net b;
  const Tensor x = sigma::test::random_tensor({5, 3}, sigma::kFloat32, 7);
  ASSERT_NE(values(a->forward(x)), values(b->forward(x)));
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(values(a->forward(x)), values(b->forward(x)));
}

}  // namespace
