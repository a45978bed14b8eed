// sigma/scalar_type.h: element types, the Scalar value type and IntArrayRef,
// named as in LibTorch (sigma::kFloat32, sigma::Scalar, sigma::IntArrayRef).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sigma/dtypes.h"

namespace sigma {

// Element types. bf16 and f16 are storage types: arithmetic on them runs in
// f32 and rounds once to the storage type. Int64 and Bool hold indices, random
// integers and comparison results. Int (int32) is for data exchanged with
// other code (from_blob, checkpoints): tensors of it are made, copied,
// converted, printed and used as indices, and other ops ask for a
// conversion (.to(sigma::kLong) or a floating dtype) in their error.
enum class ScalarType : std::int8_t { Float, Double, BFloat16, Half, Long, Bool, Int };

inline constexpr ScalarType kFloat = ScalarType::Float;
inline constexpr ScalarType kFloat32 = ScalarType::Float;
inline constexpr ScalarType kDouble = ScalarType::Double;
inline constexpr ScalarType kFloat64 = ScalarType::Double;
inline constexpr ScalarType kBFloat16 = ScalarType::BFloat16;
inline constexpr ScalarType kHalf = ScalarType::Half;
inline constexpr ScalarType kFloat16 = ScalarType::Half;
inline constexpr ScalarType kLong = ScalarType::Long;
inline constexpr ScalarType kInt64 = ScalarType::Long;
inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kInt = ScalarType::Int;
inline constexpr ScalarType kInt32 = ScalarType::Int;

// "float32", "float64", "bfloat16", "float16", "int64", "bool", "int32".
const char* to_string(ScalarType t) noexcept;
std::size_t element_size(ScalarType t) noexcept;
inline bool is_floating_point(ScalarType t) noexcept {
  return t == kFloat || t == kDouble || t == kBFloat16 || t == kHalf;
}
// PyTorch's promotion between two tensor dtypes: bool < int32 < int64 < floating;
// among floating types the wider wins, and bf16 with f16 gives f32.
ScalarType promote_types(ScalarType a, ScalarType b) noexcept;

template <class T> struct CppTypeToScalarType;
template <> struct CppTypeToScalarType<float> { static constexpr ScalarType value = kFloat; };
template <> struct CppTypeToScalarType<double> { static constexpr ScalarType value = kDouble; };
template <> struct CppTypeToScalarType<bfloat16> { static constexpr ScalarType value = kBFloat16; };
template <> struct CppTypeToScalarType<float16> { static constexpr ScalarType value = kHalf; };
template <> struct CppTypeToScalarType<std::int64_t> { static constexpr ScalarType value = kLong; };
template <> struct CppTypeToScalarType<bool> { static constexpr ScalarType value = kBool; };
template <> struct CppTypeToScalarType<std::int32_t> { static constexpr ScalarType value = kInt; };

// A number passed where a tensor operand may be a plain value: x + 1.0, x.pow(2).
class Scalar {
 public:
  enum class Kind : std::int8_t { Double, Long, Bool };
  Scalar() = default;
  Scalar(double v) : kind_(Kind::Double), d_(v) {}  // NOLINT: implicit like at::Scalar
  Scalar(float v) : kind_(Kind::Double), d_(v) {}   // NOLINT
  Scalar(bool v) : kind_(Kind::Bool), i_(v ? 1 : 0) {}  // NOLINT
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Scalar(I v) : kind_(Kind::Long), i_(static_cast<std::int64_t>(v)) {}  // NOLINT
  Kind kind() const noexcept { return kind_; }
  bool is_floating_point() const noexcept { return kind_ == Kind::Double; }
  bool is_integral() const noexcept { return kind_ == Kind::Long; }
  bool is_boolean() const noexcept { return kind_ == Kind::Bool; }
  double to_double() const noexcept { return kind_ == Kind::Double ? d_ : static_cast<double>(i_); }
  std::int64_t to_long() const noexcept {
    return kind_ == Kind::Double ? static_cast<std::int64_t>(d_) : i_;
  }
  template <class T> T to() const noexcept;

 private:
  Kind kind_ = Kind::Long;
  double d_ = 0.0;
  std::int64_t i_ = 0;
};
template <> inline double Scalar::to<double>() const noexcept { return to_double(); }
template <> inline float Scalar::to<float>() const noexcept { return static_cast<float>(to_double()); }
template <> inline std::int64_t Scalar::to<std::int64_t>() const noexcept { return to_long(); }
template <> inline std::int32_t Scalar::to<std::int32_t>() const noexcept {
  return static_cast<std::int32_t>(to_long());
}
template <> inline bool Scalar::to<bool>() const noexcept { return to_double() != 0.0; }

// A non-owning view of a list of sizes, strides or dims, as c10::IntArrayRef.
// Built from a braced list, a vector or a single integer; compares equal to a
// vector with the same elements.
class IntArrayRef {
 public:
  IntArrayRef() = default;
  IntArrayRef(const std::int64_t& one) : data_(&one), size_(1) {}  // NOLINT
  // The list lives until the end of the full expression, which covers the
  // usual use as a function argument (as c10::IntArrayRef).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  IntArrayRef(std::initializer_list<std::int64_t> l)  // NOLINT
      : data_(l.begin()), size_(l.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  IntArrayRef(const std::vector<std::int64_t>& v)  // NOLINT
      : data_(v.data()), size_(v.size()) {}
  IntArrayRef(std::span<const std::int64_t> s)  // NOLINT
      : data_(s.data()), size_(s.size()) {}
  IntArrayRef(const std::int64_t* data, std::size_t n) : data_(data), size_(n) {}

  const std::int64_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const std::int64_t* begin() const noexcept { return data_; }
  const std::int64_t* end() const noexcept { return data_ + size_; }
  std::int64_t operator[](std::size_t i) const noexcept { return data_[i]; }
  std::int64_t front() const noexcept { return data_[0]; }
  std::int64_t back() const noexcept { return data_[size_ - 1]; }
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }
  friend bool operator==(IntArrayRef a, IntArrayRef b) noexcept {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i)
      if (a.data_[i] != b.data_[i]) return false;
    return true;
  }

 private:
  const std::int64_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// "[3, 4]": how shapes appear in error messages and printing.
std::string shape_string(IntArrayRef shape);

// std::cout << x.sizes() prints "[3, 4]", and << x.dtype() LibTorch's name of
// the scalar type ("Float", "Double", "BFloat16", "Half", "Long", "Bool",
// "Int"), as LibTorch prints x.scalar_type().
std::ostream& operator<<(std::ostream& os, IntArrayRef shape);
std::ostream& operator<<(std::ostream& os, ScalarType t);

}  // namespace sigma
