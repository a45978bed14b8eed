// Tests of the element-wise kernel table (src/kernels/table.cpp): every op of
// SIGMA_OP_LIST routes, for every storage type, to that op's own span
// function (compared bit for bit with the public function called by name,
// a mapping written out here independently of the generated table), the
// wrong arity and other devices are clear errors, and the parameters
// (softplus's beta and threshold, logit's eps) reach the kernels.
#include "kernels/table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sigma/kernels.h"
#include "sigma/op_list.h"
#include "tensor_checks.h"

namespace {

using sigma::Op;
using sigma::test::expect_error;

// Inputs across the range: specials, tiny, moderate and huge magnitudes.
std::vector<double> sample_inputs() {
  std::vector<double> v = {0.0, -0.0, 1e-30, -1e-30, 0.5, -0.5, 3.0, -3.0, 17.5, -17.5,
                           88.0, -88.0, 1e4, -1e4, HUGE_VAL, -HUGE_VAL, NAN};
  for (int i = -40; i <= 40; ++i) v.push_back(0.37 * i);
  return v;
}

template <class T> std::vector<T> as(const std::vector<double>& v) {
  std::vector<T> out;
  for (double d : v) {
    const auto f = static_cast<float>(d);
    if constexpr (std::is_same_v<T, sigma::bfloat16>) out.push_back(sigma::to_bfloat16(f));
    else if constexpr (std::is_same_v<T, sigma::float16>) out.push_back(sigma::to_float16(f));
    else out.push_back(static_cast<T>(d));
  }
  return out;
}

template <class T> bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// The public span functions by op name, written out by hand.
template <class T> using Unary = std::function<void(std::span<const T>, std::span<T>)>;
template <class T>
using Binary = std::function<void(std::span<const T>, std::span<const T>, std::span<T>)>;

template <class T> std::map<std::string, Unary<T>> unary_by_name() {
  return {{"sigmoid", [](auto x, auto y) { sigma::sigmoid(x, y); }},
          {"log_sigmoid", [](auto x, auto y) { sigma::log_sigmoid(x, y); }},
          {"softplus", [](auto x, auto y) { sigma::softplus(x, y); }},
          {"silu", [](auto x, auto y) { sigma::silu(x, y); }},
          {"tanh", [](auto x, auto y) { sigma::tanh(x, y); }},
          {"hardsigmoid", [](auto x, auto y) { sigma::hardsigmoid(x, y); }},
          {"logit", [](auto x, auto y) { sigma::logit(x, y); }}};
}
template <class T> std::map<std::string, Binary<T>> binary_by_name() {
  return {{"sigmoid_backward", [](auto a, auto b, auto c) { sigma::sigmoid_backward(a, b, c); }},
          {"sigmoid_backward_from_input",
           [](auto a, auto b, auto c) { sigma::sigmoid_backward_from_input(a, b, c); }},
          {"log_sigmoid_backward",
           [](auto a, auto b, auto c) { sigma::log_sigmoid_backward(a, b, c); }},
          {"softplus_backward", [](auto a, auto b, auto c) { sigma::softplus_backward(a, b, c); }},
          {"silu_backward", [](auto a, auto b, auto c) { sigma::silu_backward(a, b, c); }},
          {"tanh_backward", [](auto a, auto b, auto c) { sigma::tanh_backward(a, b, c); }},
          {"hardsigmoid_backward",
           [](auto a, auto b, auto c) { sigma::hardsigmoid_backward(a, b, c); }},
          {"logit_backward", [](auto a, auto b, auto c) { sigma::logit_backward(a, b, c); }}};
}

template <class T> void check_every_op() {
  const auto x = as<T>(sample_inputs());
  std::vector<double> dyd(sample_inputs().size());
  for (std::size_t i = 0; i < dyd.size(); ++i) dyd[i] = 0.25 + 0.125 * static_cast<double>(i % 7);
  const auto dy = as<T>(dyd);
  const auto unary = unary_by_name<T>();
  const auto binary = binary_by_name<T>();
  ASSERT_EQ(unary.size() + binary.size(), static_cast<std::size_t>(sigma::op_count))
      << "an op of SIGMA_OP_LIST is missing from this test's table";
  for (int i = 0; i < sigma::op_count; ++i) {
    const Op op = static_cast<Op>(i);
    const std::string name(sigma::op_name(op));
    std::vector<T> got(x.size()), want(x.size());
    if (sigma::op_arity_of(op) == 1) {
      ASSERT_EQ(unary.count(name), 1u) << name;
      sigma::detail::unary_kernel<T>(op, sigma::kCPU)(x, got, {});
      unary.at(name)(x, want);
      expect_error([&] { sigma::detail::binary_kernel<T>(op, sigma::kCPU); }, {name, "two-operand"});
    } else {
      ASSERT_EQ(binary.count(name), 1u) << name;
      sigma::detail::binary_kernel<T>(op, sigma::kCPU)(dy, x, got, {});
      binary.at(name)(dy, x, want);
      expect_error([&] { sigma::detail::unary_kernel<T>(op, sigma::kCPU); }, {name, "one-operand"});
    }
    EXPECT_TRUE(same_bits(got, want)) << name;
  }
}

TEST(KernelTable, EveryOpRoutesToItsKernelF32) { check_every_op<float>(); }
TEST(KernelTable, EveryOpRoutesToItsKernelF64) { check_every_op<double>(); }
TEST(KernelTable, EveryOpRoutesToItsKernelBF16) { check_every_op<sigma::bfloat16>(); }
TEST(KernelTable, EveryOpRoutesToItsKernelF16) { check_every_op<sigma::float16>(); }

TEST(KernelTable, SoftplusParametersReachTheKernel) {
  const auto x = as<float>(sample_inputs());
  std::vector<float> got(x.size()), want(x.size());
  sigma::detail::unary_kernel<float>(Op::softplus, sigma::kCPU)(x, got, {2.0, 5.0});
  sigma::softplus(std::span<const float>(x), std::span<float>(want), 2.0f, 5.0f);
  EXPECT_TRUE(same_bits(got, want));
  std::vector<double> xd = sample_inputs(), dy(xd.size(), 1.5), g(xd.size()), w(xd.size());
  sigma::detail::binary_kernel<double>(Op::softplus_backward, sigma::kCPU)(dy, xd, g, {0.5, 3.0});
  sigma::softplus_backward(std::span<const double>(dy), std::span<const double>(xd),
                           std::span<double>(w), 0.5, 3.0);
  EXPECT_TRUE(same_bits(g, w));
  // And they matter: beta 2 differs from the default somewhere.
  std::vector<float> plain(x.size());
  sigma::softplus(std::span<const float>(x), std::span<float>(plain));
  EXPECT_FALSE(same_bits(got, plain));
}

TEST(KernelTable, LogitEpsReachesTheKernel) {
  const std::vector<double> x = {-0.5, 0.0, 0.02, 0.3, 0.5, 0.97, 1.0, 1.5};
  std::vector<double> got(x.size()), want(x.size()), plain(x.size());
  sigma::detail::KernelParams p;
  p.eps = 0.05;
  sigma::detail::unary_kernel<double>(Op::logit, sigma::kCPU)(x, got, p);
  sigma::logit(std::span<const double>(x), std::span<double>(want), 0.05);
  sigma::detail::unary_kernel<double>(Op::logit, sigma::kCPU)(x, plain, {});
  EXPECT_TRUE(same_bits(got, want));
  EXPECT_FALSE(same_bits(got, plain));  // the default clamps nothing
  std::vector<float> xf(x.begin(), x.end()), dy(x.size(), 1.0f), g(x.size()), w(x.size());
  sigma::detail::binary_kernel<float>(Op::logit_backward, sigma::kCPU)(dy, xf, g, p);
  sigma::logit_backward(std::span<const float>(dy), std::span<const float>(xf), std::span<float>(w),
                        0.05);
  EXPECT_TRUE(same_bits(g, w));
}

TEST(KernelTable, OnlyTheCpuHasKernels) {
  expect_error([] { sigma::detail::unary_kernel<float>(Op::sigmoid, sigma::Device("cuda:0")); },
               {"sigmoid", "cuda:0", "CPU backend only"});
  expect_error(
      [] { sigma::detail::binary_kernel<double>(Op::tanh_backward, sigma::Device(sigma::kCUDA)); },
      {"tanh_backward", "cuda", "CPU backend only"});
  expect_error([] { sigma::detail::unary_kernel<float>(static_cast<Op>(sigma::op_count), sigma::kCPU); },
               {"kernel table", "no op"});
}

}  // namespace
