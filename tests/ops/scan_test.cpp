// Tests of src/ops/scan.cpp: cumsum and prod, hand-checked values along each
// dimension, dtype rules (int64 for integral and bool, the dtype argument),
// wrapping int64 arithmetic, zeros in prod's input (one and two zeros, where
// a division-based gradient fails), errors, and gradients by central
// differences.
#include <gtest/gtest.h>

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
using V = std::vector<double>;

TEST(Cumsum, AlongEachDimension) {
  const Tensor x = make({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(x.cumsum(1).to_vector<double>(), (V{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(x.cumsum(0).to_vector<double>(), (V{1, 2, 3, 5, 7, 9}));
  EXPECT_EQ(x.cumsum(-1).to_vector<double>(), (V{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(x.t().cumsum(0).to_vector<double>(), (V{1, 4, 3, 9, 6, 15}));
  EXPECT_EQ(sigma::cumsum(make({}, {2.5}), 0).item<double>(), 2.5);
  EXPECT_EQ(sigma::cumsum(sigma::zeros({0, 3}), 0).sizes().vec(), (Shape{0, 3}));
}

TEST(Cumsum, DtypesAndSpecialValues) {
  const Tensor i = sigma::tensor({-3, 0, 4});
  EXPECT_EQ(i.cumsum(0).dtype(), sigma::kLong);
  EXPECT_EQ(i.cumsum(0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{-3, -3, 1}));
  const Tensor b = sigma::tensor({true, false, true});
  EXPECT_EQ(b.cumsum(0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1, 2}));
  EXPECT_EQ(i.cumsum(0, sigma::kDouble).dtype(), sigma::kDouble);
  EXPECT_EQ(make({2}, {1.7, 2.6}).cumsum(0, sigma::kLong).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{1, 3}));  // cast first (truncating), then summed
  const auto s = make({4}, {1, INFINITY, -INFINITY, 2}).cumsum(0).to_vector<double>();
  EXPECT_EQ(s[0], 1);
  EXPECT_EQ(s[1], INFINITY);
  EXPECT_TRUE(std::isnan(s[2]) && std::isnan(s[3]));
  // Each prefix is rounded once from a double sum: four 2^-25 added to 1 one
  // at a time in float32 would each be lost; in double the prefixes are 1 +
  // k 2^-25, rounded once (the third a tie, to even).
  const Tensor f = make({5}, {1.0, 0x1p-25, 0x1p-25, 0x1p-25, 0x1p-25}, sigma::kFloat32);
  EXPECT_EQ(f.cumsum(0).to_vector<double>(), (V{1, 1, 1, 1 + 0x1p-23, 1 + 0x1p-23}));
}

TEST(Cumsum, InPlaceAndErrors) {
  Tensor x = make({3}, {1, 2, 3});
  x.cumsum_(0);
  EXPECT_EQ(x.to_vector<double>(), (V{1, 3, 6}));
  expect_error([] { (void)make({2}, {1, 2}).cumsum(1); }, {"cumsum", "1"});
  Tensor b = sigma::tensor({true, false});
  expect_error([&] { b.cumsum_(0); }, {"cumsum_", "int64", "bool"});
}

TEST(Cumsum, GradientIsReversedCumsum) {
  const Tensor x = make({3}, {1, 2, 3}).requires_grad_();
  x.cumsum(0).backward(make({3}, {1, 10, 100}));
  EXPECT_EQ(x.grad().to_vector<double>(), (V{111, 110, 100}));
  const Tensor y = make({2, 3, 2}, draw(12, -1, 1, 3)).requires_grad_();
  for (std::int64_t d : {0, 1, 2})
    EXPECT_TRUE(sigma::gradcheck([d](const L& in) { return in[0].cumsum(d); }, {y}).ok) << d;
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].t().cumsum(0); },
                               {make({3, 2}, draw(6, -1, 1, 4)).requires_grad_()}).ok);
}

TEST(Prod, ValuesAndDtypes) {
  const Tensor x = make({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(x.prod().item<double>(), 720);
  EXPECT_EQ(x.prod().dim(), 0);
  EXPECT_EQ(x.prod(1).to_vector<double>(), (V{6, 120}));
  EXPECT_EQ(x.prod(0, true).sizes().vec(), (Shape{1, 3}));
  EXPECT_EQ(x.prod(0, true).to_vector<double>(), (V{4, 10, 18}));
  EXPECT_EQ(sigma::tensor({-3, 0, 4}).prod().dtype(), sigma::kLong);
  EXPECT_EQ(sigma::tensor({-3, 2, 4}).prod().item<std::int64_t>(), -24);
  EXPECT_EQ(sigma::tensor({true, true}).prod().item<std::int64_t>(), 1);
  EXPECT_EQ(sigma::tensor({-3, 2}).prod(0, false, sigma::kFloat).dtype(), sigma::kFloat);
  // int64 products wrap around (2^32 * 2^32 = 2^64 = 0).
  const Tensor big = sigma::tensor(std::vector<std::int64_t>{std::int64_t{1} << 32, std::int64_t{1} << 32});
  EXPECT_EQ(big.prod().item<std::int64_t>(), 0);
  EXPECT_EQ(sigma::zeros({0}).prod().item<double>(), 1.0);  // empty product
  expect_error([] { (void)make({2}, {1, 2}).prod(2); }, {"prod", "2"});
}

TEST(Prod, GradientWithZeros) {
  // No zero: the product of the others; one zero: only the zero's entry is
  // non-zero; two zeros: all zero. No 0 / 0 anywhere.
  const std::vector<std::pair<V, V>> cases{{{2, 3, 4}, {12, 8, 6}},
                                           {{2, 0, 4}, {0, 8, 0}},
                                           {{0, 3, 0}, {0, 0, 0}}};
  for (const auto& [v, g] : cases) {
    const Tensor x = make({3}, v).requires_grad_();
    x.prod().backward();
    EXPECT_EQ(x.grad().to_vector<double>(), g);
  }
  const Tensor y = make({2, 3, 2}, draw(12, -2, 2, 5)).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].prod(); }, {y}).ok);
  for (std::int64_t d : {0, 1, 2})
    for (bool keep : {false, true})
      EXPECT_TRUE(sigma::gradcheck([=](const L& in) { return in[0].prod(d, keep); }, {y}).ok);
  const Tensor z = make({2, 3}, {1.5, 0, -2, 0.5, 3, 0}).requires_grad_();
  EXPECT_TRUE(sigma::gradcheck([](const L& in) { return in[0].prod(1); }, {z}).ok);
}

}  // namespace
