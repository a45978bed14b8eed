// sigma/op_list.h: the one list of element-wise kernel ops.
//
// Every table that needs the set of ops (names for the CLI, the kernel
// registry behind `sigma accuracy` / `sigma bench`, the benchmarks) is
// generated from SIGMA_OP_LIST, so adding an op here is the first step and the
// compiler points at the rest (see docs/ARCHITECTURE.md).
#pragma once

#include <array>
#include <limits>
#include <optional>
#include <string_view>

// X(name, arity, forward, saved, ulp_f32, ulp_f64, lo, hi), one row per op:
//   arity    1 is y = f(x); 2 is dx = f(dy, saved), a backward kernel;
//   forward  the forward op the row belongs to (itself for a forward);
//   saved    what a backward receives besides dy: x, the forward's input, or
//            y, its output (a forward row says x);
//   ulp_*    the contract of sigma/kernels.h in ULP, f32 and f64, against the
//            op's one reference (tools/sigma/op_references.h) with dy = 1:
//            over every input for a forward (subnormal results included),
//            wherever the result is a normal number for a backward;
//   lo, hi   the domain of the forward's input x: outside it the result is
//            NaN (logit), inside it the contract holds.
// The registry (src/kernels/registry.cpp), the kernel table
// (src/kernels/table.cpp), the per-target contract test
// (tests/kernels/contract_test.cpp), `sigma accuracy`, `sigma bench` and the
// kernel benchmarks are all generated from this list.
#define SIGMA_OP_LIST(X)                                                      \
  X(sigmoid, 1, sigmoid, x, 1, 1, -kOpInf, kOpInf)                            \
  X(sigmoid_backward, 2, sigmoid, y, 2, 2, -kOpInf, kOpInf)                   \
  X(sigmoid_backward_from_input, 2, sigmoid, x, 3, 3, -kOpInf, kOpInf)        \
  X(log_sigmoid, 1, log_sigmoid, x, 1, 1, -kOpInf, kOpInf)                    \
  X(log_sigmoid_backward, 2, log_sigmoid, x, 2, 2, -kOpInf, kOpInf)           \
  X(softplus, 1, softplus, x, 1, 1, -kOpInf, kOpInf)                          \
  X(softplus_backward, 2, softplus, x, 2, 2, -kOpInf, kOpInf)                 \
  X(silu, 1, silu, x, 1, 1, -kOpInf, kOpInf)                                  \
  X(silu_backward, 2, silu, x, 4, 4, -kOpInf, kOpInf)                         \
  X(tanh, 1, tanh, x, 1, 1, -kOpInf, kOpInf)                                  \
  X(tanh_backward, 2, tanh, y, 2, 2, -kOpInf, kOpInf)                        \
  X(hardsigmoid, 1, hardsigmoid, x, 1, 1, -kOpInf, kOpInf)                    \
  X(hardsigmoid_backward, 2, hardsigmoid, x, 1, 1, -kOpInf, kOpInf)           \
  X(logit, 1, logit, x, 1, 1, 0, 1)                                           \
  X(logit_backward, 2, logit, x, 1, 1, 0, 1)

namespace sigma {

// The domain bound of an op defined on the whole line.
inline constexpr double kOpInf = std::numeric_limits<double>::infinity();

enum class Op : int {
#define SIGMA_OP_ENUM(name, ...) name,
  SIGMA_OP_LIST(SIGMA_OP_ENUM)
#undef SIGMA_OP_ENUM
};

inline constexpr std::array op_names = {
#define SIGMA_OP_NAME(name, ...) std::string_view(#name),
    SIGMA_OP_LIST(SIGMA_OP_NAME)
#undef SIGMA_OP_NAME
};
inline constexpr int op_count = static_cast<int>(op_names.size());

// What the list says about each op, as data.
struct OpInfo {
  std::string_view name;
  int arity;
  Op forward;
  bool saved_is_output;   // a backward's saved operand is the forward's y
  double ulp_f32, ulp_f64;
  double lo, hi;          // the forward input's domain
};

inline constexpr std::array<OpInfo, op_names.size()> op_infos = {{
#define SIGMA_OP_INFO(name, arity, forward, saved, ulp32, ulp64, lo, hi) \
  {#name, arity, Op::forward, std::string_view(#saved) == "y", ulp32, ulp64, lo, hi},
    SIGMA_OP_LIST(SIGMA_OP_INFO)
#undef SIGMA_OP_INFO
}};

constexpr const OpInfo& op_info(Op op) noexcept { return op_infos[static_cast<int>(op)]; }
constexpr std::string_view op_name(Op op) noexcept { return op_info(op).name; }
constexpr int op_arity_of(Op op) noexcept { return op_info(op).arity; }

// The list's rules, checked when it is compiled: a forward is its own
// forward and saves x; a backward belongs to a forward of arity 1; saved is
// x or y; bounds are positive and the domain is not empty.
constexpr bool op_list_is_consistent() {
  for (const OpInfo& i : op_infos) {
    const OpInfo& f = op_infos[static_cast<int>(i.forward)];
    if (i.arity == 1 && (f.name != i.name || i.saved_is_output)) return false;
    if (i.arity == 2 && f.arity != 1) return false;
    if (i.arity != 1 && i.arity != 2) return false;
    if (!(i.ulp_f32 > 0 && i.ulp_f64 > 0 && i.lo < i.hi)) return false;
  }
#define SIGMA_OP_SAVED(name, arity, forward, saved, ...) \
  if (std::string_view(#saved) != "x" && std::string_view(#saved) != "y") return false;
  SIGMA_OP_LIST(SIGMA_OP_SAVED)
#undef SIGMA_OP_SAVED
  return true;
}
static_assert(op_list_is_consistent(), "SIGMA_OP_LIST breaks a rule stated above it");

constexpr std::optional<Op> op_from_name(std::string_view name) noexcept {
  for (int i = 0; i < op_count; ++i)
    if (op_names[i] == name) return static_cast<Op>(i);
  return std::nullopt;
}

}  // namespace sigma
