// embedding.cpp: embedding (a row lookup) with its backward, and
// embedding_renorm_ (Embedding's max_norm), side by side.
//
// Shapes: weight [V, D] (V rows of D values), indices [*] int64 (K of them)
// -> out [*, D], out[k] = weight[indices[k]].
// Backward: grad_weight [V, D] is zero except at the rows looked up; row v
// gets the sum of the output gradients at the positions holding v (divided by
// their count with scale_grad_by_freq), accumulated in double (long double
// for f64) and rounded once; the padding row gets nothing. The positions are
// sorted stably by row, so each row is summed by one thread in position
// order, fixed by the indices alone whatever the thread count.
#include <algorithm>
#include <cstring>
#include <numeric>
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

// A thread's share of a lookup or of a gradient scatter, in elements.
inline constexpr std::int64_t kEmbeddingGrain = std::int64_t{1} << 16;

void check_weight(const char* op, const Tensor& weight) {
  check_defined(op, weight, "weight");
  if (weight.dim() != 2)
    throw Error(std::string(op) + ": weight must be 2-D [num_embeddings, embedding_dim], got shape " +
                shape_string(weight.sizes()));
}

// The indices as a dense int64 tensor, each checked to lie in [0, rows).
Tensor checked_indices(const char* op, const Tensor& indices, const Tensor& weight) {
  check_defined(op, indices, "indices");
  if (indices.dtype() != kLong)
    throw Error(std::string(op) + ": indices must be int64, got " + to_string(indices.dtype()));
  const Tensor idx = detail::dense(indices, kLong);
  const std::int64_t* p = detail::data_of<const std::int64_t>(idx);
  const std::int64_t rows = weight.size(0);
  for (std::int64_t k = 0; k < idx.numel(); ++k)
    if (p[k] < 0 || p[k] >= rows)
      throw Error(std::string(op) + ": index " + std::to_string(p[k]) + " (at flat position " +
                  std::to_string(k) + " of indices of shape " + shape_string(indices.sizes()) +
                  ") is out of range for a table of " + std::to_string(rows) +
                  " embeddings (weight " + shape_string(weight.sizes()) + "; expected 0 <= index < " +
                  std::to_string(rows) + ")");
  return idx;
}

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, long double, double>;

struct EmbeddingBackward final : autograd::Node {
  SavedVariable indices;  // dense int64, checked in range by the forward
  std::int64_t rows, dim, padding_idx;
  bool scale_grad_by_freq;
  ScalarType dtype;
  EmbeddingBackward(std::int64_t v, std::int64_t d, std::int64_t pad, bool scale, ScalarType t)
      : rows(v), dim(d), padding_idx(pad), scale_grad_by_freq(scale), dtype(t) {}
  std::string name() const override { return "EmbeddingBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor idx = indices.unpack(this);
    const Tensor dy = detail::dense(g[0], dtype);  // [K, D]
    Tensor dw = zeros({rows, dim}, dtype);
    const std::int64_t k = idx.numel();
    if (k == 0 || dim == 0) return {dw};
    const std::int64_t* ip = detail::data_of<const std::int64_t>(idx);
    // Positions grouped by row, in position order within a row.
    std::vector<std::int64_t> order(static_cast<std::size_t>(k));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [ip](std::int64_t a, std::int64_t b) { return ip[a] < ip[b]; });
    std::vector<std::int64_t> starts;  // where each row's run begins in order, plus k
    for (std::int64_t i = 0; i < k; ++i)
      if (i == 0 || ip[order[static_cast<std::size_t>(i)]] !=
                        ip[order[static_cast<std::size_t>(i - 1)]])
        starts.push_back(i);
    starts.push_back(k);
    const std::int64_t runs = static_cast<std::int64_t>(starts.size()) - 1;
    detail::dispatch_floating_storage("embedding_backward", dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using A = acc_t<T>;
      const T* dyp = detail::data_of<const T>(dy);
      T* dwp = detail::data_of<T>(dw);
      detail::parallel_items(runs, dim * k / runs, kEmbeddingGrain, [&](std::int64_t r) {
        const std::int64_t b = starts[static_cast<std::size_t>(r)],
                           e = starts[static_cast<std::size_t>(r) + 1];
        const std::int64_t row = ip[order[static_cast<std::size_t>(b)]];
        if (row == padding_idx) return;
        std::vector<A> acc(static_cast<std::size_t>(dim), A(0));
        for (std::int64_t i = b; i < e; ++i) {
          const T* src = dyp + order[static_cast<std::size_t>(i)] * dim;
          for (std::int64_t j = 0; j < dim; ++j) {
            if constexpr (std::is_same_v<T, double>) acc[static_cast<std::size_t>(j)] += src[j];
            else acc[static_cast<std::size_t>(j)] += detail::to_double_value(src[j]);
          }
        }
        const A count = scale_grad_by_freq ? static_cast<A>(e - b) : A(1);
        T* dst = dwp + row * dim;
        for (std::int64_t j = 0; j < dim; ++j) {
          const A v = acc[static_cast<std::size_t>(j)] / count;
          if constexpr (std::is_same_v<T, double>) dst[j] = static_cast<double>(v);
          else dst[j] = detail::convert_value<T>(static_cast<double>(v));
        }
      });
    });
    return {dw};
  }
  void release_variables() override { indices.reset(); }
};

}  // namespace

// weight [V, D], indices [*] -> [*, D]
Tensor embedding(const Tensor& weight, const Tensor& indices, std::int64_t padding_idx,
                 bool scale_grad_by_freq, bool sparse) {
  check_weight("embedding", weight);
  if (sparse)
    throw Error(
        "embedding: sparse=true is not supported (sigma has no sparse tensors); gradients are "
        "dense with sparse=false");
  const Tensor idx = checked_indices("embedding", indices, weight);
  const std::int64_t dim = weight.size(1), k = idx.numel();
  std::vector<std::int64_t> shape = indices.sizes().vec();
  shape.push_back(dim);
  Tensor out = make_tensor(shape, weight.dtype());
  if (k > 0 && dim > 0) {
    const Tensor w = detail::dense(weight, weight.dtype());
    const std::size_t row_bytes = static_cast<std::size_t>(dim) * element_size(weight.dtype());
    const auto* src = static_cast<const unsigned char*>(detail::data_of<const void>(w));
    auto* dst = static_cast<unsigned char*>(detail::data_of<void>(out));
    const std::int64_t* ip = detail::data_of<const std::int64_t>(idx);
    detail::parallel_items(k, dim, kEmbeddingGrain, [&](std::int64_t i) {
      std::memcpy(dst + static_cast<std::size_t>(i) * row_bytes,
                  src + static_cast<std::size_t>(ip[i]) * row_bytes, row_bytes);
    });
  }
  if (auto node = make_node<EmbeddingBackward>({&weight}, weight.size(0), dim, padding_idx,
                                               scale_grad_by_freq, weight.dtype())) {
    node->indices = SavedVariable(idx);
    set_history(out, node);
  }
  return out;
}

Tensor& embedding_renorm_(Tensor& self, const Tensor& indices, double max_norm, double norm_type) {
  check_weight("embedding_renorm_", self);
  if (!self.is_floating_point())
    detail::throw_dtype("embedding_renorm_", self.dtype(), "a floating-point weight");
  const Tensor idx = checked_indices("embedding_renorm_", indices, self);
  const std::int64_t* ip = detail::data_of<const std::int64_t>(idx);
  std::vector<std::int64_t> rows;
  rows.reserve(static_cast<std::size_t>(idx.numel()));
  for (std::int64_t k = 0; k < idx.numel(); ++k) rows.push_back(ip[k]);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  for (std::int64_t r : rows) {
    Tensor row = self.select(0, r);
    const double norm = row.norm(norm_type).item<double>();
    if (norm > max_norm) row.mul_(max_norm / (norm + 1e-7));
  }
  return self;
}

}  // namespace sigma
