// softmax.cpp: softmax and log_softmax along one dimension, and logsumexp
// over dimensions, each forward beside its backward.
//
// softmax and log_softmax run on the row kernels of sigma/kernels.h: the
// dimension is moved last and made dense (a no-op for the last dimension of
// a contiguous tensor), every row of it is one kernel row, and the result is
// moved back. bf16/f16 compute in f32 and round once. Their backwards are
// kernels too and need only the saved output:
//   softmax:      dx = y (dy - sum(dy y))
//   log_softmax:  dx = dy - e^y sum(dy)
// logsumexp is composed from ops (max, exp, sum, log), so its gradient,
// dy e^(x - lse), comes from theirs; the shift by the maximum is detached.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>
#include <optional>
#include <span>
#include <string>

#include "autograd/function.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

// x's values with dimension d moved last, dense in dtype t.
Tensor rows_of(const Tensor& x, std::int64_t d, ScalarType t) {
  const bool last = x.dim() == 0 || d == x.dim() - 1;
  return detail::dense(last ? x : x.transpose(d, -1), t);
}

// The inverse of rows_of for a result of x's rank: dimension d back in
// place, contiguous, in dtype t.
Tensor unrow(const Tensor& y, std::int64_t d, ScalarType t) {
  const bool last = y.dim() == 0 || d == y.dim() - 1;
  Tensor out = last ? y : y.transpose(d, -1).contiguous();
  return out.dtype() == t ? out : detail::cast_data(out, t);
}

// The number of elements of a row along d (1 for a zero-dimensional x).
std::int64_t row_length(const Tensor& x, std::int64_t d) { return x.dim() == 0 ? 1 : x.size(d); }

// y = softmax or log_softmax of x along d, no autograd.
Tensor softmax_forward(const Tensor& x, std::int64_t d, bool log) {
  const ScalarType ct = detail::compute_type(x.dtype());
  const Tensor xr = rows_of(x, d, ct);
  Tensor yr = make_tensor(xr.sizes(), ct);
  const std::int64_t cols = row_length(x, d);
  if (xr.numel() > 0) {
    detail::dispatch_floating(log ? "log_softmax" : "softmax", ct, [&](auto tag) {
      using C = typename decltype(tag)::type;
      if (log)
        log_softmax(detail::in_span<C>(xr), detail::out_span<C>(yr), cols);
      else
        softmax(detail::in_span<C>(xr), detail::out_span<C>(yr), cols);
    });
  }
  return unrow(yr, d, x.dtype());
}

struct SoftmaxBackward final : autograd::Node {
  SavedVariable y;
  std::int64_t dim;
  bool log;
  SoftmaxBackward(std::int64_t d, bool l) : dim(d), log(l) {}
  std::string name() const override { return log ? "LogSoftmaxBackward" : "SoftmaxBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor yv = y.unpack(this);
    const ScalarType ct = detail::compute_type(yv.dtype());
    const Tensor yr = rows_of(yv, dim, ct), dyr = rows_of(g[0], dim, ct);
    Tensor dxr = make_tensor(yr.sizes(), ct);
    const std::int64_t cols = row_length(yv, dim);
    if (yr.numel() > 0) {
      detail::dispatch_floating(name().c_str(), ct, [&](auto tag) {
        using C = typename decltype(tag)::type;
        const auto dys = detail::in_span<C>(dyr), ys = detail::in_span<C>(yr);
        if (log)
          log_softmax_backward(dys, ys, detail::out_span<C>(dxr), cols);
        else
          softmax_backward(dys, ys, detail::out_span<C>(dxr), cols);
      });
    }
    return {unrow(dxr, dim, yv.dtype())};
  }
  void release_variables() override { y.reset(); }
};

Tensor softmax_op(const char* op, const Tensor& input, std::int64_t dim,
                  std::optional<ScalarType> dtype, bool log) {
  check_defined(op, input);
  const Tensor x = dtype && *dtype != input.dtype() ? input.to(*dtype) : input;
  if (!x.is_floating_point())
    detail::throw_dtype(op, x.dtype(), "a floating-point input (or pass dtype=kFloat)");
  const std::int64_t d = wrap_dim(op, dim, std::max<std::int64_t>(x.dim(), 1));
  Tensor y = softmax_forward(x, d, log);
  if (auto node = make_node<SoftmaxBackward>({&x}, d, log)) {
    node->y = SavedVariable(y);
    set_history(y, node);
  }
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype) {
  return softmax_op("softmax", x, dim, dtype, false);
}

Tensor log_softmax(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype) {
  return softmax_op("log_softmax", x, dim, dtype, true);
}

// log sum exp(x) over dims = m + log(sum(exp(x - m))), m the maximum over
// dims where it is finite and 0 where it is +-inf (so a slice of -inf gives
// -inf and one holding +inf gives +inf, as PyTorch). m is detached: the
// gradient of the shifted form is the same for any constant m.
Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim) {
  const char* op = "logsumexp";
  check_defined(op, x);
  const Tensor xf = x.is_floating_point() ? x : x.to(get_default_dtype());
  if (xf.dim() == 0) return xf.clone();
  std::vector<std::int64_t> ds;
  if (dims.empty()) {
    for (std::int64_t d = 0; d < xf.dim(); ++d) ds.push_back(d);
  } else {
    for (std::int64_t d : dims) ds.push_back(wrap_dim(op, d, xf.dim()));
  }
  bool empty = false;
  for (std::int64_t d : ds) empty |= xf.size(d) == 0;
  if (empty) {  // the log of an empty sum, as PyTorch
    Tensor out = xf.detach().sum(ds, keepdim);
    return out.fill_(-std::numeric_limits<double>::infinity());
  }
  Tensor m = xf.detach();
  for (std::int64_t d : ds) m = std::get<0>(m.max(d, /*keepdim=*/true));
  m = where(isfinite(m), m, zeros_like(m));
  Tensor out = (xf - m).exp().sum(ds, /*keepdim=*/true).log() + m;
  if (!keepdim) {
    std::sort(ds.begin(), ds.end(), std::greater<>());
    for (std::int64_t d : ds) out = out.squeeze(d);
  }
  return out;
}

Tensor Tensor::softmax(std::int64_t dim, std::optional<ScalarType> dtype) const {
  return sigma::softmax(*this, dim, dtype);
}
Tensor Tensor::log_softmax(std::int64_t dim, std::optional<ScalarType> dtype) const {
  return sigma::log_softmax(*this, dim, dtype);
}
Tensor Tensor::logsumexp(IntArrayRef dims, bool keepdim) const {
  return sigma::logsumexp(*this, dims, keepdim);
}

}  // namespace sigma
