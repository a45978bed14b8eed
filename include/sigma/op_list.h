// sigma/op_list.h: the one list of element-wise kernel ops.
//
// Every table that needs the set of ops (names for the CLI, the kernel
// registry behind `sigma accuracy` / `sigma bench`, the benchmarks) is
// generated from SIGMA_OP_LIST, so adding an op here is the first step and the
// compiler points at the rest (see docs/ARCHITECTURE.md).
#pragma once

#include <array>
#include <optional>
#include <string_view>

// X(name, arity): arity 1 is y = f(x); arity 2 is dx = f(dy, saved), where
// the saved tensor is the forward's input x or output y (see each kernel).
#define SIGMA_OP_LIST(X)                \
  X(sigmoid, 1)                         \
  X(sigmoid_backward, 2)                \
  X(sigmoid_backward_from_input, 2)     \
  X(log_sigmoid, 1)                     \
  X(log_sigmoid_backward, 2)            \
  X(softplus, 1)                        \
  X(softplus_backward, 2)               \
  X(silu, 1)                            \
  X(silu_backward, 2)                   \
  X(tanh, 1)                            \
  X(tanh_backward, 2)

namespace sigma {

enum class Op : int {
#define SIGMA_OP_ENUM(name, arity) name,
  SIGMA_OP_LIST(SIGMA_OP_ENUM)
#undef SIGMA_OP_ENUM
};

inline constexpr std::array op_names = {
#define SIGMA_OP_NAME(name, arity) std::string_view(#name),
    SIGMA_OP_LIST(SIGMA_OP_NAME)
#undef SIGMA_OP_NAME
};
inline constexpr int op_count = static_cast<int>(op_names.size());

inline constexpr std::array op_arity = {
#define SIGMA_OP_ARITY(name, arity) arity,
    SIGMA_OP_LIST(SIGMA_OP_ARITY)
#undef SIGMA_OP_ARITY
};
static_assert(op_arity.size() == op_names.size());

constexpr std::string_view op_name(Op op) noexcept { return op_names[static_cast<int>(op)]; }
constexpr int op_arity_of(Op op) noexcept { return op_arity[static_cast<int>(op)]; }

constexpr std::optional<Op> op_from_name(std::string_view name) noexcept {
  for (int i = 0; i < op_count; ++i)
    if (op_names[i] == name) return static_cast<Op>(i);
  return std::nullopt;
}

}  // namespace sigma
