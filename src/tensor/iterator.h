// iterator.h: the element-wise pipeline's front end (internal), after
// LibTorch's TensorIterator.
//
// It turns tensors into what kernels take (pointers and counts): it checks
// the operands (defined, one device), decides the dtype the kernel runs in
// (the inputs' promoted type; integral inputs become the default dtype where
// the op allows it), broadcasts the inputs to one shape, makes each a dense
// span of that dtype (no copy when it already is one), and provides the
// output: a new tensor, or a given one (in-place ops, out=) written directly
// when it is dense and of the kernel's dtype and through a temporary
// otherwise. After the kernel ran, finish() copies a temporary back and bumps
// the given output's version.
//
//   TensorIterator it("sigmoid");
//   it.add_input(x).promote_integer_inputs_to_float().build();
//   it.for_each_span<1>([](auto tag, auto y, auto x) { ... });
//   return it.output();
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "sigma/device.h"
#include "sigma/tensor.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma::detail {

class TensorIterator {
 public:
  explicit TensorIterator(const char* op) : op_(op) {}

  // Write the result into out (shape fixed: the inputs must broadcast to it;
  // its dtype must be floating) instead of a new tensor.
  TensorIterator& add_output(const Tensor& out);
  // what names the operand in errors ("input", "target", "grad_output").
  TensorIterator& add_input(const Tensor& in, const char* what = "input");
  // int64 and bool inputs compute in the default dtype (PyTorch's sigmoid,
  // tanh); without this they are an error.
  TensorIterator& promote_integer_inputs_to_float(bool on = true) {
    promote_integral_ = on;
    return *this;
  }
  // The dtype to compute in, instead of the inputs' promoted type (a
  // backward computes in its saved tensor's dtype).
  TensorIterator& compute_dtype(ScalarType t) {
    forced_dtype_ = t;
    return *this;
  }
  // Checks, promotes, broadcasts, densifies and provides the output.
  TensorIterator& build();

  ScalarType dtype() const noexcept { return dtype_; }
  Device device() const noexcept { return device_; }
  IntArrayRef shape() const noexcept { return shape_; }
  std::int64_t numel() const noexcept { return numel_; }
  const char* op() const noexcept { return op_; }

  // Calls f(TypeTag<T>{}, span<T> out, span<const T> in_0, ..., in_{N-1})
  // once over the dense operands, T being the storage type of dtype(), then
  // finish()es. N must be the number of inputs.
  template <std::size_t N, class F> void for_each_span(F&& f) {
    check_inputs(N);
    dispatch_floating_storage(op_, dtype_, [&](auto tag) {
      using T = typename decltype(tag)::type;
      run_spans<T>(f, std::make_index_sequence<N>{});
    });
    finish();
  }

  // The result: the given output, or the new tensor.
  const Tensor& output() const noexcept { return given_ ? given_out_ : out_; }

 private:
  template <class T, class F, std::size_t... I> void run_spans(F& f, std::index_sequence<I...>) {
    f(TypeTag<T>{}, out_span<T>(out_), in_span<T>(dense_[I])...);
  }
  void check_inputs(std::size_t n) const;
  void finish();

  const char* op_;
  std::vector<Tensor> inputs_;
  std::vector<const char*> names_;
  Tensor given_out_;
  bool given_ = false;
  bool promote_integral_ = false;
  std::optional<ScalarType> forced_dtype_;
  bool built_ = false;

  ScalarType dtype_ = kFloat;
  Device device_{kCPU};
  std::vector<std::int64_t> shape_;
  std::int64_t numel_ = 0;
  std::vector<Tensor> dense_;  // the inputs as dense tensors of dtype_
  Tensor out_;                 // what the kernel writes: given_out_ or a new tensor
};

}  // namespace sigma::detail
