// conv.cpp: conv2d (and conv1d as conv2d over a height of 1), forward and
// backward side by side. Stride 1 with padding within the kernel's reach
// (most layers) runs direct on kernels/conv_direct.h: the flat path below.
// Everything else is im2col + CBLAS sgemm/dgemm, described here.
//
// Shape letters: N batch, C input channels, O output channels, G groups,
// Cg = C / G and Og = O / G per group, H W input, kh kw kernel, OH OW output,
// K = Cg kh kw (the product's inner dimension), P = OH OW.
//
// Per block of B samples and group g, with col [K, B P] the block's windows
// laid out as columns, sample after sample (im2col; the input itself for a
// 1x1 kernel at stride 1 without padding, where B = 1):
//   forward:  y[block, g] [Og, B P] = W_g [Og, K] col + b_g
//   dx:       dcol [K, B P] = W_g^T dy[block, g], scattered back (col2im,
//             adding the taps of each input element in a fixed order)
//   dW_g:     sum over blocks of dy[block, g] [Og, B P] col^T, in order
//   db:       sum over n and P of dy, in double
// B makes a product at least kBlockColumns wide: small images (8x8 digits)
// would otherwise cost one tiny BLAS call per sample, call overhead
// dominating. B depends on the shapes only. Blocks are split across sigma's
// threads for the forward and dx; dW sums fixed runs of blocks into partial
// products and adds them in order, so every result is independent of the
// thread count. OpenBLAS runs single-threaded under sigma (ops/blas.h).
// float32 and float64 only.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/function.h"
#include "kernels/conv_direct.h"
#include "kernels/parallel.h"
#include "ops/blas.h"
#include "sigma/ops.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

struct Geometry {
  std::int64_t n = 0, c = 0, h = 0, w = 0;  // input
  std::int64_t o = 0, kh = 0, kw = 0;       // weight
  std::int64_t groups = 1;
  std::int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;  // ph, pw: zeros before
  std::int64_t oh = 0, ow = 0;
  std::int64_t cg() const { return c / groups; }
  std::int64_t og() const { return o / groups; }
  std::int64_t k() const { return cg() * kh * kw; }
  std::int64_t p() const { return oh * ow; }
  // col is the input itself: 1x1 kernel, stride 1, no padding.
  bool direct() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

// One multiply-add per element of the products, per output element: the
// work of a sample, for the thread split.
constexpr std::int64_t kConvGrain = std::int64_t{1} << 19;

template <class T>
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::int64_t m, std::int64_t n, std::int64_t k,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
          std::int64_t ldc) {
  const auto bi = [](std::int64_t v) { return static_cast<blasint>(v); };
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, bi(m), bi(n), bi(k), 1.0f, a, bi(lda), b, bi(ldb), beta, c,
                bi(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, bi(m), bi(n), bi(k), 1.0, a, bi(lda), b, bi(ldb), beta, c,
                bi(ldc));
}

// For kernel tap offset `off` (= -pad + tap dilation) at stride 1: the output
// columns [lo, hi) whose input column ow + off lies in [0, w).
inline std::pair<std::int64_t, std::int64_t> valid_range(std::int64_t off, std::int64_t w,
                                                         std::int64_t ow) {
  const std::int64_t lo = std::clamp<std::int64_t>(-off, 0, ow);
  const std::int64_t hi = std::clamp<std::int64_t>(w - off, lo, ow);
  return {lo, hi};
}

// r[0, n) = zeros, then src[lo, hi), then zeros from hi. Rows of small
// images are a few values long: plain loops, kept from becoming memset and
// memcpy calls that would cost more than the copy.
// (im2col, which inlines it, carries the attribute: GCC inlines only
// between functions of the same optimization options.)
template <class T>
inline void copy_row(T* r, const T* src, std::int64_t lo, std::int64_t hi, std::int64_t n) {
  if (n >= 64) {
    std::fill_n(r, lo, T(0));
    if (hi > lo) std::memcpy(r + lo, src + lo, static_cast<std::size_t>(hi - lo) * sizeof(T));
    std::fill(r + hi, r + n, T(0));
    return;
  }
  std::int64_t i = 0;
  for (; i < lo; ++i) r[i] = T(0);
  for (; i < hi; ++i) r[i] = src[i];
  for (; i < n; ++i) r[i] = T(0);
}

// Scratch buffers per thread, grown as needed: slot 0 the im2col columns,
// slot 1 a block of dy gathered into [Og, B P], slot 2 a product before it
// is spread over the samples, slot 3 the zero-bordered plane of padded_path.
template <class T, int Slot> T* scratch(std::size_t n) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// dst[0, n) = src[0, n), with the common short lengths as fixed-size copies
// (a few vector moves) instead of a loop.
template <class T> inline void copy_short(T* dst, const T* src, std::int64_t n) {
  switch (n) {
    case 4: std::memcpy(dst, src, 4 * sizeof(T)); return;
    case 8: std::memcpy(dst, src, 8 * sizeof(T)); return;
    case 14: std::memcpy(dst, src, 14 * sizeof(T)); return;
    case 16: std::memcpy(dst, src, 16 * sizeof(T)); return;
    case 28: std::memcpy(dst, src, 28 * sizeof(T)); return;
    case 32: std::memcpy(dst, src, 32 * sizeof(T)); return;
    default:
      for (std::int64_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// Stride 1 with short output rows (small images): each input plane is
// first copied into a zero-bordered plane pp [HP, WP] (HP = OH + (kh - 1) dh,
// WP = OW + (kw - 1) dw, pp[r][q] = x[r - ph][q - pw] or 0), so that every
// row of col is a plain copy of OW values from pp, without bounds.
bool padded_path(const Geometry& g) { return g.sh == 1 && g.sw == 1 && g.ow < 64; }
std::int64_t padded_h(const Geometry& g) { return g.oh + (g.kh - 1) * g.dh; }
std::int64_t padded_w(const Geometry& g) { return g.ow + (g.kw - 1) * g.dw; }

// x [Cg, H, W] -> col [K, P] with rows `ld` apart, zeros where a window
// reaches into the padding.
template <class T>
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void im2col(
    const T* x, T* col, std::int64_t ld, const Geometry& g) {
  if (padded_path(g)) {
    const std::int64_t hp = padded_h(g), wp = padded_w(g);
    T* pp = scratch<T, 3>(static_cast<std::size_t>(hp * wp));
    const std::int64_t lo = std::clamp<std::int64_t>(g.pw, 0, wp);
    const std::int64_t hi = std::clamp<std::int64_t>(g.w + g.pw, lo, wp);
    for (std::int64_t c = 0; c < g.cg(); ++c) {
      const T* xc = x + c * g.h * g.w;
      for (std::int64_t r = 0; r < hp; ++r) {
        const std::int64_t iy = r - g.ph;
        if (iy < 0 || iy >= g.h) {
          for (std::int64_t q = 0; q < wp; ++q) pp[r * wp + q] = T(0);
        } else {
          copy_row(pp + r * wp, xc + iy * g.w - g.pw, lo, hi, wp);
        }
      }
      for (std::int64_t ki = 0; ki < g.kh; ++ki)
        for (std::int64_t kj = 0; kj < g.kw; ++kj) {
          T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
          const T* src = pp + ki * g.dh * wp + kj * g.dw;
          for (std::int64_t oy = 0; oy < g.oh; ++oy) copy_short(row + oy * g.ow, src + oy * wp, g.ow);
        }
    }
    return;
  }
  for (std::int64_t c = 0; c < g.cg(); ++c) {
    const T* xc = x + c * g.h * g.w;
    for (std::int64_t ki = 0; ki < g.kh; ++ki) {
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
        const std::int64_t off = kj * g.dw - g.pw;
        const auto [lo, hi] = valid_range(off, g.w, g.ow);
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
          T* r = row + oy * g.ow;
          const std::int64_t iy = oy * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h) {
            std::fill_n(r, g.ow, T(0));
            continue;
          }
          const T* xr = xc + iy * g.w;
          if (g.sw == 1) {
            copy_row(r, xr + off, lo, hi, g.ow);
          } else {
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
              const std::int64_t ix = ox * g.sw + off;
              r[ox] = ix >= 0 && ix < g.w ? xr[ix] : T(0);
            }
          }
        }
      }
    }
  }
}

// dx [Cg, H, W] = the sum of col [K, P]'s entries (rows `ld` apart) at the
// positions im2col read them from (taps in row order of col; padding entries
// dropped).
template <class T> void col2im(const T* col, std::int64_t ld, T* dx, const Geometry& g) {
  if (padded_path(g)) {  // the taps added into the padded plane, in the same order, then cropped
    const std::int64_t hp = padded_h(g), wp = padded_w(g);
    T* pp = scratch<T, 3>(static_cast<std::size_t>(hp * wp));
    for (std::int64_t c = 0; c < g.cg(); ++c) {
      std::fill_n(pp, hp * wp, T(0));
      for (std::int64_t ki = 0; ki < g.kh; ++ki)
        for (std::int64_t kj = 0; kj < g.kw; ++kj) {
          const T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
          T* dst = pp + ki * g.dh * wp + kj * g.dw;
          for (std::int64_t oy = 0; oy < g.oh; ++oy)
            for (std::int64_t ox = 0; ox < g.ow; ++ox) dst[oy * wp + ox] += row[oy * g.ow + ox];
        }
      T* dc = dx + c * g.h * g.w;
      for (std::int64_t iy = 0; iy < g.h; ++iy) {
        const std::int64_t r = iy + g.ph;
        for (std::int64_t ix = 0; ix < g.w; ++ix) {
          const std::int64_t q = ix + g.pw;
          dc[iy * g.w + ix] = r < hp && q < wp ? pp[r * wp + q] : T(0);
        }
      }
    }
    return;
  }
  std::fill_n(dx, g.cg() * g.h * g.w, T(0));
  for (std::int64_t c = 0; c < g.cg(); ++c) {
    T* dc = dx + c * g.h * g.w;
    for (std::int64_t ki = 0; ki < g.kh; ++ki) {
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
        const std::int64_t off = kj * g.dw - g.pw;
        const auto [lo, hi] = valid_range(off, g.w, g.ow);
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
          const std::int64_t iy = oy * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          const T* r = row + oy * g.ow;
          T* dr = dc + iy * g.w;
          if (g.sw == 1) {
            T* d = dr + off;
            for (std::int64_t ox = lo; ox < hi; ++ox) d[ox] += r[ox];
          } else {
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
              const std::int64_t ix = ox * g.sw + off;
              if (ix >= 0 && ix < g.w) dr[ix] += r[ox];
            }
          }
        }
      }
    }
  }
}


// The products' width to reach by blocking samples, and the most columns a
// block may take (the col buffer stays within a few MiB).
constexpr std::int64_t kBlockColumns = 1024;
constexpr std::int64_t kBlockMaxCol = std::int64_t{1} << 19;

// Samples per block: 1 when one sample's product is wide enough (or the
// input is its own col), else enough for kBlockColumns.
std::int64_t block_samples(const Geometry& g) {
  const std::int64_t P = std::max<std::int64_t>(g.p(), 1);
  if (g.direct() || P >= kBlockColumns) return 1;
  const std::int64_t by_width = (kBlockColumns + P - 1) / P;
  const std::int64_t by_memory = std::max<std::int64_t>(kBlockMaxCol / (g.k() * P), 1);
  return std::clamp<std::int64_t>(std::min(by_width, by_memory), 1, std::max<std::int64_t>(g.n, 1));
}

// The block [n0, n0 + nb) of group grp into col [K, nb P].
template <class T>
void im2col_block(const T* x, T* col, std::int64_t n0, std::int64_t nb, std::int64_t grp,
                  const Geometry& g) {
  const std::int64_t P = g.p();
  for (std::int64_t b = 0; b < nb; ++b)
    im2col(x + ((n0 + b) * g.c + grp * g.cg()) * g.h * g.w, col + b * P, nb * P, g);
}

// dy[n0 .. n0 + nb, group grp] [nb][Og, P] -> [Og, nb P].
template <class T>
void gather_dy(const T* dy, T* out, std::int64_t n0, std::int64_t nb, std::int64_t grp,
               const Geometry& g) {
  const std::int64_t P = g.p(), Og = g.og();
  for (std::int64_t o = 0; o < Og; ++o)
    for (std::int64_t b = 0; b < nb; ++b)
      std::memcpy(out + o * nb * P + b * P, dy + ((n0 + b) * g.o + grp * Og + o) * P,
                  static_cast<std::size_t>(P) * sizeof(T));
}

// Where the columns of group grp of the block starting at sample n0 (nb
// samples) sit in the kept columns of the whole batch ([N G K P] values).
std::int64_t kept_offset(std::int64_t n0, std::int64_t nb, std::int64_t grp, const Geometry& g) {
  return (n0 * g.groups + grp * nb) * g.k() * g.p();
}

// x [N, C, H, W], w [O, Cg, kh, kw], b [O] or null -> y [N, O, OH, OW];
// with `keep`, the columns are left there for the weight's gradient.
template <class T>
void conv_forward(const T* x, const T* w, const T* b, T* y, T* keep, const Geometry& g) {
  const std::int64_t K = g.k(), P = g.p(), Og = g.og(), B = block_samples(g);
  const std::int64_t blocks = (g.n + B - 1) / B;
  detail::BlasOneThread one_thread;
  detail::parallel_items(blocks, B * g.o * P * K, kConvGrain, [&](std::int64_t blk) {
    const std::int64_t n0 = blk * B, nb = std::min(B, g.n - n0), cols = nb * P;
    T* col = g.direct() || keep ? nullptr : scratch<T, 0>(static_cast<std::size_t>(K * cols));
    T* prod = nb > 1 ? scratch<T, 2>(static_cast<std::size_t>(Og * cols)) : nullptr;
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const T* xg = x + (n0 * g.c + grp * g.cg()) * g.h * g.w;
      if (keep) col = keep + kept_offset(n0, nb, grp, g);
      if (!g.direct()) im2col_block(x, col, n0, nb, grp, g);
      const T* bg = b ? b + grp * Og : nullptr;
      if (nb == 1) {  // straight into y, bias first
        T* yg = y + (n0 * g.o + grp * Og) * P;
        if (bg)
          for (std::int64_t o = 0; o < Og; ++o) std::fill_n(yg + o * P, P, bg[o]);
        gemm<T>(CblasNoTrans, CblasNoTrans, Og, P, K, w + grp * Og * K, K, g.direct() ? xg : col, P,
                bg ? T(1) : T(0), yg, P);
        continue;
      }
      gemm<T>(CblasNoTrans, CblasNoTrans, Og, cols, K, w + grp * Og * K, K, col, cols, T(0), prod, cols);
      for (std::int64_t bs = 0; bs < nb; ++bs)
        for (std::int64_t o = 0; o < Og; ++o) {
          const T* src = prod + o * cols + bs * P;
          T* dst = y + ((n0 + bs) * g.o + grp * Og + o) * P;
          if (bg) {
            const T bias = bg[o];
            for (std::int64_t i = 0; i < P; ++i) dst[i] = src[i] + bias;
          } else {
            std::memcpy(dst, src, static_cast<std::size_t>(P) * sizeof(T));
          }
        }
    }
  });
}

// dy [N, O, P], w -> dx [N, C, H, W]
template <class T> void conv_backward_input(const T* dy, const T* w, T* dx, const Geometry& g) {
  const std::int64_t K = g.k(), P = g.p(), Og = g.og(), B = block_samples(g);
  const std::int64_t blocks = (g.n + B - 1) / B;
  detail::BlasOneThread one_thread;
  detail::parallel_items(blocks, B * g.o * P * K, kConvGrain, [&](std::int64_t blk) {
    const std::int64_t n0 = blk * B, nb = std::min(B, g.n - n0), cols = nb * P;
    T* col = g.direct() ? nullptr : scratch<T, 0>(static_cast<std::size_t>(K * cols));
    T* dyb = nb > 1 ? scratch<T, 1>(static_cast<std::size_t>(Og * cols)) : nullptr;
    for (std::int64_t grp = 0; grp < g.groups; ++grp) {
      const T* dyg = dy + (n0 * g.o + grp * Og) * P;
      if (nb > 1) gather_dy(dy, dyb, n0, nb, grp, g);
      T* dxg = dx + (n0 * g.c + grp * g.cg()) * g.h * g.w;
      gemm<T>(CblasTrans, CblasNoTrans, K, cols, Og, w + grp * Og * K, K, nb > 1 ? dyb : dyg, cols,
              T(0), g.direct() ? dxg : col, cols);
      if (!g.direct())
        for (std::int64_t bs = 0; bs < nb; ++bs)
          col2im(col + bs * P, cols, dx + ((n0 + bs) * g.c + grp * g.cg()) * g.h * g.w, g);
    }
  });
}

// dy [N, O, P], x (or the forward's kept columns) -> dw [O, Cg, kh, kw]:
// runs of sample blocks summed alone, then the runs added in order.
template <class T>
void conv_backward_weight(const T* dy, const T* x, const T* kept, T* dw, const Geometry& g) {
  const std::int64_t K = g.k(), P = g.p(), Og = g.og(), wsize = g.o * K, B = block_samples(g);
  const std::int64_t blocks = (g.n + B - 1) / B;
  const std::int64_t runs = std::min<std::int64_t>(blocks, 8);
  std::vector<T> partial(static_cast<std::size_t>(std::max<std::int64_t>(runs - 1, 0) * wsize));
  detail::BlasOneThread one_thread;
  detail::parallel_items(runs, (blocks / runs) * B * g.o * P * K, kConvGrain, [&](std::int64_t run) {
    T* out = run == 0 ? dw : partial.data() + (run - 1) * wsize;
    const std::int64_t b0 = run * blocks / runs, b1 = (run + 1) * blocks / runs;
    for (std::int64_t blk = b0; blk < b1; ++blk) {
      const std::int64_t n0 = blk * B, nb = std::min(B, g.n - n0), cols = nb * P;
      T* col = g.direct() || kept ? nullptr : scratch<T, 0>(static_cast<std::size_t>(K * cols));
      T* dyb = nb > 1 ? scratch<T, 1>(static_cast<std::size_t>(Og * cols)) : nullptr;
      for (std::int64_t grp = 0; grp < g.groups; ++grp) {
        const T* cin = x + (n0 * g.c + grp * g.cg()) * g.h * g.w;  // direct: the input
        if (kept) {
          cin = kept + kept_offset(n0, nb, grp, g);
        } else if (!g.direct()) {
          im2col_block(x, col, n0, nb, grp, g);
          cin = col;
        }
        if (nb > 1) gather_dy(dy, dyb, n0, nb, grp, g);
        gemm<T>(CblasNoTrans, CblasTrans, Og, K, cols, nb > 1 ? dyb : dy + (n0 * g.o + grp * Og) * P,
                cols, cin, cols, blk == b0 ? T(0) : T(1), out + grp * Og * K, K);
      }
    }
  });
  for (std::int64_t run = 1; run < runs; ++run) {
    const T* p = partial.data() + (run - 1) * wsize;
    for (std::int64_t i = 0; i < wsize; ++i) dw[i] += p[i];
  }
}

// dy [N, O, P] -> db [O], summed in double.
template <class T> void conv_backward_bias(const T* dy, T* db, const Geometry& g) {
  const std::int64_t P = g.p();
  for (std::int64_t o = 0; o < g.o; ++o) {
    double s = 0;
    for (std::int64_t n = 0; n < g.n; ++n) {
      const T* r = dy + (n * g.o + o) * P;
      double lane[4] = {};  // four chains, added in a fixed order
      std::int64_t i = 0;
      for (; i + 4 <= P; i += 4)
        for (int u = 0; u < 4; ++u) lane[u] += static_cast<double>(r[i + u]);
      for (; i < P; ++i) lane[0] += static_cast<double>(r[i]);
      s += (lane[0] + lane[1]) + (lane[2] + lane[3]);
    }
    db[o] = static_cast<T>(s);
  }
}

// ---- The flat path: stride 1, direct (kernels/conv_direct.h), no BLAS.
//
// Each channel of a sample is copied into a zero-bordered flat plane; the
// forward is then conv_flat over the input's planes, the input gradient
// conv_flat over dy's planes (padded by the rest of the kernel's extent)
// with the kernel flipped and its channels swapped, and the weight gradient
// conv_flat_weight over the input's planes against dy. The forward and the
// input gradient sum each output's terms in a fixed order, one fused
// multiply-add each, so their bits depend on nothing but the inputs.
// On this machine's AVX-512 core the kernels run at about twice the
// multiply-add rate of im2col + OpenBLAS (whose sgemm kernel here is its
// AVX2 one); see docs/PERFORMANCE.md.

// Stride 1, a kernel larger than 1x1 (a 1x1 kernel is a plain product) and
// padding within the dilated kernel's extent on all four sides, which makes
// the input gradient a convolution of the same kind.
bool flat_path(const Geometry& g) {
  if (g.sh != 1 || g.sw != 1 || (g.kh == 1 && g.kw == 1)) return false;
  const std::int64_t eh = (g.kh - 1) * g.dh, ew = (g.kw - 1) * g.dw;
  const std::int64_t after_h = g.oh + eh - g.h - g.ph, after_w = g.ow + ew - g.w - g.pw;
  return g.ph <= eh && g.pw <= ew && after_h >= 0 && after_h <= eh && after_w >= 0 && after_w <= ew;
}

constexpr std::int64_t round16(std::int64_t v) { return (v + 15) / 16 * 16; }

// A flat plane [hp, wp] (plus zeros that the kernels' last vectors read)
// holding an [h, w] image at (top, left).
struct FlatPlane {
  std::int64_t h = 0, w = 0, top = 0, left = 0, hp = 0, wp = 0, stride = 0;
  FlatPlane(std::int64_t h_, std::int64_t w_, std::int64_t top_, std::int64_t left_, std::int64_t hp_,
            std::int64_t wp_, std::int64_t reach)
      : h(h_), w(w_), top(top_), left(left_), hp(hp_), wp(wp_), stride(round16(hp_ * wp_ + reach + 16)) {}
  // The pixels only: the borders are zero already (plane_scratch).
  template <class T> void fill(const T* img, T* plane) const {
    kernels::copy_rows(img, h, w, w, plane + top * wp + left, wp);
  }
  auto key() const { return std::array<std::int64_t, 7>{h, w, top, left, hp, wp, stride}; }
};

// Per thread and slot, n values of planes laid out as pl (at multiples of
// its stride), whose borders and tails are zero: the whole buffer is zeroed
// when the layout changes (and new space comes zeroed), and fills write
// only pixels, so the borders stay zero from one call to the next.
template <class T, int Slot> T* plane_scratch(std::size_t n, const FlatPlane& pl) {
  thread_local std::vector<T> buffer;
  thread_local std::array<std::int64_t, 7> layout{};
  if (layout != pl.key()) {
    std::fill(buffer.begin(), buffer.end(), T(0));
    layout = pl.key();
  }
  if (buffer.size() < n) buffer.resize(n, T(0));
  return buffer.data();
}

// The forward's planes: x [H, W] at (ph, pw) in [OH + eh, OW + ew].
FlatPlane input_plane(const Geometry& g) {
  return FlatPlane(g.h, g.w, g.ph, g.pw, g.oh + (g.kh - 1) * g.dh, g.ow + (g.kw - 1) * g.dw,
                   (g.kw - 1) * g.dw);
}

// dy's planes for the input gradient: dy [OH, OW] at (eh - ph, ew - pw) in
// [H + eh, W + ew].
FlatPlane grad_plane(const Geometry& g) {
  const std::int64_t eh = (g.kh - 1) * g.dh, ew = (g.kw - 1) * g.dw;
  return FlatPlane(g.oh, g.ow, eh - g.ph, ew - g.pw, g.h + eh, g.w + ew, ew);
}

// off[(c kh + i) kw + j] = c stride + i dh wp + j dw.
std::vector<std::int64_t> flat_offsets(std::int64_t channels, const Geometry& g, const FlatPlane& pl) {
  std::vector<std::int64_t> off;
  off.reserve(static_cast<std::size_t>(channels * g.kh * g.kw));
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t i = 0; i < g.kh; ++i)
      for (std::int64_t j = 0; j < g.kw; ++j) off.push_back(c * pl.stride + i * g.dh * pl.wp + j * g.dw);
  return off;
}

// One sample and group: `channels` planes of `src` images (rows `image`
// apart) through conv_flat with wt [K, out_channels], into dst
// [out_channels, h, w] of the plane's output geometry, plus bias.
template <int PlaneSlot, class T>
void flat_conv_sample(const T* src, std::int64_t channels, const FlatPlane& in, std::int64_t out_h,
                      std::int64_t out_w, const std::vector<std::int64_t>& off, const T* wt,
                      std::int64_t out_channels, const T* bias, T* dst) {
  T* planes = plane_scratch<T, PlaneSlot>(static_cast<std::size_t>(channels * in.stride), in);
  for (std::int64_t c = 0; c < channels; ++c) in.fill(src + c * in.h * in.w, planes + c * in.stride);
  const std::int64_t l = out_h * in.wp, ld = round16(l);
  T* out = scratch<T, 2>(static_cast<std::size_t>(out_channels * ld));
  kernels::conv_flat(kernels::ConvFlatArgs<T>{planes, off.data(), static_cast<std::int64_t>(off.size()), wt,
                                              out_channels, out, ld, l});
  for (std::int64_t o = 0; o < out_channels; ++o) {
    if (bias)
      kernels::copy_rows_plus(out + o * ld, out_h, out_w, in.wp, dst + o * out_h * out_w, out_w, bias[o]);
    else
      kernels::copy_rows(out + o * ld, out_h, out_w, in.wp, dst + o * out_h * out_w, out_w);
  }
}

template <class T> void flat_forward(const T* x, const T* w, const T* b, T* y, const Geometry& g) {
  const std::int64_t Cg = g.cg(), Og = g.og(), K = g.k();
  const FlatPlane in = input_plane(g);
  const std::vector<std::int64_t> off = flat_offsets(Cg, g, in);
  std::vector<T> wt(static_cast<std::size_t>(g.o * K));  // per group [K, Og]
  for (std::int64_t grp = 0; grp < g.groups; ++grp)
    for (std::int64_t o = 0; o < Og; ++o)
      for (std::int64_t k = 0; k < K; ++k) wt[(grp * K + k) * Og + o] = w[(grp * Og + o) * K + k];
  detail::parallel_items(g.n, g.o * g.p() * K, kConvGrain, [&](std::int64_t n) {
    for (std::int64_t grp = 0; grp < g.groups; ++grp)
      flat_conv_sample<0, T>(x + (n * g.c + grp * Cg) * g.h * g.w, Cg, in, g.oh, g.ow, off,
                          wt.data() + grp * K * Og, Og, b ? b + grp * Og : nullptr,
                          y + (n * g.o + grp * Og) * g.p());
  });
}

// r[0, n) summed in double: 16 independent chains (element i in chain
// i mod 16, so the compiler can keep them in vector registers without
// reordering any sum), added pairwise in a fixed order.
template <class T> double sum_in_double(const T* r, std::int64_t n) {
  constexpr int kChains = 16;
  double lane[kChains] = {};
  std::int64_t i = 0;
  for (; i + kChains <= n; i += kChains)
    for (int u = 0; u < kChains; ++u) lane[u] += static_cast<double>(r[i + u]);
  for (int u = 0; i < n; ++i, ++u) lane[u] += static_cast<double>(r[i]);
  for (int width = kChains / 2; width > 0; width /= 2)
    for (int u = 0; u < width; ++u) lane[u] += lane[u + width];
  return lane[0];
}

// Samples per kernel call of the weight gradient: their planes and
// transposed dy within about 2 MiB (at least one). Depends on the shapes only.
template <class T> std::int64_t flat_weight_chunk(const Geometry& g, const FlatPlane& in) {
  const std::int64_t per = (g.c * in.stride + g.groups * g.p() * round16(g.og())) *
                           static_cast<std::int64_t>(sizeof(T));
  return std::max<std::int64_t>(1, (std::int64_t{2} << 20) / std::max<std::int64_t>(per, 1));
}

// The three gradients in one pass over dy (each null when not wanted), so
// that a sample's dy is read from memory once: runs of samples (at most 8,
// fixed by N) each sum their own dw and db (in double), added in run order
// at the end; dx is per sample. Within a run, per chunk of samples: dx,
// the input's planes and dy transposed to [pixel, channel], then
// conv_flat_weight per group.
template <class T>
void flat_backward(const T* dy, const T* x, const T* w, T* dx, T* dw, T* db, const Geometry& g) {
  const std::int64_t Cg = g.cg(), Og = g.og(), K = g.k(), P = g.p(), taps = g.kh * g.kw;
  const std::int64_t wsize = g.o * K, runs = std::min<std::int64_t>(g.n, 8), ldo = round16(Og);
  const FlatPlane in = input_plane(g), grad = grad_plane(g);
  const std::vector<std::int64_t> off = flat_offsets(Cg, g, in), grad_off = flat_offsets(Og, g, grad);
  // The input gradient's weights: wt[(o kh + i) kw + j][c] = w[o][c][kh - 1 - i][kw - 1 - j].
  std::vector<T> wt(dx ? static_cast<std::size_t>(g.o * K) : 0);
  if (dx)
    for (std::int64_t grp = 0; grp < g.groups; ++grp)
      for (std::int64_t o = 0; o < Og; ++o)
        for (std::int64_t c = 0; c < Cg; ++c)
          for (std::int64_t t = 0; t < taps; ++t)
            wt[static_cast<std::size_t>(((grp * Og + o) * taps + t) * Cg + c)] =
                w[((grp * Og + o) * Cg + c) * taps + (taps - 1 - t)];
  const std::int64_t chunk = dw ? flat_weight_chunk<T>(g, in) : g.n;
  std::vector<T> partial(dw ? static_cast<std::size_t>(std::max<std::int64_t>(runs - 1, 0) * wsize) : 0);
  std::vector<double> bias_sums(db ? static_cast<std::size_t>(runs * g.o) : 0, 0.0);
  detail::parallel_items(runs, (g.n / runs) * g.o * P * K * ((dx ? 1 : 0) + (dw ? 1 : 0)), kConvGrain,
                         [&](std::int64_t run) {
    T* dw_run = run == 0 ? dw : partial.data() + (run - 1) * wsize;
    const std::int64_t n0 = run * g.n / runs, n1 = (run + 1) * g.n / runs;
    for (std::int64_t c0 = n0; c0 < n1; c0 += chunk) {
      const std::int64_t s = std::min(chunk, n1 - c0);
      T* planes = dw ? plane_scratch<T, 1>(static_cast<std::size_t>(s * g.c * in.stride), in) : nullptr;
      T* dyt = dw ? scratch<T, 1>(static_cast<std::size_t>(s * g.groups * P * ldo)) : nullptr;
      for (std::int64_t i = 0; i < s; ++i) {
        const std::int64_t n = c0 + i;
        const T* dyn = dy + n * g.o * P;
        if (dx)
          for (std::int64_t grp = 0; grp < g.groups; ++grp)
            flat_conv_sample<2, T>(dyn + grp * Og * P, Og, grad, g.h, g.w, grad_off,
                                wt.data() + grp * Og * taps * Cg, Cg, nullptr,
                                dx + (n * g.c + grp * Cg) * g.h * g.w);
        if (db)
          for (std::int64_t o = 0; o < g.o; ++o)
            bias_sums[static_cast<std::size_t>(run * g.o + o)] += sum_in_double(dyn + o * P, P);
        if (dw) {
          for (std::int64_t c = 0; c < g.c; ++c)
            in.fill(x + (n * g.c + c) * g.h * g.w, planes + (i * g.c + c) * in.stride);
          for (std::int64_t grp = 0; grp < g.groups; ++grp) {
            T* t = dyt + (i * g.groups + grp) * P * ldo;
            const T* src = dyn + grp * Og * P;
            if (ldo > Og)
              for (std::int64_t p = 0; p < P; ++p) std::fill(t + p * ldo + Og, t + (p + 1) * ldo, T(0));
            for (std::int64_t p0 = 0; p0 < P; p0 += 64)  // in blocks that stay in cache
              kernels::transpose(src + p0, Og, std::min<std::int64_t>(64, P - p0), P, t + p0 * ldo, ldo);
          }
        }
      }
      if (dw)
        for (std::int64_t grp = 0; grp < g.groups; ++grp) {
          kernels::ConvFlatWeightArgs<T> a;
          a.dyt = dyt + grp * P * ldo, a.dyt_s = g.groups * P * ldo, a.ldo = ldo, a.o = Og;
          a.src = planes + grp * Cg * in.stride, a.src_s = g.c * in.stride, a.src_r = in.wp;
          a.off = off.data(), a.k = K;
          a.s = s, a.r = g.oh, a.q = g.ow;
          a.dw = dw_run + grp * Og * K;
          a.accumulate = c0 > n0;
          kernels::conv_flat_weight(a);
        }
    }
  });
  if (dw)
    for (std::int64_t run = 1; run < runs; ++run) {
      const T* p = partial.data() + (run - 1) * wsize;
      for (std::int64_t i = 0; i < wsize; ++i) dw[i] += p[i];
    }
  if (db)
    for (std::int64_t o = 0; o < g.o; ++o) {
      double sum = 0;
      for (std::int64_t run = 0; run < runs; ++run) sum += bias_sums[static_cast<std::size_t>(run * g.o + o)];
      db[o] = static_cast<T>(sum);
    }
}

struct Conv2dBackward final : autograd::Node {
  SavedVariable input, weight;
  Tensor columns;  // the forward's im2col columns [N G K P], when kept
  Geometry geom;
  explicit Conv2dBackward(const Geometry& g) : geom(g) {}
  std::string name() const override { return "ConvolutionBackward"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor x = input.unpack(this), w = weight.unpack(this);
    const ScalarType dt = x.dtype();
    const Tensor dy = detail::dense(grads[0], dt);
    Tensor dx, dw, db;
    if (next_edges()[0].is_valid()) dx = make_tensor(x.sizes(), dt);
    if (next_edges()[1].is_valid()) dw = make_tensor(w.sizes(), dt);
    if (next_edges().size() > 2 && next_edges()[2].is_valid()) db = make_tensor({geom.o}, dt);
    if (geom.n == 0) {
      for (Tensor* t : {&dw, &db})
        if (t->defined()) t->zero_();
      return {dx, dw, db};
    }
    detail::dispatch_floating("conv2d_backward", dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* pdy = detail::data_of<const T>(dy);
      if (flat_path(geom)) {
        flat_backward<T>(pdy, dw.defined() ? detail::data_of<const T>(detail::dense(x, dt)) : nullptr,
                         dx.defined() ? detail::data_of<const T>(detail::dense(w, dt)) : nullptr,
                         dx.defined() ? detail::data_of<T>(dx) : nullptr,
                         dw.defined() ? detail::data_of<T>(dw) : nullptr,
                         db.defined() ? detail::data_of<T>(db) : nullptr, geom);
        return;
      }
      if (dx.defined())
        conv_backward_input<T>(pdy, detail::data_of<const T>(detail::dense(w, dt)),
                               detail::data_of<T>(dx), geom);
      if (dw.defined())
        conv_backward_weight<T>(pdy, detail::data_of<const T>(detail::dense(x, dt)),
                                columns.defined() ? detail::data_of<const T>(columns) : nullptr,
                                detail::data_of<T>(dw), geom);
      if (db.defined()) conv_backward_bias<T>(pdy, detail::data_of<T>(db), geom);
    });
    return {dx, dw, db};
  }
  void release_variables() override {
    input.reset();
    weight.reset();
    columns = Tensor();
  }
};

// The forward keeps its im2col columns for the weight's gradient (instead of
// building them again in the backward) up to this size, which stays in the
// last-level cache. Larger, building them again from the input is the faster
// of the two: Conv2d(16, 32, 3) on [32, 16, 28, 28] (14.5 MB of columns)
// took 11.4-14.8 ms building them again against 13.0-16.1 ms keeping them.
constexpr std::int64_t kKeepColumnsBytes = std::int64_t{8} << 20;

// Padding as PyTorch's conv: explicit amounts (both sides), or "valid" /
// "same" resolved to the amount before and the total.
struct Padding {
  std::int64_t before[2] = {0, 0}, total[2] = {0, 0};
};

std::vector<std::int64_t> expand2(const char* op, const char* what, IntArrayRef v,
                                  std::int64_t dims) {
  if (v.size() == 1) return std::vector<std::int64_t>(static_cast<std::size_t>(dims), v[0]);
  if (static_cast<std::int64_t>(v.size()) != dims)
    throw Error(std::string(op) + ": expected " + what + " to be a single integer or a list of " +
                std::to_string(dims) + " integers, got " + shape_string(v));
  return v.vec();
}

// input [N, C, H, W] (4-D; conv1d and the unbatched forms arrive reshaped).
Tensor conv2d_impl(const char* op, const Tensor& input, const Tensor& weight, const Tensor& bias,
                   IntArrayRef stride_, const Padding& pad, IntArrayRef dilation_,
                   std::int64_t groups) {
  const std::vector<std::int64_t> stride = expand2(op, "stride", stride_, 2);
  const std::vector<std::int64_t> dilation = expand2(op, "dilation", dilation_, 2);
  for (int i = 0; i < 2; ++i) {
    if (stride[i] <= 0)
      throw Error(std::string(op) + ": stride must be positive, got " + shape_string(stride_));
    if (dilation[i] <= 0)
      throw Error(std::string(op) + ": dilation must be positive, got " + shape_string(dilation_));
    if (pad.before[i] < 0 || pad.total[i] < 0)
      throw Error(std::string(op) + ": padding must be non-negative");
  }
  if (groups <= 0)
    throw Error(std::string(op) + ": groups must be positive, got " + std::to_string(groups));
  if (!input.is_floating_point() || input.dtype() != weight.dtype() ||
      (bias.defined() && bias.dtype() != input.dtype()))
    throw Error(std::string(op) + ": expected input, weight and bias of one floating dtype, got " +
                to_string(input.dtype()) + ", " + to_string(weight.dtype()) +
                (bias.defined() ? ", " + std::string(to_string(bias.dtype())) : std::string()));
  if (weight.dim() != 4)
    throw Error(std::string(op) + ": expected weight [out_channels, in_channels / groups, k...] of " +
                std::to_string(input.dim() - 1) + " dimensions, got shape " +
                shape_string(weight.sizes()));
  Geometry g;
  g.n = input.size(0), g.c = input.size(1), g.h = input.size(2), g.w = input.size(3);
  g.o = weight.size(0), g.kh = weight.size(2), g.kw = weight.size(3);
  g.groups = groups;
  g.sh = stride[0], g.sw = stride[1], g.dh = dilation[0], g.dw = dilation[1];
  g.ph = pad.before[0], g.pw = pad.before[1];
  if (g.c % groups != 0 || g.o % groups != 0)
    throw Error(std::string(op) + ": in_channels " + std::to_string(g.c) + " and out_channels " +
                std::to_string(g.o) + " must both be divisible by groups " + std::to_string(groups));
  if (weight.size(1) != g.c / groups)
    throw Error(std::string(op) + ": input of shape " + shape_string(input.sizes()) +
                " expects weight with " + std::to_string(g.c / groups) +
                " channels per group (in_channels / groups), got weight of shape " +
                shape_string(weight.sizes()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != g.o))
    throw Error(std::string(op) + ": expected bias of shape [" + std::to_string(g.o) + "], got " +
                shape_string(bias.sizes()));
  const std::int64_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;
  const std::int64_t hp = g.h + pad.total[0], wp = g.w + pad.total[1];
  if (hp < eh || wp < ew || g.kh <= 0 || g.kw <= 0)
    throw Error(std::string(op) + ": the padded input of spatial size [" + std::to_string(hp) +
                ", " + std::to_string(wp) + "] is smaller than the dilated kernel [" +
                std::to_string(eh) + ", " + std::to_string(ew) + "] (input " +
                shape_string(input.sizes()) + ", weight " + shape_string(weight.sizes()) + ")");
  g.oh = (hp - eh) / g.sh + 1;
  g.ow = (wp - ew) / g.sw + 1;
  for (std::int64_t v : {g.k(), g.p(), g.og()})
    if (v > static_cast<std::int64_t>(std::numeric_limits<blasint>::max()))
      throw Error(std::string(op) + ": a product dimension of " + std::to_string(v) +
                  " exceeds what the BLAS library accepts (input " + shape_string(input.sizes()) +
                  ", weight " + shape_string(weight.sizes()) + ")");
  const ScalarType dt = input.dtype();
  const Tensor x = detail::dense(input, dt), w = detail::dense(weight, dt);
  const Tensor b = bias.defined() ? detail::dense(bias, dt) : Tensor();
  Tensor y = make_tensor({g.n, g.o, g.oh, g.ow}, dt);
  const std::int64_t kept_values = g.n * g.groups * g.k() * g.p();
  Tensor columns;
  if (GradMode::is_enabled() && weight.requires_grad() && !g.direct() && !flat_path(g) && y.numel() > 0 && g.k() > 0 &&
      kept_values * static_cast<std::int64_t>(input.element_size()) <= kKeepColumnsBytes)
    columns = make_tensor({kept_values}, dt);
  if (y.numel() > 0) {
    detail::dispatch_floating(op, dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (g.k() == 0) {
        T* py = detail::data_of<T>(y);
        for (std::int64_t i = 0; i < y.numel(); ++i)
          py[i] = b.defined() ? detail::data_of<const T>(b)[(i / g.p()) % g.o] : T(0);
        return;
      }
      if (flat_path(g)) {
        flat_forward<T>(detail::data_of<const T>(x), detail::data_of<const T>(w),
                        b.defined() ? detail::data_of<const T>(b) : nullptr, detail::data_of<T>(y), g);
        return;
      }
      conv_forward<T>(detail::data_of<const T>(x), detail::data_of<const T>(w),
                      b.defined() ? detail::data_of<const T>(b) : nullptr, detail::data_of<T>(y),
                      columns.defined() ? detail::data_of<T>(columns) : nullptr, g);
    });
  }
  if (auto node = make_node<Conv2dBackward>({&input, &weight, &bias}, g)) {
    node->input = SavedVariable(input);
    node->weight = SavedVariable(weight);
    node->columns = columns;
    set_history(y, node);
  }
  return y;
}

// The explicit amounts (one or `dims` values) as Padding.
Padding explicit_padding(const char* op, IntArrayRef padding, std::int64_t dims) {
  const std::vector<std::int64_t> p = expand2(op, "padding", padding, dims);
  Padding r;
  for (std::int64_t i = 0; i < dims; ++i) {
    if (p[static_cast<std::size_t>(i)] < 0)
      throw Error(std::string(op) + ": padding must be non-negative, got " + shape_string(padding));
    r.before[i] = p[static_cast<std::size_t>(i)];
    r.total[i] = 2 * p[static_cast<std::size_t>(i)];
  }
  return r;
}

// "valid" or "same" for a kernel of `dims` trailing sizes of weight.
Padding named_padding(const char* op, std::string_view padding, const Tensor& weight,
                      IntArrayRef stride, IntArrayRef dilation, std::int64_t dims) {
  Padding r;
  if (padding == "valid") return r;
  if (padding != "same")
    throw Error(std::string(op) + ": padding must be \"valid\", \"same\" or integers, got \"" +
                std::string(padding) + "\"");
  for (std::int64_t s : expand2(op, "stride", stride, dims))
    if (s != 1)
      throw Error(std::string(op) + ": padding=\"same\" needs stride 1, got stride " +
                  shape_string(stride));
  const std::vector<std::int64_t> d = expand2(op, "dilation", dilation, dims);
  if (weight.dim() != dims + 2)
    throw Error(std::string(op) + ": expected weight of " + std::to_string(dims + 2) +
                " dimensions, got shape " + shape_string(weight.sizes()));
  for (std::int64_t i = 0; i < dims; ++i) {
    r.total[i] = d[static_cast<std::size_t>(i)] * (weight.size(2 + i) - 1);
    r.before[i] = r.total[i] / 2;
  }
  return r;
}

void check_conv_input(const char* op, const Tensor& input, const Tensor& weight,
                      std::int64_t dims) {
  check_defined(op, input, "input");
  check_defined(op, weight, "weight");
  if (input.dim() != dims + 1 && input.dim() != dims + 2)
    throw Error(std::string(op) + ": expected a " + std::to_string(dims + 1) + "-D (unbatched) or " +
                std::to_string(dims + 2) + "-D (batched) input, got shape " +
                shape_string(input.sizes()));
}

Tensor conv2d_any(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
                  const Padding& pad, IntArrayRef dilation, std::int64_t groups) {
  const bool batched = input.dim() == 4;
  Tensor y = conv2d_impl("conv2d", batched ? input : input.unsqueeze(0), weight, bias, stride, pad,
                         dilation, groups);
  return batched ? y : y.squeeze(0);
}

// conv1d as conv2d over [N, C, 1, L] with weight [O, Cg, 1, k].
Tensor conv1d_any(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
                  const Padding& pad1, IntArrayRef dilation, std::int64_t groups) {
  const char* op = "conv1d";
  if (weight.dim() != 3)
    throw Error(std::string(op) + ": expected weight [out_channels, in_channels / groups, k], got "
                "shape " + shape_string(weight.sizes()));
  const bool batched = input.dim() == 3;
  const Tensor x = (batched ? input : input.unsqueeze(0)).unsqueeze(2);
  Padding pad;
  pad.before[1] = pad1.before[0];
  pad.total[1] = pad1.total[0];
  const std::int64_t s = expand2(op, "stride", stride, 1)[0];
  const std::int64_t d = expand2(op, "dilation", dilation, 1)[0];
  Tensor y = conv2d_impl(op, x, weight.unsqueeze(2), bias, {1, s}, pad, {1, d}, groups).squeeze(2);
  return batched ? y : y.squeeze(0);
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, std::int64_t groups) {
  check_conv_input("conv2d", input, weight, 2);
  return conv2d_any(input, weight, bias, stride, explicit_padding("conv2d", padding, 2), dilation,
                    groups);
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              ConvPaddingName padding, IntArrayRef dilation, std::int64_t groups) {
  check_conv_input("conv2d", input, weight, 2);
  return conv2d_any(input, weight, bias, stride,
                    named_padding("conv2d", padding.value, weight, stride, dilation, 2), dilation, groups);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, std::int64_t groups) {
  check_conv_input("conv1d", input, weight, 1);
  return conv1d_any(input, weight, bias, stride, explicit_padding("conv1d", padding, 1), dilation,
                    groups);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              ConvPaddingName padding, IntArrayRef dilation, std::int64_t groups) {
  check_conv_input("conv1d", input, weight, 1);
  return conv1d_any(input, weight, bias, stride,
                    named_padding("conv1d", padding.value, weight, stride, dilation, 1), dilation, groups);
}

}  // namespace sigma
