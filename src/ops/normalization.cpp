// normalization.cpp: layer_norm, forward and backward side by side.
//
// Shapes: input [*, normalized_shape] is read as x [M, N], M rows of
// N = prod(normalized_shape) values; weight, bias [N]; mean, rstd [M].
//
// Method: per row, two-pass statistics in the accumulator type A (double for
// f32/bf16/f16, long double for f64): mean = sum x / N,
// var = sum (x - mean)^2 / N (biased, as PyTorch), rstd = 1 / sqrt(var + eps);
// then y = (x - mean) rstd w + b evaluated in A and rounded once.
// Backward, with x_hat = (x - mean) rstd and g = dy w:
//   dx = rstd (g - mean_row(g) - x_hat mean_row(g x_hat))
//   dw = sum_rows dy x_hat,   db = sum_rows dy
// each accumulated in A and rounded once. Rows (forward, dx) and blocks of
// columns (dw, db) are spread over sigma's threads; every value is summed in
// an order fixed by the shape, so results do not depend on the thread count.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

// Rows share the threads like the reductions: a thread's share is at least
// this many elements.
inline constexpr std::int64_t kRowGrain = std::int64_t{1} << 16;
// Columns per task of the dw/db reduction over rows.
inline constexpr std::int64_t kColumnBlock = 64;

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, long double, double>;

template <class A, class T> A load(T v) noexcept {
  if constexpr (std::is_same_v<T, double>) return v;
  else return detail::to_double_value(v);
}
// One rounding from A to the storage type (double -> bf16/f16 rounds once,
// through round-to-odd).
template <class T, class A> T store(A v) noexcept {
  if constexpr (std::is_same_v<T, double>) return static_cast<double>(v);
  else return detail::convert_value<T>(static_cast<double>(v));
}

struct Rows {
  std::int64_t m = 1, n = 1;
};

Rows check_layer_norm(const Tensor& input, IntArrayRef shape, const Tensor& weight,
                      const Tensor& bias) {
  check_defined("layer_norm", input, "input");
  if (!input.is_floating_point())
    detail::throw_dtype("layer_norm", input.dtype(), "a floating-point input");
  const std::int64_t k = static_cast<std::int64_t>(shape.size());
  if (k == 0)
    throw Error("layer_norm: normalized_shape must have at least one dimension, got []");
  bool matches = input.dim() >= k;
  for (std::int64_t i = 0; matches && i < k; ++i)
    matches = input.size(input.dim() - k + i) == shape[static_cast<std::size_t>(i)];
  if (!matches)
    throw Error("layer_norm: input of shape " + shape_string(input.sizes()) +
                " does not end in normalized_shape " + shape_string(shape) +
                " (expected an input of shape [*, " +
                shape_string(shape).substr(1) + ")");
  for (const auto& [t, name] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    if (!t->defined()) continue;
    if (!(t->sizes() == shape))
      throw Error(std::string("layer_norm: ") + name + " of shape " + shape_string(t->sizes()) +
                  " must have normalized_shape " + shape_string(shape));
    if (t->dtype() != input.dtype())
      throw Error(std::string("layer_norm: ") + name + " is " + to_string(t->dtype()) +
                  " but the input is " + to_string(input.dtype()) + " (expected the same dtype)");
  }
  Rows r;
  for (std::int64_t i = 0; i < input.dim(); ++i) (i < input.dim() - k ? r.m : r.n) *= input.size(i);
  return r;
}

// x, y [m, n]; w, b [n] or null; mean, rstd [m].
template <class T>
void layer_norm_forward(const T* x, const T* w, const T* b, T* y, double* mean, double* rstd,
                        Rows r, double eps) {
  using A = acc_t<T>;
  const std::int64_t n = r.n;
  detail::parallel_items(r.m, n, kRowGrain, [&](std::int64_t i) {
    const T* xi = x + i * n;
    T* yi = y + i * n;
    A s = 0;
    for (std::int64_t j = 0; j < n; ++j) s += load<A>(xi[j]);
    const A mu = s / static_cast<A>(n);
    A q = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      const A d = load<A>(xi[j]) - mu;
      q += d * d;
    }
    const A rs = 1 / std::sqrt(q / static_cast<A>(n) + static_cast<A>(eps));
    for (std::int64_t j = 0; j < n; ++j) {
      A v = (load<A>(xi[j]) - mu) * rs;
      if (w) v *= load<A>(w[j]);
      if (b) v += load<A>(b[j]);
      yi[j] = store<T>(v);
    }
    mean[i] = static_cast<double>(mu);
    rstd[i] = static_cast<double>(rs);
  });
}

// dx [m, n] from dy, x [m, n], w [n] or null, mean and rstd [m].
template <class T>
void layer_norm_backward_input(const T* dy, const T* x, const T* w, const double* mean,
                               const double* rstd, T* dx, Rows r) {
  using A = acc_t<T>;
  const std::int64_t n = r.n;
  detail::parallel_items(r.m, 2 * n, kRowGrain, [&](std::int64_t i) {
    const T *dyi = dy + i * n, *xi = x + i * n;
    const A mu = mean[i], rs = rstd[i];
    A sg = 0, sgx = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      const A g = w ? load<A>(dyi[j]) * load<A>(w[j]) : load<A>(dyi[j]);
      sg += g;
      sgx += g * ((load<A>(xi[j]) - mu) * rs);
    }
    const A a = sg / static_cast<A>(n), c = sgx / static_cast<A>(n);
    T* dxi = dx + i * n;
    for (std::int64_t j = 0; j < n; ++j) {
      const A g = w ? load<A>(dyi[j]) * load<A>(w[j]) : load<A>(dyi[j]);
      const A xh = (load<A>(xi[j]) - mu) * rs;
      dxi[j] = store<T>(rs * (g - a - xh * c));
    }
  });
}

// dw, db [n] (each may be null) from dy, x [m, n], mean and rstd [m].
template <class T>
void layer_norm_backward_affine(const T* dy, const T* x, const double* mean, const double* rstd,
                                T* dw, T* db, Rows r) {
  using A = acc_t<T>;
  const std::int64_t n = r.n, blocks = (n + kColumnBlock - 1) / kColumnBlock;
  detail::parallel_items(blocks, r.m * kColumnBlock, kRowGrain, [&](std::int64_t blk) {
    const std::int64_t j0 = blk * kColumnBlock, j1 = std::min(n, j0 + kColumnBlock);
    A sw[kColumnBlock] = {}, sb[kColumnBlock] = {};
    for (std::int64_t i = 0; i < r.m; ++i) {
      const T *dyi = dy + i * n, *xi = x + i * n;
      const A mu = mean[i], rs = rstd[i];
      for (std::int64_t j = j0; j < j1; ++j) {
        const A d = load<A>(dyi[j]);
        sw[j - j0] += d * ((load<A>(xi[j]) - mu) * rs);
        sb[j - j0] += d;
      }
    }
    for (std::int64_t j = j0; j < j1; ++j) {
      if (dw) dw[j] = store<T>(sw[j - j0]);
      if (db) db[j] = store<T>(sb[j - j0]);
    }
  });
}

template <class T> const T* data_or_null(const Tensor& t) {
  return t.defined() ? detail::data_of<const T>(t) : nullptr;
}
template <class T> T* mutable_data_or_null(const Tensor& t) {
  return t.defined() ? detail::data_of<T>(t) : nullptr;
}

struct LayerNormBackward final : autograd::Node {
  SavedVariable input, weight;
  Tensor mean, rstd;  // float64 [M]: the forward's statistics, internal to this node
  Rows rows;
  std::vector<std::int64_t> normalized_shape;
  LayerNormBackward(Rows r, std::vector<std::int64_t> shape)
      : rows(r), normalized_shape(std::move(shape)) {}
  std::string name() const override { return "LayerNormBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor in = input.unpack(this);
    const ScalarType dt = in.dtype();
    const Tensor x = detail::dense(in, dt), dy = detail::dense(g[0], dt);
    const Tensor w = weight.defined() ? detail::dense(weight.unpack(this), dt) : Tensor();
    Tensor dx, dw, db;
    if (next_edges()[0].is_valid()) dx = make_tensor(in.sizes(), dt);
    if (next_edges()[1].is_valid()) dw = make_tensor(normalized_shape, dt);
    if (next_edges()[2].is_valid()) db = make_tensor(normalized_shape, dt);
    detail::dispatch_floating_storage("layer_norm_backward", dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const double *mu = detail::data_of<const double>(mean),
                   *rs = detail::data_of<const double>(rstd);
      if (dx.defined())
        layer_norm_backward_input<T>(data_or_null<T>(dy), data_or_null<T>(x), data_or_null<T>(w),
                                     mu, rs, detail::data_of<T>(dx), rows);
      if (dw.defined() || db.defined())
        layer_norm_backward_affine<T>(data_or_null<T>(dy), data_or_null<T>(x), mu, rs,
                                      mutable_data_or_null<T>(dw), mutable_data_or_null<T>(db),
                                      rows);
    });
    return {dx, dw, db};
  }
  void release_variables() override {
    input.reset();
    weight.reset();
    mean = Tensor();
    rstd = Tensor();
  }
};

}  // namespace

// input [*, normalized_shape] -> [*, normalized_shape]
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps, bool /*cudnn_enable*/) {
  const Rows rows = check_layer_norm(input, normalized_shape, weight, bias);
  const ScalarType dt = input.dtype();
  const Tensor x = detail::dense(input, dt);
  const Tensor w = weight.defined() ? detail::dense(weight, dt) : Tensor();
  const Tensor b = bias.defined() ? detail::dense(bias, dt) : Tensor();
  Tensor y = make_tensor(input.sizes(), dt);
  Tensor mean = make_tensor({rows.m}, kDouble), rstd = make_tensor({rows.m}, kDouble);
  detail::dispatch_floating_storage("layer_norm", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    layer_norm_forward<T>(data_or_null<T>(x), data_or_null<T>(w), data_or_null<T>(b),
                          detail::data_of<T>(y), detail::data_of<double>(mean),
                          detail::data_of<double>(rstd), rows, eps);
  });
  if (auto node = make_node<LayerNormBackward>({&input, &weight, &bias}, rows,
                                               normalized_shape.vec())) {
    node->input = SavedVariable(input);
    if (weight.defined()) node->weight = SavedVariable(weight);
    node->mean = mean;
    node->rstd = rstd;
    set_history(y, node);
  }
  return y;
}

}  // namespace sigma
