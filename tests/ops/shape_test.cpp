// Tests of src/ops/shape.cpp (repeat, tril, triu, flip, roll) and clone's
// memory formats (src/tensor/copy.cpp): hand-worked values, dtypes, views as
// inputs, errors, and gradients by central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::make;
using sigma::test::Shape;
using L = sigma::TensorList;
using I = std::vector<std::int64_t>;
using V = std::vector<double>;

Tensor iota(const Shape& s) {
  std::int64_t n = 1;
  for (auto e : s) n *= e;
  return sigma::arange(n).reshape(s);
}

TEST(Repeat, TilesAndPadsLeadingDimensions) {
  EXPECT_EQ(iota({4}).repeat({2, 2}).sizes().vec(), (Shape{2, 8}));
  EXPECT_EQ(iota({4}).repeat({2, 2}).to_vector<std::int64_t>(),
            (I{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(iota({2, 2}).repeat({1, 2}).to_vector<std::int64_t>(), (I{0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(iota({2, 2}).repeat({2, 1}).to_vector<std::int64_t>(), (I{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(iota({2}).repeat({0}).numel(), 0);
  const Tensor same = iota({2, 2});
  EXPECT_FALSE(same.repeat({1, 1}).is_alias_of(same));  // always a copy
  expect_error([] { (void)iota({2, 2}).repeat({2}); }, {"repeat", "2", "[2, 2]"});
  expect_error([] { (void)iota({2}).repeat({-1}); }, {"repeat", "non-negative"});
  const Tensor x = make({2, 3}, draw(6, -1, 1, 1)).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].repeat({2, 1, 3}); }, {x}).ok);
}

TEST(Triangle, TrilTriuWithDiagonalOffsets) {
  const Tensor x = iota({3, 4});
  EXPECT_EQ(x.tril().to_vector<std::int64_t>(), (I{0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0}));
  EXPECT_EQ(x.tril(-1).to_vector<std::int64_t>(), (I{0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0}));
  EXPECT_EQ(x.triu().to_vector<std::int64_t>(), (I{0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11}));
  EXPECT_EQ(x.triu(2).to_vector<std::int64_t>(), (I{0, 0, 2, 3, 0, 0, 0, 7, 0, 0, 0, 0}));
  EXPECT_EQ(x.tril().dtype(), sigma::kLong);
  // Batched, and NaN above the diagonal is replaced (not multiplied) by 0.
  const Tensor n = make({1, 2, 2}, {1, NAN, 3, 4});
  EXPECT_EQ(sigma::tril(n).to_vector<double>(), (V{1, 0, 3, 4}));
  const Tensor b = sigma::tensor({true, true}).reshape({1, 2}).expand({2, 2});
  EXPECT_EQ(b.triu().dtype(), sigma::kBool);
  EXPECT_EQ(b.triu().to_vector<bool>(), (std::vector<bool>{true, true, false, true}));
  expect_error([] { (void)iota({3}).tril(); }, {"tril", "2 dimensions", "[3]"});
  Tensor y = make({2, 2}, {1, 2, 3, 4});
  y.triu_();
  EXPECT_EQ(y.to_vector<double>(), (V{1, 2, 0, 4}));
  const Tensor g = make({2, 3, 3}, draw(18, -1, 1, 2)).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].tril(1); }, {g}).ok);
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].triu(-1); }, {g}).ok);
}

TEST(Flip, ReversesDims) {
  const Tensor x = iota({2, 3});
  EXPECT_EQ(x.flip({0}).to_vector<std::int64_t>(), (I{3, 4, 5, 0, 1, 2}));
  EXPECT_EQ(x.flip({-1}).to_vector<std::int64_t>(), (I{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(x.flip({0, 1}).to_vector<std::int64_t>(), (I{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(x.t().flip({0}).to_vector<std::int64_t>(), (I{2, 5, 1, 4, 0, 3}));
  EXPECT_EQ(x.flip({}).to_vector<std::int64_t>(), (I{0, 1, 2, 3, 4, 5}));
  expect_error([&] { (void)x.flip({0, 0}); }, {"flip", "more than once"});
  expect_error([&] { (void)x.flip({2}); }, {"flip"});
  const Tensor g = make({2, 3, 2}, draw(12, -1, 1, 3)).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return sigma::flip(in[0], {0, 2}); }, {g}).ok);
}

TEST(Roll, ShiftsAlongDimsOrFlattened) {
  const Tensor x = iota({2, 3});
  EXPECT_EQ(sigma::roll(x, {1}).to_vector<std::int64_t>(), (I{5, 0, 1, 2, 3, 4}));
  EXPECT_EQ(sigma::roll(x, {1}).sizes().vec(), (Shape{2, 3}));
  EXPECT_EQ(x.roll({1, -1}, {0, 1}).to_vector<std::int64_t>(), (I{4, 5, 3, 1, 2, 0}));
  EXPECT_EQ(x.roll({7}, {1}).to_vector<std::int64_t>(), (I{2, 0, 1, 5, 3, 4}));  // 7 mod 3 = 1
  EXPECT_EQ(x.roll({-3}, {1}).to_vector<std::int64_t>(), (I{0, 1, 2, 3, 4, 5}));
  expect_error([&] { (void)x.roll({1, 2}); }, {"roll", "one value"});
  expect_error([&] { (void)x.roll({1, 2}, {0}); }, {"roll", "same length"});
  const Tensor g = make({3, 4}, draw(12, -1, 1, 4)).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].roll({2, -1}, {1, 0}); }, {g}).ok);
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].roll({5}); }, {g}).ok);
}

TEST(Clone, MemoryFormats) {
  const Tensor x = make({3, 4}, draw(12, -1, 1, 5));
  const Tensor t = x.t();
  EXPECT_EQ(t.clone().strides().vec(), (Shape{1, 4}));  // Preserve: dense, kept
  EXPECT_EQ(t.clone(sigma::MemoryFormat::Preserve).strides().vec(), (Shape{1, 4}));
  EXPECT_EQ(t.clone(sigma::MemoryFormat::Contiguous).strides().vec(), (Shape{3, 1}));
  EXPECT_EQ(sigma::clone(t).to_vector<double>(), t.to_vector<double>());
  EXPECT_FALSE(t.clone().is_alias_of(x));
  // Not dense (a slice, an expansion): row-major.
  EXPECT_EQ(x.slice(1, 0, 4, 2).clone().strides().vec(), (Shape{2, 1}));
  EXPECT_EQ(x.expand({2, 3, 4}).clone().strides().vec(), (Shape{12, 4, 1}));
  EXPECT_TRUE(t.contiguous().is_contiguous());
  EXPECT_TRUE(t.reshape({12}).is_contiguous());
  expect_error([&] { (void)x.clone(sigma::MemoryFormat::ChannelsLast); }, {"clone", "ChannelsLast"});
  const Tensor g = make({3, 2}, draw(6, -1, 1, 6)).t().requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].clone(sigma::MemoryFormat::Preserve) * 3; }, {g}).ok);
}

}  // namespace
