// batch_norm.cpp: batch normalization over dimension 1, forward and backward
// side by side.
//
// Shapes: input [N, C, *] is read as x [N, C, S] (S the product of the
// trailing sizes); weight, bias, running_mean, running_var [C].
//
// Per channel c, over its M = N S values, in the accumulator type A (double
// for f32, long double for f64):
//   training: mean = sum x / M, var = sum (x - mean)^2 / M (biased),
//             running_mean <- (1 - m) running_mean + m mean,
//             running_var  <- (1 - m) running_var + m var M / (M - 1)
//   eval:     mean, var = running_mean, running_var
//   y = (x - mean) rstd w + b, rstd = 1 / sqrt(var + eps)
// Backward with x_hat = (x - mean) rstd, g = dy w:
//   training: dx = rstd (g - mean_c(g) - x_hat mean_c(g x_hat))
//   eval:     dx = rstd g
//   dw = sum dy x_hat, db = sum dy
// Channels are split across sigma's threads; each value is summed in an
// order fixed by the shape.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/function.h"
#include "kernels/parallel.h"
#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

inline constexpr std::int64_t kChannelGrain = std::int64_t{1} << 16;

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, long double, double>;

struct Dims {
  std::int64_t n = 0, c = 0, s = 1;
  std::int64_t m() const { return n * s; }
};

// The sum of f(p[j]) over a run, in A, with eight partial sums (lane u takes
// j = u mod 8; the tail goes to lane 0) added pairwise at the end: the order
// is fixed by the run's length, and the adds pipeline instead of waiting on
// one accumulator (a single chain costs an add's latency per value).
template <class A, class T, class F> A sum8(const T* p, std::int64_t k, F&& f) {
  A acc[8] = {};
  std::int64_t j = 0;
  for (; j + 8 <= k; j += 8)
    for (int u = 0; u < 8; ++u) acc[u] += f(p[j + u]);
  for (; j < k; ++j) acc[0] += f(p[j]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Calls f(value pointer, count) for each of channel c's N runs of S values.
template <class T, class F> void for_runs(T* x, const Dims& d, std::int64_t c, F&& f) {
  for (std::int64_t i = 0; i < d.n; ++i) f(x + (i * d.c + c) * d.s, d.s);
}

template <class T>
void bn_forward(const T* x, const T* w, const T* b, T* y, double* mean, double* rstd,
                const Dims& d, bool training, double eps) {
  using A = acc_t<T>;
  detail::parallel_items(d.c, 2 * d.m(), kChannelGrain, [&](std::int64_t c) {
    A mu = mean[c], rs = rstd[c];
    if (training) {
      A s = 0;
      for_runs(x, d, c, [&](const T* p, std::int64_t k) {
        s += sum8<A>(p, k, [](T v) { return static_cast<A>(v); });
      });
      mu = s / static_cast<A>(d.m());
      A q = 0;
      for_runs(x, d, c, [&](const T* p, std::int64_t k) {
        q += sum8<A>(p, k, [mu](T v) { return (v - mu) * (v - mu); });
      });
      mean[c] = static_cast<double>(mu);
      rstd[c] = static_cast<double>(q / static_cast<A>(d.m()));  // the biased var, for now
      rs = 1 / std::sqrt(q / static_cast<A>(d.m()) + static_cast<A>(eps));
    }
    const A scale = w ? rs * static_cast<A>(w[c]) : rs;
    const A shift = (b ? static_cast<A>(b[c]) : A(0)) - mu * scale;
    for (std::int64_t i = 0; i < d.n; ++i) {
      const T* p = x + (i * d.c + c) * d.s;
      T* q = y + (i * d.c + c) * d.s;
      for (std::int64_t j = 0; j < d.s; ++j) q[j] = static_cast<T>(p[j] * scale + shift);
    }
  });
}

template <class T>
void bn_backward(const T* dy, const T* x, const T* w, const double* mean, const double* rstd,
                 T* dx, T* dw, T* db, const Dims& d, bool training) {
  using A = acc_t<T>;
  detail::parallel_items(d.c, 3 * d.m(), kChannelGrain, [&](std::int64_t c) {
    const A mu = mean[c], rs = rstd[c];
    A sdy = 0, sdyx = 0;
    for (std::int64_t i = 0; i < d.n; ++i) {
      const T* g = dy + (i * d.c + c) * d.s;
      const T* p = x + (i * d.c + c) * d.s;
      // sum dy and sum dy (x - mean), in eight lanes as sum8; rstd once per run
      A s1[8] = {}, s2[8] = {};
      std::int64_t j = 0;
      for (; j + 8 <= d.s; j += 8)
        for (int u = 0; u < 8; ++u) {
          s1[u] += g[j + u];
          s2[u] += static_cast<A>(g[j + u]) * (p[j + u] - mu);
        }
      for (; j < d.s; ++j) {
        s1[0] += g[j];
        s2[0] += static_cast<A>(g[j]) * (p[j] - mu);
      }
      sdy += ((s1[0] + s1[1]) + (s1[2] + s1[3])) + ((s1[4] + s1[5]) + (s1[6] + s1[7]));
      sdyx += (((s2[0] + s2[1]) + (s2[2] + s2[3])) + ((s2[4] + s2[5]) + (s2[6] + s2[7]))) * rs;
    }
    if (dw) dw[c] = static_cast<T>(sdyx);
    if (db) db[c] = static_cast<T>(sdy);
    if (!dx) return;
    const A wc = w ? static_cast<A>(w[c]) : A(1);
    const A a = training ? sdy / static_cast<A>(d.m()) : A(0);
    const A k = training ? sdyx / static_cast<A>(d.m()) : A(0);
    for (std::int64_t i = 0; i < d.n; ++i) {
      const T* g = dy + (i * d.c + c) * d.s;
      const T* p = x + (i * d.c + c) * d.s;
      T* o = dx + (i * d.c + c) * d.s;
      for (std::int64_t j = 0; j < d.s; ++j) {
        const A xh = (p[j] - mu) * rs;
        o[j] = static_cast<T>(wc * rs * (g[j] - a - xh * k));
      }
    }
  });
}

template <class T> const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? detail::data_of<const T>(t) : nullptr;
}

struct BatchNormBackward final : autograd::Node {
  SavedVariable input, weight;
  Tensor mean, rstd;  // float64 [C]: the statistics the forward used
  Dims dims;
  bool training;
  BatchNormBackward(const Dims& d, bool t) : dims(d), training(t) {}
  std::string name() const override { return "NativeBatchNormBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor in = input.unpack(this);
    const ScalarType dt = in.dtype();
    const Tensor x = detail::dense(in, dt), dy = detail::dense(g[0], dt);
    const Tensor w = weight.defined() ? detail::dense(weight.unpack(this), dt) : Tensor();
    Tensor dx, dw, db;
    if (next_edges()[0].is_valid()) dx = make_tensor(in.sizes(), dt);
    if (next_edges()[1].is_valid()) dw = make_tensor({dims.c}, dt);
    if (next_edges()[2].is_valid()) db = make_tensor({dims.c}, dt);
    detail::dispatch_floating("batch_norm_backward", dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      bn_backward<T>(ptr_or_null<T>(dy), ptr_or_null<T>(x), ptr_or_null<T>(w),
                     detail::data_of<const double>(mean), detail::data_of<const double>(rstd),
                     dx.defined() ? detail::data_of<T>(dx) : nullptr,
                     dw.defined() ? detail::data_of<T>(dw) : nullptr,
                     db.defined() ? detail::data_of<T>(db) : nullptr, dims, training);
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

void check_channel_tensor(const Tensor& t, const char* what, const Tensor& input, std::int64_t c) {
  if (!t.defined()) return;
  if (t.dim() != 1 || t.size(0) != c)
    throw Error(std::string("batch_norm: expected ") + what + " of shape [" + std::to_string(c) +
                "] (the input's channels, dimension 1 of " + shape_string(input.sizes()) +
                "), got " + shape_string(t.sizes()));
  if (!t.is_floating_point())
    throw Error(std::string("batch_norm: expected a floating ") + what + ", got " +
                to_string(t.dtype()));
}

}  // namespace

// input [N, C, *] -> [N, C, *]
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps, bool /*cudnn_enabled*/) {
  const char* op = "batch_norm";
  check_defined(op, input);
  if (input.dim() < 2)
    throw Error("batch_norm: expected an input [N, C, *] of at least 2 dimensions, got shape " +
                shape_string(input.sizes()));
  if (!input.is_floating_point())
    detail::throw_dtype(op, input.dtype(), "a floating-point input");
  Dims d;
  d.n = input.size(0);
  d.c = input.size(1);
  for (std::int64_t i = 2; i < input.dim(); ++i) d.s *= input.size(i);
  check_channel_tensor(weight, "weight", input, d.c);
  check_channel_tensor(bias, "bias", input, d.c);
  check_channel_tensor(running_mean, "running_mean", input, d.c);
  check_channel_tensor(running_var, "running_var", input, d.c);
  for (const Tensor* t : {&weight, &bias})
    if (t->defined() && t->dtype() != input.dtype())
      throw Error(std::string("batch_norm: weight and bias must have the input's dtype ") +
                  to_string(input.dtype()) + ", got " + to_string(t->dtype()));
  if (!training && (!running_mean.defined() || !running_var.defined()))
    throw Error("batch_norm: running_mean and running_var must be defined in evaluation mode");
  if (training && d.m() == 0)
    throw Error("batch_norm: training needs values in each channel, got input of shape " +
                shape_string(input.sizes()));
  const ScalarType dt = input.dtype();
  const Tensor x = detail::dense(input, dt);
  const Tensor w = weight.defined() ? detail::dense(weight, dt) : Tensor();
  const Tensor b = bias.defined() ? detail::dense(bias, dt) : Tensor();
  Tensor mean = make_tensor({d.c}, kDouble), rstd = make_tensor({d.c}, kDouble);
  if (!training) {
    const Tensor rm = detail::dense(running_mean, kDouble), rv = detail::dense(running_var, kDouble);
    for (std::int64_t c = 0; c < d.c; ++c) {
      detail::data_of<double>(mean)[c] = detail::data_of<const double>(rm)[c];
      detail::data_of<double>(rstd)[c] =
          1.0 / std::sqrt(detail::data_of<const double>(rv)[c] + eps);
    }
  }
  Tensor y = make_tensor(input.sizes(), dt);
  detail::dispatch_floating(op, dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    bn_forward<T>(ptr_or_null<T>(x), ptr_or_null<T>(w), ptr_or_null<T>(b), detail::data_of<T>(y),
                  detail::data_of<double>(mean), detail::data_of<double>(rstd), d, training, eps);
  });
  if (training) {
    // rstd holds the biased variance here: update the running stats, then
    // turn it into 1 / sqrt(var + eps).
    double* var = detail::data_of<double>(rstd);
    const double* mu = detail::data_of<const double>(mean);
    const double m = static_cast<double>(d.m());
    if (running_mean.defined() || running_var.defined()) {
      std::vector<double> new_mean(static_cast<std::size_t>(d.c)), new_var(new_mean.size());
      const Tensor rm = running_mean.defined() ? detail::dense(running_mean, kDouble) : Tensor();
      const Tensor rv = running_var.defined() ? detail::dense(running_var, kDouble) : Tensor();
      for (std::int64_t c = 0; c < d.c; ++c) {
        const auto i = static_cast<std::size_t>(c);
        const double unbiased = m > 1 ? var[c] * m / (m - 1) : std::nan("");
        if (rm.defined())
          new_mean[i] = momentum * mu[c] + (1 - momentum) * detail::data_of<const double>(rm)[c];
        if (rv.defined())
          new_var[i] = momentum * unbiased + (1 - momentum) * detail::data_of<const double>(rv)[c];
      }
      NoGradGuard no_grad;
      Tensor rm_out = running_mean, rv_out = running_var;  // handles: the buffers are updated
      if (rm_out.defined()) rm_out.copy_(sigma::tensor(new_mean, kDouble));
      if (rv_out.defined()) rv_out.copy_(sigma::tensor(new_var, kDouble));
    }
    for (std::int64_t c = 0; c < d.c; ++c) var[c] = 1.0 / std::sqrt(var[c] + eps);
  }
  if (auto node = make_node<BatchNormBackward>({&input, &weight, &bias}, d, training)) {
    node->input = SavedVariable(input);
    if (weight.defined()) node->weight = SavedVariable(weight);
    node->mean = mean;
    node->rstd = rstd;
    set_history(y, node);
  }
  return y;
}

}  // namespace sigma
