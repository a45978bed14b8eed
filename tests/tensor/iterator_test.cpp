// Tests of TensorIterator, the element-wise pipeline's front end
// (src/tensor/iterator.cpp): dtype promotion, broadcasting, dense spans,
// given outputs (dense, strided, of another dtype, overlapping an input) and
// its errors. The kernel used is a plain loop written here (out = 2 a + b),
// so every expected value is computed independently in double.
#include "tensor/iterator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::detail::TensorIterator;
using sigma::test::expect_error;
using sigma::test::values;

// out = 2 a + b element-wise through the iterator, returning what it wrote.
Tensor two_a_plus_b(TensorIterator& it) {
  it.for_each_span<2>([](auto, auto out, auto a, auto b) {
    ASSERT_EQ(out.size(), a.size());
    ASSERT_EQ(out.size(), b.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      using T = typename decltype(out)::value_type;
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
        out[i] = 2 * a[i] + b[i];
      else
        out[i] = T{};  // not used with 16-bit types here
    }
  });
  return it.output();
}

TEST(TensorIterator, BroadcastsInputsToOneShape) {
  const Tensor a = sigma::arange(3, sigma::kFloat).reshape({3, 1});  // rows 0, 1, 2
  const Tensor b = sigma::arange(4, sigma::kFloat);                  // columns 0..3
  TensorIterator it("test_op");
  it.add_input(a).add_input(b).build();
  EXPECT_EQ(it.shape(), (sigma::IntArrayRef{3, 4}));
  EXPECT_EQ(it.numel(), 12);
  EXPECT_EQ(it.dtype(), sigma::kFloat);
  EXPECT_TRUE(it.device().is_cpu());
  const Tensor out = two_a_plus_b(it);
  ASSERT_EQ(out.sizes(), (sigma::IntArrayRef{3, 4}));
  const auto v = values(out);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_EQ(v[static_cast<std::size_t>(r * 4 + c)], 2.0 * r + c);
}

TEST(TensorIterator, PromotesDtypes) {
  // float32 with float64: float64.
  TensorIterator mixed("test_op");
  mixed.add_input(sigma::ones({2})).add_input(sigma::ones({2}, sigma::kDouble)).build();
  EXPECT_EQ(mixed.dtype(), sigma::kDouble);
  EXPECT_EQ(two_a_plus_b(mixed).dtype(), sigma::kDouble);
  // int64 with the promotion on: the default dtype, values converted.
  TensorIterator ints("test_op");
  ints.add_input(sigma::tensor({1, 2, 3})).add_input(sigma::tensor({10, 20, 30}))
      .promote_integer_inputs_to_float()
      .build();
  EXPECT_EQ(ints.dtype(), sigma::get_default_dtype());
  EXPECT_EQ(values(two_a_plus_b(ints)), (std::vector<double>{12, 24, 36}));
  // Without it: an error naming the op and the dtype.
  TensorIterator refused("my_op");
  expect_error([&] { refused.add_input(sigma::tensor({1, 2})).build(); },
               {"my_op", "int64", "floating-point"});
  // A forced compute dtype wins over promotion.
  TensorIterator forced("test_op");
  forced.add_input(sigma::ones({2}, sigma::kDouble)).add_input(sigma::ones({2}))
      .compute_dtype(sigma::kFloat)
      .build();
  EXPECT_EQ(forced.dtype(), sigma::kFloat);
}

TEST(TensorIterator, DenseInputsAreNotCopied) {
  const Tensor a = sigma::arange(6, sigma::kDouble);
  TensorIterator it("test_op");
  it.add_input(a).add_input(a).build();
  const double* seen = nullptr;
  it.for_each_span<2>([&](auto, auto out, auto x, auto) {
    if constexpr (std::is_same_v<typename decltype(out)::value_type, double>) seen = x.data();
  });
  EXPECT_EQ(seen, a.data_ptr<double>());
}

TEST(TensorIterator, StridedInputsAreReadInOrder) {
  const Tensor base = sigma::arange(6, sigma::kFloat).reshape({2, 3});
  const Tensor t = base.t();  // [3, 2], not contiguous
  TensorIterator it("test_op");
  it.add_input(t).add_input(sigma::zeros({3, 2})).build();
  const auto v = values(two_a_plus_b(it));
  // t[i][j] = base[j][i] = 3 j + i.
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) EXPECT_EQ(v[static_cast<std::size_t>(i * 2 + j)], 2.0 * (3 * j + i));
}

TEST(TensorIterator, WritesADenseOutputDirectly) {
  Tensor out = sigma::zeros({4});
  const auto version = out._version();
  const float* where = out.data_ptr<float>();
  TensorIterator it("test_op");
  it.add_output(out).add_input(sigma::ones({4})).add_input(sigma::arange(4, sigma::kFloat)).build();
  float* written = nullptr;
  it.for_each_span<2>([&](auto, auto o, auto a, auto b) {
    if constexpr (std::is_same_v<typename decltype(o)::value_type, float>) {
      written = o.data();
      for (std::size_t i = 0; i < o.size(); ++i) o[i] = 2 * a[i] + b[i];
    }
  });
  EXPECT_EQ(written, where);
  EXPECT_TRUE(it.output().is_same(out));
  EXPECT_EQ(values(out), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_GT(out._version(), version);
}

TEST(TensorIterator, StridedOrOtherDtypeOutputsGoThroughATemporary) {
  // A transposed output: values land at the right places.
  Tensor base = sigma::zeros({3, 2});
  Tensor out = base.t();  // [2, 3] view
  TensorIterator it("test_op");
  it.add_output(out).add_input(sigma::arange(6, sigma::kFloat).reshape({2, 3}))
      .add_input(sigma::zeros({2, 3}))
      .build();
  two_a_plus_b(it);
  const auto v = values(base);  // base[j][i] = out[i][j] = 2 (3 i + j)
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 2; ++i) EXPECT_EQ(v[static_cast<std::size_t>(j * 2 + i)], 2.0 * (3 * i + j));
  // A float64 output for float32 inputs: computed in float32, stored as float64.
  Tensor wide = sigma::zeros({2}, sigma::kDouble);
  TensorIterator w("test_op");
  w.add_output(wide).add_input(sigma::full({2}, 0.1f)).add_input(sigma::zeros({2})).build();
  EXPECT_EQ(w.dtype(), sigma::kFloat);
  two_a_plus_b(w);
  EXPECT_EQ(values(wide)[0], static_cast<double>(2 * 0.1f));
}

TEST(TensorIterator, AnOutputOverlappingAnInputIsNotReadAfterWriting) {
  // out = x[1:], input x[:-1]: a direct write would read overwritten values.
  Tensor x = sigma::arange(5, sigma::kDouble);
  Tensor out = x.slice(0, 1);
  TensorIterator it("test_op");
  it.add_output(out).add_input(x.slice(0, 0, 4)).add_input(sigma::zeros({4}, sigma::kDouble)).build();
  two_a_plus_b(it);
  EXPECT_EQ(values(x), (std::vector<double>{0, 0, 2, 4, 6}));
  // In place (out is the input itself) is written directly.
  Tensor y = sigma::arange(3, sigma::kDouble);
  TensorIterator in_place("test_op");
  in_place.add_output(y).add_input(y).add_input(y).build();
  two_a_plus_b(in_place);
  EXPECT_EQ(values(y), (std::vector<double>{0, 3, 6}));
}

TEST(TensorIterator, Errors) {
  expect_error([] { TensorIterator("my_op").add_input(Tensor()); }, {"my_op", "input", "undefined"});
  expect_error([] { TensorIterator("my_op").add_input(sigma::ones({1})).add_input(Tensor(), "target"); },
               {"my_op", "target", "undefined"});
  expect_error([] { TensorIterator("my_op").build(); }, {"my_op", "needs an input"});
  expect_error([] { TensorIterator("my_op").add_input(sigma::ones({2})).add_input(sigma::ones({3})).build(); },
               {"my_op", "[2]", "[3]", "broadcast"});
  Tensor small = sigma::zeros({2});
  expect_error([&] { TensorIterator("my_op").add_output(small).add_input(sigma::ones({2, 2})).build(); },
               {"my_op", "output", "[2]", "[2, 2]"});
  Tensor ints = sigma::zeros({2}, sigma::kLong);
  expect_error([&] { TensorIterator("my_op").add_output(ints).add_input(sigma::ones({2})).build(); },
               {"my_op", "int64", "floating-point output"});
  TensorIterator not_built("my_op");
  not_built.add_input(sigma::ones({2}));
  expect_error([&] { not_built.for_each_span<1>([](auto...) {}); }, {"my_op", "before build"});
  TensorIterator two("my_op");
  two.add_input(sigma::ones({2})).add_input(sigma::ones({2})).build();
  expect_error([&] { two.for_each_span<1>([](auto...) {}); }, {"my_op", "1 inputs", "2 given"});
}

// The element loop: a scalar lambda over the broadcast views, in any dtype
// with all_dtypes(), writing bool with bool_output().
TEST(TensorIterator, ElementLoopComputesInIntegralAndFloatingDtypes) {
  // int64 a [3, 1] and b [4], wrapping arithmetic not needed: small values.
  const Tensor a = sigma::arange(3, sigma::kLong).reshape({3, 1});
  const Tensor b = sigma::arange(4, sigma::kLong);
  TensorIterator it("test_op");
  it.add_input(a).add_input(b).all_dtypes().build();
  EXPECT_EQ(it.dtype(), sigma::kLong);
  it.for_each_element<2, sigma::detail::Types::All>([](auto tag) {
    using C = typename decltype(tag)::type;
    return [](C x, C y) { return C(2) * x + y; };
  });
  const Tensor out = it.output();
  ASSERT_EQ(out.dtype(), sigma::kLong);
  const auto v = values(out);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_EQ(v[static_cast<std::size_t>(r * 4 + c)], 2.0 * r + c);
  // Mixed bf16 and float32 inputs compute in float32 (bf16 converted exactly).
  TensorIterator mixed("test_op");
  mixed.add_input(sigma::full({2}, 0.5, sigma::kBFloat16)).add_input(sigma::full({2}, 0.25)).build();
  EXPECT_EQ(mixed.dtype(), sigma::kFloat);
  mixed.for_each_element<2>([](auto tag) {
    using C = typename decltype(tag)::type;
    return [](C x, C y) { return C(2) * x + y; };
  });
  EXPECT_EQ(values(mixed.output()), (std::vector<double>{1.25, 1.25}));
}

TEST(TensorIterator, ElementLoopWritesBool) {
  TensorIterator it("test_op");
  it.add_input(sigma::arange(4, sigma::kDouble)).add_input(sigma::full({1}, 1.5, sigma::kDouble))
      .bool_output().build();
  it.for_each_element<2, sigma::detail::Types::Floating, sigma::detail::Out::Bool>([](auto tag) {
    using C = typename decltype(tag)::type;
    return [](C x, C y) { return x > y; };
  });
  ASSERT_EQ(it.output().dtype(), sigma::kBool);
  EXPECT_EQ(values(it.output()), (std::vector<double>{0, 0, 1, 1}));
  // A loop whose dtypes differ from the iterator's is an internal error.
  TensorIterator wrong("test_op");
  wrong.add_input(sigma::ones({2})).build();
  expect_error([&] {
    wrong.for_each_element<1, sigma::detail::Types::All>([](auto tag) {
      using C = typename decltype(tag)::type;
      return [](C x) { return x; };
    });
  }, {"test_op", "dtypes"});
}

TEST(TensorIterator, ElementLoopInPlaceReadsOverlappingViewsFromACopy) {
  // x[1:] = 2 x[:-1] + 0 in place: reading x[:-1] while writing x[1:] would
  // see written values; the loop must read a copy.
  Tensor x = sigma::arange(5, sigma::kDouble);
  Tensor out = x.slice(0, 1);
  TensorIterator it("test_op");
  it.add_output(out).add_input(x.slice(0, 0, 4)).add_input(sigma::zeros({4}, sigma::kDouble)).build();
  it.for_each_element<2>([](auto tag) {
    using C = typename decltype(tag)::type;
    return [](C a, C b) { return C(2) * a + b; };
  });
  EXPECT_EQ(values(x), (std::vector<double>{0, 0, 2, 4, 6}));
  // A strided output of its own dtype is written where it is (every other
  // element of a row), and the version is bumped.
  Tensor y = sigma::zeros({6}, sigma::kDouble);
  Tensor every_other = y.slice(0, 0, 6, 2);
  const auto before = y._version();
  TensorIterator strided("test_op");
  strided.add_output(every_other).add_input(sigma::arange(3, sigma::kDouble)).build();
  strided.for_each_element<1>([](auto tag) {
    using C = typename decltype(tag)::type;
    return [](C a) { return a + C(1); };
  });
  EXPECT_EQ(values(y), (std::vector<double>{1, 0, 2, 0, 3, 0}));
  EXPECT_GT(y._version(), before);
}

TEST(TensorIterator, EmptyTensors) {
  TensorIterator it("test_op");
  it.add_input(sigma::zeros({0, 3})).add_input(sigma::zeros({3})).build();
  EXPECT_EQ(it.numel(), 0);
  EXPECT_EQ(two_a_plus_b(it).sizes(), (sigma::IntArrayRef{0, 3}));
}

}  // namespace
