// table.cpp: the kernel table of table.h, generated from SIGMA_OP_LIST. A
// row per op, a column per device; an op added to the list without span
// functions of the declared arity fails to compile here.
#include "kernels/table.h"

#include <array>
#include <string>
#include <string_view>
#include <type_traits>

#include "sigma/error.h"
#include "sigma/kernels.h"

namespace sigma::detail {

namespace {

// Calls the kernel k (a generic lambda over one overload set) on the spans,
// with the op's parameters when it takes them (softplus: beta, threshold in
// the compute type; logit: eps).
template <class T, class K, class... S>
void call(const K& k, const KernelParams& p, S... spans) {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
  if constexpr (std::is_invocable_v<const K&, S..., C, C>)
    k(spans..., static_cast<C>(p.beta), static_cast<C>(p.threshold));
  else if constexpr (std::is_invocable_v<const K&, S..., double>)
    k(spans..., p.eps);
  else
    k(spans...);
}

// The CPU column for storage type T: entry i is op i's kernel, or nullptr
// where the arity differs.
template <class T, int arity> struct CpuColumn {
  using Fn = std::conditional_t<arity == 1, UnaryFn<T>, BinaryFn<T>>;
  static constexpr std::array<Fn, op_count> table = {
#define SIGMA_TABLE_ENTRY(name, op_arity, ...)                                                       \
  [] {                                                                                             \
    constexpr auto k = [](auto... a) -> decltype(sigma::name(a...)) { return sigma::name(a...); }; \
    using K = std::remove_const_t<decltype(k)>;                                                    \
    if constexpr (op_arity != arity)                                                               \
      return Fn{nullptr};                                                                          \
    else if constexpr (arity == 1)                                                                 \
      return Fn{[](std::span<const T> x, std::span<T> y, const KernelParams& p) {                  \
        call<T>(K{}, p, x, y);                                                                       \
      }};                                                                                          \
    else                                                                                           \
      return Fn{[](std::span<const T> dy, std::span<const T> s, std::span<T> dx,                   \
                   const KernelParams& p) { call<T>(K{}, p, dy, s, dx); }};                          \
  }(),
      SIGMA_OP_LIST(SIGMA_TABLE_ENTRY)
#undef SIGMA_TABLE_ENTRY
  };
};

// The CPU is the only column: any other device is an error naming the op.
void check_cpu_column(std::string_view op, Device d) {
  if (!d.is_cpu())
    throw Error(std::string(op) + ": no kernels for device " + d.str() +
                ": this build of sigma has the CPU backend only");
}

template <class T, int arity>
auto lookup(Op op, Device d) {
  const auto i = static_cast<std::size_t>(op);
  if (i >= static_cast<std::size_t>(op_count))
    throw Error("kernel table: no op number " + std::to_string(i));
  check_cpu_column(op_name(op), d);
  const auto fn = CpuColumn<T, arity>::table[i];
  if (fn == nullptr)
    throw Error(std::string(op_name(op)) + ": the kernel table has no " +
                (arity == 1 ? "one-operand" : "two-operand") + " form of this op");
  return fn;
}

}  // namespace

template <class T> SigmoidAndDerivativeFn<T> sigmoid_and_derivative_kernel(Device d) {
  check_cpu_column("sigmoid_and_derivative", d);
  return [](std::span<const T> x, std::span<T> y, std::span<T> g) { sigmoid_and_derivative(x, y, g); };
}
template SigmoidAndDerivativeFn<float> sigmoid_and_derivative_kernel<float>(Device);
template SigmoidAndDerivativeFn<double> sigmoid_and_derivative_kernel<double>(Device);
template <class T>
SigmoidBackwardFromDerivativeFn<T> sigmoid_backward_from_derivative_kernel(Device d) {
  check_cpu_column("sigmoid_backward_from_derivative", d);
  return [](std::span<const T> dy, std::span<const T> g, std::span<T> dx) {
    sigmoid_backward_from_derivative(dy, g, dx);
  };
}
template SigmoidBackwardFromDerivativeFn<float> sigmoid_backward_from_derivative_kernel<float>(Device);
template SigmoidBackwardFromDerivativeFn<double> sigmoid_backward_from_derivative_kernel<double>(Device);

template <class T> UnaryFn<T> unary_kernel(Op op, Device d) { return lookup<T, 1>(op, d); }
template <class T> BinaryFn<T> binary_kernel(Op op, Device d) { return lookup<T, 2>(op, d); }

template UnaryFn<float> unary_kernel<float>(Op, Device);
template UnaryFn<double> unary_kernel<double>(Op, Device);
template UnaryFn<bfloat16> unary_kernel<bfloat16>(Op, Device);
template UnaryFn<float16> unary_kernel<float16>(Op, Device);
template BinaryFn<float> binary_kernel<float>(Op, Device);
template BinaryFn<double> binary_kernel<double>(Op, Device);
template BinaryFn<bfloat16> binary_kernel<bfloat16>(Op, Device);
template BinaryFn<float16> binary_kernel<float16>(Op, Device);

}  // namespace sigma::detail
