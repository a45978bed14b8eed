// loops.cpp: type promotion and dtype errors for element-wise ops.
#include "tensor/loops.h"

namespace sigma::detail {

namespace {
int category(ScalarType t) noexcept {
  if (t == kBool) return 0;
  if (t == kLong || t == kInt) return 1;
  return 2;
}
}  // namespace

ScalarType result_type(const Tensor& a, const Tensor& b) noexcept {
  const ScalarType ta = a.dtype(), tb = b.dtype();
  const bool za = a.dim() == 0, zb = b.dim() == 0;
  if (za != zb) {
    // The dimensioned operand decides unless the 0-d one is of a higher category.
    const ScalarType dim_t = za ? tb : ta, zero_t = za ? ta : tb;
    if (category(zero_t) > category(dim_t)) return promote_types(dim_t, zero_t);
    return dim_t;
  }
  return promote_types(ta, tb);
}

ScalarType result_type(const Tensor& a, const Scalar& b) noexcept {
  const ScalarType t = a.dtype();
  if (b.is_floating_point() && !is_floating_point(t)) return get_default_dtype();
  if (b.is_integral() && t == kBool) return kLong;
  return t;
}

void throw_dtype(const char* op, ScalarType t, const char* expected) {
  throw Error(std::string(op) + ": unsupported dtype " + to_string(t) + " (expected " + expected +
              ")" +
              (t == kInt ? "; int32 tensors are made, copied, printed and used as indices: "
                           "convert with .to(sigma::kLong) or .to(sigma::kFloat) to compute"
                         : ""));
}

}  // namespace sigma::detail
