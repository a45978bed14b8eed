// sigma/tensor_ops.h: the tensor ops of LibTorch 1.13 that issue 14 added,
// with its names, signatures, defaults and dtype rules (included by
// sigma/ops.h; the Tensor methods are in sigma/tensor.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

#include "sigma/memory_format.h"
#include "sigma/tensor.h"

namespace sigma {

// ---- Element-wise (src/ops/unary.cpp). sign: -1, 0 or 1 in x's dtype (0 for
// NaN; bool stays bool). floor, ceil, round, trunc: integral and bool inputs
// are returned as copies; round rounds halves to even, and round(x, decimals)
// computes round(x * 10^d) / 10^d (d < 0: x / 10^-d first). Their gradients
// and sign's are zero. sin and cos compute integral inputs in the default
// dtype; their gradients are cos(x) and -sin(x).
Tensor sign(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor& floor_(Tensor& x);
Tensor ceil(const Tensor& x);
Tensor& ceil_(Tensor& x);
Tensor round(const Tensor& x);
Tensor& round_(Tensor& x);
Tensor round(const Tensor& x, std::int64_t decimals);
Tensor& round_(Tensor& x, std::int64_t decimals);
Tensor trunc(const Tensor& x);
Tensor& trunc_(Tensor& x);
Tensor sin(const Tensor& x);
Tensor& sin_(Tensor& x);
Tensor cos(const Tensor& x);
Tensor& cos_(Tensor& x);

// ---- LibTorch gaps (src/ops/unary.cpp): tan, rsqrt (1 / sqrt), erf, log2,
// log10, exp2 (2^x), sinh, cosh, asin, acos, atan. Integral and bool inputs
// compute in the default dtype; each has its gradient. exp_, abs_, sqrt_ and
// pow_ (a Tensor method) are the in-place forms of the existing ops.
Tensor tan(const Tensor& x);
Tensor& tan_(Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor& rsqrt_(Tensor& x);
Tensor erf(const Tensor& x);
Tensor& erf_(Tensor& x);
Tensor log2(const Tensor& x);
Tensor& log2_(Tensor& x);
Tensor log10(const Tensor& x);
Tensor& log10_(Tensor& x);
Tensor exp2(const Tensor& x);
Tensor& exp2_(Tensor& x);
Tensor sinh(const Tensor& x);
Tensor& sinh_(Tensor& x);
Tensor cosh(const Tensor& x);
Tensor& cosh_(Tensor& x);
Tensor asin(const Tensor& x);
Tensor& asin_(Tensor& x);
Tensor acos(const Tensor& x);
Tensor& acos_(Tensor& x);
Tensor atan(const Tensor& x);
Tensor& atan_(Tensor& x);
Tensor& exp_(Tensor& x);
Tensor& abs_(Tensor& x);
Tensor& sqrt_(Tensor& x);
// Logical ops (src/ops/logical.cpp): bool results, nonzero is true; no gradient.
// isclose: |a - b| <= atol + rtol |b| element-wise (broadcast), equal values
// (infinities included) always close, NaN close to NaN only with equal_nan.
Tensor logical_not(const Tensor& x);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-05, double atol = 1e-08,
               bool equal_nan = false);
// amax / amin over dim (empty: all dims); the gradient is shared equally
// among the elements equal to the extremum. count_nonzero: int64 counts.
Tensor amax(const Tensor& x, IntArrayRef dim = {}, bool keepdim = false);
Tensor amin(const Tensor& x, IntArrayRef dim = {}, bool keepdim = false);
Tensor count_nonzero(const Tensor& x, IntArrayRef dim);
Tensor count_nonzero(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt);
// Products (src/ops/products.cpp), built from mul, mm, bmm and add, so
// differentiable through them. outer (ger): a[i] b[j] of two 1-D tensors,
// dtypes promoted. addmm: beta self + alpha mat1 mat2, self broadcast to
// [n, p]; baddbmm: the same per batch with bmm, self broadcast to [b, n, p].
// beta = 0 ignores self's values (NaN and inf included), as LibTorch.
Tensor outer(const Tensor& self, const Tensor& vec2);
Tensor ger(const Tensor& self, const Tensor& vec2);
Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1,
             const Scalar& alpha = 1);
Tensor baddbmm(const Tensor& self, const Tensor& batch1, const Tensor& batch2,
               const Scalar& beta = 1, const Scalar& alpha = 1);

// ---- Moments (src/ops/moments.cpp): the variance sum (x - mean)^2 / (n -
// correction) over dim (absent or empty: all elements), correction 1 by
// default (unbiased) or 0 (unbiased = false); std is its square root. Two
// passes, each sum accumulated in double (compensated for float64). n -
// correction <= 0 gives NaN or inf, as LibTorch. Floating inputs only. As
// in LibTorch, an int second argument is a dimension: std(x, 0) and
// std(x, {1}) reduce dimension 0 and 1 (the int overloads below), while
// std(x, false) is the biased estimate over all elements.
Tensor std(const Tensor& x, bool unbiased = true);
Tensor std(const Tensor& x, OptionalIntArrayRef dim, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x, OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
           bool keepdim = false);
Tensor var(const Tensor& x, bool unbiased = true);
Tensor var(const Tensor& x, OptionalIntArrayRef dim, bool unbiased = true, bool keepdim = false);
Tensor var(const Tensor& x, OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
           bool keepdim = false);
inline Tensor std(const Tensor& x, int dim) { return std(x, IntArrayRef{dim}); }
inline Tensor var(const Tensor& x, int dim) { return var(x, IntArrayRef{dim}); }
// (std or var, mean), from one pass over the data for the mean.
std::tuple<Tensor, Tensor> std_mean(const Tensor& x, bool unbiased = true);
std::tuple<Tensor, Tensor> std_mean(const Tensor& x, OptionalIntArrayRef dim, bool unbiased = true,
                                    bool keepdim = false);
std::tuple<Tensor, Tensor> std_mean(const Tensor& x, OptionalIntArrayRef dim,
                                    std::optional<std::int64_t> correction, bool keepdim = false);
std::tuple<Tensor, Tensor> var_mean(const Tensor& x, bool unbiased = true);
std::tuple<Tensor, Tensor> var_mean(const Tensor& x, OptionalIntArrayRef dim, bool unbiased = true,
                                    bool keepdim = false);
std::tuple<Tensor, Tensor> var_mean(const Tensor& x, OptionalIntArrayRef dim,
                                    std::optional<std::int64_t> correction, bool keepdim = false);
inline std::tuple<Tensor, Tensor> std_mean(const Tensor& x, int dim) {
  return std_mean(x, IntArrayRef{dim});
}
inline std::tuple<Tensor, Tensor> var_mean(const Tensor& x, int dim) {
  return var_mean(x, IntArrayRef{dim});
}

// ---- Products and running sums (src/ops/scan.cpp). prod: integral and bool
// inputs give int64 (wrapping) unless dtype says otherwise; its gradient is
// the product of the other elements, exact with zeros in the input. cumsum:
// out[i] = x[0] + ... + x[i] along dim, int64 for integral and bool inputs;
// its gradient is the reversed running sum of the output's gradient.
Tensor prod(const Tensor& x, std::optional<ScalarType> dtype = std::nullopt);
Tensor prod(const Tensor& x, std::int64_t dim, bool keepdim = false,
            std::optional<ScalarType> dtype = std::nullopt);
Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);

// ---- Sorting (src/ops/sort.cpp): (values, int64 indices) along dim, NaN
// ordered above +inf as in PyTorch. Equal values keep their order (every
// sort here is stable, so stable = false gives the stable order too). The
// values' gradient goes to the positions the indices name.
std::tuple<Tensor, Tensor> sort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
std::tuple<Tensor, Tensor> sort(const Tensor& x, std::optional<bool> stable, std::int64_t dim = -1,
                                bool descending = false);
Tensor argsort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, bool stable, std::int64_t dim = -1, bool descending = false);
// The k largest (or smallest) along dim, in sorted order.
std::tuple<Tensor, Tensor> topk(const Tensor& x, std::int64_t k, std::int64_t dim = -1,
                                bool largest = true, bool sorted = true);
// The distinct elements (flattened), sorted ascending: (values, inverse,
// counts). inverse (x's shape) gives each element's position in values;
// inverse and counts are empty unless asked for. Not differentiable.
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& x, bool sorted = true,
                                          bool return_inverse = false,
                                          bool return_counts = false);
// LibTorch's spellings of it.
std::tuple<Tensor, Tensor> _unique(const Tensor& x, bool sorted = true,
                                   bool return_inverse = false);
std::tuple<Tensor, Tensor, Tensor> _unique2(const Tensor& x, bool sorted = true,
                                            bool return_inverse = false,
                                            bool return_counts = false);
// Runs of equal neighbours collapsed to one (flattened, or along dim).
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& x, bool return_inverse = false,
                                                      bool return_counts = false,
                                                      std::optional<std::int64_t> dim = std::nullopt);
// The distinct slices along dim, sorted lexicographically.
std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& x, std::int64_t dim, bool sorted = true,
                                              bool return_inverse = false,
                                              bool return_counts = false);

// ---- Shape (src/ops/shape.cpp); all differentiable. tril / triu keep the
// elements on and below / above the diagonal (offset diagonal) of the last
// two dimensions. flip reverses dims; roll shifts cyclically along dims, or
// the flattened tensor when dims is empty.
Tensor tril(const Tensor& x, std::int64_t diagonal = 0);
Tensor triu(const Tensor& x, std::int64_t diagonal = 0);
Tensor flip(const Tensor& x, IntArrayRef dims);
Tensor roll(const Tensor& x, IntArrayRef shifts, IntArrayRef dims = {});
Tensor clone(const Tensor& x, std::optional<MemoryFormat> memory_format = std::nullopt);

// ---- einsum (src/ops/einsum.cpp) of one or two operands: letters a-z and
// A-Z, an output after "->" or, without it, the letters that appear once in
// alphabetical order. Repeated letters within an operand (diagonals) and "..."
// are refused with an error. Built from permute, reshape, sum and bmm, so it
// has their gradients. path is accepted and ignored, as on the CPU in LibTorch.
Tensor einsum(std::string_view equation, const TensorList& tensors,
              OptionalIntArrayRef path = std::nullopt);

}  // namespace sigma
