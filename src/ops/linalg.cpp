// linalg.cpp: matrix products (mm, bmm, dot, matmul) with their backward.
//
// Products go through CBLAS sgemm/dgemm. An operand whose matrix dimensions
// are row-major (stride (ld, 1)) or transposed row-major (stride (1, ld)) is
// passed as is with CblasNoTrans / CblasTrans, so w.t() and the saved
// operands of the backward (dA = dC B^T, dB = A^T dC) are never copied; any
// other layout is made contiguous first. bf16/f16 are converted to f32, multiplied
// with sgemm and rounded once. matmul is composed from dot/mm/bmm and views
// following PyTorch's rules, so it needs no backward of its own.
//
// Threads: OpenBLAS runs single-threaded while sigma calls it (its own pool
// would compete with sigma's, and its results depend on its thread count).
// A product is cut into tiles of C, rows or columns, whose number depends on
// m, n and k only; the tiles of all products of a batch go to sigma's pool
// (kernels/parallel.h). So a product gives the same bits for any thread count.
#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <mutex>

#include "autograd/function.h"
#include "ops/blas.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

using Shape = std::vector<std::int64_t>;

// ---- Checks shared by the products.
void check_defined(const char* op, const Tensor& a, const Tensor& b) {
  sigma::check_defined(op, a, "first");
  sigma::check_defined(op, b, "second");
}

void check_dtypes(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    throw Error(std::string(op) + ": expected both tensors to have the same dtype, got " +
                to_string(a.dtype()) + " and " + to_string(b.dtype()));
  if (!a.is_floating_point())
    throw Error(std::string(op) + ": expected floating-point tensors, got " + to_string(a.dtype()));
}

[[noreturn]] void throw_inner(const char* op, const Tensor& a, const Tensor& b, std::int64_t ka,
                              std::int64_t kb) {
  throw Error(std::string(op) + ": shapes " + shape_string(a.sizes()) + " and " +
              shape_string(b.sizes()) + " cannot be multiplied (" + std::to_string(ka) +
              " != " + std::to_string(kb) + ")");
}

// ---- The CBLAS driver.
struct Layout {
  CBLAS_TRANSPOSE trans = CblasNoTrans;
  std::int64_t ld = 1;
};

// How a rows x cols matrix with strides (s0, s1) can be given to row-major
// BLAS without a copy, if it can.
std::optional<Layout> blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t s0,
                                  std::int64_t s1) {
  if ((cols <= 1 || s1 == 1) && (rows <= 1 || s0 >= std::max<std::int64_t>(1, cols)))
    return Layout{CblasNoTrans, rows <= 1 ? std::max<std::int64_t>(1, cols) : s0};
  if ((rows <= 1 || s0 == 1) && (cols <= 1 || s1 >= std::max<std::int64_t>(1, rows)))
    return Layout{CblasTrans, cols <= 1 ? std::max<std::int64_t>(1, rows) : s1};
  return std::nullopt;
}

// A 2-D or 3-D operand in the compute type, ready for BLAS: t keeps the data
// alive; batch_stride is 0 for a 2-D operand (or an expanded batch).
struct Operand {
  Tensor t;
  std::int64_t batch_stride = 0;
  Layout layout;
};

Operand prepare(const Tensor& x, ScalarType compute) {
  Operand op;
  op.t = detail::cast_data(x, compute);
  auto lay = blas_layout(op.t.size(-2), op.t.size(-1), op.t.stride(-2), op.t.stride(-1));
  if (!lay) {
    Tensor c = make_tensor(op.t.sizes(), compute);
    detail::copy_elements(c, op.t);
    op.t = c;
    lay = blas_layout(c.size(-2), c.size(-1), c.stride(-2), c.stride(-1));
  }
  op.layout = *lay;
  op.batch_stride = op.t.dim() == 3 ? op.t.stride(0) : 0;
  return op;
}

void check_blas_size(const char* op, std::initializer_list<std::int64_t> values) {
  for (std::int64_t v : values)
    if (v > static_cast<std::int64_t>(std::numeric_limits<blasint>::max()))
      throw Error(std::string(op) + ": a dimension or leading dimension of " + std::to_string(v) +
                  " exceeds what the BLAS library accepts");
}

using detail::BlasOneThread;

// ld of C is ldc (a tile of C's columns keeps the full row stride).
template <class T>
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, Layout la, const T* b,
          Layout lb, T* c, std::int64_t ldc) {
  const auto bm = static_cast<blasint>(m), bn = static_cast<blasint>(n),
             bk = static_cast<blasint>(k);
  const auto lda = static_cast<blasint>(la.ld), ldb = static_cast<blasint>(lb.ld),
             bldc = static_cast<blasint>(std::max<std::int64_t>(1, ldc));
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, la.trans, lb.trans, bm, bn, bk, 1.0f, a, lda, b, ldb, 0.0f, c, bldc);
  else
    cblas_dgemm(CblasRowMajor, la.trans, lb.trans, bm, bn, bk, 1.0, a, lda, b, ldb, 0.0, c, bldc);
}

// The products' grain (docs/PERFORMANCE.md, "Threads"), in multiply-adds: a
// tile, or a group of a batch's products, is at least this much work.
constexpr std::int64_t kGemmGrain = std::int64_t{1} << 19;
constexpr std::int64_t kMaxTiles = 8;
constexpr std::int64_t kTileAlign = 16;  // rows / columns, a multiple of the kernels' unroll
// Each tile packs the other operand again, which costs about 1/rows of the
// tile's time: 128-row tiles of a 256^3 sgemm take 1.03x one whole call,
// 32-row tiles 1.19x (docs/PERFORMANCE.md). So no tile is shorter than this.
constexpr std::int64_t kMinTile = 128;

// How an m x n product is cut: `tiles` tiles of `per` rows (by_rows) or
// columns, the last one shorter; from the sizes alone.
struct Tiling {
  bool by_rows = true;
  std::int64_t tiles = 1, per = 0;
};
Tiling tiling(std::int64_t m, std::int64_t n, std::int64_t k) {
  Tiling t;
  t.by_rows = m >= n;
  const std::int64_t len = t.by_rows ? m : n;
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const auto wanted = static_cast<std::int64_t>(std::min(work / double(kGemmGrain), double(kMaxTiles)));
  const std::int64_t tiles = std::min(wanted, len / kMinTile);
  if (tiles < 2) {
    t.per = len;
    return t;
  }
  t.per = ((len + tiles - 1) / tiles + kTileAlign - 1) / kTileAlign * kTileAlign;
  t.tiles = (len + t.per - 1) / t.per;
  return t;
}

// out[i] = a[i] b[i] for i < batch (a: [batch,] m x k, b: [batch,] k x n),
// in a's dtype; out is new and contiguous with the given shape.
Tensor batched_product(const char* op, const Tensor& a, const Tensor& b, std::int64_t batch,
                       const Shape& out_shape) {
  const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const ScalarType dtype = a.dtype(), compute = detail::compute_type(dtype);
  if (m == 0 || n == 0 || batch == 0) return make_tensor(out_shape, dtype);
  if (k == 0) {
    Tensor z = make_tensor(out_shape, dtype);
    detail::dispatch_storage(dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::fill_n(detail::data_of<T>(z), z.numel(), T{});
    });
    return z;
  }
  const Operand pa = prepare(a, compute), pb = prepare(b, compute);
  check_blas_size(op, {m, n, k, pa.layout.ld, pb.layout.ld});
  Tensor out = make_tensor(out_shape, compute);
  detail::dispatch_floating(op, compute, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* ap = detail::data_of<const T>(pa.t);
    const T* bp = detail::data_of<const T>(pb.t);
    T* cp = detail::data_of<T>(out);
    const Tiling t = tiling(m, n, k);
    // Element (i, j) of operand x with layout l.
    const auto at = [](const T* x, Layout l, std::int64_t i, std::int64_t j) {
      return l.trans == CblasNoTrans ? x + i * l.ld + j : x + j * l.ld + i;
    };
    BlasOneThread one_thread;
    detail::parallel_items(batch * t.tiles, m * n * k / t.tiles, kGemmGrain, [&](std::int64_t w) {
      const std::int64_t i = w / t.tiles, first = (w % t.tiles) * t.per;
      const T* a0 = ap + i * pa.batch_stride;
      const T* b0 = bp + i * pb.batch_stride;
      T* c0 = cp + i * m * n;
      if (t.by_rows) {
        const std::int64_t rows = std::min(t.per, m - first);
        gemm<T>(rows, n, k, at(a0, pa.layout, first, 0), pa.layout, b0, pb.layout, c0 + first * n, n);
      } else {
        const std::int64_t cols = std::min(t.per, n - first);
        gemm<T>(m, cols, k, a0, pa.layout, at(b0, pb.layout, 0, first), pb.layout, c0 + first, n);
      }
    });
  });
  return dtype == compute ? out : detail::cast_data(out, dtype);
}

// ---- mm and bmm.
struct MmBackward final : autograd::Node {
  SavedVariable a, b;
  std::string name() const override { return "MmBackward"; }
  // dA = dC B^T, dB = A^T dC
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (next_edges()[0].is_valid()) ga = mm(g[0], b.unpack(this).t());
    if (next_edges()[1].is_valid()) gb = mm(a.unpack(this).t(), g[0]);
    return {ga, gb};
  }
  void release_variables() override {
    a.reset();
    b.reset();
  }
};

struct BmmBackward final : autograd::Node {
  SavedVariable a, b;
  std::string name() const override { return "BmmBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (next_edges()[0].is_valid()) ga = bmm(g[0], b.unpack(this).transpose(1, 2));
    if (next_edges()[1].is_valid()) gb = bmm(a.unpack(this).transpose(1, 2), g[0]);
    return {ga, gb};
  }
  void release_variables() override {
    a.reset();
    b.reset();
  }
};

// Saves what the backward of a product needs: a for b's gradient and b for a's.
template <class N> void record_product(Tensor& out, const Tensor& a, const Tensor& b) {
  if (auto node = make_node<N>({&a, &b})) {
    if (autograd::requires_grad(b)) node->a = SavedVariable(a);
    if (autograd::requires_grad(a)) node->b = SavedVariable(b);
    set_history(out, node);
  }
}

// ---- dot.
struct DotBackward final : autograd::Node {
  SavedVariable a, b;
  std::string name() const override { return "DotBackward"; }
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (next_edges()[0].is_valid()) ga = g[0] * b.unpack(this);
    if (next_edges()[1].is_valid()) gb = g[0] * a.unpack(this);
    return {ga, gb};
  }
  void release_variables() override {
    a.reset();
    b.reset();
  }
};

// Sum of a[i] b[i] in double with interleaved accumulators (f32, bf16, f16).
template <class T>
double dot_double(const T* a, std::int64_t sa, const T* b, std::int64_t sb, std::int64_t n) {
  double acc[8] = {};
  std::int64_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j)
        acc[j] += detail::to_double_value(a[i + j]) * detail::to_double_value(b[i + j]);
  }
  for (int j = 0; i < n; ++i, j = (j + 1) & 7)
    acc[j] += detail::to_double_value(a[i * sa]) * detail::to_double_value(b[i * sb]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  check_defined("mm", a, b);
  if (a.dim() != 2 || b.dim() != 2)
    throw Error("mm: expected 2-D tensors, got shapes " + shape_string(a.sizes()) + " and " +
                shape_string(b.sizes()));
  check_dtypes("mm", a, b);
  if (a.size(1) != b.size(0)) throw_inner("mm", a, b, a.size(1), b.size(0));
  Tensor out = batched_product("mm", a, b, 1, {a.size(0), b.size(1)});
  record_product<MmBackward>(out, a, b);
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_defined("bmm", a, b);
  if (a.dim() != 3 || b.dim() != 3)
    throw Error("bmm: expected 3-D tensors, got shapes " + shape_string(a.sizes()) + " and " +
                shape_string(b.sizes()));
  check_dtypes("bmm", a, b);
  if (a.size(0) != b.size(0))
    throw Error("bmm: batch sizes of shapes " + shape_string(a.sizes()) + " and " +
                shape_string(b.sizes()) + " differ (" + std::to_string(a.size(0)) + " != " +
                std::to_string(b.size(0)) + ")");
  if (a.size(2) != b.size(1)) throw_inner("bmm", a, b, a.size(2), b.size(1));
  Tensor out = batched_product("bmm", a, b, a.size(0), {a.size(0), a.size(1), b.size(2)});
  record_product<BmmBackward>(out, a, b);
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_defined("dot", a, b);
  if (a.dim() != 1 || b.dim() != 1)
    throw Error("dot: expected 1-D tensors, got shapes " + shape_string(a.sizes()) + " and " +
                shape_string(b.sizes()));
  check_dtypes("dot", a, b);
  if (a.size(0) != b.size(0)) throw_inner("dot", a, b, a.size(0), b.size(0));
  const std::int64_t n = a.size(0);
  Tensor out = make_tensor({}, a.dtype());
  detail::dispatch_storage(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, double>) {
      const double* pa = a.data_ptr<double>();
      const double* pb = b.data_ptr<double>();
      double r = 0.0;
      BlasOneThread one_thread;
      if (n > 0 && a.stride(0) > 0 && b.stride(0) > 0 &&
          n <= static_cast<std::int64_t>(std::numeric_limits<blasint>::max()) &&
          a.stride(0) <= static_cast<std::int64_t>(std::numeric_limits<blasint>::max()) &&
          b.stride(0) <= static_cast<std::int64_t>(std::numeric_limits<blasint>::max()))
        r = cblas_ddot(static_cast<blasint>(n), pa, static_cast<blasint>(a.stride(0)), pb,
                       static_cast<blasint>(b.stride(0)));
      else
        for (std::int64_t i = 0; i < n; ++i) r += pa[i * a.stride(0)] * pb[i * b.stride(0)];
      *out.data_ptr<double>() = r;
    } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, bfloat16> ||
                         std::is_same_v<T, float16>) {
      const double r = dot_double(static_cast<const T*>(a.data_ptr()), a.stride(0),
                                  static_cast<const T*>(b.data_ptr()), b.stride(0), n);
      *static_cast<T*>(out.data_ptr()) = detail::convert_value<T>(r);
    }
  });
  if (auto node = make_node<DotBackward>({&a, &b})) {
    if (autograd::requires_grad(b)) node->a = SavedVariable(a);
    if (autograd::requires_grad(a)) node->b = SavedVariable(b);
    set_history(out, node);
  }
  return out;
}

// PyTorch's matmul: 1-D x 1-D is dot; 2-D x 2-D is mm; a 1-D operand is
// unsqueezed to a matrix and its dimension removed from the result; an N-D
// (N >= 3) left operand against a matrix or vector folds its batch into the
// rows of one mm; otherwise the batch dimensions broadcast and bmm runs over
// their flattened product.
Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", a, b);
  const std::int64_t da = a.dim(), db = b.dim();
  if (da == 0 || db == 0)
    throw Error("matmul: both arguments need to be at least 1-D, got shapes " +
                shape_string(a.sizes()) + " and " + shape_string(b.sizes()));
  check_dtypes("matmul", a, b);
  const std::int64_t k = a.size(-1), kb = db == 1 ? b.size(0) : b.size(-2);
  if (k != kb) throw_inner("matmul", a, b, k, kb);
  if (da == 1 && db == 1) return dot(a, b);
  if (da == 2 && db == 1) return mm(a, b.unsqueeze(1)).squeeze(1);
  if (da == 1 && db == 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (da == 2 && db == 2) return mm(a, b);
  if (da >= 3 && db <= 2) {
    // a: [..., m, k] -> [(... m), k]; one mm; back to [..., m(, n)].
    Shape out(a.sizes().begin(), a.sizes().end() - 1);
    std::int64_t rows = 1;
    for (std::int64_t s : out) rows *= s;
    Tensor r = mm(a.reshape({rows, k}), db == 1 ? b.unsqueeze(1) : b);
    if (db == 2) out.push_back(b.size(1));
    return r.view(out);
  }
  // Batched: a [..., m, k] (a 1-D a is [1, k]), b [..., k, n] (a 1-D b is [k, 1]).
  const Tensor a3 = da == 1 ? a.unsqueeze(0) : a;
  const Tensor b3 = db == 1 ? b.unsqueeze(1) : b;
  const Shape batch_a(a3.sizes().begin(), a3.sizes().end() - 2);
  const Shape batch_b(b3.sizes().begin(), b3.sizes().end() - 2);
  const std::size_t r = std::max(batch_a.size(), batch_b.size());
  Shape batch(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t x = i < r - batch_a.size() ? 1 : batch_a[i - (r - batch_a.size())];
    const std::int64_t y = i < r - batch_b.size() ? 1 : batch_b[i - (r - batch_b.size())];
    if (x != y && x != 1 && y != 1)
      throw Error("matmul: the batch dimensions of shapes " + shape_string(a.sizes()) + " and " +
                  shape_string(b.sizes()) + " cannot be broadcast (" + std::to_string(x) + " vs " +
                  std::to_string(y) + " at batch dimension " + std::to_string(i) + ")");
    batch[i] = x == 1 ? y : x;
  }
  std::int64_t nb = 1;
  for (std::int64_t s : batch) nb *= s;
  const std::int64_t m = a3.size(-2), n = b3.size(-1);
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), {m, k});
  eb.insert(eb.end(), {k, n});
  Tensor prod = bmm(a3.expand(ea).reshape({nb, m, k}), b3.expand(eb).reshape({nb, k, n}));
  Shape out = batch;
  if (da > 1) out.push_back(m);
  if (db > 1) out.push_back(n);
  return prod.view(out);
}

}  // namespace sigma
