// sigma/tensor_options.h: dtype and requires_grad for creation functions, as
// torch::TensorOptions: sigma::zeros({2, 3}, sigma::dtype(sigma::kFloat64)
// .requires_grad(true)). Tensors live on the CPU; there is no device option.
#pragma once

#include <optional>

#include "sigma/scalar_type.h"

namespace sigma {

// The dtype creation functions use when none is given (float32, as PyTorch).
ScalarType get_default_dtype() noexcept;
// Only float32 and float64 are accepted; anything else throws sigma::Error.
void set_default_dtype(ScalarType t);

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(ScalarType t) : dtype_(t) {}  // NOLINT: as torch::TensorOptions(kFloat)

  TensorOptions dtype(ScalarType t) const {
    TensorOptions o = *this;
    o.dtype_ = t;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }
  bool has_dtype() const noexcept { return dtype_.has_value(); }
  // The dtype given, else the default dtype.
  ScalarType dtype() const noexcept { return dtype_ ? *dtype_ : get_default_dtype(); }
  std::optional<ScalarType> dtype_opt() const noexcept { return dtype_; }
  bool requires_grad() const noexcept { return requires_grad_; }

 private:
  std::optional<ScalarType> dtype_;
  bool requires_grad_ = false;
};

inline TensorOptions dtype(ScalarType t) { return TensorOptions().dtype(t); }
inline TensorOptions requires_grad(bool r = true) { return TensorOptions().requires_grad(r); }

}  // namespace sigma
