// The op registry: SIGMA_OP_LIST -> public kernel functions behind one
// signature per arity, for the tools. Rows are positional; the static_assert
// below fails the build for a missing, extra or misplaced row, or a row
// without the kernels of its op's arity.
#include <array>

#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace sigma {
namespace {

template <class T>
void softplus_default(std::span<const T> x, std::span<T> y) {
  softplus(x, y);
}
template <class T>
void softplus_backward_default(std::span<const T> dy, std::span<const T> x, std::span<T> dx) {
  softplus_backward(dy, x, dx);
}

template <class T>
constexpr UnaryKernel<T> un(void (*f)(std::span<const T>, std::span<T>)) {
  return f;
}
template <class T>
constexpr BinaryKernel<T> bin(void (*f)(std::span<const T>, std::span<const T>, std::span<T>)) {
  return f;
}

#define SIGMA_UNARY_ENTRY(name) \
  OpKernels{Op::name, un<float>(&name), un<double>(&name), un<bfloat16>(&name), un<float16>(&name)}
#define SIGMA_BINARY_ENTRY(name, fwd, saved_output)                                           \
  OpKernels{Op::name,  nullptr, nullptr, nullptr, nullptr, bin<float>(&name), bin<double>(&name), \
            saved_output, Op::fwd}

constexpr std::array<OpKernels, op_count> kTable = {
    SIGMA_UNARY_ENTRY(sigmoid),
    SIGMA_BINARY_ENTRY(sigmoid_backward, sigmoid, true),
    SIGMA_BINARY_ENTRY(sigmoid_backward_from_input, sigmoid, false),
    SIGMA_UNARY_ENTRY(log_sigmoid),
    SIGMA_BINARY_ENTRY(log_sigmoid_backward, log_sigmoid, false),
    OpKernels{Op::softplus, &softplus_default<float>, &softplus_default<double>,
              &softplus_default<bfloat16>, &softplus_default<float16>},
    OpKernels{Op::softplus_backward, nullptr, nullptr, nullptr, nullptr,
              &softplus_backward_default<float>, &softplus_backward_default<double>, false,
              Op::softplus},
    SIGMA_UNARY_ENTRY(silu),
    SIGMA_BINARY_ENTRY(silu_backward, silu, false),
    SIGMA_UNARY_ENTRY(tanh),
    SIGMA_BINARY_ENTRY(tanh_backward, tanh, true),
};

// Row i is op i and holds the kernels of op i's arity.
constexpr bool rows_match_the_list() {
  for (int i = 0; i < op_count; ++i) {
    const OpKernels& k = kTable[static_cast<std::size_t>(i)];
    if (static_cast<int>(k.op) != i) return false;
    const bool unary = k.f32 && k.f64 && k.bf16 && k.f16;
    const bool binary = k.f32_backward && k.f64_backward;
    if (op_arity[static_cast<std::size_t>(i)] == 1 ? !unary : !binary) return false;
  }
  return true;
}
static_assert(rows_match_the_list(),
              "kTable must have one row per SIGMA_OP_LIST entry, in list order, with the "
              "kernels of the op's arity");

}  // namespace

const OpKernels& op_kernels(Op op) { return kTable[static_cast<int>(op)]; }

}  // namespace sigma
