// dense.h: tensors as the contiguous pointers and spans that kernels take
// (internal). The one place where ops turn a tensor into memory.
#pragma once

#include <cstddef>
#include <span>

#include "tensor/convert.h"
#include "tensor/tensor_impl.h"

namespace sigma::detail {

// x's values as a contiguous tensor of dtype t, without autograd: x itself
// when it already is one, else a converted copy.
inline Tensor dense(const Tensor& x, ScalarType t) {
  if (x.dtype() == t && x.is_contiguous()) return x;
  Tensor out = make_tensor(x.sizes(), t);
  copy_elements(out, x);
  return out;
}

// A contiguous tensor's elements as a span; empty for an undefined tensor
// (the kernels' "no weight" operand).
template <class T> std::span<const T> in_span(const Tensor& t) {
  if (!t.defined()) return {};
  return {data_of<const T>(t), static_cast<std::size_t>(t.numel())};
}
template <class T> std::span<T> out_span(const Tensor& t) {
  if (!t.defined()) return {};
  return {data_of<T>(t), static_cast<std::size_t>(t.numel())};
}

}  // namespace sigma::detail
