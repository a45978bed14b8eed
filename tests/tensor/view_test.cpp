// Tests of the view ops of src/ops/view.cpp: geometry (sizes, strides,
// offsets), storage sharing, negative dims, chunk/split sizes and errors.
// References are index formulas on a base whose element (i, j, ...) holds a
// known value.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::from_index;
using sigma::test::Shape;
using sigma::test::values;

// float64 tensor of shape with flat element i equal to i.
Tensor iota(const Shape& shape) {
  return from_index(shape, [](std::int64_t i) { return static_cast<double>(i); });
}

TEST(View, ViewOfContiguousSharesStorage) {
  Tensor x = iota({2, 6});
  Tensor v = x.view({3, 4});
  EXPECT_TRUE(v.is_alias_of(x));
  EXPECT_EQ(v.sizes(), (Shape{3, 4}));
  EXPECT_EQ(v.strides(), (Shape{4, 1}));
  EXPECT_EQ(values(v), values(x));
  v.select(0, 1).fill_(-1);  // flat elements 4..7
  const auto xv = values(x);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(xv[static_cast<std::size_t>(i)], (i >= 4 && i < 8) ? -1.0 : i);
  EXPECT_EQ(x.view({-1}).sizes(), (Shape{12}));
  EXPECT_EQ(x.view({2, -1, 2}).sizes(), (Shape{2, 3, 2}));
  EXPECT_EQ(x.view_as(sigma::zeros({4, 3})).sizes(), (Shape{4, 3}));
}

TEST(View, ViewOfTransposedThrowsReshapeCopies) {
  Tensor x = iota({3, 4});
  Tensor t = x.t();
  expect_error([&] { t.view({12}); }, {"view", "[12]", "[4, 3]", "reshape"});
  Tensor r = t.reshape({12});
  EXPECT_FALSE(r.is_alias_of(x));
  std::vector<double> expect;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) expect.push_back(j * 4 + i);
  EXPECT_EQ(values(r), expect);
  // A reshape that does not need a copy returns a view.
  EXPECT_TRUE(x.reshape({4, 3}).is_alias_of(x));
  EXPECT_TRUE(x.reshape_as(sigma::zeros({2, 6})).is_alias_of(x));
  // Splitting a transposed dimension is still a view.
  Tensor s = t.view({2, 2, 3});
  EXPECT_TRUE(s.is_alias_of(x));
  EXPECT_EQ(s.strides(), (Shape{2, 1, 4}));
  EXPECT_EQ(values(s), expect);
}

TEST(View, ShapeErrors) {
  Tensor x = iota({2, 3});
  expect_error([&] { x.view({4, 2}); }, {"view", "[4, 2]", "[2, 3]", "6 elements"});
  expect_error([&] { x.reshape({-1, -1}); }, {"reshape", "only one dimension can be -1"});
  expect_error([&] { x.reshape({-1, 4}); }, {"reshape", "[-1, 4]", "[2, 3]"});
  expect_error([&] { x.view({2, -3}); }, {"view", "invalid size -3"});
}

TEST(View, TransposeAndPermuteStrides) {
  Tensor x = iota({2, 3, 4});
  Tensor t = x.transpose(0, 2);
  EXPECT_EQ(t.sizes(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 4, 12}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(t.is_alias_of(x));
  EXPECT_EQ(x.transpose(-1, -3).strides(), t.strides());
  Tensor p = x.permute({1, 2, 0});
  EXPECT_EQ(p.sizes(), (Shape{3, 4, 2}));
  EXPECT_EQ(p.strides(), (Shape{4, 1, 12}));
  // p[i][j][k] = x[k][i][j] = 12 k + 4 i + j.
  const auto pv = values(p);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 2; ++k)
        EXPECT_EQ(pv[static_cast<std::size_t>((i * 4 + j) * 2 + k)], 12 * k + 4 * i + j);
  EXPECT_EQ(x.permute({-1, 0, 1}).sizes(), (Shape{4, 2, 3}));
  expect_error([&] { x.permute({0, 1}); }, {"permute", "[0, 1]", "[2, 3, 4]"});
  expect_error([&] { x.permute({0, 1, 1}); }, {"permute", "repeats"});
  expect_error([&] { x.transpose(0, 3); }, {"transpose", "dimension 3", "out of range"});
  expect_error([&] { x.t(); }, {"t", "[2, 3, 4]"});
  EXPECT_EQ(iota({5}).t().sizes(), (Shape{5}));
}

TEST(View, SliceWithStepAndNegativeBounds) {
  Tensor x = iota({4, 10});
  Tensor s = x.slice(1, 1, 8, 3);  // columns 1, 4, 7
  EXPECT_EQ(s.sizes(), (Shape{4, 3}));
  EXPECT_EQ(s.strides(), (Shape{10, 3}));
  EXPECT_EQ(s.storage_offset(), 1);
  const auto sv = values(s);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(sv[static_cast<std::size_t>(i * 3 + j)], i * 10 + 1 + 3 * j);
  Tensor n = x.slice(1, -3);  // columns 7, 8, 9
  EXPECT_EQ(n.sizes(), (Shape{4, 3}));
  EXPECT_EQ(n.storage_offset(), 7);
  Tensor r = x.slice(0, 1, -1);  // rows 1, 2
  EXPECT_EQ(r.sizes(), (Shape{2, 10}));
  EXPECT_EQ(r.storage_offset(), 10);
  EXPECT_EQ(x.slice(1, 20, 30).sizes(), (Shape{4, 0}));  // clamped, empty
  EXPECT_EQ(x.slice(1, 5, 2).sizes(), (Shape{4, 0}));
  EXPECT_EQ(x.slice(-1, std::nullopt, std::nullopt, 4).sizes(), (Shape{4, 3}));
  expect_error([&] { x.slice(1, 0, 5, 0); }, {"slice", "step", "0"});
  expect_error([&] { x.slice(2); }, {"slice", "dimension 2"});
  expect_error([&] { sigma::scalar_tensor(1.0).slice(0); }, {"slice", "zero-dimensional"});
}

TEST(View, NarrowAndSelect) {
  Tensor x = iota({3, 5});
  Tensor n = x.narrow(1, 2, 2);
  EXPECT_EQ(n.sizes(), (Shape{3, 2}));
  EXPECT_EQ(n.storage_offset(), 2);
  EXPECT_EQ(values(n), (std::vector<double>{2, 3, 7, 8, 12, 13}));
  EXPECT_EQ(values(x.narrow(-1, -2, 2)), (std::vector<double>{3, 4, 8, 9, 13, 14}));
  expect_error([&] { x.narrow(1, 4, 2); }, {"narrow", "start 4", "length 2", "[3, 5]"});

  Tensor c = x.select(1, 3);
  EXPECT_EQ(c.sizes(), (Shape{3}));
  EXPECT_EQ(c.strides(), (Shape{5}));
  EXPECT_EQ(c.storage_offset(), 3);
  EXPECT_EQ(values(c), (std::vector<double>{3, 8, 13}));
  EXPECT_EQ(values(x.select(-1, -1)), (std::vector<double>{4, 9, 14}));
  EXPECT_EQ(values(x[2]), (std::vector<double>{10, 11, 12, 13, 14}));
  EXPECT_EQ(x[1][2].dim(), 0);
  EXPECT_EQ(x[1][2].item<double>(), 7.0);
  expect_error([&] { x.select(0, 3); }, {"select", "index 3", "size 3", "[3, 5]"});
  expect_error([&] { x.select(1, -6); }, {"select", "index -6"});
  expect_error([&] { x[1][2].select(0, 0); }, {"select", "zero-dimensional"});
}

TEST(View, WritesThroughViewsReachBase) {
  Tensor x = sigma::zeros({3, 4}, sigma::kFloat64);
  x.t().select(0, 1).fill_(5);                // column 1
  x.slice(0, 0, 3, 2).select(1, 3).fill_(7);  // rows 0 and 2, column 3
  x.narrow(1, 0, 1).squeeze(1).copy_(sigma::tensor({1.0, 2.0, 3.0}, sigma::kFloat64));
  EXPECT_EQ(values(x), (std::vector<double>{1, 5, 0, 7, 2, 5, 0, 0, 3, 5, 0, 7}));
  // The version counter is shared by all views of one storage.
  Tensor v = x.view({12});
  const auto before = x._version();
  v.zero_();
  EXPECT_GT(x._version(), before);
  EXPECT_EQ(x._version(), v._version());
  EXPECT_EQ(values(x), std::vector<double>(12, 0.0));
}

TEST(View, ExpandHasZeroStrides) {
  Tensor x = iota({3, 1});
  Tensor e = x.expand({2, 3, 4});
  EXPECT_EQ(e.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_TRUE(e.is_alias_of(x));
  const auto ev = values(e);
  for (int a = 0; a < 2; ++a)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) EXPECT_EQ(ev[static_cast<std::size_t>((a * 3 + i) * 4 + j)], i);
  EXPECT_EQ(x.expand({-1, 5}).sizes(), (Shape{3, 5}));
  EXPECT_EQ(x.expand_as(sigma::zeros({3, 2})).sizes(), (Shape{3, 2}));
  EXPECT_EQ(sigma::scalar_tensor(2.0).expand({2, 2}).strides(), (Shape{0, 0}));
  expect_error([&] { x.expand({3, 2, 1}); }, {"expand", "[3, 1]", "[3, 2, 1]"});
  expect_error([&] { x.expand({4}); }, {"expand", "[4]", "fewer dimensions"});
  expect_error([&] { x.expand({-1, 3, 2}); }, {"expand", "-1"});
}

TEST(View, UnsqueezeSqueeze) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(x.unsqueeze(0).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(x.unsqueeze(0).strides(), (Shape{6, 3, 1}));
  EXPECT_EQ(x.unsqueeze(1).sizes(), (Shape{2, 1, 3}));
  EXPECT_EQ(x.unsqueeze(1).strides(), (Shape{3, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).sizes(), (Shape{2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).strides(), (Shape{3, 1, 1}));
  EXPECT_EQ(x.unsqueeze(2).sizes(), (Shape{2, 3, 1}));
  expect_error([&] { x.unsqueeze(3); }, {"unsqueeze", "dimension 3"});
  Tensor t = x.t().unsqueeze(1);  // [3, 1, 2], strides [1, ?, 3]
  EXPECT_EQ(t.sizes(), (Shape{3, 1, 2}));
  EXPECT_EQ(t.stride(0), 1);
  EXPECT_EQ(t.stride(2), 3);

  Tensor y = iota({1, 3, 1, 2});
  EXPECT_EQ(y.squeeze().sizes(), (Shape{3, 2}));
  EXPECT_EQ(y.squeeze().strides(), (Shape{2, 1}));
  EXPECT_EQ(y.squeeze(2).sizes(), (Shape{1, 3, 2}));
  EXPECT_EQ(y.squeeze(-2).sizes(), (Shape{1, 3, 2}));
  EXPECT_EQ(y.squeeze(1).sizes(), (Shape{1, 3, 1, 2}));  // size 3: unchanged, as PyTorch
  EXPECT_TRUE(y.squeeze().is_alias_of(y));
  EXPECT_EQ(values(y.squeeze()), values(y));
  EXPECT_EQ(sigma::scalar_tensor(1.0).unsqueeze(0).sizes(), (Shape{1}));
  EXPECT_EQ(sigma::scalar_tensor(1.0).squeeze().dim(), 0);
  EXPECT_EQ(iota({1}).squeeze().dim(), 0);
  expect_error([&] { y.squeeze(4); }, {"squeeze", "dimension 4"});
}

TEST(View, FlattenAndUnbind) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.flatten().sizes(), (Shape{24}));
  EXPECT_EQ(x.flatten(1).sizes(), (Shape{2, 12}));
  EXPECT_EQ(x.flatten(0, 1).sizes(), (Shape{6, 4}));
  EXPECT_EQ(sigma::flatten(x, -2, -1).sizes(), (Shape{2, 12}));
  EXPECT_EQ(sigma::scalar_tensor(1.0).flatten().sizes(), (Shape{1}));
  expect_error([&] { x.flatten(2, 1); }, {"flatten", "start_dim"});
  auto parts = x.unbind(1);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].sizes(), (Shape{2, 4}));
  EXPECT_EQ(values(parts[2]), (std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23}));
}

TEST(View, ChunkAndSplitSizes) {
  auto sizes_along = [](const std::vector<Tensor>& ts, std::int64_t d) {
    Shape s;
    for (const auto& t : ts) s.push_back(t.size(d));
    return s;
  };
  Tensor x = iota({10, 2});
  EXPECT_EQ(sizes_along(x.chunk(3), 0), (Shape{4, 4, 2}));
  EXPECT_EQ(sizes_along(x.chunk(5), 0), (Shape{2, 2, 2, 2, 2}));
  EXPECT_EQ(sizes_along(x.chunk(4), 0), (Shape{3, 3, 3, 1}));
  EXPECT_EQ(sizes_along(x.chunk(6), 0), (Shape{2, 2, 2, 2, 2}));  // as PyTorch: 5 chunks
  EXPECT_EQ(sizes_along(x.chunk(20), 0), Shape(10, 1));
  EXPECT_EQ(sizes_along(x.chunk(2, -1), 1), (Shape{1, 1}));
  EXPECT_EQ(sizes_along(x.split(3), 0), (Shape{3, 3, 3, 1}));
  EXPECT_EQ(sizes_along(x.split(10), 0), (Shape{10}));
  EXPECT_EQ(sizes_along(sigma::chunk(x, 3), 0), (Shape{4, 4, 2}));
  auto c = x.chunk(3);
  EXPECT_EQ(c[2].storage_offset(), 16);
  EXPECT_TRUE(c[1].is_alias_of(x));
  EXPECT_EQ(values(c[2]), (std::vector<double>{16, 17, 18, 19}));
  expect_error([&] { x.chunk(0); }, {"chunk", "0"});
  expect_error([&] { x.split(0); }, {"split", "0"});
  expect_error([&] { x.chunk(2, 2); }, {"chunk", "dimension 2"});
}

TEST(View, EmptyTensors) {
  Tensor e = sigma::zeros({0, 3}, sigma::kFloat64);
  EXPECT_EQ(e.view({3, 0}).sizes(), (Shape{3, 0}));
  EXPECT_EQ(e.reshape({-1, 3}).sizes(), (Shape{0, 3}));
  EXPECT_EQ(e.t().sizes(), (Shape{3, 0}));
  EXPECT_EQ(e.unsqueeze(0).sizes(), (Shape{1, 0, 3}));
  EXPECT_EQ(e.select(1, 2).sizes(), (Shape{0}));
  EXPECT_TRUE(e.t().contiguous().to_vector<double>().empty());
  expect_error([&] { e.reshape({-1, 0}); }, {"reshape", "[-1, 0]"});
}

TEST(View, FreeFunctionSpellings) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(sigma::reshape(x, {3, 2}).sizes(), (Shape{3, 2}));
  EXPECT_EQ(sigma::transpose(x, 0, 1).strides(), (Shape{1, 3}));
  EXPECT_EQ(sigma::permute(x, {1, 0}).sizes(), (Shape{3, 2}));
  EXPECT_EQ(values(sigma::narrow(x, 1, 1, 1)), (std::vector<double>{1, 4}));
  EXPECT_EQ(values(sigma::select(x, 0, 1)), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(sigma::unsqueeze(x, 0).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(sigma::squeeze(sigma::unsqueeze(x, 0)).sizes(), (Shape{2, 3}));
  EXPECT_EQ(sigma::squeeze(sigma::unsqueeze(x, 2), 2).sizes(), (Shape{2, 3}));
}

}  // namespace
