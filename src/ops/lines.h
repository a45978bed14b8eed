// lines.h: a tensor seen as lines along one dimension (internal), for the ops
// that work on whole lines: running sums and products (scan.cpp), sorting
// (sort.cpp).
//
// A contiguous tensor of shape [outer, n, inner] (the sizes before dim
// multiplied, dim's size, the sizes after dim multiplied) holds outer * inner
// lines of n elements, line (o, i) starting at o * n * inner + i with stride
// inner.
#pragma once

#include <cstdint>

#include "sigma/tensor.h"
#include "tensor/tensor_impl.h"

namespace sigma::detail {

struct Lines {
  std::int64_t outer = 1, n = 1, inner = 1;

  // Lines of a tensor of x's shape along dim (already wrapped; a
  // zero-dimensional tensor is one line of one element).
  Lines(const Tensor& x, std::int64_t dim) {
    for (std::int64_t d = 0; d < x.dim(); ++d) {
      if (d < dim) outer *= x.size(d);
      else if (d == dim) n = x.size(d);
      else inner *= x.size(d);
    }
  }
  // f(start, stride, line) for every line, line = o * inner + i counting
  // them in order.
  template <class F> void for_each(F&& f) const {
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t i = 0; i < inner; ++i) f(o * n * inner + i, inner, o * inner + i);
  }
};

}  // namespace sigma::detail
