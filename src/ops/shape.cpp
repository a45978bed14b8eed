// shape.cpp: shape ops that move or mask elements: repeat, tril, triu, flip,
// roll (clone with a memory format is in tensor/copy.cpp).
//
// repeat, roll, tril and triu are composed of views, cat and where, and take
// their gradients from them; flip copies with reversed indexing and its
// gradient is the flip of the output's gradient.
#include <cstring>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma {

namespace {

// The dims, wrapped, with repeats refused (op names them).
std::vector<bool> dim_mask(const char* op, IntArrayRef dims, std::int64_t rank) {
  std::vector<bool> mask(static_cast<std::size_t>(rank), false);
  for (std::int64_t d : dims) {
    const std::int64_t w = wrap_dim(op, d, rank);
    if (mask[static_cast<std::size_t>(w)])
      throw Error(std::string(op) + ": dim " + std::to_string(d) + " appears more than once in " +
                  shape_string(dims));
    mask[static_cast<std::size_t>(w)] = true;
  }
  return mask;
}

// out = x with the masked dimensions reversed, copied element by element
// (any layout, any dtype: elements are moved as bytes). x: [s0, ..., sk].
Tensor flip_kernel(const Tensor& x, const std::vector<bool>& mask) {
  Tensor out = make_tensor(x.sizes(), x.dtype());
  const std::int64_t n = x.numel(), rank = x.dim();
  if (n == 0) return out;
  const std::size_t es = x.element_size();
  const auto* src = static_cast<const unsigned char*>(x.data_ptr());
  auto* dst = static_cast<unsigned char*>(out.data_ptr());
  std::vector<std::int64_t> idx(static_cast<std::size_t>(rank), 0);
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t off = 0;
    for (std::int64_t d = 0; d < rank; ++d) {
      const auto u = static_cast<std::size_t>(d);
      off += (mask[u] ? x.size(d) - 1 - idx[u] : idx[u]) * x.stride(d);
    }
    std::memcpy(dst + static_cast<std::size_t>(k) * es, src + off * static_cast<std::int64_t>(es), es);
    for (std::int64_t d = rank; d-- > 0;) {
      const auto u = static_cast<std::size_t>(d);
      if (++idx[u] < x.size(d)) break;
      idx[u] = 0;
    }
  }
  return out;
}

Tensor flip_impl(const Tensor& x, const std::vector<bool>& mask);

struct FlipBackward final : autograd::Node {
  std::vector<bool> mask;
  explicit FlipBackward(std::vector<bool> m) : mask(std::move(m)) {}
  std::string name() const override { return "FlipBackward"; }
  TensorList apply(TensorList&& g) override { return {flip_impl(g[0], mask)}; }
};

Tensor flip_impl(const Tensor& x, const std::vector<bool>& mask) {
  Tensor out = flip_kernel(x, mask);
  if (auto node = autograd::make_node<FlipBackward>({&x}, mask)) autograd::set_history(out, node);
  return out;
}

// Keeps x[..., i, j] where keep(j - i), else 0; x at least 2-d.
template <class Keep> Tensor triangle(const char* op, const Tensor& x, std::int64_t diagonal, Keep keep) {
  check_defined(op, x);
  if (x.dim() < 2)
    throw Error(std::string(op) + ": expected a tensor of at least 2 dimensions, got shape " +
                shape_string(x.sizes()));
  const std::int64_t rows = x.size(-2), cols = x.size(-1);
  const Tensor i = arange(rows).unsqueeze(1), j = arange(cols).unsqueeze(0);
  const Tensor mask = keep(j - i, diagonal);  // [rows, cols]
  return where(mask, x, zeros({}, TensorOptions(x.dtype())));
}

}  // namespace

Tensor flip(const Tensor& x, IntArrayRef dims) {
  check_defined("flip", x);
  return flip_impl(x, dim_mask("flip", dims, x.dim()));
}

Tensor roll(const Tensor& x, IntArrayRef shifts, IntArrayRef dims) {
  check_defined("roll", x);
  if (dims.empty()) {
    if (shifts.size() != 1)
      throw Error("roll: without dims, shifts must hold one value, got " + shape_string(shifts));
    return roll(x.flatten(), shifts, {0}).view(x.sizes());
  }
  if (shifts.size() != dims.size())
    throw Error("roll: shifts " + shape_string(shifts) + " and dims " + shape_string(dims) +
                " must have the same length");
  Tensor y = x;
  for (std::size_t k = 0; k < dims.size(); ++k) {
    const std::int64_t d = wrap_dim("roll", dims[k], x.dim());
    const std::int64_t n = x.dim() == 0 ? 1 : x.size(d);
    if (n == 0 || x.dim() == 0) continue;
    const std::int64_t s = ((shifts[k] % n) + n) % n;
    if (s == 0) continue;
    y = cat({y.narrow(d, n - s, s), y.narrow(d, 0, n - s)}, d);
  }
  return y.is_same(x) ? x.clone() : y;
}

Tensor tril(const Tensor& x, std::int64_t diagonal) {
  return triangle("tril", x, diagonal, [](const Tensor& offset, std::int64_t d) { return offset <= d; });
}
Tensor triu(const Tensor& x, std::int64_t diagonal) {
  return triangle("triu", x, diagonal, [](const Tensor& offset, std::int64_t d) { return offset >= d; });
}

Tensor clone(const Tensor& x, std::optional<MemoryFormat> memory_format) {
  check_defined("clone", x);
  return x.clone(memory_format);
}

// [s0, ..., sk] with repeats [r0, ..., rm] (m >= k, the sizes padded with
// leading 1s): viewed as [1, s0, 1, s1, ...], expanded to [r0, s0, r1, s1,
// ...] and reshaped to [r0 s0, r1 s1, ...].
Tensor Tensor::repeat(IntArrayRef repeats) const {
  check_defined("repeat", *this);
  const auto m = static_cast<std::int64_t>(repeats.size());
  if (m < dim())
    throw Error("repeat: the number of repeats (" + std::to_string(m) +
                ") can't be smaller than the number of dimensions of the tensor (" +
                std::to_string(dim()) + ", shape " + shape_string(sizes()) + ")");
  std::vector<std::int64_t> padded(static_cast<std::size_t>(m - dim()), 1), pairs, expanded, out;
  for (std::int64_t d = 0; d < dim(); ++d) padded.push_back(size(d));
  for (std::int64_t d = 0; d < m; ++d) {
    const std::int64_t r = repeats[static_cast<std::size_t>(d)], s = padded[static_cast<std::size_t>(d)];
    if (r < 0) throw Error("repeat: repeats must be non-negative, got " + shape_string(repeats));
    pairs.insert(pairs.end(), {1, s});
    expanded.insert(expanded.end(), {r, s});
    out.push_back(r * s);
  }
  Tensor r = reshape(pairs).expand(expanded).reshape(out);
  // All repeats 1: the views above alias self; repeat always copies.
  return r.is_alias_of(*this) ? r.clone(MemoryFormat::Contiguous) : r;
}

Tensor Tensor::tril(std::int64_t diagonal) const { return sigma::tril(*this, diagonal); }
Tensor Tensor::triu(std::int64_t diagonal) const { return sigma::triu(*this, diagonal); }
Tensor& Tensor::tril_(std::int64_t diagonal) { return copy_(sigma::tril(*this, diagonal)); }
Tensor& Tensor::triu_(std::int64_t diagonal) { return copy_(sigma::triu(*this, diagonal)); }
Tensor Tensor::flip(IntArrayRef dims) const { return sigma::flip(*this, dims); }
Tensor Tensor::roll(IntArrayRef shifts, IntArrayRef dims) const {
  return sigma::roll(*this, shifts, dims);
}

}  // namespace sigma
