// from_blob, int32 tensors and the stream forms of sizes and dtypes: the
// LibTorch construction idioms (src/tensor/factory.cpp, tensor_impl.cpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/ops.h"
#include "sigma/serialize.h"

namespace {

TEST(FromBlob, SharesMemoryBothWays) {
  std::vector<float> buf{1, 2, 3, 4, 5, 6};
  sigma::Tensor t = sigma::from_blob(buf.data(), {2, 3});
  EXPECT_EQ(t.dtype(), sigma::kFloat32);
  EXPECT_EQ(t.data_ptr<float>(), buf.data());
  EXPECT_EQ(t[1][2].item<float>(), 6.0f);
  buf[4] = 50;  // the tensor sees the caller's writes
  EXPECT_EQ(t[1][1].item<float>(), 50.0f);
  t.mul_(2);  // and the caller sees the tensor's
  EXPECT_EQ(buf, (std::vector<float>{2, 4, 6, 8, 100, 12}));
  // Ops on it make new tensors; the blob is untouched by them.
  const sigma::Tensor s = t.sigmoid();
  EXPECT_NE(s.data_ptr<float>(), buf.data());
}

TEST(FromBlob, StridesDtypeAndRequiresGrad) {
  std::vector<double> buf{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  // Every other column of a [3, 4] row-major matrix: [3, 2] with strides (4, 2).
  sigma::Tensor t = sigma::from_blob(buf.data(), {3, 2}, {4, 2},
                                     sigma::TensorOptions().dtype(sigma::kFloat64).requires_grad(true));
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(t.requires_grad());
  EXPECT_TRUE(t.is_leaf());
  t.mul(t).sum().backward();
  EXPECT_EQ(t.grad().to_vector<double>(), (std::vector<double>{0, 4, 8, 12, 16, 20}));
}

TEST(FromBlob, DeleterRunsOnceWhenTheLastViewGoes) {
  int calls = 0;
  void* seen = nullptr;
  auto* raw = new std::int64_t[4]{1, 2, 3, 4};
  {
    sigma::Tensor t = sigma::from_blob(
        raw, {4},
        [&](void* p) {
          ++calls;
          seen = p;
          delete[] static_cast<std::int64_t*>(p);
        },
        sigma::kInt64);
    sigma::Tensor view = t.slice(0, 1, 3);
    t = sigma::Tensor();
    EXPECT_EQ(calls, 0);  // the view still holds the memory
    EXPECT_EQ(view.to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 3}));
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, static_cast<void*>(raw));
}

TEST(FromBlob, BadArgumentsAreErrorsThatSayWhy) {
  std::vector<float> buf(8);
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const sigma::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { sigma::from_blob(nullptr, {2}); }).find("null"), std::string::npos);
  EXPECT_NE(message([&] { sigma::from_blob(buf.data(), {2, -1}); }).find("negative"),
            std::string::npos);
  EXPECT_NE(message([&] { sigma::from_blob(buf.data(), {2, 2}, {2}); }).find("strides"),
            std::string::npos);
  auto* odd = reinterpret_cast<char*>(buf.data()) + 2;
  EXPECT_NE(message([&] { sigma::from_blob(odd, {2}); }).find("aligned"), std::string::npos);
  // An empty blob needs no memory.
  EXPECT_EQ(sigma::from_blob(nullptr, {0, 3}).numel(), 0);
}

TEST(Int32, MadeConvertedPrintedAndSaved) {
  std::vector<std::int32_t> buf{-3, 0, 7, 2147483647};
  sigma::Tensor t = sigma::from_blob(buf.data(), {4}, sigma::kInt32);
  EXPECT_EQ(t.dtype(), sigma::kInt);
  EXPECT_EQ(t.element_size(), 4u);
  EXPECT_EQ(t.to_vector<std::int32_t>(), buf);
  EXPECT_EQ(t.to(sigma::kLong).to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{-3, 0, 7, 2147483647}));
  EXPECT_EQ(t.to(sigma::kFloat64).to_vector<double>(), (std::vector<double>{-3, 0, 7, 2147483647.0}));
  EXPECT_EQ(t[2].item<std::int32_t>(), 7);
  EXPECT_EQ(t[3].item<std::int64_t>(), 2147483647);
  // Floats to int32 truncate toward zero; NaN and out-of-range values saturate.
  const auto f = sigma::tensor({-2.7, 2.7, 3e10, -3e10}, sigma::kFloat64).to(sigma::kInt);
  EXPECT_EQ(f.to_vector<std::int32_t>(),
            (std::vector<std::int32_t>{-2, 2, 2147483647, -2147483647 - 1}));
  std::ostringstream os;
  os << sigma::tensor({1, 2, 3}, sigma::kInt32);
  EXPECT_EQ(os.str(), "tensor([1, 2, 3], dtype=sigma.int32)");
  EXPECT_EQ(sigma::zeros({2}, sigma::kInt).to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 0}));
  EXPECT_EQ(sigma::full({2}, 5, sigma::kInt).to_vector<std::int32_t>(), (std::vector<std::int32_t>{5, 5}));
  EXPECT_EQ(sigma::promote_types(sigma::kInt, sigma::kBool), sigma::kInt);
  EXPECT_EQ(sigma::promote_types(sigma::kInt, sigma::kLong), sigma::kLong);
  EXPECT_EQ(sigma::promote_types(sigma::kInt, sigma::kHalf), sigma::kHalf);
  // Computing on int32 asks for a conversion, naming the op and the dtype.
  try {
    (void)(t + t);
    ADD_FAILURE() << "int32 + int32 computed";
  } catch (const sigma::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("int32"), std::string::npos) << m;
    EXPECT_NE(m.find(".to(sigma::kLong)"), std::string::npos) << m;
  }
  // Mixed with a floating operand it is promoted, as in PyTorch.
  EXPECT_EQ((t.slice(0, 0, 3) * 0.5).to_vector<float>(), (std::vector<float>{-1.5f, 0.0f, 3.5f}));
}

TEST(Int32, SafetensorsRoundTrip) {
  const auto path = std::filesystem::temp_directory_path() / "sigma_int32_test.safetensors";
  const sigma::Tensor t = sigma::tensor({4, -5, 6}).to(sigma::kInt32);
  sigma::OrderedDict<std::string, sigma::Tensor> dict;
  dict.insert("ids", t);
  sigma::save(dict, path);
  const auto back = sigma::load_tensors(path);
  std::filesystem::remove(path);
  ASSERT_EQ(back["ids"].dtype(), sigma::kInt32);
  EXPECT_EQ(back["ids"].to_vector<std::int32_t>(), (std::vector<std::int32_t>{4, -5, 6}));
}

TEST(StreamForms, SizesAndDtypesPrintAsLibTorchPrintsThem) {
  std::ostringstream os;
  const sigma::Tensor x = sigma::zeros({2, 3, 4});
  os << x.sizes() << " " << x.dtype() << " " << sigma::kInt32 << " " << x.to(sigma::kLong).dtype()
     << " " << sigma::IntArrayRef{};
  EXPECT_EQ(os.str(), "[2, 3, 4] Float Int Long []");
  // options() chains as LibTorch's do.
  const sigma::Tensor y = sigma::ones({2}, x.options().dtype(sigma::kFloat64).requires_grad(true));
  EXPECT_EQ(y.dtype(), sigma::kFloat64);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(sigma::ones_like(x, x.options().dtype(sigma::kInt)).dtype(), sigma::kInt32);
}

}  // namespace
