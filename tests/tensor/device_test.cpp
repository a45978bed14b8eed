// Tests of sigma::Device, the device in TensorOptions and on tensors, and the
// backend check of the creation functions and to() (src/tensor/device.cpp).
// The expected strings are PyTorch's spellings of devices.
#include "sigma/device.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Device;
using sigma::Tensor;
using sigma::test::expect_error;

TEST(Device, ParsesAndPrintsPyTorchsSpellings) {
  struct Case {
    const char* spec;
    sigma::DeviceType type;
    int index;
  };
  for (const Case& c : {Case{"cpu", sigma::kCPU, -1}, Case{"cpu:0", sigma::kCPU, 0},
                        Case{"cuda", sigma::kCUDA, -1}, Case{"cuda:3", sigma::kCUDA, 3},
                        Case{"cuda:127", sigma::kCUDA, 127}}) {
    const Device d{std::string(c.spec)};
    EXPECT_EQ(d.type(), c.type) << c.spec;
    EXPECT_EQ(d.index(), c.index) << c.spec;
    EXPECT_EQ(d.has_index(), c.index != -1) << c.spec;
    EXPECT_EQ(d.str(), c.spec);
    std::ostringstream os;
    os << d;
    EXPECT_EQ(os.str(), c.spec);
  }
  EXPECT_TRUE(Device(sigma::kCPU).is_cpu());
  EXPECT_TRUE(Device(sigma::kCUDA, 1).is_cuda());
  EXPECT_TRUE(Device(sigma::kCPU) == Device("cpu"));
  EXPECT_FALSE(Device(sigma::kCUDA, 0) == Device(sigma::kCUDA, 1));
}

TEST(Device, RejectsWhatIsNotADevice) {
  for (const char* spec : {"", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:x", "cuda:1x", "cuda:128",
                           "cuda:99999999999", "cpu:1"}) {
    expect_error([&] { Device d{std::string(spec)}; }, {"Device"});
  }
  expect_error([] { Device d(sigma::kCPU, 2); }, {"Device", "CPU", "2"});
  expect_error([] { Device d(sigma::kCUDA, -2); }, {"Device", "-2"});
}

TEST(Device, TensorsLiveOnTheCpu) {
  const Tensor x = sigma::ones({2, 3});
  EXPECT_TRUE(x.device() == Device(sigma::kCPU));
  EXPECT_TRUE(x.is_cpu());
  EXPECT_FALSE(x.is_cuda());
  EXPECT_TRUE(x.options().device() == Device(sigma::kCPU));
  EXPECT_EQ(x.options().dtype(), sigma::kFloat);
  // Views and results of ops share the device.
  EXPECT_TRUE(x.t().device().is_cpu());
  EXPECT_TRUE((x * 2).sigmoid().device().is_cpu());
}

TEST(Device, OptionsCarryTheDevice) {
  EXPECT_FALSE(sigma::TensorOptions().has_device());
  EXPECT_TRUE(sigma::TensorOptions().device() == Device(sigma::kCPU));  // the default
  const auto o = sigma::dtype(sigma::kDouble).device(Device("cpu:0"));
  EXPECT_TRUE(o.has_device());
  EXPECT_EQ(o.device().index(), 0);
  EXPECT_EQ(o.dtype(), sigma::kDouble);
  const Tensor z = sigma::zeros({3}, sigma::device(sigma::kCPU).dtype(sigma::kDouble));
  EXPECT_EQ(z.dtype(), sigma::kDouble);
  EXPECT_TRUE(z.is_cpu());
}

TEST(Device, ToTheCpuIsTheSameTensor) {
  const Tensor x = sigma::arange(6, sigma::kFloat).reshape({2, 3}).requires_grad_();
  EXPECT_TRUE(x.to(sigma::kCPU).is_same(x));
  EXPECT_TRUE(x.to(Device("cpu")).is_same(x));
  EXPECT_TRUE(x.cpu().is_same(x));
  const Tensor c = x.to(sigma::kCPU, sigma::kFloat, /*copy=*/true);
  EXPECT_FALSE(c.is_same(x));
  EXPECT_FALSE(c.is_alias_of(x));
  EXPECT_TRUE(c.equal(x));
  const Tensor d = x.to(Device("cpu"), sigma::kDouble);
  EXPECT_EQ(d.dtype(), sigma::kDouble);
  d.sum().backward();  // the conversion stays on the graph
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(x.grad().equal(sigma::ones({2, 3})));
}

TEST(Device, AnotherDeviceIsAClearError) {
  const Device gpu("cuda:0");
  expect_error([&] { sigma::zeros({2}, sigma::device(gpu)); }, {"zeros", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::empty({2}, gpu); }, {"empty", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::ones({2}, sigma::dtype(sigma::kDouble).device(gpu)); }, {"ones", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::full({2}, 1.5, sigma::device(gpu)); }, {"full", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::arange(3, sigma::device(gpu)); }, {"arange", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::linspace(0, 1, 3, sigma::device(gpu)); }, {"linspace", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::eye(2, sigma::device(gpu)); }, {"eye", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::tensor({1.0f, 2.0f}, sigma::device(gpu)); }, {"tensor", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::randn({2}, sigma::device(gpu)); }, {"randn", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::rand({2}, sigma::device(gpu)); }, {"rand", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::randint(5, {2}, sigma::device(gpu)); }, {"randint", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::randperm(4, sigma::device(gpu)); }, {"randperm", "cuda:0", "CPU backend only"});
  const Tensor x = sigma::ones({2});
  expect_error([&] { (void)x.to(sigma::kCUDA); }, {"to", "cuda", "CPU backend only"});
  expect_error([&] { (void)x.to(gpu, sigma::kFloat); }, {"to", "cuda:0", "CPU backend only"});
  expect_error([&] { sigma::zeros_like(x, sigma::device(gpu)); }, {"zeros", "cuda:0", "CPU backend only"});
}

}  // namespace
