// factory.cpp: tensors from values and shapes (tensor, zeros, arange, ...).
#include <cmath>
#include <cstring>
#include <sstream>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/tensor_impl.h"

namespace sigma {

namespace {

ScalarType global_default_dtype = kFloat;

// Applies the options' requires_grad (with its floating-point check).
Tensor finish(Tensor t, const TensorOptions& o) {
  if (o.requires_grad()) t.requires_grad_(true);
  return t;
}

template <class S>
Tensor from_values(const S* values, IntArrayRef shape, ScalarType natural, const TensorOptions& o) {
  const ScalarType t = o.has_dtype() ? o.dtype() : natural;
  Tensor out = make_tensor(shape, t);
  detail::dispatch_all(t, [&](auto tag) {
    using D = typename decltype(tag)::type;
    D* p = static_cast<D*>(out.unsafeGetTensorImpl()->data());
    for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = detail::convert_value<D>(values[i]);
  });
  return finish(out, o);
}

template <class S>
Tensor from_rows(std::initializer_list<std::initializer_list<S>> rows, ScalarType natural,
                 const TensorOptions& o) {
  const std::size_t cols = rows.size() ? rows.begin()->size() : 0;
  std::vector<S> flat;
  std::size_t r = 0;
  for (const auto& row : rows) {
    if (row.size() != cols) {
      std::ostringstream m;
      m << "tensor: ragged nested list: row " << r << " has " << row.size()
        << " elements, expected " << cols << " (as row 0)";
      throw Error(m.str());
    }
    flat.insert(flat.end(), row.begin(), row.end());
    ++r;
  }
  return from_values(flat.data(),
                     {static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(cols)},
                     natural, o);
}

std::int64_t len(std::size_t n) { return static_cast<std::int64_t>(n); }

}  // namespace

ScalarType get_default_dtype() noexcept { return global_default_dtype; }
void set_default_dtype(ScalarType t) {
  if (t != kFloat && t != kDouble)
    throw Error(std::string("set_default_dtype: expected float32 or float64, got ") + to_string(t));
  global_default_dtype = t;
}

Tensor tensor(std::initializer_list<float> v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_values(v.begin(), {len(v.size())}, get_default_dtype(), o);
}
Tensor tensor(std::initializer_list<double> v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_values(v.begin(), {len(v.size())}, get_default_dtype(), o);
}
Tensor tensor(std::initializer_list<int> v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  std::vector<std::int64_t> w(v.begin(), v.end());
  return from_values(w.data(), {len(w.size())}, kLong, o);
}
Tensor tensor(std::initializer_list<std::int64_t> v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_values(v.begin(), {len(v.size())}, kLong, o);
}
Tensor tensor(std::initializer_list<bool> v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  std::vector<char> w(v.begin(), v.end());
  std::vector<std::int64_t> as_int(w.begin(), w.end());
  const TensorOptions oo = o.has_dtype() ? o : o.dtype(kBool);
  return from_values(as_int.data(), {len(as_int.size())}, kBool, oo);
}
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_rows(rows, get_default_dtype(), o);
}
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_rows(rows, get_default_dtype(), o);
}
Tensor tensor(std::initializer_list<std::initializer_list<int>> rows, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_rows(rows, kLong, o);
}
Tensor tensor(const std::vector<float>& v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_values(v.data(), {len(v.size())}, get_default_dtype(), o);
}
Tensor tensor(const std::vector<double>& v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_values(v.data(), {len(v.size())}, get_default_dtype(), o);
}
Tensor tensor(const std::vector<std::int64_t>& v, const TensorOptions& o) {
  check_backend("tensor", o.device());
  return from_values(v.data(), {len(v.size())}, kLong, o);
}

Tensor scalar_tensor(const Scalar& v, const TensorOptions& o) {
  check_backend("scalar_tensor", o.device());
  const ScalarType natural =
      v.is_floating_point() ? get_default_dtype() : (v.is_boolean() ? kBool : kLong);
  if (v.is_floating_point()) {
    const double d = v.to_double();
    return from_values(&d, IntArrayRef(), natural, o);
  }
  const std::int64_t i = v.to_long();
  return from_values(&i, IntArrayRef(), natural, o);
}

Tensor from_data(const void* data, ScalarType data_type, IntArrayRef shape, const TensorOptions& o) {
  check_backend("from_data", o.device());
  if (data == nullptr && checked_numel("from_data", shape) > 0)
    throw Error("from_data: data is null for shape " + shape_string(shape));
  return detail::dispatch_all(data_type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    return from_values(static_cast<const S*>(data), shape, data_type, o);
  });
}

Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides,
                 const std::function<void(void*)>& deleter, const TensorOptions& o) {
  check_backend("from_blob", o.device());
  const ScalarType dt = o.dtype();
  const std::int64_t n = checked_numel("from_blob", sizes);
  if (strides.size() != sizes.size())
    throw Error("from_blob: " + std::to_string(strides.size()) + " strides " +
                shape_string(strides) + " for " + std::to_string(sizes.size()) + " sizes " +
                shape_string(sizes));
  // The elements reach up to offset `extent` from data.
  std::int64_t extent = 0;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (strides[d] < 0)
      throw Error("from_blob: negative stride in " + shape_string(strides) +
                  " (sigma views have non-negative strides)");
    if (sizes[d] > 0) extent += (sizes[d] - 1) * strides[d];
  }
  if (n > 0 && data == nullptr)
    throw Error("from_blob: data is null for shape " + shape_string(sizes));
  const std::size_t esize = element_size(dt);
  if (reinterpret_cast<std::uintptr_t>(data) % esize != 0)
    throw Error(std::string("from_blob: data is not aligned to the ") + std::to_string(esize) +
                "-byte elements of " + to_string(dt));
  const std::size_t nbytes = n > 0 ? static_cast<std::size_t>(extent + 1) * esize : 0;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::byte*>(data), nbytes, deleter,
                                            Storage::External{});
  impl->sizes = sizes.vec();
  impl->strides = strides.vec();
  impl->dtype = dt;
  return finish(Tensor(std::move(impl)), o);
}

Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& o) {
  return from_blob(data, sizes, contiguous_strides(sizes), {}, o);
}
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& o) {
  return from_blob(data, sizes, strides, {}, o);
}
Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& o) {
  return from_blob(data, sizes, contiguous_strides(sizes), deleter, o);
}

Tensor empty(IntArrayRef shape, const TensorOptions& o) {
  check_backend("empty", o.device());
  return finish(make_tensor(shape, o.dtype()), o);
}
Tensor zeros(IntArrayRef shape, const TensorOptions& o) {
  check_backend("zeros", o.device());
  Tensor t = make_tensor(shape, o.dtype());
  if (t.numel() > 0) std::memset(t.data_ptr(), 0, t.nbytes());
  return finish(t, o);
}
Tensor ones(IntArrayRef shape, const TensorOptions& o) {
  check_backend("ones", o.device());
  return full(shape, 1, o.has_dtype() ? o : o.dtype(get_default_dtype()));
}
Tensor full(IntArrayRef shape, const Scalar& value, const TensorOptions& o) {
  check_backend("full", o.device());
  TensorOptions oo = o;
  if (!o.has_dtype() && !value.is_floating_point())
    oo = o.dtype(value.is_boolean() ? kBool : kLong);
  // PyTorch's full() with an integer fill and no dtype gives int64 too.
  Tensor t = make_tensor(shape, oo.dtype());
  {
    NoGradGuard no_grad;
    t.fill_(value);
  }
  return finish(t, oo);
}
Tensor eye(std::int64_t n, const TensorOptions& o) {
  check_backend("eye", o.device());
  if (n < 0) throw Error("eye: n must be non-negative, got " + std::to_string(n));
  Tensor t = zeros({n, n}, o.requires_grad(false));
  NoGradGuard no_grad;
  for (std::int64_t i = 0; i < n; ++i) t.select(0, i).select(0, i).fill_(1);
  return finish(t, o);
}

Tensor arange(const Scalar& end, const TensorOptions& o) { return arange(0, end, 1, o); }
Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& o) {
  check_backend("arange", o.device());
  return arange(start, end, 1, o);
}
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& o) {
  check_backend("arange", o.device());
  const double a = start.to_double(), b = end.to_double(), s = step.to_double();
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(s) || s == 0.0)
    throw Error("arange: start, end and step must be finite and step non-zero (got start=" +
                std::to_string(a) + ", end=" + std::to_string(b) + ", step=" + std::to_string(s) +
                ")");
  if ((s > 0 && b < a) || (s < 0 && b > a))
    throw Error("arange: the step's sign does not lead from start to end");
  const bool all_int = !start.is_floating_point() && !end.is_floating_point() &&
                       !step.is_floating_point();
  const auto n = static_cast<std::int64_t>(std::ceil((b - a) / s));
  const ScalarType natural = all_int ? kLong : get_default_dtype();
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = a + static_cast<double>(i) * s;
  if (all_int) {
    std::vector<std::int64_t> w(v.size());
    for (std::size_t i = 0; i < v.size(); ++i)
      w[i] = start.to_long() + static_cast<std::int64_t>(i) * step.to_long();
    return from_values(w.data(), {n}, natural, o);
  }
  return from_values(v.data(), {n}, natural, o);
}

Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps, const TensorOptions& o) {
  check_backend("linspace", o.device());
  if (steps < 0) throw Error("linspace: steps must be non-negative, got " + std::to_string(steps));
  const double a = start.to_double(), b = end.to_double();
  std::vector<double> v(static_cast<std::size_t>(steps));
  // PyTorch's symmetric form: the first half steps up from start, the second
  // half down from end, so both endpoints are exact.
  const double step = steps > 1 ? (b - a) / static_cast<double>(steps - 1) : 0.0;
  const std::int64_t half = steps / 2;
  for (std::int64_t i = 0; i < steps; ++i)
    v[static_cast<std::size_t>(i)] =
        (i < half || steps == 1) ? a + step * static_cast<double>(i)
                 : b - step * static_cast<double>(steps - 1 - i);
  return from_values(v.data(), {steps}, get_default_dtype(), o);
}

namespace {
TensorOptions like(const Tensor& t, const TensorOptions& o) {
  const TensorOptions d = o.has_device() ? o : o.device(t.device());
  return o.has_dtype() ? d : d.dtype(t.dtype());
}
}  // namespace
Tensor empty_like(const Tensor& t, const TensorOptions& o) { return empty(t.sizes(), like(t, o)); }
Tensor zeros_like(const Tensor& t, const TensorOptions& o) { return zeros(t.sizes(), like(t, o)); }
Tensor ones_like(const Tensor& t, const TensorOptions& o) { return ones(t.sizes(), like(t, o)); }
Tensor full_like(const Tensor& t, const Scalar& v, const TensorOptions& o) {
  check_backend("full_like", o.device());
  return full(t.sizes(), v, like(t, o));
}

}  // namespace sigma
