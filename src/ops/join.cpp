// join.cpp: cat and stack with their backward, side by side.
//
// Both promote the inputs to one dtype as PyTorch does, copy each input into
// its region of one new tensor, and hand each input back its region of the
// gradient (a narrow or select view, converted back to the input's dtype).
// As in PyTorch, cat skips 1-D tensors of shape [0] (the legacy way of
// writing "nothing here") when checking shapes.
#include <sstream>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::set_history;

namespace {

using Shape = std::vector<std::int64_t>;

struct CatBackward final : autograd::Node {
  std::int64_t dim;
  // Per input: offset and size along dim (size -1: a skipped [0] tensor).
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  std::vector<ScalarType> dtypes;
  explicit CatBackward(std::int64_t d) : dim(d) {}
  std::string name() const override { return "CatBackward"; }
  TensorList apply(TensorList&& g) override {
    TensorList out(ranges.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (!next_edges()[i].is_valid()) continue;
      if (ranges[i].second < 0) out[i] = zeros({0}, dtype(dtypes[i]));
      else out[i] = g[0].narrow(dim, ranges[i].first, ranges[i].second).to(dtypes[i]);
    }
    return out;
  }
};

struct StackBackward final : autograd::Node {
  std::int64_t dim;
  std::vector<ScalarType> dtypes;
  explicit StackBackward(std::int64_t d) : dim(d) {}
  std::string name() const override { return "StackBackward"; }
  TensorList apply(TensorList&& g) override {
    TensorList out(dtypes.size());
    for (std::size_t i = 0; i < dtypes.size(); ++i)
      if (next_edges()[i].is_valid())
        out[i] = g[0].select(dim, static_cast<std::int64_t>(i)).to(dtypes[i]);
    return out;
  }
};

void check_list(const char* op, const TensorList& ts) {
  if (ts.empty()) throw Error(std::string(op) + ": expected a non-empty list of tensors");
  for (std::size_t i = 0; i < ts.size(); ++i)
    if (!ts[i].defined())
      throw Error(std::string(op) + ": tensor " + std::to_string(i) + " is undefined");
}

ScalarType promoted(const TensorList& ts) {
  ScalarType t = ts[0].dtype();
  for (const Tensor& x : ts) t = promote_types(t, x.dtype());
  return t;
}

bool legacy_empty(const Tensor& x) { return x.dim() == 1 && x.size(0) == 0; }

// Copies src (converting its dtype) into the region of out with the given
// sizes, out's strides without dimension `drop` (or all of them) and offset.
void copy_into(const Tensor& out, const Tensor& src, Shape strides, std::int64_t offset) {
  if (src.numel() == 0) return;
  detail::copy_elements(make_view(out, src.sizes().vec(), std::move(strides), offset), src);
}

}  // namespace

Tensor cat(const TensorList& ts, std::int64_t dim) {
  check_list("cat", ts);
  const ScalarType t = promoted(ts);
  std::size_t ref = ts.size();
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].dim() == 0)
      throw Error("cat: zero-dimensional tensor (at position " + std::to_string(i) +
                  ") cannot be concatenated; unsqueeze it or use stack");
    if (ref == ts.size() && !legacy_empty(ts[i])) ref = i;
  }
  if (ref == ts.size()) {  // only [0] tensors
    wrap_dim("cat", dim, 1);
    Tensor out = make_tensor({0}, t);
    if (auto node = make_node<CatBackward>(ts, 0)) {
      for (const Tensor& x : ts) {
        node->ranges.emplace_back(0, -1);
        node->dtypes.push_back(x.dtype());
      }
      set_history(out, node);
    }
    return out;
  }
  const Tensor& r = ts[ref];
  const std::int64_t rank = r.dim();
  const std::int64_t d = wrap_dim("cat", dim, rank);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const Tensor& x = ts[i];
    if (legacy_empty(x)) continue;
    if (x.dim() != rank)
      throw Error("cat: tensor " + std::to_string(i) + " has shape " + shape_string(x.sizes()) +
                  " with " + std::to_string(x.dim()) + " dimensions but tensor " +
                  std::to_string(ref) + " has shape " + shape_string(r.sizes()) + " with " +
                  std::to_string(rank));
    for (std::int64_t j = 0; j < rank; ++j)
      if (j != d && x.size(j) != r.size(j)) {
        std::ostringstream m;
        m << "cat: sizes of tensors must match except in dimension " << d << ", but tensor " << i
          << " has shape " << shape_string(x.sizes()) << " and tensor " << ref << " has shape "
          << shape_string(r.sizes()) << " (dimension " << j << ": " << x.size(j) << " vs "
          << r.size(j) << ")";
        throw Error(m.str());
      }
    total += x.size(d);
  }
  Shape shape = r.sizes().vec();
  shape[static_cast<std::size_t>(d)] = total;
  Tensor out = make_tensor(shape, t);
  const Shape strides = out.strides().vec();
  auto node = make_node<CatBackward>(ts, d);
  std::int64_t offset = 0;
  for (const Tensor& x : ts) {
    if (node) node->dtypes.push_back(x.dtype());
    if (legacy_empty(x)) {
      if (node) node->ranges.emplace_back(0, -1);
      continue;
    }
    copy_into(out, x, strides, offset * strides[static_cast<std::size_t>(d)]);
    if (node) node->ranges.emplace_back(offset, x.size(d));
    offset += x.size(d);
  }
  if (node) set_history(out, node);
  return out;
}

Tensor stack(const TensorList& ts, std::int64_t dim) {
  check_list("stack", ts);
  const Tensor& r = ts[0];
  for (std::size_t i = 1; i < ts.size(); ++i)
    if (!(ts[i].sizes() == r.sizes()))
      throw Error("stack: expected all tensors to have the same shape, but tensor " +
                  std::to_string(i) + " has shape " + shape_string(ts[i].sizes()) +
                  " and tensor 0 has shape " + shape_string(r.sizes()));
  const std::int64_t d = wrap_dim("stack", dim, r.dim() + 1);
  Shape shape = r.sizes().vec();
  shape.insert(shape.begin() + d, static_cast<std::int64_t>(ts.size()));
  Tensor out = make_tensor(shape, promoted(ts));
  Shape strides = out.strides().vec();
  const std::int64_t step = strides[static_cast<std::size_t>(d)];
  strides.erase(strides.begin() + d);
  for (std::size_t i = 0; i < ts.size(); ++i)
    copy_into(out, ts[i], strides, static_cast<std::int64_t>(i) * step);
  if (auto node = make_node<StackBackward>(ts, d)) {
    for (const Tensor& x : ts) node->dtypes.push_back(x.dtype());
    set_history(out, node);
  }
  return out;
}

}  // namespace sigma
