// device.cpp: sigma::Device (parsing, printing) and the backend check that
// every allocation of a tensor passes through.
#include "sigma/device.h"

#include <charconv>
#include <ostream>

#include "sigma/error.h"
#include "tensor/tensor_impl.h"

namespace sigma {

const char* to_string(DeviceType t) noexcept {
  switch (t) {
    case DeviceType::CPU: return "cpu";
    case DeviceType::CUDA: return "cuda";
  }
  return "unknown";
}

void Device::throw_bad_index(DeviceIndex index) {
  if (index < -1)
    throw Error("Device: the index must be -1 (the current device) or more, got " +
                std::to_string(index));
  throw Error("Device: a CPU device's index must be -1 or 0, got " + std::to_string(index));
}

namespace {
Device parse_device(const std::string& spec) {
  const auto bad = [&spec](const char* why) {
    return Error("Device: \"" + spec + "\" is not a device (" + why +
                 "; expected \"cpu\", \"cuda\" or \"cuda:N\")");
  };
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  DeviceType type;
  if (name == "cpu") type = kCPU;
  else if (name == "cuda") type = kCUDA;
  else throw bad("unknown device type");
  if (colon == std::string::npos) return Device(type);
  const char* first = spec.data() + colon + 1;
  const char* last = spec.data() + spec.size();
  int index = -1;
  const auto [end, ec] = std::from_chars(first, last, index);
  if (first == last || ec != std::errc() || end != last || index < 0 || index > 127)
    throw bad("the index must be an integer from 0 to 127");
  return Device(type, static_cast<Device::DeviceIndex>(index));
}
}  // namespace

Device::Device(const std::string& spec) : Device(parse_device(spec)) {}

std::string Device::str() const {
  std::string s = to_string(type_);
  if (has_index()) {
    s += ':';
    s += std::to_string(index_);
  }
  return s;
}

std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }
std::ostream& operator<<(std::ostream& os, DeviceType t) { return os << to_string(t); }

void check_backend(const char* op, Device d) {
  if (!d.is_cpu())
    throw Error(std::string(op) + ": no backend for device " + d.str() +
                ": this build of sigma has the CPU backend only");
}

}  // namespace sigma
