// view.cpp: ops that return views sharing the input's storage (reshape,
// transpose, slice, select, expand, ...) with their backward, side by side.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::set_history;

namespace {

std::vector<std::int64_t> vec(IntArrayRef r) { return r.vec(); }

// ---- Backward nodes.
struct ViewBackward final : autograd::Node {
  std::vector<std::int64_t> input_shape;
  explicit ViewBackward(std::vector<std::int64_t> s) : input_shape(std::move(s)) {}
  std::string name() const override { return "ViewBackward"; }
  TensorList apply(TensorList&& g) override { return {g[0].reshape(input_shape)}; }
};

struct PermuteBackward final : autograd::Node {
  std::vector<std::int64_t> inverse;
  std::string name_;
  PermuteBackward(std::vector<std::int64_t> inv, std::string n)
      : inverse(std::move(inv)), name_(std::move(n)) {}
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& g) override { return {g[0].permute(inverse)}; }
};

// Slice and select: the gradient lands in the viewed region of a zero tensor.
struct SliceBackward final : autograd::Node {
  std::vector<std::int64_t> input_shape;
  ScalarType dtype_;
  std::int64_t dim, start, end, step;
  bool select = false;
  SliceBackward(std::vector<std::int64_t> s, ScalarType t, std::int64_t d, std::int64_t a,
                std::int64_t b, std::int64_t st, bool sel)
      : input_shape(std::move(s)), dtype_(t), dim(d), start(a), end(b), step(st), select(sel) {}
  std::string name() const override { return select ? "SelectBackward" : "SliceBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor z = zeros(input_shape, dtype(g[0].dtype()));
    Tensor region = select ? z.select(dim, start) : z.slice(dim, start, end, step);
    region.copy_(g[0]);
    return {z};
  }
};

struct ExpandBackward final : autograd::Node {
  std::vector<std::int64_t> input_shape;
  explicit ExpandBackward(std::vector<std::int64_t> s) : input_shape(std::move(s)) {}
  std::string name() const override { return "ExpandBackward"; }
  TensorList apply(TensorList&& g) override { return {autograd::sum_to(g[0], input_shape)}; }
};

// Records node as the history of the view out of x (when x requires grad).
template <class N, class... A> Tensor record(const Tensor& x, Tensor out, A&&... args) {
  if (auto node = make_node<N>({&x}, std::forward<A>(args)...)) set_history(out, node);
  return out;
}

// Fills in a single -1 in shape from numel; sigma::Error if impossible.
std::vector<std::int64_t> infer_shape(const char* op, IntArrayRef shape, std::int64_t numel,
                                      IntArrayRef from) {
  std::vector<std::int64_t> s = shape.vec();
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw Error(std::string(op) + ": only one dimension can be -1 in " + shape_string(shape));
      infer = static_cast<int>(i);
    } else if (s[i] < 0) {
      throw Error(std::string(op) + ": invalid size " + std::to_string(s[i]) + " in " + shape_string(shape));
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw Error(std::string(op) + ": shape " + shape_string(shape) +
                  " is invalid for input of shape " + shape_string(from) + " (" +
                  std::to_string(numel) + " elements)");
    s[static_cast<std::size_t>(infer)] = numel / known;
  } else if (known != numel) {
    throw Error(std::string(op) + ": shape " + shape_string(shape) +
                " is invalid for input of shape " + shape_string(from) + " (" +
                std::to_string(numel) + " elements)");
  }
  return s;
}

// Strides that let a tensor with (sizes, strides) be viewed with new_sizes
// without copying, or nothing (PyTorch's computeStride).
std::optional<std::vector<std::int64_t>> view_strides(IntArrayRef sizes, IntArrayRef strides,
                                                      IntArrayRef new_sizes) {
  std::vector<std::int64_t> out(new_sizes.size());
  if (sizes.empty()) {
    std::fill(out.begin(), out.end(), 1);
    return out;
  }
  std::int64_t numel = 1;
  for (auto s : sizes) numel *= s;
  if (numel == 0) return contiguous_strides(new_sizes);
  std::int64_t view_d = static_cast<std::int64_t>(new_sizes.size()) - 1;
  std::int64_t chunk_base_stride = strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[static_cast<std::size_t>(d)];
    if (d == 0 || (sizes[static_cast<std::size_t>(d - 1)] != 1 &&
                   strides[static_cast<std::size_t>(d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[static_cast<std::size_t>(view_d)] == 1)) {
        out[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[static_cast<std::size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[static_cast<std::size_t>(d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor Tensor::view(IntArrayRef shape) const {
  auto s = infer_shape("view", shape, numel(), sizes());
  auto st = view_strides(sizes(), strides(), s);
  if (!st)
    throw Error("view: shape " + shape_string(shape) + " is incompatible with the input's size " +
                shape_string(sizes()) + " and strides " + shape_string(strides()) +
                " (at least one dimension spans two memory regions); use reshape() instead");
  return record<ViewBackward>(*this, make_view(*this, s, *st, storage_offset()), vec(sizes()));
}

Tensor Tensor::reshape(IntArrayRef shape) const {
  auto s = infer_shape("reshape", shape, numel(), sizes());
  if (auto st = view_strides(sizes(), strides(), s))
    return record<ViewBackward>(*this, make_view(*this, s, *st, storage_offset()), vec(sizes()));
  return clone(MemoryFormat::Contiguous).view(s);
}

Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const std::int64_t a = wrap_dim("flatten", start_dim, dim());
  const std::int64_t b = wrap_dim("flatten", end_dim, dim());
  if (a > b)
    throw Error("flatten: start_dim " + std::to_string(start_dim) + " comes after end_dim " +
                std::to_string(end_dim));
  std::vector<std::int64_t> s;
  for (std::int64_t d = 0; d < a; ++d) s.push_back(size(d));
  std::int64_t m = 1;
  for (std::int64_t d = a; d <= b; ++d) m *= size(d);
  s.push_back(m);
  for (std::int64_t d = b + 1; d < dim(); ++d) s.push_back(size(d));
  return reshape(s);
}

Tensor Tensor::permute(IntArrayRef dims) const {
  const std::int64_t r = dim();
  if (static_cast<std::int64_t>(dims.size()) != r)
    throw Error("permute: got " + std::to_string(dims.size()) + " dims " + shape_string(dims) +
                " for a tensor of shape " + shape_string(sizes()));
  std::vector<std::int64_t> s(static_cast<std::size_t>(r)), st(s.size()), inv(s.size(), -1);
  for (std::int64_t i = 0; i < r; ++i) {
    const std::int64_t d = wrap_dim("permute", dims[static_cast<std::size_t>(i)], r);
    if (inv[static_cast<std::size_t>(d)] != -1)
      throw Error("permute: dimension " + std::to_string(d) + " repeats in " + shape_string(dims));
    inv[static_cast<std::size_t>(d)] = i;
    s[static_cast<std::size_t>(i)] = size(d);
    st[static_cast<std::size_t>(i)] = stride(d);
  }
  return record<PermuteBackward>(*this, make_view(*this, s, st, storage_offset()), inv,
                                 "PermuteBackward");
}

Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
  const std::int64_t r = dim();
  if (r == 0) return record<PermuteBackward>(*this, make_view(*this, {}, {}, storage_offset()),
                                             std::vector<std::int64_t>{}, "TransposeBackward");
  const std::int64_t a = wrap_dim("transpose", d0, r), b = wrap_dim("transpose", d1, r);
  std::vector<std::int64_t> p(static_cast<std::size_t>(r));
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[static_cast<std::size_t>(a)], p[static_cast<std::size_t>(b)]);
  std::vector<std::int64_t> s = sizes().vec(), st = strides().vec();
  std::swap(s[static_cast<std::size_t>(a)], s[static_cast<std::size_t>(b)]);
  std::swap(st[static_cast<std::size_t>(a)], st[static_cast<std::size_t>(b)]);
  return record<PermuteBackward>(*this, make_view(*this, s, st, storage_offset()), p,
                                 "TransposeBackward");
}

Tensor Tensor::t() const {
  if (dim() > 2)
    throw Error("t: expects a tensor with <= 2 dimensions, got shape " + shape_string(sizes()) +
                "; use transpose(d0, d1)");
  return dim() < 2 ? transpose(0, 0) : transpose(0, 1);
}

Tensor Tensor::slice(std::int64_t d, std::optional<std::int64_t> start,
                     std::optional<std::int64_t> end, std::int64_t step) const {
  if (dim() == 0) throw Error("slice: cannot slice a zero-dimensional tensor");
  d = wrap_dim("slice", d, dim());
  if (step <= 0) throw Error("slice: step must be positive, got " + std::to_string(step));
  const std::int64_t n = size(d);
  auto clampi = [n](std::int64_t v) {
    if (v < 0) v += n;
    return std::clamp<std::int64_t>(v, 0, n);
  };
  const std::int64_t a = clampi(start.value_or(0));
  const std::int64_t b = std::max(a, clampi(end.value_or(n)));
  std::vector<std::int64_t> s = sizes().vec(), st = strides().vec();
  s[static_cast<std::size_t>(d)] = (b - a + step - 1) / step;
  st[static_cast<std::size_t>(d)] *= step;
  const std::int64_t off = storage_offset() + a * stride(d);
  return record<SliceBackward>(*this, make_view(*this, s, st, off), vec(sizes()), dtype(), d, a, b,
                               step, false);
}

Tensor Tensor::narrow(std::int64_t d, std::int64_t start, std::int64_t length) const {
  if (dim() == 0) throw Error("narrow: cannot narrow a zero-dimensional tensor");
  d = wrap_dim("narrow", d, dim());
  const std::int64_t n = size(d);
  if (start < 0) start += n;
  if (start < 0 || length < 0 || start + length > n)
    throw Error("narrow: start " + std::to_string(start) + " + length " + std::to_string(length) +
                " exceeds dimension " + std::to_string(d) + " of size " + std::to_string(n) +
                " (shape " + shape_string(sizes()) + ")");
  return slice(d, start, start + length);
}

std::vector<Tensor> Tensor::split(std::int64_t split_size, std::int64_t d) const {
  if (dim() == 0) throw Error("split: cannot split a zero-dimensional tensor");
  d = wrap_dim("split", d, dim());
  if (split_size <= 0) throw Error("split: split_size must be positive, got " + std::to_string(split_size));
  std::vector<Tensor> out;
  const std::int64_t n = size(d);
  for (std::int64_t a = 0; a < n; a += split_size) out.push_back(narrow(d, a, std::min(split_size, n - a)));
  if (n == 0) out.push_back(narrow(d, 0, 0));
  return out;
}

std::vector<Tensor> Tensor::chunk(std::int64_t chunks, std::int64_t d) const {
  if (chunks <= 0) throw Error("chunk: chunks must be positive, got " + std::to_string(chunks));
  if (dim() == 0) throw Error("chunk: cannot chunk a zero-dimensional tensor");
  const std::int64_t n = size(wrap_dim("chunk", d, dim()));
  return split(std::max<std::int64_t>(1, (n + chunks - 1) / chunks), d);
}

std::vector<Tensor> Tensor::unbind(std::int64_t d) const {
  if (dim() == 0) throw Error("unbind: cannot unbind a zero-dimensional tensor");
  d = wrap_dim("unbind", d, dim());
  std::vector<Tensor> out;
  for (std::int64_t i = 0; i < size(d); ++i) out.push_back(select(d, i));
  return out;
}

Tensor Tensor::select(std::int64_t d, std::int64_t index) const {
  if (dim() == 0) throw Error("select: cannot index a zero-dimensional tensor");
  d = wrap_dim("select", d, dim());
  const std::int64_t n = size(d);
  if (index < -n || index >= n)
    throw Error("select: index " + std::to_string(index) + " is out of range for dimension " +
                std::to_string(d) + " of size " + std::to_string(n) + " (shape " +
                shape_string(sizes()) + ")");
  if (index < 0) index += n;
  std::vector<std::int64_t> s = sizes().vec(), st = strides().vec();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  const std::int64_t off = storage_offset() + index * stride(d);
  return record<SliceBackward>(*this, make_view(*this, s, st, off), vec(sizes()), dtype(), d, index,
                               index + 1, 1, true);
}

Tensor Tensor::unsqueeze(std::int64_t d) const {
  d = wrap_dim("unsqueeze", d, dim() + 1);
  std::vector<std::int64_t> s = sizes().vec(), st = strides().vec();
  const std::int64_t new_stride =
      d < dim() ? st[static_cast<std::size_t>(d)] * s[static_cast<std::size_t>(d)] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, new_stride);
  return record<ViewBackward>(*this, make_view(*this, s, st, storage_offset()), vec(sizes()));
}

Tensor Tensor::squeeze() const {
  std::vector<std::int64_t> s, st;
  for (std::int64_t d = 0; d < dim(); ++d)
    if (size(d) != 1) {
      s.push_back(size(d));
      st.push_back(stride(d));
    }
  return record<ViewBackward>(*this, make_view(*this, s, st, storage_offset()), vec(sizes()));
}

Tensor Tensor::squeeze(std::int64_t d) const {
  if (dim() == 0) return record<ViewBackward>(*this, make_view(*this, {}, {}, storage_offset()), vec(sizes()));
  d = wrap_dim("squeeze", d, dim());
  if (size(d) != 1) return record<ViewBackward>(*this, make_view(*this, sizes().vec(), strides().vec(), storage_offset()), vec(sizes()));
  std::vector<std::int64_t> s = sizes().vec(), st = strides().vec();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return record<ViewBackward>(*this, make_view(*this, s, st, storage_offset()), vec(sizes()));
}

Tensor Tensor::expand(IntArrayRef shape) const {
  const auto r = static_cast<std::int64_t>(shape.size());
  if (r < dim())
    throw Error("expand: the target shape " + shape_string(shape) + " has fewer dimensions than " +
                "the tensor's shape " + shape_string(sizes()));
  std::vector<std::int64_t> s(shape.size()), st(shape.size());
  const std::int64_t lead = r - dim();
  for (std::int64_t i = r - 1; i >= 0; --i) {
    const std::int64_t want = shape[static_cast<std::size_t>(i)];
    if (i < lead) {
      if (want < 0)
        throw Error("expand: -1 is not allowed for a new leading dimension in " + shape_string(shape));
      s[static_cast<std::size_t>(i)] = want;
      st[static_cast<std::size_t>(i)] = 0;
      continue;
    }
    const std::int64_t have = size(i - lead);
    if (want == -1 || want == have) {
      s[static_cast<std::size_t>(i)] = have;
      st[static_cast<std::size_t>(i)] = stride(i - lead);
    } else if (have == 1) {
      s[static_cast<std::size_t>(i)] = want;
      st[static_cast<std::size_t>(i)] = 0;
    } else {
      throw Error("expand: the tensor's shape " + shape_string(sizes()) +
                  " cannot be expanded to " + shape_string(shape) + " (dimension " +
                  std::to_string(i) + ": " + std::to_string(have) + " vs " + std::to_string(want) +
                  "; only size-1 dimensions expand)");
    }
  }
  return record<ExpandBackward>(*this, make_view(*this, s, st, storage_offset()), vec(sizes()));
}

// ---- Free-function spellings.
Tensor reshape(const Tensor& x, IntArrayRef shape) { return x.reshape(shape); }
Tensor flatten(const Tensor& x, std::int64_t a, std::int64_t b) { return x.flatten(a, b); }
Tensor transpose(const Tensor& x, std::int64_t a, std::int64_t b) { return x.transpose(a, b); }
Tensor permute(const Tensor& x, IntArrayRef dims) { return x.permute(dims); }
Tensor narrow(const Tensor& x, std::int64_t d, std::int64_t s, std::int64_t l) { return x.narrow(d, s, l); }
std::vector<Tensor> chunk(const Tensor& x, std::int64_t c, std::int64_t d) { return x.chunk(c, d); }
Tensor select(const Tensor& x, std::int64_t d, std::int64_t i) { return x.select(d, i); }
Tensor unsqueeze(const Tensor& x, std::int64_t d) { return x.unsqueeze(d); }
Tensor squeeze(const Tensor& x) { return x.squeeze(); }
Tensor squeeze(const Tensor& x, std::int64_t d) { return x.squeeze(d); }

namespace detail {

std::vector<std::int64_t> broadcast_shapes(const char* op, IntArrayRef a, IntArrayRef b) {
  const std::size_t r = std::max(a.size(), b.size());
  std::vector<std::int64_t> out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1) {
      std::ostringstream m;
      m << op << ": shapes " << shape_string(a) << " and " << shape_string(b)
        << " cannot be broadcast (dimension " << static_cast<std::int64_t>(i) - static_cast<std::int64_t>(r)
        << ": " << x << " vs " << y << ")";
      throw Error(m.str());
    }
    out[i] = x == 1 ? y : x;
  }
  return out;
}

Tensor broadcast_to(const char* op, const Tensor& t, IntArrayRef shape) {
  if (t.sizes() == shape) return t;
  // Checked here so the message names the calling op.
  broadcast_shapes(op, t.sizes(), shape);
  if (static_cast<std::size_t>(t.dim()) > shape.size())
    throw Error(std::string(op) + ": shape " + shape_string(t.sizes()) + " cannot be broadcast to " +
                shape_string(shape));
  auto b = broadcast_shapes(op, t.sizes(), shape);
  if (!(IntArrayRef(b) == shape))
    throw Error(std::string(op) + ": shape " + shape_string(t.sizes()) + " cannot be broadcast to " +
                shape_string(shape));
  return t.expand(shape);
}

}  // namespace detail

}  // namespace sigma
