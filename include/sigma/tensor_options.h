// sigma/tensor_options.h: dtype, device and requires_grad for creation
// functions, as torch::TensorOptions: sigma::zeros({2, 3},
// sigma::dtype(sigma::kFloat64).requires_grad(true)). The device defaults to
// the CPU, the only backend; a factory asked for another throws sigma::Error.
#pragma once

#include <optional>

#include "sigma/device.h"
#include "sigma/scalar_type.h"

namespace sigma {

// The dtype creation functions use when none is given (float32, as PyTorch).
ScalarType get_default_dtype() noexcept;
// Only float32 and float64 are accepted; anything else throws sigma::Error.
void set_default_dtype(ScalarType t);

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(ScalarType t) : dtype_(t), has_dtype_(true) {}  // NOLINT: as torch::TensorOptions(kFloat)
  TensorOptions(Device d) : device_(d), has_device_(true) {}     // NOLINT: as torch::TensorOptions(kCPU)
  TensorOptions(DeviceType d) : TensorOptions(Device(d)) {}      // NOLINT

  TensorOptions dtype(ScalarType t) const {
    TensorOptions o = *this;
    o.dtype_ = t;
    o.has_dtype_ = true;
    return o;
  }
  TensorOptions device(Device d) const {
    TensorOptions o = *this;
    o.device_ = d;
    o.has_device_ = true;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }
  bool has_dtype() const noexcept { return has_dtype_; }
  // The dtype given, else the default dtype.
  ScalarType dtype() const noexcept { return has_dtype_ ? dtype_ : get_default_dtype(); }
  std::optional<ScalarType> dtype_opt() const noexcept {
    return has_dtype_ ? std::optional<ScalarType>(dtype_) : std::nullopt;
  }
  bool has_device() const noexcept { return has_device_; }
  // The device given, else the CPU.
  Device device() const noexcept { return device_; }
  std::optional<Device> device_opt() const noexcept {
    return has_device_ ? std::optional<Device>(device_) : std::nullopt;
  }
  bool requires_grad() const noexcept { return requires_grad_; }

 private:
  // Plain members with flags rather than std::optional (GCC 12 warns about
  // copying an empty optional's payload).
  ScalarType dtype_ = kFloat;
  bool has_dtype_ = false;
  Device device_{kCPU};
  bool has_device_ = false;
  bool requires_grad_ = false;
};

inline TensorOptions dtype(ScalarType t) { return TensorOptions().dtype(t); }
inline TensorOptions device(Device d) { return TensorOptions().device(d); }
inline TensorOptions requires_grad(bool r = true) { return TensorOptions().requires_grad(r); }

}  // namespace sigma
