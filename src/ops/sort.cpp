// sort.cpp: sort, argsort, topk and the unique family (unique, _unique,
// _unique2, unique_consecutive, unique_dim), with the values' backward.
//
// Every order here is one stable sort of each line (ops/lines.h) by a key
// (the value; bf16/f16 as float), NaN above +inf as in PyTorch, so equal
// values keep their input order whatever `stable` says. topk is a sort cut
// to its first k. The gradient of the values goes back to the positions the
// indices name (ScatterLinesBackward). unique groups sorted (or, for
// unique_consecutive, unsorted) rows by equality, so each NaN stays apart.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/function.h"
#include "ops/lines.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/dense.h"

namespace sigma {

namespace {

// The value a comparison sees: bf16/f16 widened to float.
template <class T> auto key(T v) noexcept {
  if constexpr (std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>) return sigma::to_float(v);
  else return v;
}
template <class K> bool is_nan(K v) noexcept {
  if constexpr (std::is_floating_point_v<K>) return v != v;
  else return false;
}
// a < b with NaN the largest (two NaNs are equivalent).
template <class K> bool less_nan_last(K a, K b) noexcept {
  if constexpr (std::is_floating_point_v<K>) return a < b || (is_nan(b) && !is_nan(a));
  else return a < b;
}

struct Sorted {
  Tensor values, indices;
};

// Each line of x along dim stably sorted; values and int64 indices of x's shape.
Sorted sort_kernel(const Tensor& x, std::int64_t dim, bool descending) {
  const Tensor in = detail::dense(x, x.dtype());
  Sorted r{make_tensor(x.sizes(), x.dtype()), make_tensor(x.sizes(), kLong)};
  const detail::Lines lines(x, dim);
  std::int64_t* idx_out = detail::data_of<std::int64_t>(r.indices);
  detail::dispatch_storage(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = detail::data_of<const T>(in);
    T* o = detail::data_of<T>(r.values);
    std::vector<std::int64_t> order(static_cast<std::size_t>(lines.n));
    lines.for_each([&](std::int64_t start, std::int64_t stride, std::int64_t) {
      std::iota(order.begin(), order.end(), std::int64_t{0});
      auto at = [&](std::int64_t j) { return key(p[start + j * stride]); };
      if (descending)
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int64_t a, std::int64_t b) { return less_nan_last(at(b), at(a)); });
      else
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int64_t a, std::int64_t b) { return less_nan_last(at(a), at(b)); });
      for (std::int64_t j = 0; j < lines.n; ++j) {
        const std::int64_t src = order[static_cast<std::size_t>(j)];
        o[start + j * stride] = p[start + src * stride];
        idx_out[start + j * stride] = src;
      }
    });
  });
  return r;
}

// grad x: zeros of the input's shape with g's elements added at the
// positions idx names along dim (g and idx: the input's shape with k along dim).
Tensor scatter_lines(const Tensor& g, const Tensor& idx, std::int64_t dim,
                     const std::vector<std::int64_t>& shape) {
  Tensor out = zeros(shape, TensorOptions(g.dtype()));
  const Tensor gd = detail::dense(g, g.dtype());
  const Tensor id = detail::dense(idx, kLong);
  const detail::Lines lines(g, dim);
  const std::int64_t n_out = shape.empty() ? 1 : shape[static_cast<std::size_t>(dim)];
  const std::int64_t* ip = detail::data_of<const std::int64_t>(id);
  detail::dispatch_floating_storage("sort_backward", g.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* gp = detail::data_of<const T>(gd);
    T* op = detail::data_of<T>(out);
    lines.for_each([&](std::int64_t start, std::int64_t stride, std::int64_t line) {
      const std::int64_t o = line / lines.inner, i = line % lines.inner;
      const std::int64_t out_start = o * n_out * lines.inner + i;
      for (std::int64_t j = 0; j < lines.n; ++j) {
        const std::int64_t k = out_start + ip[start + j * stride] * stride;
        op[k] = detail::convert_value<T>(detail::to_double_value(op[k]) +
                                         detail::to_double_value(gp[start + j * stride]));
      }
    });
  });
  return out;
}

struct ScatterLinesBackward final : autograd::Node {
  const char* name_;
  autograd::SavedVariable indices;
  std::int64_t dim;
  std::vector<std::int64_t> shape;
  ScatterLinesBackward(const char* n, std::int64_t d, std::vector<std::int64_t> s)
      : name_(n), dim(d), shape(std::move(s)) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override {
    return {scatter_lines(g[0], indices.unpack(this), dim, shape)};
  }
  void release_variables() override { indices.reset(); }
};

std::tuple<Tensor, Tensor> sorted_values(const char* op, const char* backward, const Tensor& x,
                                         std::int64_t dim, bool descending,
                                         std::optional<std::int64_t> k = std::nullopt) {
  check_defined(op, x);
  const std::int64_t d = wrap_dim(op, dim, x.dim());
  Sorted s = sort_kernel(x, d, descending);
  if (k) {
    const std::int64_t size = x.dim() == 0 ? 1 : x.size(d);
    if (*k < 0 || *k > size)
      throw Error(std::string(op) + ": k = " + std::to_string(*k) + " is out of range for dimension " +
                  std::to_string(d) + " of size " + std::to_string(size) + " (input " +
                  shape_string(x.sizes()) + ")");
    if (x.dim() > 0) {
      s.values = s.values.narrow(d, 0, *k).contiguous();
      s.indices = s.indices.narrow(d, 0, *k).contiguous();
    }
  }
  if (auto node = autograd::make_node<ScatterLinesBackward>({&x}, backward, d, x.sizes().vec())) {
    node->indices = autograd::SavedVariable(s.indices);
    autograd::set_history(s.values, node);
  }
  return {s.values, s.indices};
}

// ---- unique: groups of equal rows of a [n, w] contiguous matrix.

struct Groups {
  std::vector<std::int64_t> order;  // rows in output order
  std::vector<std::int64_t> group;  // the group of order[j]
  std::vector<std::int64_t> first;  // the first row (in order) of each group
};

Groups group_rows(const Tensor& m, bool sort) {
  const std::int64_t n = m.size(0), w = m.size(1);
  Groups g;
  g.order.resize(static_cast<std::size_t>(n));
  std::iota(g.order.begin(), g.order.end(), std::int64_t{0});
  detail::dispatch_storage(m.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = detail::data_of<const T>(m);
    auto row_less = [&](std::int64_t a, std::int64_t b) {
      for (std::int64_t c = 0; c < w; ++c) {
        const auto ka = key(p[a * w + c]), kb = key(p[b * w + c]);
        if (less_nan_last(ka, kb)) return true;
        if (less_nan_last(kb, ka)) return false;
      }
      return false;
    };
    auto row_equal = [&](std::int64_t a, std::int64_t b) {
      for (std::int64_t c = 0; c < w; ++c)
        if (!(key(p[a * w + c]) == key(p[b * w + c]))) return false;
      return true;
    };
    if (sort) std::stable_sort(g.order.begin(), g.order.end(), row_less);
    for (std::size_t j = 0; j < g.order.size(); ++j) {
      if (j == 0 || !row_equal(g.order[j - 1], g.order[j])) g.first.push_back(g.order[j]);
      g.group.push_back(static_cast<std::int64_t>(g.first.size()) - 1);
    }
  });
  return g;
}

// (rows of m named by g.first [groups, w], inverse [n], counts [groups]).
std::tuple<Tensor, Tensor, Tensor> unique_rows(const Tensor& m, bool sort, bool return_inverse,
                                               bool return_counts) {
  const Groups g = group_rows(m, sort);
  const std::int64_t groups = static_cast<std::int64_t>(g.first.size()), w = m.size(1);
  Tensor values = make_tensor({groups, w}, m.dtype());
  const std::size_t row_bytes = static_cast<std::size_t>(w) * m.element_size();
  const auto* src = static_cast<const unsigned char*>(m.data_ptr());
  auto* dst = static_cast<unsigned char*>(values.data_ptr());
  if (row_bytes > 0)
    for (std::int64_t r = 0; r < groups; ++r)
      std::memcpy(dst + static_cast<std::size_t>(r) * row_bytes,
                  src + static_cast<std::size_t>(g.first[static_cast<std::size_t>(r)]) * row_bytes,
                  row_bytes);
  Tensor inverse = empty({0}, TensorOptions(kLong)), counts = empty({0}, TensorOptions(kLong));
  if (return_inverse) {
    inverse = make_tensor({m.size(0)}, kLong);
    std::int64_t* ip = detail::data_of<std::int64_t>(inverse);
    for (std::size_t j = 0; j < g.order.size(); ++j) ip[g.order[j]] = g.group[j];
  }
  if (return_counts) {
    counts = zeros({groups}, TensorOptions(kLong));
    std::int64_t* cp = detail::data_of<std::int64_t>(counts);
    for (std::int64_t grp : g.group) ++cp[grp];
  }
  return {values, inverse, counts};
}

// The unique slices along dim: x moved so dim leads, rows of the rest.
std::tuple<Tensor, Tensor, Tensor> unique_along(const char* op, const Tensor& x, std::int64_t dim,
                                                bool sort, bool return_inverse,
                                                bool return_counts) {
  check_defined(op, x);
  if (x.dim() == 0) throw Error(std::string(op) + ": a dimension was given for a zero-dimensional tensor");
  const std::int64_t d = wrap_dim(op, dim, x.dim());
  const Tensor moved = x.detach().transpose(0, d);
  const Tensor m = detail::dense(moved.reshape({x.size(d), -1}), x.dtype());
  auto [rows, inverse, counts] = unique_rows(m, sort, return_inverse, return_counts);
  std::vector<std::int64_t> shape = moved.sizes().vec();
  shape[0] = rows.size(0);
  return {rows.reshape(shape).transpose(0, d).contiguous(), inverse, counts};
}

std::tuple<Tensor, Tensor, Tensor> unique_flat(const char* op, const Tensor& x, bool sort,
                                               bool return_inverse, bool return_counts) {
  check_defined(op, x);
  const Tensor m = detail::dense(x.detach().reshape({-1, 1}), x.dtype());
  auto [rows, inverse, counts] = unique_rows(m, sort, return_inverse, return_counts);
  if (return_inverse) inverse = inverse.reshape(x.sizes());
  return {rows.reshape({-1}), inverse, counts};
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& x, std::int64_t dim, bool descending) {
  return sorted_values("sort", "SortBackward", x, dim, descending);
}
std::tuple<Tensor, Tensor> sort(const Tensor& x, std::optional<bool>, std::int64_t dim,
                                bool descending) {
  return sorted_values("sort", "SortBackward", x, dim, descending);
}
Tensor argsort(const Tensor& x, std::int64_t dim, bool descending) {
  check_defined("argsort", x);
  return sort_kernel(x, wrap_dim("argsort", dim, x.dim()), descending).indices;
}
Tensor argsort(const Tensor& x, bool, std::int64_t dim, bool descending) {
  return argsort(x, dim, descending);
}
std::tuple<Tensor, Tensor> topk(const Tensor& x, std::int64_t k, std::int64_t dim, bool largest,
                                bool) {
  return sorted_values("topk", "TopkBackward", x, dim, largest, k);
}

std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& x, bool, bool return_inverse,
                                          bool return_counts) {
  return unique_flat("unique", x, true, return_inverse, return_counts);
}
std::tuple<Tensor, Tensor> _unique(const Tensor& x, bool sorted, bool return_inverse) {
  auto [values, inverse, counts] = unique(x, sorted, return_inverse, false);
  return {values, inverse};
}
std::tuple<Tensor, Tensor, Tensor> _unique2(const Tensor& x, bool sorted, bool return_inverse,
                                            bool return_counts) {
  return unique(x, sorted, return_inverse, return_counts);
}
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& x, bool return_inverse,
                                                      bool return_counts,
                                                      std::optional<std::int64_t> dim) {
  if (dim) return unique_along("unique_consecutive", x, *dim, false, return_inverse, return_counts);
  return unique_flat("unique_consecutive", x, false, return_inverse, return_counts);
}
std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& x, std::int64_t dim, bool,
                                              bool return_inverse, bool return_counts) {
  return unique_along("unique_dim", x, dim, true, return_inverse, return_counts);
}

std::tuple<Tensor, Tensor> Tensor::sort(std::int64_t dim, bool descending) const {
  return sigma::sort(*this, dim, descending);
}
std::tuple<Tensor, Tensor> Tensor::sort(std::optional<bool> stable, std::int64_t dim,
                                        bool descending) const {
  return sigma::sort(*this, stable, dim, descending);
}
Tensor Tensor::argsort(std::int64_t dim, bool descending) const {
  return sigma::argsort(*this, dim, descending);
}
Tensor Tensor::argsort(bool stable, std::int64_t dim, bool descending) const {
  return sigma::argsort(*this, stable, dim, descending);
}
std::tuple<Tensor, Tensor> Tensor::topk(std::int64_t k, std::int64_t dim, bool largest,
                                        bool sorted) const {
  return sigma::topk(*this, k, dim, largest, sorted);
}

}  // namespace sigma
