// sigma/indexing.h: the index objects of Tensor::index and index_put_,
// spelled as LibTorch's torch::indexing (Slice, None, Ellipsis, TensorIndex).
//
// x.index({0, Slice(1, None, 2), None, "...", idx}) is Python's
// x[0, 1::2, None, ..., idx]. Integers, slices, None and Ellipsis give views
// of x; an int64 or bool tensor (and a bool, which indexes a new size-1
// dimension) makes the result a copy, as advanced indexing does in PyTorch.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "sigma/error.h"
#include "sigma/tensor.h"

namespace sigma::indexing {

inline constexpr std::int64_t INDEX_MAX = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t INDEX_MIN = std::numeric_limits<std::int64_t>::min();

enum class TensorIndexType { None, Ellipsis, Integer, Boolean, Slice, Tensor };

// A new dimension of size 1 (Python's None); also the "absent" bound of a Slice.
inline constexpr std::nullopt_t None = std::nullopt;

struct EllipsisIndexType final {
  constexpr EllipsisIndexType() = default;
};
inline constexpr EllipsisIndexType Ellipsis{};

// start:stop:step. Missing bounds take the whole dimension; the step must be
// positive when the slice is applied (a step of 0 is refused here, as
// LibTorch does).
class Slice final {
 public:
  Slice(std::optional<std::int64_t> start_index = std::nullopt,
        std::optional<std::int64_t> stop_index = std::nullopt,
        std::optional<std::int64_t> step_index = std::nullopt) {
    step_ = step_index.value_or(1);
    if (step_ == 0) throw Error("Slice: slice step cannot be zero");
    if (step_ < -INDEX_MAX) step_ = -INDEX_MAX;
    start_ = start_index.has_value() ? *start_index : (step_ < 0 ? INDEX_MAX : 0);
    stop_ = stop_index.has_value() ? *stop_index : (step_ < 0 ? INDEX_MIN : INDEX_MAX);
  }
  std::int64_t start() const { return start_; }
  std::int64_t stop() const { return stop_; }
  std::int64_t step() const { return step_; }

 private:
  std::int64_t start_, stop_, step_;
};

// One entry of an index list.
class TensorIndex final {
 public:
  TensorIndex(std::nullopt_t) : type_(TensorIndexType::None) {}  // NOLINT
  TensorIndex(EllipsisIndexType) : type_(TensorIndexType::Ellipsis) {}  // NOLINT
  // Only "..." is accepted (an ellipsis spelled as a string).
  TensorIndex(const char* str) : type_(TensorIndexType::Ellipsis) {  // NOLINT
    if (str == nullptr || std::strcmp(str, "...") != 0)
      throw Error(std::string("TensorIndex: expected \"...\" to represent an ellipsis index, but got \"") +
                  (str ? str : "(null)") + "\"");
  }
  TensorIndex(std::int64_t integer) : integer_(integer), type_(TensorIndexType::Integer) {}  // NOLINT
  TensorIndex(int integer) : TensorIndex(static_cast<std::int64_t>(integer)) {}  // NOLINT
  template <class T, class = std::enable_if_t<std::is_same_v<bool, T>>>
  TensorIndex(T boolean) : boolean_(boolean), type_(TensorIndexType::Boolean) {}  // NOLINT
  TensorIndex(Slice slice) : slice_(slice), type_(TensorIndexType::Slice) {}  // NOLINT
  TensorIndex(Tensor tensor) : tensor_(std::move(tensor)), type_(TensorIndexType::Tensor) {}  // NOLINT

  bool is_none() const { return type_ == TensorIndexType::None; }
  bool is_ellipsis() const { return type_ == TensorIndexType::Ellipsis; }
  bool is_integer() const { return type_ == TensorIndexType::Integer; }
  std::int64_t integer() const { return integer_; }
  bool is_boolean() const { return type_ == TensorIndexType::Boolean; }
  bool boolean() const { return boolean_; }
  bool is_slice() const { return type_ == TensorIndexType::Slice; }
  const Slice& slice() const { return slice_; }
  bool is_tensor() const { return type_ == TensorIndexType::Tensor; }
  const Tensor& tensor() const { return tensor_; }

 private:
  std::int64_t integer_ = 0;
  bool boolean_ = false;
  Slice slice_;
  Tensor tensor_;
  TensorIndexType type_;
};

// Python's spelling: "1:None:2", "None", "...", an integer, or the tensor.
std::ostream& operator<<(std::ostream& os, const Slice& s);
std::ostream& operator<<(std::ostream& os, const TensorIndex& i);

}  // namespace sigma::indexing
