// The op registry: SIGMA_OP_LIST -> public kernel functions behind one
// signature per arity, for the tools. Rows are positional; the static_assert
// below fails the build for a missing, extra or misplaced row.
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

// Row i is op i. (A row of the wrong arity does not compile: the entry
// macros take the kernels by the op's own name. Function pointers are not
// compared with null here: with -fPIC and the sanitizers GCC does not treat
// that as a constant expression.)
constexpr bool rows_match_the_list() {
  for (int i = 0; i < op_count; ++i)
    if (static_cast<int>(kTable[static_cast<std::size_t>(i)].op) != i) return false;
  return true;
}
static_assert(rows_match_the_list(),
              "kTable must have one row per SIGMA_OP_LIST entry, in list order");

}  // namespace

const OpKernels& op_kernels(Op op) { return kTable[static_cast<int>(op)]; }

}  // namespace sigma
