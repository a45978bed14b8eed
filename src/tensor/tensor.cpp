// tensor.cpp: Tensor's metadata and autograd accessors, and the member
// functions that forward to the free functions of sigma/ops.h.
#include "sigma/tensor.h"

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma {

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl, const char* what) {
  if (!impl) throw Error(std::string(what) + ": the tensor is undefined");
  return *impl;
}
}  // namespace

IntArrayRef Tensor::sizes() const { return checked(impl_, "sizes").sizes; }
IntArrayRef Tensor::strides() const { return checked(impl_, "strides").strides; }
std::int64_t Tensor::size(std::int64_t d) const {
  const auto& i = checked(impl_, "size");
  const auto r = static_cast<std::int64_t>(i.sizes.size());
  if (r == 0) throw Error("size: a zero-dimensional tensor has no dimension " + std::to_string(d));
  return i.sizes[static_cast<std::size_t>(wrap_dim("size", d, r))];
}
std::int64_t Tensor::stride(std::int64_t d) const {
  const auto& i = checked(impl_, "stride");
  const auto r = static_cast<std::int64_t>(i.sizes.size());
  if (r == 0) throw Error("stride: a zero-dimensional tensor has no dimension " + std::to_string(d));
  return i.strides[static_cast<std::size_t>(wrap_dim("stride", d, r))];
}
std::int64_t Tensor::dim() const { return static_cast<std::int64_t>(checked(impl_, "dim").sizes.size()); }
std::int64_t Tensor::numel() const { return checked(impl_, "numel").numel(); }
ScalarType Tensor::dtype() const { return checked(impl_, "dtype").dtype; }
Device Tensor::device() const { return checked(impl_, "device").storage->device; }
TensorOptions Tensor::options() const { return TensorOptions(dtype()).device(device()); }
std::size_t Tensor::element_size() const { return sigma::element_size(dtype()); }
std::int64_t Tensor::storage_offset() const { return checked(impl_, "storage_offset").offset; }
bool Tensor::is_contiguous() const { return checked(impl_, "is_contiguous").is_contiguous(); }
bool Tensor::is_floating_point() const { return sigma::is_floating_point(dtype()); }
bool Tensor::is_alias_of(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}
std::string Tensor::toString() const {
  switch (dtype()) {
    case kFloat: return "CPUFloatType";
    case kDouble: return "CPUDoubleType";
    case kBFloat16: return "CPUBFloat16Type";
    case kHalf: return "CPUHalfType";
    case kLong: return "CPULongType";
    case kInt: return "CPUIntType";
    case kBool: return "CPUBoolType";
  }
  return "CPUType";
}

bool Tensor::requires_grad() const { return autograd::requires_grad(*this); }
Tensor& Tensor::requires_grad_(bool r) {
  TensorImpl& i = const_cast<TensorImpl&>(checked(impl_, "requires_grad_"));
  if (i.grad_fn) {
    if (!r)
      throw Error("requires_grad_: cannot turn off requires_grad on a non-leaf tensor; use "
                  "detach() to get a tensor without history");
    return *this;
  }
  if (r && !sigma::is_floating_point(i.dtype))
    throw Error(std::string("requires_grad_: only floating-point tensors can require "
                            "gradients; this one is ") + to_string(i.dtype));
  i.requires_grad = r;
  return *this;
}
bool Tensor::is_leaf() const { return checked(impl_, "is_leaf").grad_fn == nullptr; }
const Tensor& Tensor::grad() const { return checked(impl_, "grad").grad; }
Tensor& Tensor::mutable_grad() const {
  return const_cast<TensorImpl&>(checked(impl_, "mutable_grad")).grad;
}
std::shared_ptr<autograd::Node> Tensor::grad_fn() const { return checked(impl_, "grad_fn").grad_fn; }
std::uint32_t Tensor::output_nr() const { return checked(impl_, "output_nr").output_nr; }
void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
  autograd::backward({*this}, gradient.defined() ? TensorList{gradient} : TensorList{},
                     retain_graph, create_graph);
}
Tensor Tensor::detach() const {
  const TensorImpl& s = checked(impl_, "detach");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = s.storage;
  impl->offset = s.offset;
  impl->sizes = s.sizes;
  impl->strides = s.strides;
  impl->dtype = s.dtype;
  return Tensor(std::move(impl));
}
Tensor& Tensor::detach_() {
  TensorImpl& i = const_cast<TensorImpl&>(checked(impl_, "detach_"));
  i.grad_fn = nullptr;
  i.requires_grad = false;
  return *this;
}
void Tensor::retain_grad() const {
  TensorImpl& i = const_cast<TensorImpl&>(checked(impl_, "retain_grad"));
  if (!i.grad_fn && !i.requires_grad)
    throw Error("retain_grad: the tensor does not require grad");
  if (!i.grad_fn) return;  // leaves keep their gradient anyway
  i.retains_grad = true;
  i.grad_fn->add_retain_grad(i.output_nr, impl_);
}
bool Tensor::retains_grad() const { return checked(impl_, "retains_grad").retains_grad; }
std::uint32_t Tensor::_version() const {
  return checked(impl_, "_version").storage->version.load(std::memory_order_relaxed);
}

// ---- Members that forward to sigma/ops.h (views are members in ops/view.cpp).
Tensor Tensor::add(const Tensor& o, const Scalar& a) const { return sigma::add(*this, o, a); }
Tensor Tensor::add(const Scalar& o, const Scalar& a) const { return sigma::add(*this, o, a); }
Tensor Tensor::sub(const Tensor& o, const Scalar& a) const { return sigma::sub(*this, o, a); }
Tensor Tensor::sub(const Scalar& o, const Scalar& a) const { return sigma::sub(*this, o, a); }
Tensor Tensor::mul(const Tensor& o) const { return sigma::mul(*this, o); }
Tensor Tensor::mul(const Scalar& o) const { return sigma::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return sigma::div(*this, o); }
Tensor Tensor::div(const Scalar& o) const { return sigma::div(*this, o); }
Tensor Tensor::pow(const Tensor& e) const { return sigma::pow(*this, e); }
Tensor Tensor::pow(const Scalar& e) const { return sigma::pow(*this, e); }
Tensor Tensor::neg() const { return sigma::neg(*this); }
Tensor Tensor::exp() const { return sigma::exp(*this); }
Tensor Tensor::log() const { return sigma::log(*this); }
Tensor Tensor::log1p() const { return sigma::log1p(*this); }
Tensor Tensor::abs() const { return sigma::abs(*this); }
Tensor Tensor::sqrt() const { return sigma::sqrt(*this); }
Tensor Tensor::square() const { return sigma::square(*this); }
Tensor Tensor::reciprocal() const { return sigma::reciprocal(*this); }
Tensor Tensor::clamp(std::optional<Scalar> lo, std::optional<Scalar> hi) const {
  return sigma::clamp(*this, lo, hi);
}
Tensor Tensor::clamp_min(const Scalar& lo) const { return sigma::clamp_min(*this, lo); }
Tensor Tensor::clamp_max(const Scalar& hi) const { return sigma::clamp_max(*this, hi); }

Tensor Tensor::sigmoid() const { return sigma::sigmoid(*this); }
Tensor Tensor::tanh() const { return sigma::tanh(*this); }
Tensor Tensor::relu() const { return sigma::relu(*this); }
Tensor Tensor::log_sigmoid() const { return sigma::log_sigmoid(*this); }
Tensor Tensor::silu() const { return sigma::silu(*this); }
Tensor Tensor::logit(std::optional<double> eps) const { return sigma::logit(*this, eps); }

Tensor Tensor::matmul(const Tensor& o) const { return sigma::matmul(*this, o); }
Tensor Tensor::mm(const Tensor& o) const { return sigma::mm(*this, o); }
Tensor Tensor::bmm(const Tensor& o) const { return sigma::bmm(*this, o); }
Tensor Tensor::dot(const Tensor& o) const { return sigma::dot(*this, o); }
Tensor Tensor::sum(std::optional<ScalarType> t) const { return sigma::sum(*this, t); }
Tensor Tensor::sum(IntArrayRef dims, bool keepdim) const { return sigma::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return sigma::mean(*this); }
Tensor Tensor::mean(IntArrayRef dims, bool keepdim) const { return sigma::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return sigma::max(*this); }
std::tuple<Tensor, Tensor> Tensor::max(std::int64_t d, bool keepdim) const {
  return sigma::max(*this, d, keepdim);
}
Tensor Tensor::min() const { return sigma::min(*this); }
std::tuple<Tensor, Tensor> Tensor::min(std::int64_t d, bool keepdim) const {
  return sigma::min(*this, d, keepdim);
}
Tensor Tensor::argmax(std::optional<std::int64_t> d, bool keepdim) const {
  return sigma::argmax(*this, d, keepdim);
}
Tensor Tensor::argmin(std::optional<std::int64_t> d, bool keepdim) const {
  return sigma::argmin(*this, d, keepdim);
}
Tensor Tensor::norm(const Scalar& p) const { return sigma::norm(*this, p); }
Tensor Tensor::norm(const Scalar& p, IntArrayRef dims, bool keepdim) const {
  return sigma::norm(*this, p, dims, keepdim);
}

Tensor Tensor::eq(const Tensor& o) const { return sigma::eq(*this, o); }
Tensor Tensor::ne(const Tensor& o) const { return sigma::ne(*this, o); }
Tensor Tensor::lt(const Tensor& o) const { return sigma::lt(*this, o); }
Tensor Tensor::le(const Tensor& o) const { return sigma::le(*this, o); }
Tensor Tensor::gt(const Tensor& o) const { return sigma::gt(*this, o); }
Tensor Tensor::ge(const Tensor& o) const { return sigma::ge(*this, o); }
Tensor Tensor::eq(const Scalar& o) const { return *this == o; }
Tensor Tensor::ne(const Scalar& o) const { return *this != o; }
Tensor Tensor::lt(const Scalar& o) const { return *this < o; }
Tensor Tensor::le(const Scalar& o) const { return *this <= o; }
Tensor Tensor::gt(const Scalar& o) const { return *this > o; }
Tensor Tensor::ge(const Scalar& o) const { return *this >= o; }
bool Tensor::equal(const Tensor& o) const { return sigma::equal(*this, o); }
bool Tensor::allclose(const Tensor& o, double rtol, double atol) const {
  return sigma::allclose(*this, o, rtol, atol);
}

}  // namespace sigma
