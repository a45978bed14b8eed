// sigma/reduction.h: how a loss reduces its element-wise values, shared by
// the ops (binary_cross_entropy_with_logits) and the nn losses.
#pragma once

#include <cstdint>
#include <string_view>

namespace sigma {

// kNone keeps the element-wise values, kMean averages them, kSum adds them.
enum class Reduction : std::int8_t { None, Mean, Sum };
inline constexpr Reduction kNone = Reduction::None;
inline constexpr Reduction kMean = Reduction::Mean;
inline constexpr Reduction kSum = Reduction::Sum;

// "none", "mean", "sum".
const char* to_string(Reduction r) noexcept;
// The reduction PyTorch spells r ("none", "mean" or "sum"); sigma::Error
// naming op and r otherwise.
Reduction parse_reduction(const char* op, std::string_view r);

}  // namespace sigma
