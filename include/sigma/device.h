// sigma/device.h: where a tensor's memory lives, as torch::Device.
//
// sigma has one backend, the CPU, so every tensor is on kCPU. The type exists
// so that code written against LibTorch (`torch::Device device(torch::kCPU);
// x.to(device)`) ports unchanged, and so that a second backend has a place to
// go: a device names an allocator and a column of the kernel table
// (docs/ARCHITECTURE.md, "Devices"). Asking for any other device gives a clear
// sigma::Error when a tensor would be made there.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace sigma {

enum class DeviceType : std::int8_t { CPU = 0, CUDA = 1 };
inline constexpr DeviceType kCPU = DeviceType::CPU;
inline constexpr DeviceType kCUDA = DeviceType::CUDA;

// "cpu" or "cuda".
const char* to_string(DeviceType t) noexcept;

class Device {
 public:
  using DeviceIndex = std::int8_t;
  // A device of type t; index -1 means "the current one" (as in LibTorch).
  // A CPU device's index must be -1 or 0, any index -1 or more; else sigma::Error.
  Device(DeviceType t, DeviceIndex index = -1) : type_(t), index_(index) {  // NOLINT: implicit, as torch::Device
    if (index < -1 || (t == DeviceType::CPU && index > 0)) throw_bad_index(index);
  }
  // From a string as PyTorch writes devices: "cpu", "cuda", "cuda:1";
  // sigma::Error naming the string otherwise.
  Device(const std::string& spec);  // NOLINT: implicit, as torch::Device

  DeviceType type() const noexcept { return type_; }
  DeviceIndex index() const noexcept { return index_; }
  bool has_index() const noexcept { return index_ != -1; }
  bool is_cpu() const noexcept { return type_ == kCPU; }
  bool is_cuda() const noexcept { return type_ == kCUDA; }
  // "cpu", "cuda", "cuda:1".
  std::string str() const;

  friend bool operator==(const Device& a, const Device& b) noexcept {
    return a.type_ == b.type_ && a.index_ == b.index_;
  }

 private:
  // Inline above: every new tensor makes a Device, and a small op has few
  // nanoseconds to spare; the error is out of line.
  [[noreturn]] static void throw_bad_index(DeviceIndex index);
  DeviceType type_;
  DeviceIndex index_;
};

std::ostream& operator<<(std::ostream& os, const Device& d);
std::ostream& operator<<(std::ostream& os, DeviceType t);

}  // namespace sigma
