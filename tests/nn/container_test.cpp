// Tests of nn::ModuleList, nn::ModuleDict (src/nn/container.cpp) and
// nn::Flatten / nn::Unflatten (src/nn/flatten.cpp): PyTorch's child names
// and state-dict keys ("layers.0.weight", "heads.query.weight"), access by
// index, key and type, insert / pop / update, the reprs, shapes, and errors.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/nn.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
namespace nn = sigma::nn;
using sigma::test::expect_error;
using sigma::test::Shape;
using sigma::test::values;

std::vector<std::string> keys(const sigma::OrderedDict<std::string, Tensor>& d) {
  std::vector<std::string> k;
  for (const auto& item : d) k.push_back(item.key());
  return k;
}

struct Stack : nn::Module {
  Stack() : layers(register_module("layers", nn::ModuleList(nn::Linear(3, 4), nn::ReLU()))) {
    layers->push_back(nn::Linear(4, 2));
  }
  Tensor forward(Tensor x) {
    x = layers->at<nn::LinearImpl>(0).forward(x);
    x = layers->at<nn::ReLUImpl>(1).forward(x);
    return layers->ptr<nn::Linear>(2)->forward(x);
  }
  nn::ModuleList layers;
};

TEST(ModuleList, NamesAndStateDictKeysAsPyTorch) {
  auto net = std::make_shared<Stack>();
  EXPECT_EQ(keys(net->state_dict()),
            (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.2.weight",
                                      "layers.2.bias"}));
  EXPECT_EQ(net->layers->size(), 3u);
  EXPECT_FALSE(net->layers->is_empty());
  std::vector<std::string> names;
  for (const auto& item : net->layers->named_children()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"0", "1", "2"}));
  // Iteration visits the modules in order; operator[] and ptr agree.
  std::vector<std::string> kinds;
  for (const auto& m : *net->layers) kinds.push_back(m->name());
  EXPECT_EQ(kinds, (std::vector<std::string>{"Linear", "ReLU", "Linear"}));
  EXPECT_EQ(net->layers[1].get(), net->layers->ptr(1).get());
  EXPECT_EQ(net->layers->ptr<nn::LinearImpl>(2)->options.out_features(), 2);
  // The forward through the list is the layers' composition.
  const Tensor x = sigma::test::random_tensor({5, 3}, sigma::kFloat32, 1);
  auto& l0 = net->layers->at<nn::LinearImpl>(0);
  auto& l2 = net->layers->at<nn::LinearImpl>(2);
  EXPECT_EQ(values(net->forward(x)), values(l2.forward(l0.forward(x).relu())));
  EXPECT_EQ(net->parameters().size(), 4u);
}

TEST(ModuleList, InsertExtendAndRepr) {
  nn::ModuleList list;
  EXPECT_TRUE(list->is_empty());
  list->push_back(nn::Linear(2, 2));
  list->push_back(std::make_shared<nn::TanhImpl>());
  list->insert(1, nn::Linear(2, 3));
  std::vector<std::string> kinds;
  for (const auto& m : *list) kinds.push_back(m->name());
  EXPECT_EQ(kinds, (std::vector<std::string>{"Linear", "Linear", "Tanh"}));
  EXPECT_EQ(keys(list->state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  EXPECT_EQ(list->at<nn::LinearImpl>(1).options.out_features(), 3);
  EXPECT_EQ(list->named_children()["2"].get(), list->ptr(2).get());
  nn::ModuleList other{nn::Sigmoid()};
  other->extend(*list);
  EXPECT_EQ(other->size(), 4u);
  EXPECT_EQ(other->ptr(3).get(), list->ptr(2).get());  // shared, not copied
  std::ostringstream s;
  s << *nn::ModuleList(nn::Linear(2, 1), nn::Sigmoid());
  EXPECT_EQ(s.str(),
            "ModuleList(\n  (0): Linear(in_features=2, out_features=1, bias=True)\n  (1): "
            "Sigmoid()\n)");
}

TEST(ModuleList, Errors) {
  nn::ModuleList list(nn::Linear(2, 2));
  expect_error([&] { list->ptr(1); }, {"ModuleList", "index 1", "1 modules"});
  expect_error([&] { list->at<nn::ReLUImpl>(0); }, {"ModuleList", "at 0", "Linear"});
  expect_error([&] { list->insert(3, nn::Linear(1, 1)); }, {"ModuleList::insert", "index 3"});
  expect_error([&] { list->push_back(std::shared_ptr<nn::Module>()); },
               {"ModuleList::push_back", "null"});
}

TEST(ModuleDict, KeysValuesItemsAndStateDict) {
  auto a = nn::Linear(4, 4), b = nn::Linear(4, 2);
  nn::ModuleDict dict(std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>>{
      {"query", a.ptr()}, {"value", b.ptr()}});
  dict->insert("act", nn::ReLU());
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"query", "value", "act"}));
  EXPECT_EQ(dict->size(), 3u);
  EXPECT_TRUE(dict->contains("value"));
  EXPECT_FALSE(dict->contains("key"));
  EXPECT_EQ(dict["query"].get(), a.ptr().get());
  EXPECT_EQ(dict->values()[1].get(), b.ptr().get());
  EXPECT_EQ(dict->items()[2].first, "act");
  EXPECT_EQ(dict->at<nn::LinearImpl>("value").options.out_features(), 2);

  struct Heads : nn::Module {
    explicit Heads(nn::ModuleDict d) : heads(register_module("heads", d)) {}
    nn::ModuleDict heads;
  };
  auto owner = std::make_shared<Heads>(dict);
  EXPECT_EQ(keys(owner->state_dict()),
            (std::vector<std::string>{"heads.query.weight", "heads.query.bias",
                                      "heads.value.weight", "heads.value.bias"}));

  // Replacing a key keeps its place; pop and clear unregister.
  auto c = nn::Linear(4, 7);
  dict->insert("query", c);
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"query", "value", "act"}));
  EXPECT_EQ(owner->named_parameters()["heads.query.weight"].sizes().vec(), (Shape{7, 4}));
  EXPECT_EQ(dict->pop("value").get(), b.ptr().get());
  EXPECT_EQ(keys(owner->state_dict()),
            (std::vector<std::string>{"heads.query.weight", "heads.query.bias"}));
  nn::ModuleDict more;
  more->insert("extra", nn::Linear(1, 1));
  dict->update(*more);
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"query", "act", "extra"}));
  std::vector<std::string> iterated;
  for (const auto& item : *dict) iterated.push_back(item.key());
  EXPECT_EQ(iterated, dict->keys());
  dict->clear();
  EXPECT_TRUE(dict->empty());
  EXPECT_TRUE(owner->state_dict().is_empty());
}

TEST(ModuleDict, ReprAndErrors) {
  nn::ModuleDict dict;
  dict->insert("fc", nn::Linear(2, 1));
  std::ostringstream s;
  s << *dict;
  EXPECT_EQ(s.str(), "ModuleDict(\n  (fc): Linear(in_features=2, out_features=1, bias=True)\n)");
  expect_error([&] { dict["missing"]; }, {"ModuleDict", "'missing'", "'fc'"});
  expect_error([&] { dict->at<nn::ReLUImpl>("fc"); }, {"ModuleDict", "'fc'", "Linear"});
  expect_error([&] { dict->insert("a.b", nn::ReLU()); }, {"a.b"});
  expect_error([&] { dict->insert("x", std::shared_ptr<nn::Module>()); }, {"ModuleDict", "null"});
  expect_error([&] { dict->pop("nope"); }, {"ModuleDict", "'nope'"});
}

TEST(Flatten, ShapesAndRepr) {
  const Tensor x = sigma::arange(120, sigma::kFloat32).reshape({2, 3, 4, 5});
  EXPECT_EQ(nn::Flatten()(x).sizes().vec(), (Shape{2, 60}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1))(x).sizes().vec(),
            (Shape{6, 4, 5}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(-2))(x).sizes().vec(),
            (Shape{2, 3, 20}));
  EXPECT_EQ(values(nn::Flatten()(x)), values(x));
  std::ostringstream s;
  s << *nn::Flatten();
  EXPECT_EQ(s.str(), "Flatten(start_dim=1, end_dim=-1)");
}

TEST(Unflatten, ShapesGradientReprAndErrors) {
  const Tensor x = sigma::arange(60, sigma::kFloat64).reshape({3, 20}).requires_grad_();
  EXPECT_EQ(nn::Unflatten(1, std::vector<std::int64_t>{4, 5})(x).sizes().vec(), (Shape{3, 4, 5}));
  EXPECT_EQ(nn::Unflatten(-1, std::vector<std::int64_t>{2, -1, 5})(x).sizes().vec(),
            (Shape{3, 2, 2, 5}));
  EXPECT_EQ(nn::Unflatten(0, std::vector<std::int64_t>{1, 3})(x).sizes().vec(), (Shape{1, 3, 20}));
  const Tensor y = nn::Unflatten(1, std::vector<std::int64_t>{4, 5})(x);
  EXPECT_EQ(values(y), values(x));
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), std::vector<double>(60, 1.0));
  std::ostringstream s;
  s << *nn::Unflatten(1, std::vector<std::int64_t>{2, 5});
  EXPECT_EQ(s.str(), "Unflatten(dim=1, unflattened_size=(2, 5))");
  expect_error([&] { nn::Unflatten(1, std::vector<std::int64_t>{3, 5})(x); },
               {"Unflatten", "[3, 5]", "[3, 20]", "multiply to 20"});
  expect_error([&] { nn::Unflatten(2, std::vector<std::int64_t>{1})(x); },
               {"Unflatten", "dim 2", "[3, 20]"});
  expect_error([&] { nn::Unflatten(1, std::vector<std::int64_t>{-1, -1})(x); },
               {"Unflatten", "at most one -1"});
}

}  // namespace
