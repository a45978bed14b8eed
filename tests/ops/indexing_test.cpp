// Tests of src/ops/indexing.cpp: small cases worked out by hand from the
// definitions (x = arange, so each value names its own position), views that
// share storage, duplicate indices summed by the backward, gradcheck of every
// differentiable op in float64, and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using namespace sigma::indexing;
using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::Shape;
using sigma::test::values;
using V = std::vector<double>;

// x[i][j][k] = 100 i + 10 j + k, float64.
Tensor coords(const Shape& s) {
  return sigma::test::from_index(s, [&](std::int64_t f) {
    double v = 0, scale = 1;
    for (std::int64_t d = static_cast<std::int64_t>(s.size()) - 1; d >= 0; --d) {
      v += static_cast<double>(f % s[static_cast<std::size_t>(d)]) * scale;
      f /= s[static_cast<std::size_t>(d)];
      scale *= 10;
    }
    return v;
  });
}

Tensor longs(std::initializer_list<std::int64_t> v) { return sigma::tensor(v); }

void expect_gradcheck(const std::function<Tensor(const sigma::TensorList&)>& fn,
                      const sigma::TensorList& in, const char* what) {
  sigma::TensorList leaves;
  for (const Tensor& t : in) leaves.push_back(t.detach().clone().requires_grad_(true));
  const auto r = sigma::gradcheck(fn, leaves);
  EXPECT_TRUE(r.ok) << what << ": " << r.message;
}

TEST(Index, BasicIndicesAreViews) {
  const Tensor x = coords({3, 4, 5});
  const Tensor a = x.index({1, Slice(1, None, 2), "..."});
  EXPECT_EQ(a.sizes().vec(), (Shape{2, 5}));
  EXPECT_TRUE(a.is_alias_of(x));
  EXPECT_EQ(values(a.select(0, 0)), (V{110, 111, 112, 113, 114}));
  EXPECT_EQ(values(a.select(0, 1)), (V{130, 131, 132, 133, 134}));
  const Tensor b = x.index({Ellipsis, -1});
  EXPECT_EQ(b.sizes().vec(), (Shape{3, 4}));
  EXPECT_EQ(b.index({2, 3}).item<double>(), 234);
  const Tensor c = x.index({None, 0, Slice(), None, Slice(-2)});
  EXPECT_EQ(c.sizes().vec(), (Shape{1, 4, 1, 2}));
  EXPECT_EQ(values(c.flatten()), (V{3, 4, 13, 14, 23, 24, 33, 34}));
  // Slice bounds clamp as in Python; an empty slice is empty.
  EXPECT_EQ(x.index({Slice(-100, 100)}).size(0), 3);
  EXPECT_EQ(x.index({Slice(2, 1)}).size(0), 0);
  // A std::vector of indices works as LibTorch's ArrayRef does.
  const std::vector<TensorIndex> list{Slice(1), 2};
  EXPECT_EQ(values(x.index(list).select(1, 4)), (V{124, 224}));
  // A 0-dim int64 tensor selects like an integer.
  EXPECT_EQ(x.index({sigma::scalar_tensor(2, sigma::kLong), 0, 0}).item<double>(), 200);
  // Writing through the view changes x.
  Tensor y = x.clone();
  y.index({1, Slice(), 2}).fill_(-1);
  EXPECT_EQ(y.index({1, 3, 2}).item<double>(), -1);
  EXPECT_EQ(y.index({0, 3, 2}).item<double>(), 32);
}

TEST(Index, AdvancedIntegerIndices) {
  const Tensor x = coords({3, 4, 5});
  // 1-D: negative indices count from the end.
  EXPECT_EQ(values(coords({5}).index({longs({-1, -5, 2, -1})})), (V{4, 0, 2, 4}));
  // One index tensor: its shape replaces the dimension.
  const Tensor a = x.index({Slice(), longs({3, -1, 0})});
  EXPECT_EQ(a.sizes().vec(), (Shape{3, 3, 5}));
  EXPECT_FALSE(a.is_alias_of(x));
  EXPECT_EQ(values(a.index({1, Slice(), 4})), (V{134, 134, 104}));
  // Two adjacent index tensors broadcast ([2, 1] with [3] -> [2, 3]) and stay in place.
  const Tensor r = longs({0, 2}).reshape({2, 1});
  const Tensor b = x.index({Slice(), r, longs({1, 2, 4})});
  EXPECT_EQ(b.sizes().vec(), (Shape{3, 2, 3}));
  EXPECT_EQ(values(b.select(0, 2)), (V{201, 202, 204, 221, 222, 224}));
  // Separated by a slice: the broadcast dimensions go first.
  const Tensor c = x.index({longs({2, 0}), Slice(), longs({1, 3})});
  EXPECT_EQ(c.sizes().vec(), (Shape{2, 4}));
  EXPECT_EQ(values(c.select(0, 0)), (V{201, 211, 221, 231}));
  EXPECT_EQ(values(c.select(0, 1)), (V{3, 13, 23, 33}));
  // An integer counts as an advanced index only through a tensor; here x[1][:, [0, 4]].
  const Tensor d = x.index({1, Slice(), longs({0, 4})});
  EXPECT_EQ(d.sizes().vec(), (Shape{4, 2}));
  EXPECT_EQ(values(d.select(0, 3)), (V{130, 134}));
}

TEST(Index, BoolMasks) {
  const Tensor x = coords({2, 3});
  const Tensor m = sigma::tensor({true, false, true, false, true, true}).reshape({2, 3});
  EXPECT_EQ(values(x.index({m})), (V{0, 2, 11, 12}));
  // A mask over the leading dimension picks rows.
  const Tensor rows = x.index({sigma::tensor({false, true})});
  EXPECT_EQ(rows.sizes().vec(), (Shape{1, 3}));
  EXPECT_EQ(values(rows), (V{10, 11, 12}));
  // A mask on a later dimension.
  const Tensor cols = x.index({Slice(), sigma::tensor({true, false, true})});
  EXPECT_EQ(values(cols), (V{0, 2, 10, 12}));
  // true / false add a dimension of size 1 / 0.
  EXPECT_EQ(x.index({true}).sizes().vec(), (Shape{1, 2, 3}));
  EXPECT_EQ(x.index({false}).sizes().vec(), (Shape{0, 2, 3}));
  // index_put_ through a mask.
  Tensor y = x.clone();
  y.index_put_({m}, -1.0);
  EXPECT_EQ(values(y), (V{-1, 1, -1, 10, -1, -1}));
}

TEST(IndexPut, WritesBroadcastsAndAccumulates) {
  Tensor x = sigma::zeros({3, 4}, sigma::kFloat64);
  x.index_put_({Slice(), 1}, sigma::tensor({1.0, 2.0, 3.0}, sigma::kFloat64));
  x.index_put_({2, Slice(2, None)}, 7);
  EXPECT_EQ(values(x), (V{0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 7, 7}));
  Tensor y = sigma::zeros({5}, sigma::kFloat64);
  // values [1] broadcast over the three positions; duplicates: last write holds one value anyway.
  y.index_put_({longs({0, 3, -1})}, sigma::tensor({4.0}, sigma::kFloat64));
  EXPECT_EQ(values(y), (V{4, 0, 0, 4, 4}));
  // accumulate sums duplicates.
  Tensor z = sigma::zeros({4}, sigma::kFloat64);
  sigma::index_put_(z, {longs({1, 1, 3, 1})}, sigma::tensor({1.0, 2.0, 3.0, 4.0}, sigma::kFloat64), true);
  EXPECT_EQ(values(z), (V{0, 7, 0, 3}));
  const Tensor w = sigma::index_put(z, {std::nullopt, }, sigma::tensor({9.0}, sigma::kFloat64));
  EXPECT_EQ(values(w), (V{9, 9, 9, 9}));
  EXPECT_EQ(values(z), (V{0, 7, 0, 3}));
}

TEST(IndexSelectGatherScatter, HandCases) {
  const Tensor x = coords({3, 4});
  EXPECT_EQ(values(x.index_select(1, longs({3, 0, 3}))), (V{3, 0, 3, 13, 10, 13, 23, 20, 23}));
  EXPECT_EQ(values(sigma::index_select(x, 0, longs({2}))), (V{20, 21, 22, 23}));
  // int32 indices (as LibTorch's index_select takes) and int32 data.
  EXPECT_EQ(values(x.index_select(1, longs({3, 0}).to(sigma::kInt))), (V{3, 0, 13, 10, 23, 20}));
  EXPECT_EQ(values(x.to(sigma::kInt).index({Slice(), longs({-1}).to(sigma::kInt)})), (V{3, 13, 23}));
  // gather dim 1: out[i][j] = x[i][index[i][j]]
  const Tensor gi = longs({1, 1, 0, 3, 2, 0}).reshape({3, 2});
  EXPECT_EQ(values(x.gather(1, gi)), (V{1, 1, 10, 13, 22, 20}));
  // gather dim 0 with a smaller index: out[i][j] = x[index[i][j]][j]
  EXPECT_EQ(values(x.gather(0, longs({2, 0, 1}).reshape({1, 3}))), (V{20, 1, 12}));
  // scatter dim 0: out[index[i][j]][j] = src[i][j]
  const Tensor src = sigma::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, sigma::kFloat64).reshape({2, 3});
  const Tensor s = sigma::zeros({3, 3}, sigma::kFloat64).scatter(0, longs({2, 0, 1, 0, 1, 2}).reshape({2, 3}), src);
  EXPECT_EQ(values(s), (V{4, 2, 0, 0, 5, 3, 1, 0, 6}));
  // scatter_add sums duplicates; scatter of a value.
  Tensor acc = sigma::zeros({2, 3}, sigma::kFloat64);
  acc.scatter_add_(1, longs({0, 0, 2, 1, 1, 1}).reshape({2, 3}), src);
  EXPECT_EQ(values(acc), (V{3, 0, 3, 0, 15, 0}));
  Tensor f = sigma::zeros({2, 3}, sigma::kFloat64);
  f.scatter_(1, longs({2, 0}).reshape({2, 1}), 5.0);
  EXPECT_EQ(values(f), (V{0, 0, 5, 5, 0, 0}));
  // index_add: rows of source added at rows named by index, alpha scales.
  const Tensor ia = sigma::zeros({3, 2}, sigma::kFloat64)
                        .index_add(0, longs({2, 0, 2}), sigma::ones({3, 2}, sigma::kFloat64), 2);
  EXPECT_EQ(values(ia), (V{2, 2, 0, 0, 4, 4}));
}

TEST(MaskedOps, FillSelectNonzero) {
  const Tensor x = coords({2, 3});
  const Tensor row = sigma::tensor({true, false, true});
  EXPECT_EQ(values(x.masked_fill(row, -1)), (V{-1, 1, -1, -1, 11, -1}));
  EXPECT_EQ(values(x.masked_fill(row, sigma::scalar_tensor(5.0, sigma::kFloat64))),
            (V{5, 1, 5, 5, 11, 5}));
  // The result broadcasts self with mask.
  const Tensor col = sigma::tensor({true, false}).reshape({2, 1});
  EXPECT_EQ(values(sigma::masked_fill(sigma::tensor({1.0, 2.0, 3.0}, sigma::kFloat64), col, 0)),
            (V{0, 0, 0, 1, 2, 3}));
  Tensor y = x.clone();
  y.masked_fill_(col, 9);
  EXPECT_EQ(values(y), (V{9, 9, 9, 10, 11, 12}));
  EXPECT_EQ(values(x.masked_select(row)), (V{0, 2, 10, 12}));
  EXPECT_EQ(values(x.masked_select(col)), (V{0, 1, 2}));
  const Tensor nz = sigma::tensor({0.0, 1.0, 0.0, 2.0, 3.0, 0.0}).reshape({2, 3}).nonzero();
  EXPECT_EQ(nz.dtype(), sigma::kLong);
  EXPECT_EQ(nz.sizes().vec(), (Shape{3, 2}));
  EXPECT_EQ(nz.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(sigma::argwhere(sigma::zeros({4})).sizes().vec(), (Shape{0, 1}));
}

TEST(IndexBackward, DuplicatesAccumulate) {
  const Tensor x = sigma::zeros({4}, sigma::kFloat64).requires_grad_();
  x.index({longs({1, 1, 3, 1})}).sum().backward();
  EXPECT_EQ(values(x.grad()), (V{0, 3, 0, 1}));
  const Tensor y = sigma::zeros({3, 2}, sigma::kFloat64).requires_grad_();
  y.index_select(0, longs({2, 2, 0})).sum().backward();
  EXPECT_EQ(values(y.grad()), (V{1, 1, 0, 0, 2, 2}));
  const Tensor z = sigma::zeros({2, 2}, sigma::kFloat64).requires_grad_();
  z.gather(1, longs({0, 0, 0, 1, 1, 1}).reshape({2, 3})).sum().backward();
  EXPECT_EQ(values(z.grad()), (V{3, 0, 0, 3}));
  // index_put_: the written positions of self get no gradient; values get theirs.
  const Tensor a = sigma::ones({4}, sigma::kFloat64).requires_grad_();
  const Tensor v = sigma::ones({2}, sigma::kFloat64).requires_grad_();
  Tensor b = a * 1.0;
  b.index_put_({longs({0, 2})}, v);
  (b * sigma::tensor({1.0, 2.0, 3.0, 4.0}, sigma::kFloat64)).sum().backward();
  EXPECT_EQ(values(a.grad()), (V{0, 2, 0, 4}));
  EXPECT_EQ(values(v.grad()), (V{1, 3}));
}

TEST(IndexingGradients, MatchCentralDifferences) {
  const Tensor x = sigma::test::random_tensor({3, 4, 5}, sigma::kFloat64, 7);
  const Tensor m = sigma::tensor({true, false, true, true}).reshape({4});
  const Tensor i2 = longs({0, 2, 2}).reshape({3, 1});
  expect_gradcheck([](const sigma::TensorList& in) { return in[0].index({1, Slice(1, None, 2), None}); }, {x},
                   "basic");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].index({i2, Slice(), longs({4, -1, 0})}); },
                   {x}, "separated advanced");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].index({Slice(), m}); }, {x}, "mask");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].index({m.reshape({4}).index({Slice(0, 3)})}); },
                   {x}, "leading mask");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].index_select(2, longs({4, 0, 4})); }, {x},
                   "index_select");
  expect_gradcheck([&](const sigma::TensorList& in) {
    return in[0].gather(1, longs({3, 3, 0, 1, 2, 0}).reshape({1, 2, 3}));
  }, {x}, "gather");
  const Tensor src = sigma::test::random_tensor({2, 4}, sigma::kFloat64, 8);
  const Tensor base = sigma::test::random_tensor({3, 4}, sigma::kFloat64, 9);
  const Tensor si = longs({2, 0, 1, 2, 0, 1, 0, 1}).reshape({2, 4});
  const Tensor si_small = longs({2, 0, 1}).reshape({1, 3});
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].scatter(0, si_small, in[1]); }, {base, src},
                   "scatter");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].scatter(0, si, 2.5); }, {base}, "scatter value");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].scatter_add(0, si, in[1]); }, {base, src},
                   "scatter_add");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].index_add(0, longs({1, 1}), in[1], 0.5); },
                   {base, src}, "index_add");
  const Tensor mask = sigma::tensor({true, false, false, true}).reshape({1, 4});
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].masked_fill(mask, in[1]); },
                   {base, sigma::scalar_tensor(0.5, sigma::kFloat64)}, "masked_fill tensor");
  expect_gradcheck([&](const sigma::TensorList& in) { return in[0].masked_select(mask); }, {base}, "masked_select");
  expect_gradcheck([&](const sigma::TensorList& in) {
    return sigma::index_put(in[0], {longs({2, 0, 2}), std::nullopt}, in[1], true);
  }, {base, sigma::test::random_tensor({3, 4}, sigma::kFloat64, 10)}, "index_put accumulate");
  expect_gradcheck([&](const sigma::TensorList& in) {
    Tensor c = in[0] * 1.0;
    c.index_put_({Slice(), longs({3, 1})}, in[1]);
    return c;
  }, {base, sigma::test::random_tensor({2}, sigma::kFloat64, 11)}, "index_put_");
}

TEST(IndexingErrors, NameOpIndexAndSize) {
  const Tensor x = coords({3, 4});
  expect_error([&] { (void)x.index({longs({0, 5})}); }, {"index", "5", "dimension 0", "size 3"});
  expect_error([&] { (void)coords({5}).index({longs({0, -6})}); }, {"index", "-6", "dimension 0", "size 5"});
  expect_error([&] { (void)coords({5}).index_select(0, longs({1, -1})); }, {"index_select", "-1", "size 5"});
  expect_error([&] { (void)x.index({Slice(), -5}); }, {"index", "-5", "dimension 1", "size 4"});
  expect_error([&] { (void)x.index_select(1, longs({-1})); }, {"index_select", "-1", "dimension 1", "size 4"});
  // A bad index inside a block of four, in the copy loops.
  expect_error([&] { (void)coords({5}).index_select(0, longs({0, 1, 7, 2, 3, 4, 0, 1})); },
               {"index_select", "7", "dimension 0", "size 5"});
  expect_error([&] { (void)x.gather(1, longs({0, 1, 2, 3, 0, -2, 1, 1}).reshape({1, 8})); },
               {"gather", "-2", "dimension 1", "size 4"});
  expect_error([&] { (void)x.gather(0, longs({3}).reshape({1, 1})); }, {"gather", "3", "dimension 0", "size 3"});
  expect_error([&] { (void)x.scatter(1, longs({4}).reshape({1, 1}), 1.0); }, {"scatter", "4", "size 4"});
  expect_error([&] { (void)x.index_select(0, sigma::tensor({0.0f})); }, {"index_select", "int64 or int32", "float32"});
  expect_error([&] { (void)x.index({sigma::tensor({1.0f})}); }, {"index", "int64, int32 or bool", "float32"});
  expect_error([&] { (void)x.masked_fill(sigma::ones({3, 4}), 0); }, {"masked_fill", "bool", "float32"});
  expect_error([&] { (void)x.index({0, 0, 0}); }, {"too many indices"});
  expect_error([&] { (void)x.index({"..", 0}); }, {"\"...\""});
  expect_error([&] { (void)x.index({Slice(None, None, -1)}); }, {"step", "greater than zero"});
  expect_error([&] { (void)Slice(0, 2, 0); }, {"step cannot be zero"});
  expect_error([&] { (void)x.index({sigma::tensor({true, false})}); }, {"mask", "[2]", "[3, 4]"});
  expect_error([&] { (void)x.masked_fill(sigma::tensor({true}), sigma::ones({2}, sigma::kFloat64)); },
               {"masked_fill", "0-dimensional"});
  Tensor y = x.clone();
  expect_error([&] { y.index_put_({longs({0})}, sigma::ones({4}, sigma::kFloat32)); },
               {"index_put_", "float64", "float32"});
}

}  // namespace
