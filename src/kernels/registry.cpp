// The op registry: SIGMA_OP_LIST -> public kernel functions. A missing entry
// is a compile error through the static_assert on the table size.
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

const std::array<OpKernels, op_count> kTable = {
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

}  // namespace

const OpKernels& op_kernels(Op op) { return kTable[static_cast<int>(op)]; }

}  // namespace sigma
