// Tests of Tensor's metadata, the creation functions, dtype conversion,
// element access and copies (src/tensor/{tensor,factory,copy}.cpp).
// References are index formulas and hand-rounded bit patterns, never values
// read back from sigma.
#include "sigma/tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::from_index;

std::uint32_t float_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float bits_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// ---- Metadata.

TEST(TensorMeta, ShapeStridesAndSizes) {
  Tensor t = sigma::zeros({2, 3, 4});
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.ndimension(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.sizes(), (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(t.strides(), (std::vector<std::int64_t>{12, 4, 1}));
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(-3), 2);
  EXPECT_EQ(t.stride(-2), 4);
  EXPECT_EQ(t.storage_offset(), 0);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(t.is_floating_point());
  EXPECT_EQ(t.dtype(), sigma::kFloat32);
  EXPECT_EQ(t.scalar_type(), sigma::kFloat);
  EXPECT_EQ(t.options().dtype(), sigma::kFloat32);
  EXPECT_EQ(t.element_size(), 4u);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(t.toString(), "CPUFloatType");
  EXPECT_TRUE(t.defined());
  EXPECT_FALSE(Tensor().defined());
}

TEST(TensorMeta, ElementSizesAndNames) {
  struct Case {
    sigma::ScalarType t;
    std::size_t size;
    const char* name;
    const char* type_string;
    bool floating;
  };
  const Case cases[] = {{sigma::kFloat32, 4, "float32", "CPUFloatType", true},
                        {sigma::kFloat64, 8, "float64", "CPUDoubleType", true},
                        {sigma::kBFloat16, 2, "bfloat16", "CPUBFloat16Type", true},
                        {sigma::kFloat16, 2, "float16", "CPUHalfType", true},
                        {sigma::kInt64, 8, "int64", "CPULongType", false},
                        {sigma::kBool, 1, "bool", "CPUBoolType", false}};
  for (const Case& c : cases) {
    Tensor t = sigma::empty({3}, sigma::dtype(c.t));
    EXPECT_EQ(t.dtype(), c.t);
    EXPECT_EQ(t.element_size(), c.size);
    EXPECT_EQ(t.nbytes(), 3 * c.size);
    EXPECT_STREQ(sigma::to_string(c.t), c.name);
    EXPECT_EQ(t.toString(), c.type_string);
    EXPECT_EQ(t.is_floating_point(), c.floating);
  }
}

TEST(TensorMeta, ZeroDimAndEmpty) {
  Tensor s = sigma::scalar_tensor(2.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_TRUE(s.sizes().empty());
  EXPECT_EQ(s.item<double>(), 2.5);
  expect_error([&] { s.size(0); }, {"size", "zero-dimensional"});

  Tensor e = sigma::zeros({2, 0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(e.nbytes(), 0u);
  EXPECT_TRUE(e.is_contiguous());
  EXPECT_TRUE(e.to_vector<float>().empty());
}

TEST(TensorMeta, DimErrors) {
  Tensor t = sigma::zeros({2, 3});
  expect_error([&] { t.size(2); }, {"size", "dimension 2", "out of range"});
  expect_error([&] { t.stride(-3); }, {"stride", "-3"});
  expect_error([] { sigma::zeros({2, -1}); }, {"negative size", "[2, -1]"});
  expect_error([] { Tensor().sizes(); }, {"sizes", "undefined"});
}

// ---- Creation.

TEST(TensorFactory, TensorLiteralDtypes) {
  EXPECT_EQ(sigma::tensor({1.0f, 2.0f}).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::tensor({1.0, 2.0}).dtype(), sigma::kFloat32);  // the default dtype, as PyTorch
  EXPECT_EQ(sigma::tensor({1, 2, 3}).dtype(), sigma::kInt64);
  EXPECT_EQ(sigma::tensor({std::int64_t{1}}).dtype(), sigma::kInt64);
  EXPECT_EQ(sigma::tensor({true, false}).dtype(), sigma::kBool);
  EXPECT_EQ(sigma::tensor({{1, 2}, {3, 4}}).dtype(), sigma::kInt64);
  EXPECT_EQ(sigma::tensor({{1.0f, 2.0f}}).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::tensor({1, 2}, sigma::dtype(sigma::kFloat64)).dtype(), sigma::kFloat64);
  EXPECT_EQ(sigma::tensor(std::vector<double>{1.0}).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::tensor(std::vector<std::int64_t>{1}).dtype(), sigma::kInt64);

  Tensor m = sigma::tensor({{1.5, 2.5, 3.5}, {4.5, 5.5, 6.5}}, sigma::dtype(sigma::kFloat64));
  EXPECT_EQ(m.sizes(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(m.to_vector<double>(), (std::vector<double>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
  EXPECT_EQ(sigma::tensor({7, -8}).to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, -8}));
  EXPECT_EQ(sigma::tensor({true, false, true}).to_vector<bool>(),
            (std::vector<bool>{true, false, true}));
  // 0.1 as float32 is the float nearest 0.1, not the double.
  EXPECT_EQ(sigma::tensor({0.1}).item<float>(), 0.1f);
  EXPECT_EQ(sigma::tensor({0.1}, sigma::kFloat64).item<double>(), 0.1);
}

TEST(TensorFactory, RaggedRowsThrow) {
  expect_error([] { sigma::tensor({{1.0f, 2.0f}, {3.0f}}); }, {"tensor", "ragged", "row 1"});
}

TEST(TensorFactory, DefaultDtype) {
  ASSERT_EQ(sigma::get_default_dtype(), sigma::kFloat32);
  sigma::set_default_dtype(sigma::kFloat64);
  EXPECT_EQ(sigma::tensor({1.0}).dtype(), sigma::kFloat64);
  EXPECT_EQ(sigma::zeros({2}).dtype(), sigma::kFloat64);
  EXPECT_EQ(sigma::tensor({1}).dtype(), sigma::kInt64);
  sigma::set_default_dtype(sigma::kFloat32);
  EXPECT_EQ(sigma::zeros({2}).dtype(), sigma::kFloat32);
  expect_error([] { sigma::set_default_dtype(sigma::kFloat16); }, {"set_default_dtype", "float16"});
  expect_error([] { sigma::set_default_dtype(sigma::kInt64); }, {"set_default_dtype", "int64"});
}

TEST(TensorFactory, ZerosOnesFull) {
  for (auto dt : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16, sigma::kFloat16,
                  sigma::kInt64, sigma::kBool}) {
    Tensor z = sigma::zeros({2, 3}, dt);
    Tensor o = sigma::ones({2, 3}, dt);
    EXPECT_EQ(z.dtype(), dt);
    EXPECT_EQ(o.dtype(), dt);
    EXPECT_EQ(z.to_vector<double>(), std::vector<double>(6, 0.0));
    EXPECT_EQ(o.to_vector<double>(), std::vector<double>(6, 1.0));
  }
  Tensor f = sigma::full({3}, 2.5);
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  EXPECT_EQ(f.to_vector<float>(), std::vector<float>(3, 2.5f));
  EXPECT_EQ(sigma::full({2}, 7).dtype(), sigma::kInt64);  // integer fill: int64 as PyTorch
  EXPECT_EQ(sigma::full({2}, true).dtype(), sigma::kBool);
  EXPECT_EQ(sigma::full({2}, 7, sigma::kFloat64).to_vector<double>(), (std::vector<double>{7, 7}));
  // bf16 keeps 8 significant bits: 257 rounds to 256 (tie to even).
  EXPECT_EQ(sigma::full({1}, 257.0, sigma::kBFloat16).item<double>(), 256.0);
  EXPECT_EQ(sigma::zeros({}).dim(), 0);
  EXPECT_EQ(sigma::ones({}).item<float>(), 1.0f);
}

TEST(TensorFactory, RequiresGradOption) {
  Tensor x = sigma::zeros({2}, sigma::dtype(sigma::kFloat64).requires_grad(true));
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(sigma::ones({2}, sigma::requires_grad()).requires_grad());
  expect_error([] { sigma::zeros({2}, sigma::dtype(sigma::kInt64).requires_grad(true)); },
               {"requires_grad", "int64"});
}

TEST(TensorFactory, Eye) {
  Tensor e = sigma::eye(4, sigma::kFloat64);
  ASSERT_EQ(e.sizes(), (std::vector<std::int64_t>{4, 4}));
  const auto v = e.to_vector<double>();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(v[static_cast<std::size_t>(i * 4 + j)], i == j ? 1.0 : 0.0);
  EXPECT_EQ(sigma::eye(0).numel(), 0);
  expect_error([] { sigma::eye(-1); }, {"eye", "-1"});
}

TEST(TensorFactory, Arange) {
  Tensor a = sigma::arange(5);
  EXPECT_EQ(a.dtype(), sigma::kInt64);
  EXPECT_EQ(a.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sigma::arange(2, 11, 3).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{2, 5, 8}));
  EXPECT_EQ(sigma::arange(5, 0, -2).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{5, 3, 1}));
  Tensor f = sigma::arange(0.0, 1.0, 0.25);
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f}));
  EXPECT_EQ(sigma::arange(3, sigma::kFloat64).dtype(), sigma::kFloat64);
  EXPECT_EQ(sigma::arange(3, 3).numel(), 0);
  // ceil((1 - 0) / 0.3) = 4 values.
  EXPECT_EQ(sigma::arange(0.0, 1.0, 0.3, sigma::kFloat64).numel(), 4);
  expect_error([] { sigma::arange(0, 5, 0); }, {"arange", "step"});
  expect_error([] { sigma::arange(5, 0, 1); }, {"arange", "sign"});
}

TEST(TensorFactory, LinspaceEndpointsExact) {
  struct Case {
    double a, b;
    std::int64_t n;
  };
  for (const Case c :
       {Case{0.0, 1.0, 7}, Case{-3.3, 7.1, 11}, Case{0.1, 0.7, 6}, Case{1e10, -2.5, 4}}) {
    Tensor t = sigma::linspace(c.a, c.b, c.n, sigma::kFloat64);
    const auto v = t.to_vector<double>();
    ASSERT_EQ(v.size(), static_cast<std::size_t>(c.n));
    EXPECT_EQ(v.front(), c.a);
    EXPECT_EQ(v.back(), c.b);
    for (std::int64_t i = 0; i < c.n; ++i) {
      const long double ref =
          static_cast<long double>(c.a) + (static_cast<long double>(c.b) - c.a) * i / (c.n - 1);
      EXPECT_NEAR(static_cast<double>(v[static_cast<std::size_t>(i)]), static_cast<double>(ref),
                  4e-16 * (std::abs(c.a) + std::abs(c.b)))
          << i;
    }
  }
  Tensor f = sigma::linspace(-1.7, 2.9, 5);
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  EXPECT_EQ(f.to_vector<float>().front(), -1.7f);
  EXPECT_EQ(f.to_vector<float>().back(), 2.9f);
  EXPECT_EQ(sigma::linspace(3.0, 9.0, 1).to_vector<float>(), std::vector<float>{3.0f});
  EXPECT_EQ(sigma::linspace(3.0, 9.0, 0).numel(), 0);
  expect_error([] { sigma::linspace(0, 1, -1); }, {"linspace", "-1"});
}

TEST(TensorFactory, EmptyAndLike) {
  Tensor e = sigma::empty({3, 2}, sigma::kFloat16);
  EXPECT_EQ(e.sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(e.dtype(), sigma::kFloat16);

  Tensor base = sigma::zeros({2, 5}, sigma::kFloat64).t();  // non-contiguous
  for (Tensor t : {sigma::empty_like(base), sigma::zeros_like(base), sigma::ones_like(base),
                   sigma::full_like(base, 3)}) {
    EXPECT_EQ(t.sizes(), (std::vector<std::int64_t>{5, 2}));
    EXPECT_EQ(t.dtype(), sigma::kFloat64);
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_FALSE(t.is_alias_of(base));
  }
  EXPECT_EQ(sigma::ones_like(base).to_vector<double>(), std::vector<double>(10, 1.0));
  EXPECT_EQ(sigma::full_like(base, 3).to_vector<double>(), std::vector<double>(10, 3.0));
  EXPECT_EQ(sigma::zeros_like(base, sigma::kInt64).dtype(), sigma::kInt64);
  EXPECT_TRUE(sigma::zeros_like(base, sigma::requires_grad()).requires_grad());
}

TEST(TensorFactory, ScalarTensorAndFromData) {
  EXPECT_EQ(sigma::scalar_tensor(3).dtype(), sigma::kInt64);
  EXPECT_EQ(sigma::scalar_tensor(3.0).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::scalar_tensor(true).dtype(), sigma::kBool);
  EXPECT_EQ(sigma::scalar_tensor(-4, sigma::kFloat64).item<double>(), -4.0);

  const double d[6] = {1, 2, 3, 4, 5, 6};
  Tensor t = sigma::from_data(d, sigma::kFloat64, {2, 3});
  EXPECT_EQ(t.dtype(), sigma::kFloat64);
  EXPECT_EQ(t.sizes(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(t.to_vector<double>(), std::vector<double>(d, d + 6));
  EXPECT_NE(static_cast<const void*>(t.data_ptr<double>()), static_cast<const void*>(d));
  Tensor f = sigma::from_data(d, sigma::kFloat64, {6}, sigma::kFloat32);
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  expect_error([] { sigma::from_data(nullptr, sigma::kFloat32, {2}); }, {"from_data", "null"});
}

// ---- Conversion.

TEST(TensorConvert, FloatRoundTrips) {
  const std::vector<double> v = {0.0, -0.0, 1.0, -2.5, 0.1, 1e-30, 3.4e38, 65504.0};
  Tensor d = sigma::tensor(v, sigma::kFloat64);
  Tensor f = d.to(sigma::kFloat32);
  EXPECT_EQ(f.dtype(), sigma::kFloat32);
  const auto fv = f.to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(fv[i], static_cast<float>(v[i])) << i;
  EXPECT_TRUE(std::signbit(fv[1]));
  // f32 -> f64 -> f32 is exact.
  EXPECT_EQ(f.to(sigma::kFloat64).to(sigma::kFloat32).to_vector<float>(), fv);
}

TEST(TensorConvert, BFloat16RoundsToNearestEven) {
  // Reference: bf16 is the top 16 bits of f32, rounded to nearest even by hand.
  const float one = 1.0f;
  const float tie_down = bits_float(float_bits(one) + 0x8000u);  // 1 + 2^-8: tie -> 1
  const float tie_up = bits_float(float_bits(one) + 0x18000u);   // 1 + 3*2^-8: tie -> 1 + 2^-6
  const float above = bits_float(float_bits(one) + 0x8001u);     // just above the tie
  const float third = 1.0f / 3.0f;                               // 0x3EAAAAAB
  Tensor x = sigma::tensor({one, tie_down, tie_up, above, third, -third, 0.0f});
  const auto r = x.to(sigma::kBFloat16).to(sigma::kFloat32).to_vector<float>();
  EXPECT_EQ(r[0], 1.0f);
  EXPECT_EQ(r[1], 1.0f);
  EXPECT_EQ(r[2], 1.0f + 0.015625f);
  EXPECT_EQ(r[3], 1.0f + 0.0078125f);
  EXPECT_EQ(r[4], 0.333984375f);  // 0x3EAB
  EXPECT_EQ(r[5], -0.333984375f);
  EXPECT_EQ(r[6], 0.0f);
  // A bf16 value converts back to bf16 unchanged.
  Tensor b = x.to(sigma::kBFloat16);
  EXPECT_EQ(b.to(sigma::kFloat64).to(sigma::kBFloat16).to_vector<float>(), b.to_vector<float>());
}

TEST(TensorConvert, Float16RoundingAndRange) {
  Tensor x = sigma::tensor(
      {1.0 / 3.0, 65504.0, 65519.0, 65520.0, -1e6, 5.9604644775390625e-8, 2.0e-8, 1.0009765625},
      sigma::kFloat64);
  const auto r = x.to(sigma::kFloat16).to_vector<double>();
  EXPECT_EQ(r[0], 0.333251953125);                           // 0x3555
  EXPECT_EQ(r[1], 65504.0);                                  // largest finite
  EXPECT_EQ(r[2], 65504.0);                                  // below the halfway point 65520
  EXPECT_EQ(r[3], std::numeric_limits<double>::infinity());  // tie rounds to even = 2^16 = inf
  EXPECT_EQ(r[4], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(r[5], 5.9604644775390625e-8);  // least subnormal, 2^-24
  EXPECT_EQ(r[6], 0.0);                    // below half the least subnormal
  EXPECT_EQ(r[7], 1.0009765625);           // 1 + 2^-10 exact
  // bf16 <-> f16 conversion goes through f32.
  Tensor h = sigma::tensor({1.5f, -2.0f}).to(sigma::kFloat16);
  EXPECT_EQ(h.to(sigma::kBFloat16).to(sigma::kFloat16).to_vector<float>(),
            (std::vector<float>{1.5f, -2.0f}));
}

TEST(TensorConvert, IntegerAndBool) {
  Tensor x = sigma::tensor({-2.7, -0.5, 0.0, 0.5, 2.7}, sigma::kFloat64);
  EXPECT_EQ(x.to(sigma::kInt64).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{-2, 0, 0, 0, 2}));  // truncation toward zero
  EXPECT_EQ(x.to(sigma::kBool).to_vector<bool>(),
            (std::vector<bool>{true, true, false, true, true}));
  Tensor b = sigma::tensor({true, false});
  EXPECT_EQ(b.to(sigma::kFloat32).to_vector<float>(), (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(b.to(sigma::kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0}));
  Tensor big = sigma::tensor({1e300, -1e300, std::nan("")}, sigma::kFloat64);
  EXPECT_EQ(big.to(sigma::kInt64).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{INT64_MAX, INT64_MIN, 0}));  // saturates, no UB
}

TEST(TensorConvert, SameDtypeSharesUnlessCopy) {
  Tensor x = sigma::ones({3}, sigma::kFloat64);
  EXPECT_TRUE(x.to(sigma::kFloat64).is_same(x));
  Tensor c = x.to(sigma::kFloat64, /*copy=*/true);
  EXPECT_FALSE(c.is_alias_of(x));
  EXPECT_EQ(c.to_vector<double>(), x.to_vector<double>());
  EXPECT_EQ(x.type_as(sigma::zeros({1}, sigma::kFloat32)).dtype(), sigma::kFloat32);
  Tensor o = x.to(sigma::dtype(sigma::kFloat32).requires_grad(true));
  EXPECT_EQ(o.dtype(), sigma::kFloat32);
  EXPECT_TRUE(o.requires_grad());
}

TEST(TensorConvert, NonContiguousSource) {
  Tensor x = from_index({3, 4}, [](std::int64_t i) { return static_cast<double>(i); });
  Tensor t = x.t().to(sigma::kFloat32);
  EXPECT_EQ(t.sizes(), (std::vector<std::int64_t>{4, 3}));
  const auto v = t.to_vector<float>();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(v[static_cast<std::size_t>(i * 3 + j)], static_cast<float>(j * 4 + i));
}

// ---- Element access.

TEST(TensorAccess, Item) {
  EXPECT_EQ(sigma::tensor({2.5f}).item<float>(), 2.5f);
  EXPECT_EQ(sigma::tensor({2.5f}).item<double>(), 2.5);
  EXPECT_EQ(sigma::tensor({7}).item<std::int64_t>(), 7);
  EXPECT_EQ(sigma::tensor({7}).item<double>(), 7.0);
  EXPECT_TRUE(sigma::tensor({true}).item<bool>());
  EXPECT_EQ(sigma::full({1, 1}, 1.5, sigma::kBFloat16).item<float>(), 1.5f);
  EXPECT_EQ(sigma::tensor({1.0, 2.0}, sigma::kFloat64)[1].item().to_double(), 2.0);
  expect_error([] { sigma::zeros({2, 3}).item<float>(); }, {"item", "6 elements", "[2, 3]"});
  expect_error([] { sigma::zeros({0}).item<float>(); }, {"item", "0 elements"});
  expect_error([] { Tensor().item<float>(); }, {"item", "undefined"});
}

TEST(TensorAccess, DataPtrChecksDtype) {
  Tensor x = sigma::tensor({1.0f, 2.0f});
  EXPECT_EQ(x.data_ptr<float>()[1], 2.0f);
  expect_error([&] { x.data_ptr<double>(); }, {"data_ptr", "float32", "float64"});
  expect_error([&] { sigma::tensor({1}).data_ptr<float>(); }, {"data_ptr", "int64", "float32"});
  // data_ptr of a view points at its first element.
  Tensor m = from_index({3, 4}, [](std::int64_t i) { return static_cast<double>(i); });
  EXPECT_EQ(m[2].data_ptr<double>()[1], 9.0);
  EXPECT_EQ(m.select(1, 3).data_ptr<double>()[0], 3.0);
}

TEST(TensorAccess, ToVectorConverts) {
  Tensor x = sigma::tensor({1.5, -2.5}, sigma::kFloat64);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(x.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, -2}));
  EXPECT_EQ(x.to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ(sigma::scalar_tensor(4.0).to_vector<double>(), std::vector<double>{4.0});
  Tensor e = from_index({1, 3}, [](std::int64_t i) { return static_cast<double>(i + 1); }).expand({2, 3});
  EXPECT_EQ(e.to_vector<double>(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

// ---- Copies.

TEST(TensorCopy, ContiguousAndClone) {
  Tensor x = from_index({2, 3}, [](std::int64_t i) { return static_cast<double>(i); });
  EXPECT_TRUE(x.contiguous().is_same(x));
  Tensor t = x.t();
  EXPECT_FALSE(t.is_contiguous());
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(c.is_alias_of(x));
  EXPECT_EQ(c.strides(), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));

  Tensor k = x.clone();
  EXPECT_FALSE(k.is_alias_of(x));
  k.fill_(9);
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  // clone of a non-contiguous tensor keeps values, in a fresh contiguous layout.
  EXPECT_EQ(t.clone().to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(TensorCopy, CopyBroadcastsAndConverts) {
  Tensor dst = sigma::zeros({2, 3}, sigma::kFloat32);
  dst.copy_(sigma::tensor({1.0, 2.0, 3.0}, sigma::kFloat64));
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  dst.copy_(sigma::tensor({4.0, 5.0}, sigma::kFloat64).reshape({2, 1}));
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{4, 4, 4, 5, 5, 5}));
  dst.copy_(sigma::scalar_tensor(-1.5));
  EXPECT_EQ(dst.to_vector<float>(), std::vector<float>(6, -1.5f));
  dst.copy_(sigma::tensor({1, 2, 3}));  // int64 -> float32
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  expect_error([&] { dst.copy_(sigma::zeros({4})); }, {"copy_", "[4]", "[2, 3]"});
  expect_error([&] { dst.copy_(sigma::zeros({2, 2, 3})); }, {"copy_", "[2, 2, 3]", "[2, 3]"});
}

TEST(TensorCopy, CopyIntoViewWritesBase) {
  Tensor base = sigma::zeros({3, 4}, sigma::kFloat64);
  base.slice(1, 1, 4, 2)
      .copy_(sigma::tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, sigma::kFloat64));
  EXPECT_EQ(base.to_vector<double>(), (std::vector<double>{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6}));
  // Copying a tensor onto its own transpose reads the old values, not half-written ones.
  Tensor sq = from_index({3, 3}, [](std::int64_t i) { return static_cast<double>(i); });
  sq.copy_(sq.t());
  EXPECT_EQ(sq.to_vector<double>(), (std::vector<double>{0, 3, 6, 1, 4, 7, 2, 5, 8}));
}

TEST(TensorCopy, FillAndZeroBumpVersion) {
  Tensor x = sigma::ones({2, 3}, sigma::kFloat64);
  const auto v0 = x._version();
  x.select(1, 2).fill_(7.5);
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{1, 1, 7.5, 1, 1, 7.5}));
  EXPECT_GT(x._version(), v0);
  const auto v1 = x._version();
  x.zero_();
  EXPECT_EQ(x.to_vector<double>(), std::vector<double>(6, 0.0));
  EXPECT_GT(x._version(), v1);
  Tensor i = sigma::zeros({2}, sigma::kInt64);
  i.fill_(3.9);  // float value into int64 truncates
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 3}));
  Tensor h = sigma::zeros({2}, sigma::kFloat16);
  h.fill_(0.1);
  EXPECT_EQ(h.to_vector<double>()[0], 0.0999755859375);  // nearest f16 to 0.1 (0x2E66)
}

// Storage (src/tensor/tensor_impl.cpp): small buffers share one allocation
// with their control block, large ones have their own; both must be 64-byte
// aligned and disjoint, and a view must keep its bytes alive.
TEST(Storage, EveryBufferIsAlignedAndHoldsItsOwnElements) {
  // Element counts on both sides of the 64 KiB line between the two kinds.
  const std::vector<std::int64_t> counts = {0, 1, 3, 15, 16, 17, 100, 1000, 8191, 8192, 8193, 200000};
  std::vector<Tensor> ts;
  for (int round = 0; round < 3; ++round)
    for (const std::int64_t n : counts) {
      Tensor t = sigma::empty({n}, sigma::kDouble);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data_ptr()) % 64, 0u) << n << " elements";
      double* p = t.data_ptr<double>();
      for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<double>(ts.size()) * 1e6 + static_cast<double>(i);
      ts.push_back(t);
    }
  for (std::size_t k = 0; k < ts.size(); ++k) {
    const double* p = ts[k].data_ptr<double>();
    for (std::int64_t i = 0; i < ts[k].numel(); ++i)
      ASSERT_EQ(p[i], static_cast<double>(k) * 1e6 + static_cast<double>(i)) << "tensor " << k << " element " << i;
  }
}

TEST(Storage, AViewKeepsTheBytesOfADeadBase) {
  for (const std::int64_t n : {4, 40000}) {
    Tensor v;
    {
      Tensor base = sigma::arange(static_cast<double>(n), sigma::kDouble);
      v = base.slice(0, 1, n);
    }
    Tensor churn = sigma::full({n}, -1.0, sigma::kDouble);  // may reuse freed memory
    ASSERT_EQ(v.numel(), n - 1);
    for (std::int64_t i = 0; i < n - 1; ++i) ASSERT_EQ(v[i].item<double>(), static_cast<double>(i + 1)) << n;
  }
}

}  // namespace
