// pool.cpp: max_pool1d/2d (with indices), avg_pool2d and adaptive_avg_pool2d,
// each forward beside its backward.
//
// Every input [*, H, W] is read as B planes of H x W (B the product of the
// leading sizes); max_pool1d is max_pool2d over planes of height 1. Output
// planes are OH x OW.
//
// Average pools (avg_pool2d and the adaptive one) are described alike: for
// each output row a window [start, end) of input rows clipped to the input,
// and a factor; the same for columns; the divisor of output (i, j) is
// row_factor[i] col_factor[j] (avg_pool2d: the window's size counting the
// padding or not; adaptive: the window's size), unless overridden. The
// backward spreads dy / divisor over the same window.
// Max pools save the flat index (h W + w) of each maximum in its plane; the
// backward adds dy there. NaN counts as the maximum, as in PyTorch.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "kernels/parallel.h"
#include "sigma/ops.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

inline constexpr std::int64_t kPlaneGrain = std::int64_t{1} << 15;

std::vector<std::int64_t> per_dim(const char* op, const char* what, IntArrayRef v,
                                  std::int64_t dims, std::int64_t fallback_from_empty = -1,
                                  IntArrayRef fallback = {}) {
  if (v.empty() && fallback_from_empty >= 0) return per_dim(op, what, fallback, dims);
  if (v.size() == 1) return std::vector<std::int64_t>(static_cast<std::size_t>(dims), v[0]);
  if (static_cast<std::int64_t>(v.size()) != dims)
    throw Error(std::string(op) + ": " + what + " must be a single integer or " +
                std::to_string(dims) + " integers, got " + shape_string(v));
  return v.vec();
}

// PyTorch's pooling output size for one dimension.
std::int64_t pooled_size(std::int64_t in, std::int64_t k, std::int64_t pad, std::int64_t stride,
                         std::int64_t dilation, bool ceil_mode) {
  const std::int64_t num = in + 2 * pad - dilation * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  std::int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

struct Planes {
  std::int64_t b = 1, h = 1, w = 1, oh = 1, ow = 1;
};

// The leading sizes of input followed by {oh, ow} (or {ow} for 1-D pools).
std::vector<std::int64_t> out_shape(const Tensor& input, std::int64_t dims, const Planes& p) {
  std::vector<std::int64_t> s(input.sizes().begin(), input.sizes().end() - dims);
  if (dims == 2) s.push_back(p.oh);
  s.push_back(p.ow);
  return s;
}

void check_pool_input(const char* op, const Tensor& input, std::int64_t dims) {
  check_defined(op, input);
  if (input.dim() != dims + 1 && input.dim() != dims + 2)
    throw Error(std::string(op) + ": expected a " + std::to_string(dims + 1) + "-D or " +
                std::to_string(dims + 2) + "-D input, got shape " + shape_string(input.sizes()));
  for (std::int64_t d = 1; d < input.dim(); ++d)
    if (input.size(d) == 0)
      throw Error(std::string(op) + ": expected non-empty dimensions after the batch, got shape " +
                  shape_string(input.sizes()));
  if (!input.is_floating_point()) detail::throw_dtype(op, input.dtype(), "float32 or float64");
}

// ---- Max pooling.
struct MaxGeom {
  Planes p;
  std::int64_t kh, kw, sh, sw, ph, pw, dh, dw;
};

// Windows of 2 x 2 at stride 2, no padding or dilation, all inside the plane
// (MaxPool2d(2), the common case): the same comparisons in the same order as
// the general loop below, without its bounds arithmetic.
template <class T> bool max_forward_2x2(const T* x, T* y, std::int64_t* idx, const MaxGeom& g) {
  const Planes& p = g.p;
  if (g.kh != 2 || g.kw != 2 || g.sh != 2 || g.sw != 2 || g.ph != 0 || g.pw != 0 || g.dh != 1 ||
      g.dw != 1 || 2 * p.oh > p.h || 2 * p.ow > p.w)
    return false;
  const std::int64_t h = p.h, w = p.w, oh = p.oh, ow = p.ow;  // locals: the stores alias nothing
  detail::parallel_items(p.b, oh * ow * 4, kPlaneGrain, [=](std::int64_t b) {
    const T* xp = x + b * h * w;
    T* yp = y + b * oh * ow;
    std::int64_t* ip = idx + b * oh * ow;
    for (std::int64_t oy = 0; oy < oh; ++oy) {
      const std::int64_t r0 = 2 * oy * w, r1 = r0 + w;
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        const std::int64_t c = 2 * ox;
        const std::int64_t pos[4] = {r0 + c, r0 + c + 1, r1 + c, r1 + c + 1};
        const T v0 = xp[pos[0]], v1 = xp[pos[1]], v2 = xp[pos[2]], v3 = xp[pos[3]];
        std::int64_t at;
        if (((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3)) == 0) {
          // No NaN: the first position holding the maximum, found without
          // branches on the data (which of four wins is a coin toss for a
          // predictor).
          const T m = std::max(std::max(v0, v1), std::max(v2, v3));
          const int k = int(v0 != m) * (1 + int(v1 != m) * (1 + int(v2 != m)));
          at = pos[k];
        } else {  // the general loop's order: the last NaN wins
          T best = v0;
          at = pos[0];
          for (int k = 1; k < 4; ++k) {
            const T v = xp[pos[k]];
            if (v > best || std::isnan(v)) {
              best = v;
              at = pos[k];
            }
          }
        }
        const T best = xp[at];
        yp[oy * ow + ox] = best;
        ip[oy * ow + ox] = at;
      }
    }
  });
  return true;
}

template <class T> void max_forward(const T* x, T* y, std::int64_t* idx, const MaxGeom& g) {
  const Planes& p = g.p;
  if (max_forward_2x2(x, y, idx, g)) return;
  detail::parallel_items(p.b, p.oh * p.ow * g.kh * g.kw, kPlaneGrain, [&](std::int64_t b) {
    const T* xp = x + b * p.h * p.w;
    T* yp = y + b * p.oh * p.ow;
    std::int64_t* ip = idx + b * p.oh * p.ow;
    for (std::int64_t oy = 0; oy < p.oh; ++oy) {
      std::int64_t y0 = oy * g.sh - g.ph;
      while (y0 < 0) y0 += g.dh;
      const std::int64_t y1 = std::min(oy * g.sh - g.ph + (g.kh - 1) * g.dh + 1, p.h);
      for (std::int64_t ox = 0; ox < p.ow; ++ox) {
        std::int64_t x0 = ox * g.sw - g.pw;
        while (x0 < 0) x0 += g.dw;
        const std::int64_t x1 = std::min(ox * g.sw - g.pw + (g.kw - 1) * g.dw + 1, p.w);
        T best = -std::numeric_limits<T>::infinity();
        std::int64_t at = y0 * p.w + x0;
        for (std::int64_t iy = y0; iy < y1; iy += g.dh)
          for (std::int64_t ix = x0; ix < x1; ix += g.dw) {
            const T v = xp[iy * p.w + ix];
            if (v > best || std::isnan(v)) {
              best = v;
              at = iy * p.w + ix;
            }
          }
        yp[oy * p.ow + ox] = best;
        ip[oy * p.ow + ox] = at;
      }
    }
  });
}

struct MaxPoolBackward final : autograd::Node {
  Tensor indices;  // int64, the output's shape
  std::vector<std::int64_t> input_shape;
  Planes p;
  MaxPoolBackward(std::vector<std::int64_t> shape, const Planes& pl)
      : input_shape(std::move(shape)), p(pl) {}
  std::string name() const override { return "MaxPool2DWithIndicesBackward"; }
  TensorList apply(TensorList&& g) override {
    const ScalarType dt = g[0].dtype();
    const Tensor dy = detail::dense(g[0], dt);
    Tensor dx = make_tensor(input_shape, dt);
    detail::dispatch_floating("max_pool2d_backward", dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* pdy = detail::data_of<const T>(dy);
      const std::int64_t* pi = detail::data_of<const std::int64_t>(indices);
      T* pdx = detail::data_of<T>(dx);
      detail::parallel_items(p.b, p.h * p.w + p.oh * p.ow, kPlaneGrain, [&](std::int64_t b) {
        T* d = pdx + b * p.h * p.w;
        std::fill_n(d, p.h * p.w, T(0));
        const std::int64_t o = b * p.oh * p.ow;
        for (std::int64_t i = 0; i < p.oh * p.ow; ++i) d[pi[o + i]] += pdy[o + i];
      });
    });
    return {dx};
  }
  void release_variables() override { indices = Tensor(); }
};

std::tuple<Tensor, Tensor> max_pool_nd(const char* op, const Tensor& input, std::int64_t dims,
                                       IntArrayRef kernel_size, IntArrayRef stride,
                                       IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  check_pool_input(op, input, dims);
  const auto k = per_dim(op, "kernel_size", kernel_size, dims);
  const auto s = per_dim(op, "stride", stride, dims, 0, kernel_size);
  const auto pd = per_dim(op, "padding", padding, dims);
  const auto dl = per_dim(op, "dilation", dilation, dims);
  MaxGeom g{};
  const std::size_t off = dims == 2 ? 0 : 1;  // 1-D: the height is a fixed 1
  std::int64_t K[2] = {1, 1}, S[2] = {1, 1}, P[2] = {0, 0}, D[2] = {1, 1};
  for (std::size_t i = 0; i < static_cast<std::size_t>(dims); ++i) {
    K[i + off] = k[i], S[i + off] = s[i], P[i + off] = pd[i], D[i + off] = dl[i];
    if (k[i] <= 0 || s[i] <= 0 || dl[i] <= 0)
      throw Error(std::string(op) + ": kernel_size, stride and dilation must be positive, got "
                  "kernel_size=" + shape_string(kernel_size) + ", stride=" + shape_string(stride) +
                  ", dilation=" + shape_string(dilation));
    if (pd[i] < 0 || pd[i] > ((k[i] - 1) * dl[i] + 1) / 2)
      throw Error(std::string(op) + ": padding should be at least 0 and at most half of the "
                  "effective kernel size, got padding=" + shape_string(padding) +
                  " with kernel_size=" + shape_string(kernel_size) +
                  ", dilation=" + shape_string(dilation));
  }
  g.kh = K[0], g.kw = K[1], g.sh = S[0], g.sw = S[1], g.ph = P[0], g.pw = P[1], g.dh = D[0],
  g.dw = D[1];
  g.p.h = dims == 2 ? input.size(-2) : 1;
  g.p.w = input.size(-1);
  g.p.b = input.numel() / (g.p.h * g.p.w);
  g.p.oh = pooled_size(g.p.h, g.kh, g.ph, g.sh, g.dh, ceil_mode);
  g.p.ow = pooled_size(g.p.w, g.kw, g.pw, g.sw, g.dw, ceil_mode);
  if (g.p.oh <= 0 || g.p.ow <= 0)
    throw Error(std::string(op) + ": the output of input " + shape_string(input.sizes()) +
                " with kernel_size=" + shape_string(kernel_size) + " would be empty");
  const ScalarType dt = input.dtype();
  const Tensor x = detail::dense(input, dt);
  const auto shape = out_shape(input, dims, g.p);
  Tensor y = make_tensor(shape, dt), idx = make_tensor(shape, kLong);
  detail::dispatch_floating(op, dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    max_forward<T>(detail::data_of<const T>(x), detail::data_of<T>(y),
                   detail::data_of<std::int64_t>(idx), g);
  });
  if (auto node = make_node<MaxPoolBackward>({&input}, input.sizes().vec(), g.p)) {
    node->indices = idx;
    set_history(y, node);
  }
  return {y, idx};
}

// ---- Average pooling.
struct AvgWindows {
  Planes p;
  std::vector<std::int64_t> r0, r1, c0, c1;  // [oh], [ow]: clipped windows
  std::vector<double> rf, cf;                // factors of the divisor
  std::optional<std::int64_t> divisor;
  double div(std::int64_t i, std::int64_t j) const {
    return divisor ? static_cast<double>(*divisor)
                   : rf[static_cast<std::size_t>(i)] * cf[static_cast<std::size_t>(j)];
  }
};

template <class T> void avg_forward(const T* x, T* y, const AvgWindows& a) {
  const Planes& p = a.p;
  detail::parallel_items(p.b, p.h * p.w + p.oh * p.ow, kPlaneGrain, [&](std::int64_t b) {
    const T* xp = x + b * p.h * p.w;
    T* yp = y + b * p.oh * p.ow;
    for (std::int64_t i = 0; i < p.oh; ++i)
      for (std::int64_t j = 0; j < p.ow; ++j) {
        double s = 0;
        for (std::int64_t iy = a.r0[i]; iy < a.r1[i]; ++iy)
          for (std::int64_t ix = a.c0[j]; ix < a.c1[j]; ++ix) s += xp[iy * p.w + ix];
        yp[i * p.ow + j] = static_cast<T>(s / a.div(i, j));
      }
  });
}

struct AvgPoolBackward final : autograd::Node {
  AvgWindows a;
  std::vector<std::int64_t> input_shape;
  std::string op;
  AvgPoolBackward(AvgWindows w, std::vector<std::int64_t> shape, std::string name)
      : a(std::move(w)), input_shape(std::move(shape)), op(std::move(name)) {}
  std::string name() const override { return op; }
  TensorList apply(TensorList&& g) override {
    const ScalarType dt = g[0].dtype();
    const Tensor dy = detail::dense(g[0], dt);
    Tensor dx = make_tensor(input_shape, dt);
    const Planes& p = a.p;
    detail::dispatch_floating("avg_pool2d_backward", dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* pdy = detail::data_of<const T>(dy);
      T* pdx = detail::data_of<T>(dx);
      detail::parallel_items(p.b, p.h * p.w + p.oh * p.ow, kPlaneGrain, [&](std::int64_t b) {
        T* d = pdx + b * p.h * p.w;
        const T* gy = pdy + b * p.oh * p.ow;
        std::fill_n(d, p.h * p.w, T(0));
        for (std::int64_t i = 0; i < p.oh; ++i)
          for (std::int64_t j = 0; j < p.ow; ++j) {
            const T v = static_cast<T>(static_cast<double>(gy[i * p.ow + j]) / a.div(i, j));
            for (std::int64_t iy = a.r0[i]; iy < a.r1[i]; ++iy)
              for (std::int64_t ix = a.c0[j]; ix < a.c1[j]; ++ix) d[iy * p.w + ix] += v;
          }
      });
    });
    return {dx};
  }
};

Tensor avg_pool_run(const char* op, const char* node_name, const Tensor& input, AvgWindows a) {
  const ScalarType dt = input.dtype();
  const Tensor x = detail::dense(input, dt);
  Tensor y = make_tensor(out_shape(input, 2, a.p), dt);
  detail::dispatch_floating(op, dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    avg_forward<T>(detail::data_of<const T>(x), detail::data_of<T>(y), a);
  });
  if (auto node = make_node<AvgPoolBackward>({&input}, std::move(a), input.sizes().vec(),
                                             node_name))
    set_history(y, node);
  return y;
}

}  // namespace

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride, IntArrayRef padding,
                                                   IntArrayRef dilation, bool ceil_mode) {
  return max_pool_nd("max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode);
}
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  return std::get<0>(
      max_pool_nd("max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode));
}
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride, IntArrayRef padding,
                                                   IntArrayRef dilation, bool ceil_mode) {
  return max_pool_nd("max_pool1d", input, 1, kernel_size, stride, padding, dilation, ceil_mode);
}
Tensor max_pool1d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  return std::get<0>(
      max_pool_nd("max_pool1d", input, 1, kernel_size, stride, padding, dilation, ceil_mode));
}

// input [*, H, W] -> [*, OH, OW]
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                  std::optional<std::int64_t> divisor_override) {
  const char* op = "avg_pool2d";
  check_pool_input(op, input, 2);
  const auto k = per_dim(op, "kernel_size", kernel_size, 2);
  const auto s = per_dim(op, "stride", stride, 2, 0, kernel_size);
  const auto pd = per_dim(op, "padding", padding, 2);
  if (divisor_override && *divisor_override == 0)
    throw Error("avg_pool2d: divisor_override must be non-zero");
  AvgWindows a;
  a.divisor = divisor_override;
  a.p.h = input.size(-2);
  a.p.w = input.size(-1);
  a.p.b = input.numel() / (a.p.h * a.p.w);
  const std::int64_t in[2] = {a.p.h, a.p.w};
  std::int64_t out[2];
  for (int d = 0; d < 2; ++d) {
    if (k[d] <= 0 || s[d] <= 0)
      throw Error("avg_pool2d: kernel_size and stride must be positive, got kernel_size=" +
                  shape_string(kernel_size) + ", stride=" + shape_string(stride));
    if (pd[d] < 0 || pd[d] > k[d] / 2)
      throw Error("avg_pool2d: padding should be at least 0 and at most half of the kernel size, "
                  "got padding=" + shape_string(padding) + " with kernel_size=" +
                  shape_string(kernel_size));
    out[d] = pooled_size(in[d], k[d], pd[d], s[d], 1, ceil_mode);
    if (out[d] <= 0)
      throw Error("avg_pool2d: the output of input " + shape_string(input.sizes()) +
                  " with kernel_size=" + shape_string(kernel_size) + " would be empty");
    auto& lo = d == 0 ? a.r0 : a.c0;
    auto& hi = d == 0 ? a.r1 : a.c1;
    auto& f = d == 0 ? a.rf : a.cf;
    for (std::int64_t o = 0; o < out[d]; ++o) {
      const std::int64_t start = o * s[d] - pd[d];
      const std::int64_t end = std::min(start + k[d], in[d] + pd[d]);
      const std::int64_t cs = std::max<std::int64_t>(start, 0), ce = std::min(end, in[d]);
      lo.push_back(cs);
      hi.push_back(std::max(cs, ce));
      f.push_back(static_cast<double>(count_include_pad ? end - start : std::max<std::int64_t>(ce - cs, 0)));
    }
  }
  a.p.oh = out[0];
  a.p.ow = out[1];
  return avg_pool_run(op, "AvgPool2DBackward", input, std::move(a));
}

Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_input(op, input, 2);
  const auto os = per_dim(op, "output_size", output_size, 2);
  AvgWindows a;
  a.p.h = input.size(-2);
  a.p.w = input.size(-1);
  a.p.b = input.numel() / (a.p.h * a.p.w);
  const std::int64_t in[2] = {a.p.h, a.p.w};
  for (int d = 0; d < 2; ++d) {
    if (os[d] < 0)
      throw Error("adaptive_avg_pool2d: output_size must be non-negative, got " +
                  shape_string(output_size));
    auto& lo = d == 0 ? a.r0 : a.c0;
    auto& hi = d == 0 ? a.r1 : a.c1;
    auto& f = d == 0 ? a.rf : a.cf;
    for (std::int64_t o = 0; o < os[d]; ++o) {
      const std::int64_t start = o * in[d] / os[d];
      const std::int64_t end = ((o + 1) * in[d] + os[d] - 1) / os[d];
      lo.push_back(start);
      hi.push_back(end);
      f.push_back(static_cast<double>(end - start));
    }
  }
  a.p.oh = os[0];
  a.p.ow = os[1];
  return avg_pool_run(op, "AdaptiveAvgPool2DBackward", input, std::move(a));
}

}  // namespace sigma
