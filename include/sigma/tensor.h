// sigma/tensor.h: the Tensor handle, mirroring at::Tensor.
//
// A Tensor is a reference-counted handle: copying it shares the data (as in
// LibTorch); clone() copies. A tensor is a strided view (sizes, strides,
// offset) of a storage that views share, with a version counter that every
// in-place write bumps so autograd can tell when a saved tensor changed.
// Members forward to the free functions of sigma/ops.h; both spellings work
// (x.sigmoid() and sigma::sigmoid(x)). Tensors live on a Device (the CPU).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "sigma/device.h"
#include "sigma/error.h"
#include "sigma/memory_format.h"
#include "sigma/scalar_type.h"
#include "sigma/tensor_options.h"

namespace sigma {

struct TensorImpl;
namespace autograd {
class Node;
}
namespace indexing {
class TensorIndex;
}

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const noexcept { return impl_ != nullptr; }
  TensorImpl* unsafeGetTensorImpl() const noexcept { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl() const noexcept { return impl_; }
  // Whether two handles refer to the same tensor (not just the same storage).
  bool is_same(const Tensor& other) const noexcept { return impl_ == other.impl_; }
  long use_count() const noexcept { return impl_.use_count(); }

  // ---- Metadata.
  IntArrayRef sizes() const;
  IntArrayRef strides() const;
  // size(d) and stride(d) accept negative d (counted from the end).
  std::int64_t size(std::int64_t d) const;
  std::int64_t stride(std::int64_t d) const;
  std::int64_t dim() const;
  std::int64_t ndimension() const { return dim(); }
  std::int64_t numel() const;
  ScalarType dtype() const;
  ScalarType scalar_type() const { return dtype(); }
  // Where the data lives: always the CPU in this build (sigma/device.h).
  Device device() const;
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  // The tensor's dtype and device (requires_grad off, as LibTorch).
  TensorOptions options() const;
  std::size_t element_size() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * element_size(); }
  std::int64_t storage_offset() const;
  bool is_contiguous() const;
  bool is_floating_point() const;
  // Whether both tensors view the same storage.
  bool is_alias_of(const Tensor& other) const;
  std::string toString() const;  // "CPUFloatType", as LibTorch

  // The first element (after the storage offset). T must be the tensor's
  // element type (float, double, bfloat16, float16, int64_t, bool), else
  // sigma::Error. Writing through it changes the tensor without bumping its
  // version; prefer the in-place ops.
  template <class T> T* data_ptr() const {
    check_dtype_for_access(CppTypeToScalarType<T>::value, "data_ptr");
    return static_cast<T*>(raw_data());
  }
  void* data_ptr() const { return raw_data(); }
  // The value of a one-element tensor, converted to T; sigma::Error otherwise.
  template <class T> T item() const { return item_scalar("item").to<T>(); }
  Scalar item() const { return item_scalar("item"); }

  // ---- Autograd (see sigma/autograd.h).
  bool requires_grad() const;
  // Only floating-point leaves may require gradients.
  Tensor& requires_grad_(bool r = true);
  Tensor& set_requires_grad(bool r) { return requires_grad_(r); }
  bool is_leaf() const;
  // The accumulated gradient of a leaf (or of a tensor that called
  // retain_grad()); undefined until a backward pass reaches it.
  const Tensor& grad() const;
  Tensor& mutable_grad() const;
  std::shared_ptr<autograd::Node> grad_fn() const;
  std::uint32_t output_nr() const;
  // Computes gradients of this tensor with respect to the graph leaves and
  // accumulates them into their grad(). gradient may be omitted only for a
  // one-element tensor. retain_graph defaults to false: the graph's saved
  // tensors are freed as the pass runs.
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  Tensor detach() const;
  Tensor& detach_();
  void retain_grad() const;
  bool retains_grad() const;
  std::uint32_t _version() const;

  // ---- Conversion and copies.
  Tensor to(ScalarType t, bool copy = false) const;
  // Options may name a dtype and a device; a device without a backend
  // throws sigma::Error (x.to(sigma::kCPU) returns x itself).
  Tensor to(const TensorOptions& o, bool copy = false) const;
  Tensor to(Device device, ScalarType t, bool copy = false) const;
  Tensor cpu() const { return to(TensorOptions(kCPU)); }
  Tensor type_as(const Tensor& other) const { return to(other.dtype()); }
  Tensor contiguous() const;
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(const Scalar& v);
  Tensor& zero_();
  Tensor& uniform_(double from = 0.0, double to = 1.0);
  Tensor& normal_(double mean = 0.0, double std = 1.0);
  // Values in row-major order converted to T.
  template <class T> std::vector<T> to_vector() const;

  // ---- Views: share storage with this tensor.
  Tensor view(IntArrayRef shape) const;
  Tensor reshape(IntArrayRef shape) const;
  Tensor view_as(const Tensor& other) const { return view(other.sizes()); }
  Tensor reshape_as(const Tensor& other) const { return reshape(other.sizes()); }
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t d0, std::int64_t d1) const;
  Tensor t() const;
  Tensor permute(IntArrayRef dims) const;
  Tensor slice(std::int64_t dim = 0, std::optional<std::int64_t> start = std::nullopt,
               std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  std::vector<Tensor> chunk(std::int64_t chunks, std::int64_t dim = 0) const;
  std::vector<Tensor> split(std::int64_t split_size, std::int64_t dim = 0) const;
  std::vector<Tensor> unbind(std::int64_t dim = 0) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const { return select(0, index); }
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor expand(IntArrayRef shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }

  // ---- Element-wise arithmetic (broadcasting, with gradients).
  Tensor add(const Tensor& o, const Scalar& alpha = 1) const;
  Tensor add(const Scalar& o, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& o, const Scalar& alpha = 1) const;
  Tensor sub(const Scalar& o, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& o) const;
  Tensor mul(const Scalar& o) const;
  Tensor div(const Tensor& o) const;
  Tensor div(const Scalar& o) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor pow(const Scalar& exponent) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor abs() const;
  Tensor sqrt() const;
  Tensor square() const;
  Tensor reciprocal() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor clamp_min(const Scalar& min) const;
  Tensor clamp_max(const Scalar& max) const;
  // In place (bump the version; sigma::Error on a leaf that requires grad
  // unless gradients are off).
  Tensor& add_(const Tensor& o, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& o, const Scalar& alpha = 1);
  Tensor& sub_(const Tensor& o, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& o, const Scalar& alpha = 1);
  Tensor& mul_(const Tensor& o);
  Tensor& mul_(const Scalar& o);
  Tensor& div_(const Tensor& o);
  Tensor& div_(const Scalar& o);
  Tensor& neg_();
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
  Tensor& sigmoid_();
  Tensor& tanh_();
  Tensor& relu_();

  // ---- Activations (call the SIMD kernels of sigma/kernels.h).
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor relu() const;
  Tensor log_sigmoid() const;
  Tensor silu() const;
  Tensor logit(std::optional<double> eps = std::nullopt) const;
  Tensor softmax(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor log_softmax(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor logsumexp(IntArrayRef dims, bool keepdim = false) const;

  // ---- Linear algebra and reductions.
  Tensor matmul(const Tensor& o) const;
  Tensor mm(const Tensor& o) const;
  Tensor bmm(const Tensor& o) const;
  Tensor dot(const Tensor& o) const;
  Tensor sum(std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor sum(IntArrayRef dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(IntArrayRef dims, bool keepdim = false) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false) const;
  Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor norm(const Scalar& p = 2) const;
  Tensor norm(const Scalar& p, IntArrayRef dims, bool keepdim = false) const;

  // ---- Comparisons: bool tensors, no gradient.
  Tensor eq(const Tensor& o) const;
  Tensor eq(const Scalar& o) const;
  Tensor ne(const Tensor& o) const;
  Tensor ne(const Scalar& o) const;
  Tensor lt(const Tensor& o) const;
  Tensor lt(const Scalar& o) const;
  Tensor le(const Tensor& o) const;
  Tensor le(const Scalar& o) const;
  Tensor gt(const Tensor& o) const;
  Tensor gt(const Scalar& o) const;
  Tensor ge(const Tensor& o) const;
  Tensor ge(const Scalar& o) const;
  Tensor all() const;
  Tensor any() const;
  bool equal(const Tensor& o) const;
  bool allclose(const Tensor& o, double rtol = 1e-5, double atol = 1e-8) const;

  // ---- Tensor ops (issue 14): rounding and trigonometric functions,
  // moments, products and sums along a dimension, sorting, shape ops.
  // Signatures, defaults and dtype rules are LibTorch 1.13's; see
  // sigma/tensor_ops.h for what each computes.
  Tensor sign() const;
  Tensor& sign_();
  Tensor floor() const;
  Tensor& floor_();
  Tensor ceil() const;
  Tensor& ceil_();
  Tensor round() const;
  Tensor& round_();
  Tensor round(std::int64_t decimals) const;
  Tensor& round_(std::int64_t decimals);
  Tensor trunc() const;
  Tensor& trunc_();
  Tensor sin() const;
  Tensor& sin_();
  Tensor cos() const;
  Tensor& cos_();
  Tensor std(bool unbiased = true) const;
  Tensor std(OptionalIntArrayRef dim, bool unbiased = true, bool keepdim = false) const;
  Tensor std(OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
             bool keepdim = false) const;
  Tensor std(int dim) const { return std(IntArrayRef{dim}); }  // as LibTorch: x.std(0)
  Tensor var(bool unbiased = true) const;
  Tensor var(OptionalIntArrayRef dim, bool unbiased = true, bool keepdim = false) const;
  Tensor var(OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
             bool keepdim = false) const;
  Tensor var(int dim) const { return var(IntArrayRef{dim}); }
  Tensor prod(std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor prod(std::int64_t dim, bool keepdim = false,
              std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor cumsum(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor& cumsum_(std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
  std::tuple<Tensor, Tensor> sort(std::int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> sort(std::optional<bool> stable, std::int64_t dim = -1,
                                  bool descending = false) const;
  Tensor argsort(std::int64_t dim = -1, bool descending = false) const;
  Tensor argsort(bool stable, std::int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> topk(std::int64_t k, std::int64_t dim = -1, bool largest = true,
                                  bool sorted = true) const;
  Tensor repeat(IntArrayRef repeats) const;
  Tensor tril(std::int64_t diagonal = 0) const;
  Tensor triu(std::int64_t diagonal = 0) const;
  Tensor& tril_(std::int64_t diagonal = 0);
  Tensor& triu_(std::int64_t diagonal = 0);
  Tensor flip(IntArrayRef dims) const;
  Tensor roll(IntArrayRef shifts, IntArrayRef dims = {}) const;
  // A copy with its own storage; memory_format as sigma/memory_format.h
  // (absent: Preserve, as LibTorch).
  Tensor clone(std::optional<MemoryFormat> memory_format = std::nullopt) const;

  // ---- LibTorch gaps: more element-wise math (sigma/tensor_ops.h), the
  // remaining in-place forms, logical ops, amax / amin / count_nonzero and
  // outer / addmm / baddbmm.
  Tensor tan() const;
  Tensor& tan_();
  Tensor rsqrt() const;
  Tensor& rsqrt_();
  Tensor erf() const;
  Tensor& erf_();
  Tensor log2() const;
  Tensor& log2_();
  Tensor log10() const;
  Tensor& log10_();
  Tensor exp2() const;
  Tensor& exp2_();
  Tensor sinh() const;
  Tensor& sinh_();
  Tensor cosh() const;
  Tensor& cosh_();
  Tensor asin() const;
  Tensor& asin_();
  Tensor acos() const;
  Tensor& acos_();
  Tensor atan() const;
  Tensor& atan_();
  Tensor& exp_();
  Tensor& abs_();
  Tensor& sqrt_();
  Tensor& pow_(const Scalar& exponent);
  Tensor& pow_(const Tensor& exponent);
  Tensor logical_not() const;
  Tensor logical_and(const Tensor& other) const;
  Tensor logical_or(const Tensor& other) const;
  Tensor isclose(const Tensor& other, double rtol = 1e-05, double atol = 1e-08,
                 bool equal_nan = false) const;
  Tensor amax(IntArrayRef dim = {}, bool keepdim = false) const;
  Tensor amin(IntArrayRef dim = {}, bool keepdim = false) const;
  Tensor count_nonzero(IntArrayRef dim) const;
  Tensor count_nonzero(std::optional<std::int64_t> dim = std::nullopt) const;
  Tensor outer(const Tensor& vec2) const;
  Tensor ger(const Tensor& vec2) const;
  Tensor addmm(const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1,
               const Scalar& alpha = 1) const;
  Tensor baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1,
                 const Scalar& alpha = 1) const;

  // ---- indexing (sigma/indexing.h; src/ops/indexing.cpp). index() returns a
  // view for integers, slices, None and Ellipsis, a copy once an int64 or
  // bool tensor takes part; index_put_ writes there (values broadcast).
  Tensor index(std::span<const indexing::TensorIndex> indices) const;
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor& index_put_(std::span<const indexing::TensorIndex> indices, const Tensor& rhs);
  Tensor& index_put_(std::span<const indexing::TensorIndex> indices, const Scalar& v);
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& rhs);
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& v);
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  Tensor gather(std::int64_t dim, const Tensor& index, bool sparse_grad = false) const;
  Tensor scatter(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor scatter(std::int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor& scatter_(std::int64_t dim, const Tensor& index, const Tensor& src);
  Tensor& scatter_(std::int64_t dim, const Tensor& index, const Scalar& value);
  Tensor scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& scatter_add_(std::int64_t dim, const Tensor& index, const Tensor& src);
  Tensor index_add(std::int64_t dim, const Tensor& index, const Tensor& source,
                   const Scalar& alpha = 1) const;
  Tensor& index_add_(std::int64_t dim, const Tensor& index, const Tensor& source,
                     const Scalar& alpha = 1);
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  Tensor masked_fill(const Tensor& mask, const Tensor& value) const;
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value);
  Tensor& masked_fill_(const Tensor& mask, const Tensor& value);
  Tensor masked_select(const Tensor& mask) const;
  Tensor nonzero() const;
  Tensor argwhere() const;

  Tensor& operator+=(const Tensor& o) { return add_(o); }
  Tensor& operator+=(const Scalar& o) { return add_(o); }
  Tensor& operator-=(const Tensor& o) { return sub_(o); }
  Tensor& operator-=(const Scalar& o) { return sub_(o); }
  Tensor& operator*=(const Tensor& o) { return mul_(o); }
  Tensor& operator*=(const Scalar& o) { return mul_(o); }
  Tensor& operator/=(const Tensor& o) { return div_(o); }
  Tensor& operator/=(const Scalar& o) { return div_(o); }
  Tensor operator-() const { return neg(); }

 private:
  void check_dtype_for_access(ScalarType want, const char* op) const;
  void* raw_data() const;
  Scalar item_scalar(const char* op) const;
  std::shared_ptr<TensorImpl> impl_;
};

using TensorList = std::vector<Tensor>;

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Scalar& b);

// Prints like PyTorch's repr: tensor([0.0474, 0.2689, 0.5000]), with
// dtype=..., requires_grad=True or grad_fn=<SigmoidBackward> where they apply.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

template <> std::vector<float> Tensor::to_vector<float>() const;
template <> std::vector<double> Tensor::to_vector<double>() const;
template <> std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;
template <> std::vector<bool> Tensor::to_vector<bool>() const;

}  // namespace sigma

// The index objects (Slice, None, Ellipsis, TensorIndex) used by Tensor::index.
#include "sigma/indexing.h"
