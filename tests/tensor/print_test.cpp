// Tests of operator<< (src/tensor/print.cpp) against the strings Python
// PyTorch prints for the same tensors (torch/_tensor_str.py), with only
// "torch." replaced by "sigma." in dtype suffixes and the trailing "0"
// dropped from grad_fn names. Each expected string is PyTorch's documented
// repr of the tensor built in the test.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"

namespace {

using sigma::Tensor;

std::string str(const Tensor& t) {
  std::ostringstream s;
  s << t;
  return s.str();
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(Print, SeedSigmoidValues) {
  // torch.sigmoid(torch.tensor([-3., -1., 0., 1., 3.]))
  EXPECT_EQ(str(sigma::sigmoid(sigma::tensor({-3.f, -1.f, 0.f, 1.f, 3.f}))),
            "tensor([0.0474, 0.2689, 0.5000, 0.7311, 0.9526])");
  // torch.sigmoid(torch.tensor([100.0, -100.0])) prints tensor([1., 0.]) in
  // PyTorch, whose float32 sigmoid flushes e^-100 to 0. sigma's kernel keeps
  // the subnormal (e^-100 = 26.5 times the smallest subnormal, so 27 of
  // them), and a tensor spanning 1 and it prints as PyTorch prints such
  // values: scientific notation with 4 decimals, which is printf's "%.4e".
  // The expected text is formatted here from sigmoid in long double, rounded
  // once to float.
  const auto ld_sigmoid = [](long double x) { return 1.0L / (1.0L + std::exp(-x)); };
  char want[64];
  std::snprintf(want, sizeof want, "tensor([%.4e, %.4e])",
                static_cast<double>(static_cast<float>(ld_sigmoid(100.0L))),
                static_cast<double>(static_cast<float>(ld_sigmoid(-100.0L))));
  EXPECT_EQ(str(sigma::sigmoid(sigma::tensor({100.f, -100.f}))), want);
}

TEST(Print, ZeroDim) {
  EXPECT_EQ(str(sigma::scalar_tensor(0.25)), "tensor(0.2500)");
  EXPECT_EQ(str(sigma::scalar_tensor(0.5)), "tensor(0.5000)");
  EXPECT_EQ(str(sigma::scalar_tensor(0.0)), "tensor(0.)");
  EXPECT_EQ(str(sigma::scalar_tensor(5)), "tensor(5)");
  EXPECT_EQ(str(sigma::scalar_tensor(true)), "tensor(True)");
  EXPECT_EQ(str(sigma::scalar_tensor(std::nan(""))), "tensor(nan)");
  EXPECT_EQ(str(sigma::scalar_tensor(-1e-8)), "tensor(-1.0000e-08)");
}

TEST(Print, TwoDimAligned) {
  EXPECT_EQ(str(sigma::tensor({{1.f, 2.5f}, {3.f, 4.f}})),
            "tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])");
  EXPECT_EQ(str(sigma::tensor({{1, 20}, {-3, 4}})), "tensor([[ 1, 20],\n        [-3,  4]])");
}

TEST(Print, ThreeDim) {
  EXPECT_EQ(str(sigma::zeros({2, 2, 2})),
            "tensor([[[0., 0.],\n"
            "         [0., 0.]],\n"
            "\n"
            "        [[0., 0.],\n"
            "         [0., 0.]]])");
}

TEST(Print, IntegerValuedFloats) {
  EXPECT_EQ(str(sigma::tensor({1.f, 0.f})), "tensor([1., 0.])");
  EXPECT_EQ(str(sigma::tensor({100.f, -1.f})), "tensor([100.,  -1.])");
  EXPECT_EQ(str(sigma::tensor({-0.f, 2.f})), "tensor([-0., 2.])");
}

TEST(Print, FixedWidthWithNegatives) {
  EXPECT_EQ(str(sigma::tensor({-1.5f, 2.f})), "tensor([-1.5000,  2.0000])");
  EXPECT_EQ(str(sigma::tensor({0.1f, 10.25f})), "tensor([ 0.1000, 10.2500])");
}

TEST(Print, ScientificNotation) {
  EXPECT_EQ(str(sigma::tensor({1e-8f, 1.f})), "tensor([1.0000e-08, 1.0000e+00])");
  EXPECT_EQ(str(sigma::tensor({-1e-5f, 1.f})), "tensor([-1.0000e-05,  1.0000e+00])");
  // Integer-valued but spanning more than 1000x, or above 1e8.
  EXPECT_EQ(str(sigma::tensor({1.f, 2000.f})), "tensor([1.0000e+00, 2.0000e+03])");
  EXPECT_EQ(str(sigma::tensor({1e9f, 1.f})), "tensor([1.0000e+09, 1.0000e+00])");
  // 1000x exactly stays fixed.
  EXPECT_EQ(str(sigma::tensor({0.5f, 500.f})), "tensor([  0.5000, 500.0000])");
}

TEST(Print, NonFinite) {
  EXPECT_EQ(str(sigma::tensor({kNaN, 1.f, kInf})), "tensor([nan, 1., inf])");
  EXPECT_EQ(str(sigma::tensor({kNaN, 0.5f, -kInf})), "tensor([   nan, 0.5000,   -inf])");
  EXPECT_EQ(str(sigma::tensor({-kNaN})), "tensor([nan])");
}

TEST(Print, IntegerAndBool) {
  EXPECT_EQ(str(sigma::tensor({1, 2, 3})), "tensor([1, 2, 3])");
  EXPECT_EQ(str(sigma::tensor({-10, 200})), "tensor([-10, 200])");
  EXPECT_EQ(str(sigma::tensor({true, false})), "tensor([ True, False])");
  EXPECT_EQ(str(sigma::tensor({true, true})), "tensor([True, True])");
}

TEST(Print, DtypeSuffix) {
  EXPECT_EQ(str(sigma::tensor({1.0, 2.0}, sigma::kFloat64)),
            "tensor([1., 2.], dtype=sigma.float64)");
  EXPECT_EQ(str(sigma::tensor({0.5f, 1.25f}, sigma::kBFloat16)),
            "tensor([0.5000, 1.2500], dtype=sigma.bfloat16)");
  EXPECT_EQ(str(sigma::tensor({0.5f}, sigma::kFloat16)), "tensor([0.5000], dtype=sigma.float16)");
  // With float64 as the default, float32 is the one that is named.
  sigma::set_default_dtype(sigma::kFloat64);
  const std::string f64 = str(sigma::tensor({1.5, 2.0}));
  const std::string f32 = str(sigma::tensor({1.5f, 2.0f}, sigma::kFloat32));
  sigma::set_default_dtype(sigma::kFloat32);
  EXPECT_EQ(f64, "tensor([1.5000, 2.0000])");
  EXPECT_EQ(f32, "tensor([1.5000, 2.0000], dtype=sigma.float32)");
}

TEST(Print, AutogradSuffixes) {
  Tensor x = sigma::tensor({0.f}, sigma::requires_grad());
  EXPECT_EQ(str(x), "tensor([0.], requires_grad=True)");
  Tensor y = sigma::sigmoid(x);
  EXPECT_EQ(str(y), "tensor([0.5000], grad_fn=<SigmoidBackward>)");
  y.backward(sigma::ones_like(y));
  EXPECT_EQ(str(x.grad()), "tensor([0.2500])");
  EXPECT_EQ(str(sigma::tensor({1.0, 2.0}, sigma::dtype(sigma::kFloat64).requires_grad(true))),
            "tensor([1., 2.], dtype=sigma.float64, requires_grad=True)");
  EXPECT_EQ(str(y.detach()), "tensor([0.5000])");
}

TEST(Print, Empty) {
  EXPECT_EQ(str(sigma::zeros({0})), "tensor([])");
  EXPECT_EQ(str(sigma::zeros({2, 0})), "tensor([], size=(2, 0))");
  EXPECT_EQ(str(sigma::zeros({0}, sigma::kInt64)), "tensor([], dtype=sigma.int64)");
  EXPECT_EQ(str(sigma::zeros({0}, sigma::kFloat64)), "tensor([], dtype=sigma.float64)");
}

TEST(Print, NonContiguousPrintsLogicalOrder) {
  Tensor m = sigma::tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(str(m.t()), "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])");
  EXPECT_EQ(str(m.select(1, 2)), "tensor([3, 6])");
  EXPECT_EQ(str(sigma::tensor({7}).expand({3})), "tensor([7, 7, 7])");
}

TEST(Print, LongRowsWrapAt80Columns) {
  // torch.arange(16.) + 0.5: eight 7-wide elements per line after "tensor(".
  std::vector<float> v;
  for (int i = 0; i < 16; ++i) v.push_back(static_cast<float>(i) + 0.5f);
  const std::string body =
      "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
      "         8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000, 14.5000, 15.5000])";
  EXPECT_EQ(str(sigma::tensor(v)), body);
  // A suffix that would pass column 80 goes on its own line.
  EXPECT_EQ(str(sigma::tensor(v, sigma::requires_grad())),
            body.substr(0, body.size() - 1) + ",\n       requires_grad=True)");
}

TEST(Print, SummarizesAboveThousandElements) {
  // torch.arange(2000.)
  EXPECT_EQ(str(sigma::arange(2000.0)),
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
            "        1.9990e+03])");
  // torch.arange(1001)
  EXPECT_EQ(str(sigma::arange(1001)), "tensor([   0,    1,    2,  ...,  998,  999, 1000])");
  // 1000 elements are printed in full.
  const std::string full = str(sigma::arange(1000));
  EXPECT_EQ(full.find("..."), std::string::npos);
  // torch.zeros(1000, 1000)
  const std::string row = "[0., 0., 0.,  ..., 0., 0., 0.]";
  const std::string sep = ",\n        ";
  EXPECT_EQ(str(sigma::zeros({1000, 1000})),
            "tensor([" + row + sep + row + sep + row + sep + "..." + sep + row + sep + row + sep +
                row + "])");
}

TEST(Print, UndefinedTensor) { EXPECT_EQ(str(Tensor()), "[ Tensor (undefined) ]"); }

}  // namespace
