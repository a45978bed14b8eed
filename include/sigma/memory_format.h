// sigma/memory_format.h: MemoryFormat and OptionalIntArrayRef, spelled as
// LibTorch's c10::MemoryFormat (torch::MemoryFormat) and
// at::OptionalIntArrayRef.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "sigma/scalar_type.h"

namespace sigma {

// The layout a copy gets (clone). Contiguous: row-major strides. Preserve:
// the source's strides when its elements are dense and do not overlap,
// row-major otherwise. The channels-last layouts are LibTorch's names for
// 4-d and 5-d tensors; sigma has no kernels for them and refuses them.
enum class MemoryFormat { Contiguous, Preserve, ChannelsLast, ChannelsLast3d };

// A list of dimensions that may be absent (std::nullopt: all dimensions), as
// at::OptionalIntArrayRef: built from nothing, std::nullopt, an IntArrayRef,
// a vector or a braced list ({0, 2}: the list lives to the end of the full
// expression, which covers the use as an argument).
class OptionalIntArrayRef {
 public:
  OptionalIntArrayRef() = default;
  OptionalIntArrayRef(std::nullopt_t) {}                                 // NOLINT
  OptionalIntArrayRef(IntArrayRef r) : ref_(r), has_(true) {}            // NOLINT
  OptionalIntArrayRef(const std::vector<std::int64_t>& v) : ref_(v), has_(true) {}  // NOLINT
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  OptionalIntArrayRef(std::initializer_list<std::int64_t> l) : ref_(l), has_(true) {}  // NOLINT
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  bool has_value() const noexcept { return has_; }
  explicit operator bool() const noexcept { return has_; }
  IntArrayRef operator*() const noexcept { return ref_; }
  const IntArrayRef* operator->() const noexcept { return &ref_; }

 private:
  IntArrayRef ref_;
  bool has_ = false;
};

}  // namespace sigma
