// Tests of src/ops/join.cpp: cat and stack. References are index formulas
// over the row-major values of the inputs; gradients are checked against
// central differences in float64 and for their split back into the inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::TensorList;
using sigma::test::expect_error;
using sigma::test::numel;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;

// Value at a multi-index of row-major values with shape.
double at(const std::vector<double>& v, const Shape& shape, const Shape& idx) {
  std::int64_t o = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) o = o * shape[d] + idx[d];
  return v[static_cast<std::size_t>(o)];
}

// Calls f(idx) for every multi-index of shape in row-major order.
void for_each_index(const Shape& shape, const std::function<void(const Shape&)>& f) {
  if (numel(shape) == 0) return;
  Shape idx(shape.size(), 0);
  while (true) {
    f(idx);
    std::size_t d = shape.size();
    while (d > 0) {
      --d;
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
      if (d == 0) return;
    }
    if (shape.empty()) return;
  }
}

// cat reference: output element idx comes from the input whose range along d holds idx[d].
void expect_cat(const TensorList& ts, std::int64_t dim) {
  Tensor r = sigma::cat(ts, dim);
  const std::int64_t d = dim < 0 ? dim + ts[0].dim() : dim;
  Shape shape = ts[0].sizes().vec();
  shape[static_cast<std::size_t>(d)] = 0;
  for (const auto& t : ts) shape[static_cast<std::size_t>(d)] += t.size(d);
  ASSERT_EQ(r.sizes().vec(), shape);
  const auto got = values(r);
  std::size_t flat = 0;
  for_each_index(shape, [&](const Shape& idx) {
    Shape local = idx;
    std::size_t which = 0;
    while (local[static_cast<std::size_t>(d)] >= ts[which].size(d)) {
      local[static_cast<std::size_t>(d)] -= ts[which].size(d);
      ++which;
    }
    EXPECT_EQ(got[flat], at(values(ts[which]), ts[which].sizes().vec(), local)) << "element " << flat;
    ++flat;
  });
}

// check_grad with the output weights w uniform in [-1, 1].
void check_grad(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs) {
  sigma::test::check_grad(fn, inputs, 1e-6, 1e-6, -1.0, 1.0);
}

TEST(Cat, AlongEachDimension) {
  Tensor a = random_tensor({2, 3, 4}, sigma::kFloat32, 1);
  expect_cat({a, random_tensor({5, 3, 4}, sigma::kFloat32, 2)}, 0);
  expect_cat({a, random_tensor({2, 1, 4}, sigma::kFloat32, 3), random_tensor({2, 2, 4}, sigma::kFloat32, 4)}, 1);
  expect_cat({a, random_tensor({2, 3, 6}, sigma::kFloat32, 5)}, -1);
  expect_cat({a}, 2);
  expect_cat({sigma::ones({3}), sigma::zeros({2})}, 0);
}

TEST(Cat, NonContiguousAndEmptyInputs) {
  Tensor t = random_tensor({4, 3}, sigma::kFloat64, 6).t();                       // [3, 4]
  Tensor s = random_tensor({3, 8}, sigma::kFloat64, 7).slice(1, 0, 8, 2);         // [3, 4]
  Tensor e = random_tensor({1, 4}, sigma::kFloat64, 8).expand({2, 4});            // [2, 4]
  expect_cat({t, s, e}, 0);
  expect_cat({t, s}, 1);
  expect_cat({t, sigma::zeros({0, 4}, sigma::kFloat64), s}, 0);
  // 1-D [0] tensors are skipped whatever the others' rank, as in PyTorch.
  Tensor r = sigma::cat({sigma::zeros({0}, sigma::kFloat64), t}, 1);
  EXPECT_EQ(values(r), values(t));
  EXPECT_EQ(sigma::cat({sigma::zeros({0}), sigma::zeros({0})}).sizes().vec(), (Shape{0}));
}

TEST(Cat, PromotesDtypes) {
  Tensor f = sigma::tensor({1.5f, 2.5f});
  Tensor d = sigma::tensor({0.1, 0.2}, sigma::kFloat64);
  Tensor i = sigma::tensor({std::int64_t{7}});
  Tensor r = sigma::cat({f, d});
  EXPECT_EQ(r.dtype(), sigma::kFloat64);
  EXPECT_EQ(values(r), (std::vector<double>{1.5, 2.5, 0.1, 0.2}));
  Tensor q = sigma::cat({i, f});
  EXPECT_EQ(q.dtype(), sigma::kFloat32);
  EXPECT_EQ(values(q), (std::vector<double>{7, 1.5, 2.5}));
  EXPECT_EQ(sigma::cat({i, i}).dtype(), sigma::kInt64);
  EXPECT_EQ(sigma::cat({sigma::ones({1}, sigma::kBFloat16), sigma::ones({1}, sigma::kHalf)}).dtype(),
            sigma::kFloat32);
}

TEST(Cat, Errors) {
  expect_error([] { sigma::cat({}); }, {"cat", "non-empty"});
  expect_error([] { sigma::cat({sigma::zeros({2, 3}), sigma::zeros({2, 4})}, 0); },
               {"cat", "tensor 1", "[2, 4]", "tensor 0", "[2, 3]", "dimension 1"});
  expect_error([] { sigma::cat({sigma::zeros({2, 3}), sigma::zeros({2, 3}), sigma::zeros({2, 3, 1})}); },
               {"cat", "tensor 2", "[2, 3, 1]", "[2, 3]"});
  expect_error([] { sigma::cat({sigma::zeros({2}), sigma::scalar_tensor(1.0)}); },
               {"cat", "zero-dimensional", "position 1"});
  expect_error([] { sigma::cat({sigma::zeros({2, 3})}, 2); }, {"cat", "2", "out of range"});
  expect_error([] { sigma::cat({sigma::zeros({2}), Tensor()}); }, {"cat", "tensor 1", "undefined"});
}

TEST(Cat, Gradients) {
  const auto f64 = sigma::kFloat64;
  check_grad([](const TensorList& in) { return sigma::cat({in[0], in[1]}, 1); },
             {random_tensor({2, 3}, f64, 1), random_tensor({2, 2}, f64, 2)});
  check_grad([](const TensorList& in) { return sigma::cat({in[0].t(), in[1], in[0].t()}, -2); },
             {random_tensor({3, 2}, f64, 3), random_tensor({4, 3}, f64, 4)});
  Tensor a = sigma::ones({2}, sigma::kFloat32).requires_grad_(true);
  Tensor b = sigma::ones({3}, f64).requires_grad_(true);
  Tensor c = sigma::ones({1}, f64);
  Tensor r = sigma::cat({a, c, b});
  EXPECT_EQ(r.grad_fn()->name(), "CatBackward");
  (r * sigma::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, f64)).sum().backward();
  EXPECT_EQ(a.grad().dtype(), sigma::kFloat32);  // converted back from the promoted dtype
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 2}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{4, 5, 6}));
  EXPECT_FALSE(c.grad().defined());
  Tensor e = sigma::zeros({0}, f64).requires_grad_(true);
  Tensor x = sigma::ones({2, 2}, f64).requires_grad_(true);
  sigma::cat({e, x}, 1).sum().backward();
  EXPECT_EQ(e.grad().sizes().vec(), (Shape{0}));
  EXPECT_EQ(values(x.grad()), std::vector<double>(4, 1.0));
}

TEST(Stack, AlongEachDimension) {
  Tensor a = random_tensor({2, 3}, sigma::kFloat64, 1);
  Tensor b = random_tensor({3, 2}, sigma::kFloat64, 2).t();
  Tensor c = random_tensor({1, 3}, sigma::kFloat64, 3).expand({2, 3});
  const TensorList ts = {a, b, c};
  for (std::int64_t dim : {0, 1, 2, -1, -3}) {
    const std::int64_t d = dim < 0 ? dim + 3 : dim;
    Tensor r = sigma::stack(ts, dim);
    Shape want = {2, 3};
    want.insert(want.begin() + d, 3);
    ASSERT_EQ(r.sizes().vec(), want);
    const auto got = values(r);
    std::size_t flat = 0;
    for_each_index(want, [&](const Shape& idx) {
      Shape local = idx;
      const std::int64_t which = local[static_cast<std::size_t>(d)];
      local.erase(local.begin() + d);
      EXPECT_EQ(got[flat], at(values(ts[static_cast<std::size_t>(which)]), {2, 3}, local));
      ++flat;
    });
  }
  Tensor s = sigma::stack({sigma::scalar_tensor(1.0), sigma::scalar_tensor(2.0)});
  EXPECT_EQ(s.sizes().vec(), (Shape{2}));
  EXPECT_EQ(sigma::stack({sigma::ones({2}), sigma::ones({2}, sigma::kFloat64)}).dtype(), sigma::kFloat64);
  EXPECT_EQ(sigma::stack({sigma::zeros({0, 2}), sigma::zeros({0, 2})}, 1).sizes().vec(), (Shape{0, 2, 2}));
}

TEST(Stack, Errors) {
  expect_error([] { sigma::stack({}); }, {"stack", "non-empty"});
  expect_error([] { sigma::stack({sigma::zeros({2, 3}), sigma::zeros({2, 3}), sigma::zeros({3, 2})}); },
               {"stack", "same shape", "tensor 2", "[3, 2]", "tensor 0", "[2, 3]"});
  expect_error([] { sigma::stack({sigma::zeros({2})}, 2); }, {"stack", "out of range"});
}

TEST(Stack, Gradients) {
  const auto f64 = sigma::kFloat64;
  check_grad([](const TensorList& in) { return sigma::stack({in[0], in[1].t()}, 1); },
             {random_tensor({2, 3}, f64, 1), random_tensor({3, 2}, f64, 2)});
  Tensor a = sigma::ones({2}, f64).requires_grad_(true);
  Tensor r = sigma::stack({a, a}, -1);
  EXPECT_EQ(r.grad_fn()->name(), "StackBackward");
  (r * sigma::tensor({{1.0, 2.0}, {3.0, 4.0}}, f64)).sum().backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{3, 7}));
}

}  // namespace
