// copy.cpp: dtype conversion, contiguous copies, fill and element access.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/loops.h"

namespace sigma {

namespace detail {

void copy_elements(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    if (dst.numel() > 0)
      std::memmove(dst.unsafeGetTensorImpl()->data(), src.unsafeGetTensorImpl()->data(),
                   dst.nbytes());
    return;
  }
  // A broadcast value (every stride 0, as sum().backward() hands on) is a fill.
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.numel() > 0 &&
      std::all_of(src.strides().begin(), src.strides().end(), [](std::int64_t s) { return s == 0; })) {
    dispatch_all(dst.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T v = *static_cast<const T*>(src.unsafeGetTensorImpl()->data());
      std::fill_n(static_cast<T*>(dst.unsafeGetTensorImpl()->data()), dst.numel(), v);
    });
    return;
  }
  dispatch_all(dst.dtype(), [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_all(src.dtype(), [&](auto stag) {
      using S = typename decltype(stag)::type;
      map_elements<D, S>(dst, [](S v) { return convert_value<D>(v); }, src);
    });
  });
}

Tensor cast_data(const Tensor& x, ScalarType t) {
  if (x.dtype() == t) return x;
  Tensor out = make_tensor(x.sizes(), t);
  copy_elements(out, x);
  return out;
}

}  // namespace detail

namespace {

// ToCopyBackward: the gradient converted back to the input's dtype.
struct ToCopyBackward final : autograd::Node {
  ScalarType input_dtype;
  explicit ToCopyBackward(ScalarType t) : input_dtype(t) {}
  std::string name() const override { return "ToCopyBackward"; }
  TensorList apply(TensorList&& g) override { return {g[0].to(input_dtype)}; }
};

struct FillBackward final : autograd::Node {
  std::string name() const override { return "FillBackward"; }
  TensorList apply(TensorList&&) override { return {Tensor()}; }
};

struct CloneBackward final : autograd::Node {
  std::string name() const override { return "CloneBackward"; }
  TensorList apply(TensorList&& g) override { return {g[0]}; }
};

struct CopyBackward final : autograd::Node {
  ScalarType self_dtype;
  std::vector<std::int64_t> src_shape;
  CopyBackward(ScalarType t, std::vector<std::int64_t> s) : self_dtype(t), src_shape(std::move(s)) {}
  std::string name() const override { return "CopyBackwards"; }
  // Inputs: (self, src). self's old values are overwritten: no gradient.
  TensorList apply(TensorList&& g) override {
    return {Tensor(), autograd::sum_to(g[0], src_shape)};
  }
};

}  // namespace

Tensor Tensor::to(ScalarType t, bool copy) const {
  if (dtype() == t && !copy) return *this;
  if (autograd::requires_grad(*this) && !sigma::is_floating_point(t))
    throw Error(std::string("to: cannot convert a tensor that requires grad to ") + to_string(t) +
                "; call detach() first");
  Tensor out = make_tensor(sizes(), t);
  detail::copy_elements(out, *this);
  if (dtype() == t) {
    if (auto node = autograd::make_node<CloneBackward>({this})) autograd::set_history(out, node);
  } else if (auto node = autograd::make_node<ToCopyBackward>({this}, dtype())) {
    autograd::set_history(out, node);
  }
  return out;
}

Tensor Tensor::to(const TensorOptions& o, bool copy) const {
  if (o.has_device()) check_backend("to", o.device());
  Tensor out = o.has_dtype() ? to(o.dtype(), copy) : (copy ? clone() : *this);
  if (o.requires_grad()) out.requires_grad_(true);
  return out;
}

Tensor Tensor::to(Device d, ScalarType t, bool copy) const {
  return to(TensorOptions(t).device(d), copy);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone(MemoryFormat::Contiguous);
}

namespace {

// x's strides when its elements fill a block of memory exactly once (some
// permutation of row-major strides, size-1 dimensions aside); else nothing.
std::optional<std::vector<std::int64_t>> dense_strides(const Tensor& x) {
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < x.dim(); ++d)
    if (x.size(d) != 1) dims.push_back(d);
  std::stable_sort(dims.begin(), dims.end(),
                   [&](std::int64_t a, std::int64_t b) { return x.stride(a) > x.stride(b); });
  std::int64_t expect = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    if (x.stride(dims[i]) != expect) return std::nullopt;
    expect *= x.size(dims[i]);
  }
  return x.strides().vec();
}

}  // namespace

Tensor Tensor::clone(std::optional<MemoryFormat> memory_format) const {
  const MemoryFormat f = memory_format.value_or(MemoryFormat::Preserve);
  if (f == MemoryFormat::ChannelsLast || f == MemoryFormat::ChannelsLast3d)
    throw Error(std::string("clone: memory format ") +
                (f == MemoryFormat::ChannelsLast ? "ChannelsLast" : "ChannelsLast3d") +
                " is not supported (sigma's tensors are row-major or strided views); "
                "use Contiguous or Preserve");
  Tensor out = make_tensor(sizes(), dtype());
  if (f == MemoryFormat::Preserve && !is_contiguous() && numel() > 1) {
    if (auto st = dense_strides(*this)) out = make_view(make_tensor({numel()}, dtype()), sizes().vec(), *st, 0);
  }
  detail::copy_elements(out, *this);
  if (auto node = autograd::make_node<CloneBackward>({this})) autograd::set_history(out, node);
  return out;
}

Tensor& Tensor::copy_(const Tensor& src) {
  autograd::check_inplace("copy_", *this);
  Tensor s = detail::broadcast_to("copy_", src, sizes());
  if (is_alias_of(src)) s = s.detach().clone();
  detail::copy_elements(*this, s);
  bump_version(*this);
  if (autograd::compute_requires_grad({this, &src})) {
    auto node = std::make_shared<CopyBackward>(dtype(), src.sizes().vec());
    node->mutable_next_edges().push_back(autograd::gradient_edge(*this));
    node->mutable_next_edges().push_back(autograd::gradient_edge(src));
    autograd::set_history(*this, node);
  }
  return *this;
}

Tensor& Tensor::fill_(const Scalar& v) {
  autograd::check_inplace("fill_", *this);
  detail::dispatch_all(dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T value;
    if (v.is_floating_point()) value = detail::convert_value<T>(v.to_double());
    else value = detail::convert_value<T>(v.to_long());
    detail::map_elements<T>(*this, [value]() { return value; });
  });
  bump_version(*this);
  // A non-leaf in a graph: its old values no longer reach the output.
  if (auto node = autograd::make_node<FillBackward>({this})) autograd::set_history(*this, node);
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0); }

void Tensor::check_dtype_for_access(ScalarType want, const char* op) const {
  if (!defined()) throw Error(std::string(op) + ": the tensor is undefined");
  if (dtype() != want)
    throw Error(std::string(op) + ": the tensor holds " + to_string(dtype()) +
                " but " + to_string(want) + " was requested");
}

void* Tensor::raw_data() const {
  if (!defined()) throw Error("data_ptr: the tensor is undefined");
  return impl_->data();
}

Scalar Tensor::item_scalar(const char* op) const {
  if (!defined()) throw Error(std::string(op) + ": the tensor is undefined");
  if (numel() != 1)
    throw Error(std::string(op) + ": a tensor with " + std::to_string(numel()) +
                " elements (shape " + shape_string(sizes()) +
                ") cannot be converted to a scalar; expected exactly one element");
  return detail::dispatch_all(dtype(), [&](auto tag) -> Scalar {
    using T = typename decltype(tag)::type;
    const T v = *static_cast<const T*>(impl_->data());
    if constexpr (std::is_same_v<T, bool>) return Scalar(v);
    else if constexpr (std::is_integral_v<T>) return Scalar(static_cast<std::int64_t>(v));
    else return Scalar(detail::to_double_value(v));
  });
}

namespace {
template <class T> std::vector<T> values_as(const Tensor& t) {
  const ScalarType target = CppTypeToScalarType<T>::value;
  NoGradGuard no_grad;
  Tensor c = detail::cast_data(t, target).contiguous();
  const T* p = detail::data_of<const T>(c);
  return std::vector<T>(p, p + c.numel());
}
}  // namespace

template <> std::vector<float> Tensor::to_vector<float>() const { return values_as<float>(*this); }
template <> std::vector<double> Tensor::to_vector<double>() const { return values_as<double>(*this); }
template <> std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const {
  return values_as<std::int64_t>(*this);
}
template <> std::vector<std::int32_t> Tensor::to_vector<std::int32_t>() const {
  return values_as<std::int32_t>(*this);
}
template <> std::vector<bool> Tensor::to_vector<bool>() const {
  NoGradGuard no_grad;
  Tensor c = detail::cast_data(*this, kBool).contiguous();
  const bool* p = detail::data_of<const bool>(c);
  return std::vector<bool>(p, p + c.numel());
}

}  // namespace sigma
