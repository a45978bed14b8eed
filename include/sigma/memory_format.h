// sigma/memory_format.h: MemoryFormat and OptionalIntArrayRef, spelled as
// LibTorch's c10::MemoryFormat (torch::MemoryFormat) and
// at::OptionalIntArrayRef.
#pragma once

#include <optional>

#include "sigma/scalar_type.h"

namespace sigma {

// The layout a copy gets (clone). Contiguous: row-major strides. Preserve:
// the source's strides when its elements are dense and do not overlap,
// row-major otherwise. The channels-last layouts are LibTorch's names for
// 4-d and 5-d tensors; sigma has no kernels for them and refuses them.
enum class MemoryFormat { Contiguous, Preserve, ChannelsLast, ChannelsLast3d };

// A list of dimensions that may be absent (all dimensions).
using OptionalIntArrayRef = std::optional<IntArrayRef>;

}  // namespace sigma
