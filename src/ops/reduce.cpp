// reduce.cpp: reductions (sum, mean, max, min, argmax, argmin, norm) with their
// backward, side by side.
//
// One driver (reduce_into) serves every sum-like reduction on any layout:
// size-1 dimensions are dropped and adjacent reduced / kept dimensions of a
// contiguous input are merged, leaving one of three loops: a full reduction
// (fixed-size blocks summed in parallel, combined in order), contiguous runs
// (out[o] = reduce x[o, :]) or columns (out[o, i] = reduce x[o, :, i], a row
// at a time). A full reduction of a permuted tensor (e.g. x.t()) reads it in
// memory order; other layouts are first copied to [kept..., reduced...]. Each
// output element is accumulated in an order fixed by the shape alone, so the
// result does not depend on the number of threads.
//
// Accumulators: double for f32/bf16/f16 (rounded once to the output type),
// Neumaier-compensated double for f64, wrapping 64-bit integers for int64/bool.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>

#include "autograd/function.h"
#include "ops/reduce.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "core/compensated_sum.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace detail {

// Which dimensions of x the dims list reduces (all for an empty list);
// sigma::Error on a repeated dimension.
std::vector<bool> reduce_mask(const char* op, const Tensor& x, IntArrayRef dims) {
  const std::int64_t r = x.dim();
  std::vector<bool> m(static_cast<std::size_t>(r), dims.empty());
  for (std::int64_t d : dims) {
    const std::int64_t w = wrap_dim(op, d, r);
    if (r == 0) continue;
    if (m[static_cast<std::size_t>(w)])
      throw Error(std::string(op) + ": dim " + std::to_string(w) +
                  " appears multiple times in the list of dims " + shape_string(dims));
    m[static_cast<std::size_t>(w)] = true;
  }
  return m;
}

}  // namespace detail

using detail::reduce_mask;

namespace {

using Shape = std::vector<std::int64_t>;

// ---- Accumulators: add(v), merge(other), value().
struct PlainAcc {
  double s = 0.0;
  void add(double v) noexcept { s += v; }
  void merge(const PlainAcc& o) noexcept { s += o.s; }
  double value() const noexcept { return s; }
};

// Neumaier's compensated sum (core/compensated_sum.h).
using CompensatedAcc = detail::CompensatedSum;

// int64 sums wrap around as in PyTorch (unsigned arithmetic: no UB).
struct IntAcc {
  std::uint64_t s = 0;
  void add(std::uint64_t v) noexcept { s += v; }
  void merge(const IntAcc& o) noexcept { s += o.s; }
  std::int64_t value() const noexcept { return static_cast<std::int64_t>(s); }
};

// max of non-negative values (|x| for the inf-norm); NaN wins.
struct MaxAcc {
  double m = 0.0;
  void add(double v) noexcept {
    if (m == m && (v > m || v != v)) m = v;
  }
  void merge(const MaxAcc& o) noexcept { add(o.m); }
  double value() const noexcept { return m; }
};

// bf16 is the top half of an f32: widen inline (the hot loop of 16-bit sums).
template <class T> double load_double(T v) noexcept {
  if constexpr (std::is_same_v<T, bfloat16>)
    return std::bit_cast<float>(static_cast<std::uint32_t>(v.bits) << 16);
  else
    return detail::to_double_value(v);
}

inline constexpr std::int64_t kBlock = std::int64_t{1} << 14;
// The reductions' grain (docs/PERFORMANCE.md, "Threads"): a thread's share of
// a reduction is at least this many elements.
inline constexpr std::int64_t kReduceGrain = std::int64_t{1} << 16;

// Reduces n contiguous elements with 8 interleaved accumulators (which the
// compiler can vectorise) merged in a fixed order.
template <class Acc, class T, class Load>
Acc reduce_run(const T* p, std::int64_t n, const Load& load) {
  Acc lanes[8];
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lanes[j].add(load(p[i + j]));
  for (int j = 0; i < n; ++i, ++j) lanes[j].add(load(p[i]));
  lanes[0].merge(lanes[1]);
  lanes[2].merge(lanes[3]);
  lanes[4].merge(lanes[5]);
  lanes[6].merge(lanes[7]);
  lanes[0].merge(lanes[2]);
  lanes[4].merge(lanes[6]);
  lanes[0].merge(lanes[4]);
  return lanes[0];
}

// A long run: blocks of kBlock elements in parallel, merged in order.
template <class Acc, class T, class Load>
Acc reduce_long_run(const T* p, std::int64_t n, const Load& load) {
  if (n <= kBlock) return reduce_run<Acc>(p, n, load);
  const std::int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<Acc> part(static_cast<std::size_t>(nb));
  detail::parallel_items(nb, kBlock, kReduceGrain, [&](std::int64_t b) {
    part[static_cast<std::size_t>(b)] =
        reduce_run<Acc>(p + b * kBlock, std::min(kBlock, n - b * kBlock), load);
  });
  Acc total = part[0];
  for (std::int64_t b = 1; b < nb; ++b) total.merge(part[static_cast<std::size_t>(b)]);
  return total;
}

// A copy of x's data without autograd (x itself when already contiguous).
Tensor contiguous_data(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor c = make_tensor(x.sizes(), x.dtype());
  detail::copy_elements(c, x);
  return c;
}

// The dimensions of x with size != 1, as (size, stride, reduced).
struct Dims {
  Shape size, stride;
  std::vector<bool> reduced;
};

// Adjacent dimensions of the same kind that are contiguous with each other
// are merged; returns (kind, size) groups, or nothing if some pair of
// neighbours is not contiguous.
std::optional<std::vector<std::pair<bool, std::int64_t>>> merge_groups(const Dims& d) {
  std::vector<std::pair<bool, std::int64_t>> g;
  std::int64_t expect = 1;
  for (std::size_t i = d.size.size(); i-- > 0;) {
    if (d.stride[i] != expect) return std::nullopt;
    expect *= d.size[i];
    if (!g.empty() && g.back().first == d.reduced[i]) g.back().second *= d.size[i];
    else g.emplace_back(d.reduced[i], d.size[i]);
  }
  std::reverse(g.begin(), g.end());
  return g;
}

// out (contiguous, numel = product of the kept sizes) = store(acc over the
// reduced dimensions of x, count). x has element type T, out O.
template <class Acc, class T, class O, class Load, class Store>
void reduce_into(const Tensor& x, const std::vector<bool>& reduced, const Tensor& out,
                 const Load& load, const Store& store) {
  O* o = detail::data_of<O>(out);
  Dims d;
  std::int64_t kept = 1, count = 1;
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    const std::int64_t s = x.size(i);
    (reduced[static_cast<std::size_t>(i)] ? count : kept) *= s;
    if (s == 1) continue;
    d.size.push_back(s);
    d.stride.push_back(x.stride(i));
    d.reduced.push_back(reduced[static_cast<std::size_t>(i)]);
  }
  if (kept == 0) return;
  if (count == 0) {
    for (std::int64_t i = 0; i < kept; ++i) o[i] = store(Acc{}, 0);
    return;
  }
  Tensor data = x;
  auto groups = merge_groups(d);
  if (!groups && kept == 1) {
    // A full reduction only needs the elements in some order: try memory order.
    std::vector<std::size_t> order(d.size.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return d.stride[a] > d.stride[b]; });
    Dims s;
    for (std::size_t i : order) {
      s.size.push_back(d.size[i]);
      s.stride.push_back(d.stride[i]);
      s.reduced.push_back(true);
    }
    groups = merge_groups(s);
  }
  auto handled = [](const std::vector<std::pair<bool, std::int64_t>>& g) {
    return g.size() <= 2 || (g.size() == 3 && !g[0].first);
  };
  if (!groups || !handled(*groups)) {
    // Copy to [kept..., reduced...].
    Dims p;
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t i = 0; i < d.size.size(); ++i)
        if (d.reduced[i] == (pass == 1)) {
          p.size.push_back(d.size[i]);
          p.stride.push_back(d.stride[i]);
          p.reduced.push_back(pass == 1);
        }
    data = make_tensor(p.size, x.dtype());
    detail::copy_elements(data, make_view(x, p.size, p.stride, x.storage_offset()));
    p.stride = contiguous_strides(p.size);
    groups = merge_groups(p);
  }
  const T* px = detail::data_of<const T>(data);
  const auto& g = *groups;
  if (g.empty() || (g.size() == 1 && g[0].first)) {
    o[0] = store(reduce_long_run<Acc>(px, count, load), count);
  } else if (g.size() == 1) {  // nothing to reduce: every group has size 1
    detail::parallel_items(kept, 1, kReduceGrain, [&](std::int64_t i) {
      Acc a;
      a.add(load(px[i]));
      o[i] = store(a, 1);
    });
  } else if (g.size() == 2 && !g[0].first) {  // [kept, reduced]: contiguous runs
    const std::int64_t n = g[1].second;
    if (n >= 4 * kBlock) {
      for (std::int64_t i = 0; i < kept; ++i)
        o[i] = store(reduce_long_run<Acc>(px + i * n, n, load), n);
    } else {
      detail::parallel_items(kept, n, kReduceGrain, [&](std::int64_t i) {
        o[i] = store(reduce_run<Acc>(px + i * n, n, load), n);
      });
    }
  } else {  // [reduced, kept] or [kept, reduced, kept]: columns
    const std::int64_t outer = g.size() == 3 ? g[0].second : 1;
    const std::int64_t r = g.size() == 3 ? g[1].second : g[0].second;
    const std::int64_t inner = g.back().second;
    constexpr std::int64_t kCols = 256;
    const std::int64_t col_blocks = (inner + kCols - 1) / kCols;
    const std::int64_t tasks = outer * col_blocks;
    detail::parallel_items(tasks, kept * r / tasks, kReduceGrain, [&](std::int64_t t) {
      const std::int64_t ob = t / col_blocks, c0 = (t % col_blocks) * kCols;
      const std::int64_t w = std::min(kCols, inner - c0);
      Acc acc[kCols];
      const T* base = px + ob * r * inner + c0;
      for (std::int64_t k = 0; k < r; ++k)
        for (std::int64_t c = 0; c < w; ++c) acc[c].add(load(base[k * inner + c]));
      for (std::int64_t c = 0; c < w; ++c) o[ob * inner + c0 + c] = store(acc[c], r);
    });
  }
}


Shape reduced_shape(const Tensor& x, const std::vector<bool>& mask, bool keepdim) {
  Shape s;
  for (std::int64_t d = 0; d < x.dim(); ++d) {
    if (!mask[static_cast<std::size_t>(d)]) s.push_back(x.size(d));
    else if (keepdim) s.push_back(1);
  }
  return s;
}

// A gradient of the reduced shape viewed with the reduced dimensions
// restored as size 1 (so that it broadcasts against the input).
Tensor unsqueeze_reduced(Tensor g, const std::vector<bool>& mask, bool keepdim) {
  if (keepdim) return g;
  for (std::size_t d = 0; d < mask.size(); ++d)
    if (mask[d]) g = g.unsqueeze(static_cast<std::int64_t>(d));
  return g;
}

// out = sum (or mean, when mean is set) of x over mask, as out_type.
Tensor sum_kernel(const char* op, const Tensor& x, const std::vector<bool>& mask, bool keepdim,
                  ScalarType out_type, bool mean) {
  Tensor out = make_tensor(reduced_shape(x, mask, keepdim), out_type);
  detail::dispatch_storage(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, bool>) {
      (void)op;
      auto load = [](T v) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(v)); };
      reduce_into<IntAcc, T, std::int64_t>(x, mask, out, load,
                                           [](const IntAcc& a, std::int64_t) { return a.value(); });
    } else {
      using Acc = std::conditional_t<std::is_same_v<T, double>, CompensatedAcc, PlainAcc>;
      auto load = [](T v) { return load_double(v); };
      detail::dispatch_storage(out_type, [&](auto otag) {
        using O = typename decltype(otag)::type;
        if constexpr (std::is_same_v<O, bool> || std::is_same_v<O, std::int64_t>) {
          throw Error(std::string(op) + ": cannot reduce " + to_string(x.dtype()) + " into " +
                      to_string(out_type));
        } else {
          reduce_into<Acc, T, O>(x, mask, out, load, [mean](const Acc& a, std::int64_t n) {
            const double v = a.value();
            return detail::convert_value<O>(mean ? v / static_cast<double>(n) : v);
          });
        }
      });
    }
  });
  return out;
}

ScalarType sum_type(ScalarType t) { return is_floating_point(t) ? t : kLong; }

// ---- sum and mean.
struct SumBackward final : autograd::Node {
  Shape input_shape;
  std::vector<bool> mask;
  bool keepdim;
  SumBackward(Shape s, std::vector<bool> m, bool k)
      : input_shape(std::move(s)), mask(std::move(m)), keepdim(k) {}
  std::string name() const override { return "SumBackward"; }
  TensorList apply(TensorList&& g) override {
    return {unsqueeze_reduced(g[0], mask, keepdim).expand(input_shape)};
  }
};

struct MeanBackward final : autograd::Node {
  Shape input_shape;
  std::vector<bool> mask;
  bool keepdim;
  std::int64_t count;
  MeanBackward(Shape s, std::vector<bool> m, bool k, std::int64_t n)
      : input_shape(std::move(s)), mask(std::move(m)), keepdim(k), count(n) {}
  std::string name() const override { return "MeanBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor scaled = g[0].div(static_cast<double>(count));
    return {unsqueeze_reduced(scaled, mask, keepdim).expand(input_shape)};
  }
};

Tensor sum_over(const Tensor& x, const std::vector<bool>& mask, bool keepdim) {
  Tensor out = sum_kernel("sum", x, mask, keepdim, sum_type(x.dtype()), false);
  if (auto node = make_node<SumBackward>({&x}, x.sizes().vec(), mask, keepdim))
    set_history(out, node);
  return out;
}

void check_mean_dtype(const Tensor& x) {
  if (!x.is_floating_point())
    throw Error(std::string("mean: expected a floating-point input, got ") + to_string(x.dtype()) +
                "; convert it first, e.g. x.to(sigma::kFloat)");
}

Tensor mean_over(const Tensor& x, const std::vector<bool>& mask, bool keepdim) {
  check_mean_dtype(x);
  Tensor out = sum_kernel("mean", x, mask, keepdim, x.dtype(), true);
  std::int64_t n = 1;
  for (std::size_t d = 0; d < mask.size(); ++d)
    if (mask[d]) n *= x.size(static_cast<std::int64_t>(d));
  if (auto node = make_node<MeanBackward>({&x}, x.sizes().vec(), mask, keepdim, n))
    set_history(out, node);
  return out;
}


// ---- max, min and argmax.

// The running maximum (IsMax) or minimum of values of type V (double for
// floating types, which holds every f32/bf16/f16 value exactly; int64 for
// int64 and bool). A NaN wins, as in PyTorch.
template <bool IsMax, class V> struct ExtremeAcc {
  V v{};
  bool has = false, nan = false;
  void add(V x) noexcept {
    if constexpr (std::is_floating_point_v<V>) {
      if (x != x) {
        nan = true;
        return;
      }
    }
    if (!has || (IsMax ? x > v : x < v)) {
      v = x;
      has = true;
    }
  }
  void merge(const ExtremeAcc& o) noexcept {
    nan = nan || o.nan;
    if (o.has) add(o.v);
  }
  V value() const noexcept {
    if constexpr (std::is_floating_point_v<V>)
      if (nan) return std::numeric_limits<V>::quiet_NaN();
    return v;
  }
};

template <class T>
using ValueType = std::conditional_t<std::is_same_v<T, std::int64_t> || std::is_same_v<T, bool>,
                                     std::int64_t, double>;

template <class T> ValueType<T> load_value(T v) noexcept {
  if constexpr (std::is_same_v<ValueType<T>, std::int64_t>) return static_cast<std::int64_t>(v);
  else return load_double(v);
}

[[noreturn]] void throw_empty(const char* op, const Tensor& x) {
  throw Error(std::string(op) + ": the input is empty (shape " + shape_string(x.sizes()) +
              "), so it has no " + op + "; reduce along a dimension of non-zero size instead");
}

template <bool IsMax> Tensor extreme_all(const char* op, const Tensor& x) {
  if (x.numel() == 0) throw_empty(op, x);
  Tensor out = make_tensor({}, x.dtype());
  const std::vector<bool> all(static_cast<std::size_t>(x.dim()), true);
  detail::dispatch_storage(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = ExtremeAcc<IsMax, ValueType<T>>;
    reduce_into<Acc, T, T>(x, all, out, [](T v) { return load_value(v); },
                           [](const Acc& a, std::int64_t) {
                             return detail::convert_value<T>(a.value());
                           });
  });
  return out;
}

// The gradient of max()/min() shared evenly between the elements equal to
// the result (PyTorch's evenly_distribute_backward).
struct ExtremeAllBackward final : autograd::Node {
  SavedVariable input;
  double value;
  bool is_max;
  ExtremeAllBackward(double v, bool m) : value(v), is_max(m) {}
  std::string name() const override { return is_max ? "MaxBackward" : "MinBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor x = input.unpack(this);
    const Tensor mask = std::isnan(value) ? isnan(x) : x.eq(value);
    const std::int64_t count = mask.sum().item<std::int64_t>();
    return {where(mask, g[0] / static_cast<double>(count), 0.0)};
  }
  void release_variables() override { input.reset(); }
};

template <bool IsMax> Tensor extreme_all_op(const char* op, const Tensor& x) {
  check_defined(op, x);
  Tensor out = extreme_all<IsMax>(op, x);
  if (auto node = make_node<ExtremeAllBackward>({&x}, out.item<double>(), IsMax)) {
    node->input = SavedVariable(x);
    set_history(out, node);
  }
  return out;
}

// x viewed as [outer, D, inner] around dimension d (contiguous).
struct AroundDim {
  std::int64_t outer = 1, size = 1, inner = 1;
};
AroundDim around(IntArrayRef shape, std::int64_t d) {
  AroundDim a;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(shape.size()); ++i) {
    const std::int64_t s = shape[static_cast<std::size_t>(i)];
    if (i < d) a.outer *= s;
    else if (i == d) a.size = s;
    else a.inner *= s;
  }
  return a;
}

// Values (unless values_out is null) and indices of the maximum (IsMax) or
// minimum along d; the first index among ties, a NaN wins.
template <bool IsMax>
void extreme_dim_kernel(const Tensor& x, std::int64_t d, Tensor* values_out, const Tensor& idx) {
  const Tensor c = contiguous_data(x);
  const AroundDim a = around(c.sizes(), d);
  std::int64_t* pi = idx.data_ptr<std::int64_t>();
  detail::dispatch_storage(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using V = ValueType<T>;
    const T* px = detail::data_of<const T>(c);
    T* pv = values_out ? static_cast<T*>(values_out->unsafeGetTensorImpl()->data()) : nullptr;
    detail::parallel_items(a.outer, a.size * a.inner, kReduceGrain, [&](std::int64_t o) {
      std::vector<V> best(static_cast<std::size_t>(a.inner));
      std::int64_t* bi = pi + o * a.inner;
      const T* row = px + o * a.size * a.inner;
      for (std::int64_t i = 0; i < a.inner; ++i) {
        best[static_cast<std::size_t>(i)] = load_value(row[i]);
        bi[i] = 0;
      }
      for (std::int64_t r = 1; r < a.size; ++r) {
        const T* cur = row + r * a.inner;
        for (std::int64_t i = 0; i < a.inner; ++i) {
          const V v = load_value(cur[i]);
          V& b = best[static_cast<std::size_t>(i)];
          bool take = IsMax ? v > b : v < b;
          if constexpr (std::is_floating_point_v<V>) take = (take || v != v) && b == b;
          if (take) {
            b = v;
            bi[i] = r;
          }
        }
      }
      if (pv)
        for (std::int64_t i = 0; i < a.inner; ++i)
          pv[o * a.inner + i] = detail::convert_value<T>(best[static_cast<std::size_t>(i)]);
    });
  });
}

// The shape of a reduction along one dimension d of shape.
Shape dim_reduced_shape(IntArrayRef shape, std::int64_t d, bool keepdim) {
  Shape s = shape.vec();
  if (s.empty()) return s;
  if (keepdim) s[static_cast<std::size_t>(d)] = 1;
  else s.erase(s.begin() + d);
  return s;
}

Tensor scatter_along(const Tensor& g, const Tensor& idx, std::int64_t d, const Shape& shape);
Tensor gather_along(const Tensor& src, const Tensor& idx, std::int64_t d);

// out = zeros(shape); out[..., idx[..., 0, ...], ...] = g[..., 0, ...] along d,
// where g and idx have shape with dimension d of size 1.
struct ScatterBackward final : autograd::Node {
  SavedVariable index;
  std::int64_t dim;
  explicit ScatterBackward(std::int64_t d) : dim(d) {}
  std::string name() const override { return "ScatterBackward"; }
  TensorList apply(TensorList&& g) override {
    return {gather_along(g[0], index.unpack(this), dim)};
  }
  void release_variables() override { index.reset(); }
};

struct GatherBackward final : autograd::Node {
  SavedVariable index;
  std::int64_t dim;
  Shape input_shape;
  GatherBackward(std::int64_t d, Shape s) : dim(d), input_shape(std::move(s)) {}
  std::string name() const override { return "GatherBackward"; }
  TensorList apply(TensorList&& g) override {
    return {scatter_along(g[0], index.unpack(this), dim, input_shape)};
  }
  void release_variables() override { index.reset(); }
};

void check_index(std::int64_t r, std::int64_t size) {
  if (r < 0 || r >= size)
    throw Error("max/min backward: index " + std::to_string(r) + " out of range for a dimension of size " +
                std::to_string(size));
}

Tensor scatter_along(const Tensor& g, const Tensor& idx, std::int64_t d, const Shape& shape) {
  Tensor out = zeros(shape, g.dtype());
  if (out.numel() == 0) return out;
  const Tensor gc = contiguous_data(g), ic = contiguous_data(idx);
  const AroundDim a = around(shape, d);
  const std::int64_t* pi = ic.data_ptr<std::int64_t>();
  detail::dispatch_storage(g.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = detail::data_of<const T>(gc);
    T* po = detail::data_of<T>(out);
    for (std::int64_t o = 0; o < a.outer; ++o)
      for (std::int64_t i = 0; i < a.inner; ++i) {
        const std::int64_t r = pi[o * a.inner + i];
        check_index(r, a.size);
        po[(o * a.size + r) * a.inner + i] = pg[o * a.inner + i];
      }
  });
  if (auto node = make_node<ScatterBackward>({&g}, d)) {
    node->index = SavedVariable(idx);
    set_history(out, node);
  }
  return out;
}

Tensor gather_along(const Tensor& src, const Tensor& idx, std::int64_t d) {
  Tensor out = make_tensor(idx.sizes(), src.dtype());
  if (out.numel() == 0) return out;
  const Tensor sc = contiguous_data(src), ic = contiguous_data(idx);
  const AroundDim a = around(src.sizes(), d);
  const std::int64_t* pi = ic.data_ptr<std::int64_t>();
  detail::dispatch_storage(src.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* ps = detail::data_of<const T>(sc);
    T* po = detail::data_of<T>(out);
    for (std::int64_t o = 0; o < a.outer; ++o)
      for (std::int64_t i = 0; i < a.inner; ++i) {
        const std::int64_t r = pi[o * a.inner + i];
        check_index(r, a.size);
        po[o * a.inner + i] = ps[(o * a.size + r) * a.inner + i];
      }
  });
  if (auto node = make_node<GatherBackward>({&src}, d, src.sizes().vec())) {
    node->index = SavedVariable(idx);
    set_history(out, node);
  }
  return out;
}

// max(dim)/min(dim): the gradient goes to the index returned.
struct ExtremeDimBackward final : autograd::Node {
  SavedVariable indices;
  Shape input_shape;
  std::int64_t dim;
  bool keepdim, is_max;
  ExtremeDimBackward(Shape s, std::int64_t d, bool k, bool m)
      : input_shape(std::move(s)), dim(d), keepdim(k), is_max(m) {}
  std::string name() const override { return is_max ? "MaxBackward" : "MinBackward"; }
  TensorList apply(TensorList&& g) override {
    if (input_shape.empty()) return {g[0]};
    Tensor gi = g[0], idx = indices.unpack(this);
    if (!keepdim) {
      gi = gi.unsqueeze(dim);
      idx = idx.unsqueeze(dim);
    }
    return {scatter_along(gi, idx, dim, input_shape)};
  }
  void release_variables() override { indices.reset(); }
};

std::int64_t checked_reduce_dim(const char* op, const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(op, dim, x.dim());
  if (x.dim() > 0 && x.size(d) == 0)
    throw Error(std::string(op) + ": cannot reduce over dimension " + std::to_string(d) +
                " of size 0 (shape " + shape_string(x.sizes()) + ")");
  return d;
}

template <bool IsMax>
std::tuple<Tensor, Tensor> extreme_dim_op(const char* op, const Tensor& x, std::int64_t dim,
                                          bool keepdim) {
  check_defined(op, x);
  const std::int64_t d = checked_reduce_dim(op, x, dim);
  const Shape s = dim_reduced_shape(x.sizes(), d, keepdim);
  Tensor values = make_tensor(s, x.dtype()), indices = make_tensor(s, kLong);
  extreme_dim_kernel<IsMax>(x, x.dim() == 0 ? 0 : d, &values, indices);
  if (auto node = make_node<ExtremeDimBackward>({&x}, x.sizes().vec(), d, keepdim, IsMax)) {
    node->indices = SavedVariable(indices);
    set_history(values, node);
  }
  return {values, indices};
}

// ---- norm.
enum class NormKind { One, Two, Inf, General };

// sign(x) as x's dtype: -1, 0 or 1.
Tensor sign_of(const Tensor& x) { return x.gt(0).to(x.dtype()) - x.lt(0).to(x.dtype()); }

struct NormBackward final : autograd::Node {
  SavedVariable input, result;
  double p;
  NormKind kind;
  std::vector<bool> mask;
  bool keepdim;
  NormBackward(double pp, NormKind k, std::vector<bool> m, bool kd)
      : p(pp), kind(k), mask(std::move(m)), keepdim(kd) {}
  std::string name() const override { return "NormBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor x = input.unpack(this);
    const Tensor n = unsqueeze_reduced(result.unpack(this), mask, keepdim);
    const Tensor gr = unsqueeze_reduced(g[0], mask, keepdim);
    switch (kind) {
      case NormKind::One: return {sign_of(x) * gr};
      case NormKind::Two: return {x * where(n.ne(0), gr / n, 0.0)};
      case NormKind::Inf: {
        // Shared evenly between the elements of largest magnitude.
        const Tensor top = x.abs().eq(n);
        Shape dims;
        for (std::size_t d = 0; d < mask.size(); ++d)
          if (mask[d]) dims.push_back(static_cast<std::int64_t>(d));
        const Tensor count = top.to(x.dtype()).sum(dims, /*keepdim=*/true);
        return {sign_of(x) * where(top, gr / count, 0.0)};
      }
      case NormKind::General:
        break;
    }
    if (p < 1.0) {
      // d/dx = sign(x) |x|^(p-1) n^(1-p); 0 at x = 0 (as PyTorch).
      const Tensor ax = x.abs();
      return {sign_of(x) * where(ax.ne(0), ax.pow(p - 1.0), 0.0) * gr * n.pow(1.0 - p)};
    }
    return {sign_of(x) * x.abs().pow(p - 1.0) * where(n.ne(0), gr / n.pow(p - 1.0), 0.0)};
  }
  void release_variables() override {
    input.reset();
    result.reset();
  }
};

Tensor norm_impl(const Tensor& x, const Scalar& p, const std::vector<bool>& mask, bool keepdim) {
  if (!x.is_floating_point())
    throw Error(std::string("norm: expected a floating-point input, got ") + to_string(x.dtype()));
  const double pv = p.to_double();
  if (!(pv > 0.0)) {
    std::ostringstream m;
    m << "norm: p must be positive or inf, got " << pv;
    throw Error(m.str());
  }
  const NormKind kind = pv == 1.0   ? NormKind::One
                        : pv == 2.0 ? NormKind::Two
                        : std::isinf(pv) ? NormKind::Inf
                                         : NormKind::General;
  Tensor out = make_tensor(reduced_shape(x, mask, keepdim), x.dtype());
  detail::dispatch_storage(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<ValueType<T>, double>) {
      using Acc = std::conditional_t<std::is_same_v<T, double>, CompensatedAcc, PlainAcc>;
      auto store_as = [](double v) { return detail::convert_value<T>(v); };
      switch (kind) {
        case NormKind::One:
          reduce_into<Acc, T, T>(x, mask, out, [](T v) { return std::fabs(load_double(v)); },
                                 [&](const Acc& a, std::int64_t) { return store_as(a.value()); });
          break;
        case NormKind::Two:
          reduce_into<Acc, T, T>(
              x, mask, out,
              [](T v) {
                const double d = load_double(v);
                return d * d;
              },
              [&](const Acc& a, std::int64_t) { return store_as(std::sqrt(a.value())); });
          break;
        case NormKind::Inf:
          reduce_into<MaxAcc, T, T>(x, mask, out, [](T v) { return std::fabs(load_double(v)); },
                                    [&](const MaxAcc& a, std::int64_t) { return store_as(a.value()); });
          break;
        case NormKind::General:
          reduce_into<Acc, T, T>(
              x, mask, out, [pv](T v) { return std::pow(std::fabs(load_double(v)), pv); },
              [&](const Acc& a, std::int64_t) { return store_as(std::pow(a.value(), 1.0 / pv)); });
          break;
      }
    }
  });
  if (auto node = make_node<NormBackward>({&x}, pv, kind, mask, keepdim)) {
    node->input = SavedVariable(x);
    node->result = SavedVariable(out);
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, std::optional<ScalarType> dtype) {
  check_defined("sum", x);
  if (dtype && *dtype != x.dtype()) return sum(x.to(*dtype));
  return sum_over(x, std::vector<bool>(static_cast<std::size_t>(x.dim()), true), false);
}

Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_defined("sum", x);
  return sum_over(x, reduce_mask("sum", x, dims), keepdim);
}

Tensor mean(const Tensor& x) {
  check_defined("mean", x);
  return mean_over(x, std::vector<bool>(static_cast<std::size_t>(x.dim()), true), false);
}

Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_defined("mean", x);
  check_mean_dtype(x);
  return mean_over(x, reduce_mask("mean", x, dims), keepdim);
}

Tensor max(const Tensor& x) { return extreme_all_op<true>("max", x); }
Tensor min(const Tensor& x) { return extreme_all_op<false>("min", x); }

std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme_dim_op<true>("max", x, dim, keepdim);
}
std::tuple<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme_dim_op<false>("min", x, dim, keepdim);
}

// No gradient: the result is an index.
template <bool IsMax>
Tensor arg_extreme(const char* op, const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  check_defined(op, x);
  if (dim) {
    const std::int64_t d = checked_reduce_dim(op, x, *dim);
    Tensor idx = make_tensor(dim_reduced_shape(x.sizes(), d, keepdim), kLong);
    extreme_dim_kernel<IsMax>(x, x.dim() == 0 ? 0 : d, nullptr, idx);
    return idx;
  }
  if (x.numel() == 0) throw_empty(op, x);
  // The index into the flattened tensor; with keepdim, every dimension is 1.
  const Tensor c = contiguous_data(x);
  const Tensor flat = make_view(c, {c.numel()}, {1}, c.storage_offset());
  Tensor idx = make_tensor({}, kLong);
  extreme_dim_kernel<IsMax>(flat, 0, nullptr, idx);
  if (keepdim) idx = make_view(idx, Shape(static_cast<std::size_t>(x.dim()), 1),
                               Shape(static_cast<std::size_t>(x.dim()), 1), 0);
  return idx;
}

Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extreme<true>("argmax", x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extreme<false>("argmin", x, dim, keepdim);
}

Tensor norm(const Tensor& x, const Scalar& p) {
  check_defined("norm", x);
  return norm_impl(x, p, std::vector<bool>(static_cast<std::size_t>(x.dim()), true), false);
}

Tensor norm(const Tensor& x, const Scalar& p, IntArrayRef dims, bool keepdim) {
  check_defined("norm", x);
  return norm_impl(x, p, reduce_mask("norm", x, dims), keepdim);
}

// ---- Loss reductions (sigma/reduction.h).

const char* to_string(Reduction r) noexcept {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "mean";
}

Reduction parse_reduction(const char* op, std::string_view r) {
  for (Reduction k : {kNone, kMean, kSum})
    if (r == to_string(k)) return k;
  throw Error(std::string(op) + ": reduction must be \"none\", \"mean\" or \"sum\", got \"" +
              std::string(r) + "\"");
}

}  // namespace sigma
