// Tests of src/ops/sort.cpp: sort, argsort and topk (hand-checked orders,
// NaN above +inf, ties keeping input order, descending, every dimension,
// dtypes, errors), their values' gradient (scattered to the indices, and by
// central differences), and unique / _unique / _unique2 / unique_consecutive
// / unique_dim against hand-worked results.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
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
using V = std::vector<double>;
using I = std::vector<std::int64_t>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void expect_nan_aware(const Tensor& t, const V& want) {
  const V got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(got[i])) << i;
    else EXPECT_EQ(got[i], want[i]) << i;
  }
}

TEST(Sort, NaNLargestAndTiesStable) {
  const Tensor x = make({6}, {3, kNaN, 1, kNaN, -1, 1});
  auto [v, i] = x.sort();
  expect_nan_aware(v, {-1, 1, 1, 3, kNaN, kNaN});
  EXPECT_EQ(i.dtype(), sigma::kLong);
  EXPECT_EQ(i.to_vector<std::int64_t>(), (I{4, 2, 5, 0, 1, 3}));
  auto [vd, id] = x.sort(0, true);
  expect_nan_aware(vd, {kNaN, kNaN, 3, 1, 1, -1});
  EXPECT_EQ(id.to_vector<std::int64_t>(), (I{1, 3, 0, 2, 5, 4}));
  auto [vs, is] = x.sort(std::optional<bool>(true), 0, false);
  EXPECT_EQ(is.to_vector<std::int64_t>(), (I{4, 2, 5, 0, 1, 3}));
  EXPECT_EQ(x.argsort().to_vector<std::int64_t>(), (I{4, 2, 5, 0, 1, 3}));
  EXPECT_EQ(sigma::argsort(x, true, 0, true).to_vector<std::int64_t>(), (I{1, 3, 0, 2, 5, 4}));
  const Tensor inf = make({3}, {INFINITY, kNaN, -INFINITY});
  expect_nan_aware(std::get<0>(inf.sort()), {-INFINITY, INFINITY, kNaN});
}

TEST(Sort, AlongEachDimensionAndDtypes) {
  const Tensor x = make({2, 3}, {5, 1, 4, 2, 6, 3});
  auto [v0, i0] = x.sort(0);
  EXPECT_EQ(v0.to_vector<double>(), (V{2, 1, 3, 5, 6, 4}));
  EXPECT_EQ(i0.to_vector<std::int64_t>(), (I{1, 0, 1, 0, 1, 0}));
  auto [v1, i1] = x.sort(1);
  EXPECT_EQ(v1.to_vector<double>(), (V{1, 4, 5, 2, 3, 6}));
  EXPECT_EQ(i1.to_vector<std::int64_t>(), (I{1, 2, 0, 0, 2, 1}));
  auto [vt, it] = x.t().sort(1);  // [[5, 2], [1, 6], [4, 3]]
  EXPECT_EQ(vt.to_vector<double>(), (V{2, 5, 1, 6, 3, 4}));
  const Tensor l = sigma::tensor(std::vector<std::int64_t>{(std::int64_t{1} << 60) + 1, std::int64_t{1} << 60});
  EXPECT_EQ(std::get<1>(l.sort()).to_vector<std::int64_t>(), (I{1, 0}));  // exact, not via double
  auto [vb, ib] = sigma::tensor({true, false}).sort();
  EXPECT_EQ(vb.dtype(), sigma::kBool);
  EXPECT_EQ(ib.to_vector<std::int64_t>(), (I{1, 0}));
  EXPECT_EQ(std::get<0>(make({2}, {2, 1}, sigma::kBFloat16).sort()).dtype(), sigma::kBFloat16);
  expect_error([&] { (void)x.sort(2); }, {"sort", "2"});
}

TEST(Topk, LargestSmallestAndErrors) {
  const Tensor x = make({6}, {3, kNaN, 1, 7, -1, 5});
  auto [v, i] = x.topk(2);
  expect_nan_aware(v, {kNaN, 7});
  EXPECT_EQ(i.to_vector<std::int64_t>(), (I{1, 3}));
  auto [vs, is] = x.topk(3, -1, false);
  EXPECT_EQ(vs.to_vector<double>(), (V{-1, 1, 3}));
  EXPECT_EQ(is.to_vector<std::int64_t>(), (I{4, 2, 0}));
  const Tensor m = make({2, 3}, {5, 1, 4, 2, 6, 3});
  auto [vm, im] = m.topk(1, 0);
  EXPECT_EQ(vm.sizes().vec(), (Shape{1, 3}));
  EXPECT_EQ(vm.to_vector<double>(), (V{5, 6, 4}));
  EXPECT_EQ(std::get<0>(m.topk(0)).sizes().vec(), (Shape{2, 0}));
  expect_error([&] { (void)m.topk(4); }, {"topk", "k = 4", "size 3"});
  expect_error([&] { (void)m.topk(-1); }, {"topk", "k = -1"});
}

TEST(Sort, GradientsGoToTheIndices) {
  const Tensor x = make({4}, {3, 1, 4, 2}).requires_grad_();
  std::get<0>(x.sort()).backward(make({4}, {10, 20, 30, 40}));
  // sorted: 1 (from 1), 2 (3), 3 (0), 4 (2).
  EXPECT_EQ(x.grad().to_vector<double>(), (V{30, 10, 40, 20}));
  const Tensor y = make({4}, {3, 1, 4, 2}).requires_grad_();
  std::get<0>(y.topk(2)).backward(make({2}, {1, 2}));
  EXPECT_EQ(y.grad().to_vector<double>(), (V{2, 0, 1, 0}));
  const Tensor z = make({3, 4}, draw(12, -1, 1, 9)).requires_grad_();
  for (std::int64_t d : {0, 1}) {
    EXPECT_TRUE(sigma::gradcheck([d](const L& in) { return std::get<0>(in[0].sort(d, true)); }, {z}).ok);
    EXPECT_TRUE(sigma::gradcheck([d](const L& in) { return std::get<0>(in[0].topk(2, d)); }, {z}).ok);
  }
  EXPECT_FALSE(std::get<1>(z.sort()).requires_grad());
}

TEST(Unique, SortedWithInverseAndCounts) {
  const Tensor x = sigma::tensor({{3, 1}, {3, 2}});
  auto [v, inv, cnt] = sigma::unique(x, true, true, true);
  EXPECT_EQ(v.to_vector<std::int64_t>(), (I{1, 2, 3}));
  EXPECT_EQ(inv.sizes().vec(), (Shape{2, 2}));
  EXPECT_EQ(inv.to_vector<std::int64_t>(), (I{2, 0, 2, 1}));
  EXPECT_EQ(cnt.to_vector<std::int64_t>(), (I{1, 1, 2}));
  auto [v2, inv2, cnt2] = sigma::unique(x);
  EXPECT_EQ(inv2.numel(), 0);
  EXPECT_EQ(cnt2.numel(), 0);
  auto [u, ui] = sigma::_unique(make({4}, {2.5, -1, 2.5, 0}), true, true);
  EXPECT_EQ(u.to_vector<double>(), (V{-1, 0, 2.5}));
  EXPECT_EQ(ui.to_vector<std::int64_t>(), (I{2, 0, 2, 1}));
  auto [w, wi, wc] = sigma::_unique2(make({4}, {kNaN, 1, kNaN, 1}), true, false, true);
  expect_nan_aware(w, {1, kNaN, kNaN});  // each NaN is its own value
  EXPECT_EQ(wc.to_vector<std::int64_t>(), (I{2, 1, 1}));
}

TEST(Unique, ConsecutiveAndDim) {
  auto [v, inv, cnt] = sigma::unique_consecutive(sigma::tensor({1, 1, 2, 2, 1}), true, true);
  EXPECT_EQ(v.to_vector<std::int64_t>(), (I{1, 2, 1}));
  EXPECT_EQ(inv.to_vector<std::int64_t>(), (I{0, 0, 1, 1, 2}));
  EXPECT_EQ(cnt.to_vector<std::int64_t>(), (I{2, 2, 1}));
  const Tensor m = sigma::tensor({{1, 2}, {1, 2}, {0, 5}});
  auto [r, ri, rc] = sigma::unique_dim(m, 0, true, true, true);
  EXPECT_EQ(r.sizes().vec(), (Shape{2, 2}));
  EXPECT_EQ(r.to_vector<std::int64_t>(), (I{0, 5, 1, 2}));
  EXPECT_EQ(ri.to_vector<std::int64_t>(), (I{1, 1, 0}));
  EXPECT_EQ(rc.to_vector<std::int64_t>(), (I{1, 2}));
  auto [c, ci, cc] = sigma::unique_dim(m, 1);  // columns [1, 1, 0] and [2, 2, 5]
  EXPECT_EQ(c.sizes().vec(), (Shape{3, 2}));
  auto [k, ki, kc] = sigma::unique_consecutive(m, false, true, 0);
  EXPECT_EQ(k.to_vector<std::int64_t>(), (I{1, 2, 0, 5}));
  EXPECT_EQ(kc.to_vector<std::int64_t>(), (I{2, 1}));
  expect_error([&] { (void)sigma::unique_dim(m, 2); }, {"unique_dim", "2"});
  expect_error([] { (void)sigma::unique_dim(sigma::scalar_tensor(1), 0); }, {"unique_dim", "zero-dimensional"});
}

}  // namespace
