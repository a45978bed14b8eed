// scan.cpp: cumsum and prod along a dimension (prod also over all elements),
// with their backward nodes. Both walk whole lines (ops/lines.h); prod's
// gradient is a scan too: the product of the other elements of each line,
// from exclusive prefix and suffix products, so it needs no division and is
// exact when the line holds zeros.
//
// Accumulation: double for float32/bf16/f16 and plain double for float64
// products, Neumaier-compensated double for float64 sums, wrapping 64-bit
// integers for int64 (integral and bool inputs give int64 unless a dtype is
// given, as LibTorch). Each output element is rounded once.
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/function.h"
#include "core/compensated_sum.h"
#include "ops/elementwise.h"
#include "ops/lines.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/dense.h"

namespace sigma {

namespace {

// The result dtype of a sum or product: dtype when given, else int64 for
// integral and bool inputs, else the input's.
ScalarType accumulate_type(const Tensor& x, std::optional<ScalarType> dtype) {
  if (dtype) return *dtype;
  return is_floating_point(x.dtype()) ? x.dtype() : kLong;
}

template <class T> struct SumAcc {
  using Acc = std::conditional_t<std::is_same_v<T, double>, detail::CompensatedSum, double>;
  Acc acc{};
  void add(T v) noexcept {
    if constexpr (std::is_same_v<T, double>) acc.add(v);
    else acc += detail::to_double_value(v);
  }
  T value() const noexcept {
    if constexpr (std::is_same_v<T, double>) return acc.value();
    else return detail::convert_value<T>(acc);
  }
};
template <> struct SumAcc<std::int64_t> {
  std::uint64_t s = 0;
  void add(std::int64_t v) noexcept { s += static_cast<std::uint64_t>(v); }
  std::int64_t value() const noexcept { return static_cast<std::int64_t>(s); }
};

// out = running sums of x along dim (from the end when reverse); x and the
// result have dtype t (float, double, bf16, f16 or int64).
Tensor cumsum_kernel(const Tensor& x, std::int64_t dim, ScalarType t, bool reverse) {
  const Tensor in = detail::dense(x, t);
  Tensor out = make_tensor(x.sizes(), t);
  const detail::Lines lines(x, dim);
  detail::dispatch_dtype<detail::Dtypes::Storage>("cumsum", t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      throw Error("cumsum: bool results are not supported");
    } else {
      const T* p = detail::data_of<const T>(in);
      T* o = detail::data_of<T>(out);
      lines.for_each([&](std::int64_t start, std::int64_t stride, std::int64_t) {
        SumAcc<T> acc;
        for (std::int64_t j = 0; j < lines.n; ++j) {
          const std::int64_t k = start + (reverse ? lines.n - 1 - j : j) * stride;
          acc.add(p[k]);
          o[k] = acc.value();
        }
      });
    }
  });
  return out;
}

Tensor scan_sum(const Tensor& x, std::int64_t dim, ScalarType t, bool reverse);

// The gradient of a running sum is the running sum from the other end.
struct CumsumBackward final : autograd::Node {
  std::int64_t dim;
  ScalarType input_dtype;
  bool reverse;
  CumsumBackward(std::int64_t d, ScalarType t, bool r) : dim(d), input_dtype(t), reverse(r) {}
  std::string name() const override { return "CumsumBackward"; }
  TensorList apply(TensorList&& g) override {
    return {scan_sum(g[0], dim, g[0].dtype(), !reverse).to(input_dtype)};
  }
};

Tensor scan_sum(const Tensor& x, std::int64_t dim, ScalarType t, bool reverse) {
  Tensor out = cumsum_kernel(x, dim, t, reverse);
  if (auto node = autograd::make_node<CumsumBackward>({&x}, dim, x.dtype(), reverse))
    autograd::set_history(out, node);
  return out;
}

// ---- prod.

template <class T> struct ProdAcc {
  double p = 1.0;
  void mul(T v) noexcept { p *= detail::to_double_value(v); }
  T value() const noexcept { return detail::convert_value<T>(p); }
};
template <> struct ProdAcc<std::int64_t> {
  std::uint64_t p = 1;
  void mul(std::int64_t v) noexcept { p *= static_cast<std::uint64_t>(v); }
  std::int64_t value() const noexcept { return static_cast<std::int64_t>(p); }
};

// The product of each line of x (dtype t) along dim: x's shape with dim's
// size 1.
Tensor prod_kernel(const Tensor& x, std::int64_t dim, ScalarType t) {
  const Tensor in = detail::dense(x, t);
  std::vector<std::int64_t> shape = x.sizes().vec();
  if (!shape.empty()) shape[static_cast<std::size_t>(dim)] = 1;
  Tensor out = make_tensor(shape, t);
  const detail::Lines lines(x, dim);
  detail::dispatch_dtype<detail::Dtypes::Storage>("prod", t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      throw Error("prod: bool results are not supported");
    } else {
      const T* p = detail::data_of<const T>(in);
      T* o = detail::data_of<T>(out);
      lines.for_each([&](std::int64_t start, std::int64_t stride, std::int64_t line) {
        ProdAcc<T> acc;
        for (std::int64_t j = 0; j < lines.n; ++j) acc.mul(p[start + j * stride]);
        o[line] = acc.value();
      });
    }
  });
  return out;
}

// others[k] = the product of the other elements of k's line: the exclusive
// prefix product times the exclusive suffix product, in double, rounded once.
Tensor prod_of_others(const Tensor& x, std::int64_t dim) {
  const Tensor in = detail::dense(x, x.dtype());
  Tensor out = make_tensor(x.sizes(), x.dtype());
  const detail::Lines lines(x, dim);
  detail::dispatch_floating_storage("prod_backward", x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = detail::data_of<const T>(in);
    T* o = detail::data_of<T>(out);
    std::vector<double> prefix(static_cast<std::size_t>(lines.n));
    lines.for_each([&](std::int64_t start, std::int64_t stride, std::int64_t) {
      double run = 1.0;
      for (std::int64_t j = 0; j < lines.n; ++j) {
        prefix[static_cast<std::size_t>(j)] = run;
        run *= detail::to_double_value(p[start + j * stride]);
      }
      run = 1.0;
      for (std::int64_t j = lines.n; j-- > 0;) {
        o[start + j * stride] = detail::convert_value<T>(prefix[static_cast<std::size_t>(j)] * run);
        run *= detail::to_double_value(p[start + j * stride]);
      }
    });
  });
  return out;
}

// grad x = g (broadcast back along dim) * the product of the other elements.
struct ProdBackward final : autograd::Node {
  autograd::SavedVariable x;
  std::int64_t dim;
  bool keepdim;
  ProdBackward(std::int64_t d, bool k) : dim(d), keepdim(k) {}
  std::string name() const override { return "ProdBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor xv = x.unpack(this);
    Tensor gk = (keepdim || xv.dim() == 0) ? g[0] : g[0].unsqueeze(dim);
    return {(gk * prod_of_others(xv, dim)).to(xv.dtype())};
  }
  void release_variables() override { x.reset(); }
};

Tensor prod_along(const char* op, const Tensor& x, std::int64_t dim, bool keepdim,
                  std::optional<ScalarType> dtype) {
  check_defined(op, x);
  const std::int64_t d = wrap_dim(op, dim, x.dim());
  Tensor out = prod_kernel(x, d, accumulate_type(x, dtype));
  if (!keepdim && x.dim() > 0) out = out.squeeze(d);
  if (auto node = autograd::make_node<ProdBackward>({&x}, d, keepdim)) {
    node->x = autograd::SavedVariable(x);
    autograd::set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype) {
  check_defined("cumsum", x);
  const std::int64_t d = wrap_dim("cumsum", dim, x.dim());
  return scan_sum(x, d, accumulate_type(x, dtype), /*reverse=*/false);
}

Tensor prod(const Tensor& x, std::int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  return prod_along("prod", x, dim, keepdim, dtype);
}

Tensor prod(const Tensor& x, std::optional<ScalarType> dtype) {
  check_defined("prod", x);
  return prod_along("prod", x.reshape({-1}), 0, false, dtype);
}

Tensor Tensor::cumsum(std::int64_t dim, std::optional<ScalarType> dtype) const {
  return sigma::cumsum(*this, dim, dtype);
}
Tensor& Tensor::cumsum_(std::int64_t dim, std::optional<ScalarType> dtype) {
  autograd::check_inplace("cumsum_", *this);
  const ScalarType t = accumulate_type(*this, dtype);
  if (!detail::can_cast(t, this->dtype()))
    throw Error("cumsum_: the result type " + std::string(to_string(t)) +
                " can't be cast to the tensor's dtype " + to_string(this->dtype()));
  return copy_(sigma::cumsum(*this, dim, dtype));
}
Tensor Tensor::prod(std::optional<ScalarType> dtype) const { return sigma::prod(*this, dtype); }
Tensor Tensor::prod(std::int64_t dim, bool keepdim, std::optional<ScalarType> dtype) const {
  return sigma::prod(*this, dim, keepdim, dtype);
}

}  // namespace sigma
