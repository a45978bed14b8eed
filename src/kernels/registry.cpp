// The op registry of sigma/op_registry.h: every op of SIGMA_OP_LIST behind
// one signature per arity, for the tools, generated from the list. Each
// entry is a view of the kernel table (kernels/table.h) with the op's
// default parameters, so the tools run exactly what the tensor ops run.
#include <array>
#include <utility>

#include "kernels/table.h"
#include "sigma/op_registry.h"

namespace sigma {
namespace {

template <Op op, class T>
void unary_entry(std::span<const T> x, std::span<T> y) {
  static const auto fn = detail::unary_kernel<T>(op, kCPU);
  fn(x, y, {});
}
template <Op op, class T>
void binary_entry(std::span<const T> dy, std::span<const T> s, std::span<T> dx) {
  static const auto fn = detail::binary_kernel<T>(op, kCPU);
  fn(dy, s, dx, {});
}

template <Op op>
constexpr OpKernels row() {
  OpKernels k{op};
  k.saved_is_output = op_info(op).saved_is_output;
  k.forward = op_info(op).forward;
  if constexpr (op_arity_of(op) == 1) {
    k.f32 = &unary_entry<op, float>;
    k.f64 = &unary_entry<op, double>;
    k.bf16 = &unary_entry<op, bfloat16>;
    k.f16 = &unary_entry<op, float16>;
  } else {
    k.f32_backward = &binary_entry<op, float>;
    k.f64_backward = &binary_entry<op, double>;
  }
  return k;
}

template <std::size_t... I>
constexpr std::array<OpKernels, op_count> make_table(std::index_sequence<I...>) {
  return {row<static_cast<Op>(I)>()...};
}

constexpr std::array<OpKernels, op_count> kTable =
    make_table(std::make_index_sequence<static_cast<std::size_t>(op_count)>());

}  // namespace

const OpKernels& op_kernels(Op op) { return kTable[static_cast<int>(op)]; }

}  // namespace sigma
