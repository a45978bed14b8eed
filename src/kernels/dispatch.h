// The bridge from the public span API to the per-target kernels: size and
// overlap checks, the one-time SIGMA_TARGET set-up, threading, and the 16-bit
// storage types (converted to f32 in blocks, computed, rounded once).
//
// Kernel files instantiate their kernels per target with SIGMA_UNARY_KERNELS /
// SIGMA_BINARY_KERNELS (simd-inl.h) and export them and define the public
// functions with SIGMA_DEFINE_UNARY / SIGMA_DEFINE_BINARY inside `#if HWY_ONCE`.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include "kernels/parallel.h"
#include "kernels/size_check.h"
#include "sigma/dtypes.h"

namespace sigma::detail {

// Applies SIGMA_TARGET (once) before the first dispatch.
void init_dispatch();

// 16-bit <-> f32 conversion of n elements.
void widen(const bfloat16* in, float* out, std::size_t n) noexcept;
void widen(const float16* in, float* out, std::size_t n) noexcept;
void narrow(const float* in, bfloat16* out, std::size_t n) noexcept;
void narrow(const float* in, float16* out, std::size_t n) noexcept;

inline constexpr std::size_t kBlock = 1024;  // f32 scratch per thread for 16-bit types

// Size and overlap checks of y = f(x), then the one-time dispatch set-up.
template <class T>
void prepare_unary(const char* op, std::span<const T> x, std::span<T> y) {
  check_same_size(op, "x", x.size(), "y", y.size());
  check_no_partial_overlap(op, "x", x.data(), x.size(), "y", y.data(), y.size());
  init_dispatch();
}

// The same for dx = f(dy, b); b_name names the second input.
template <class T>
void prepare_binary(const char* op, const char* b_name, std::span<const T> a,
                    std::span<const T> b, std::span<T> out) {
  check_same_size(op, "dy", a.size(), b_name, b.size());
  check_same_size(op, "dy", a.size(), "dx", out.size());
  check_no_partial_overlap(op, "dy", a.data(), a.size(), "dx", out.data(), out.size());
  check_no_partial_overlap(op, b_name, b.data(), b.size(), "dx", out.data(), out.size());
  init_dispatch();
}

// kernel(const T* x, T* y, size_t n)
template <class T, class K>
void run_unary(const char* op, std::span<const T> x, std::span<T> y, K kernel) {
  prepare_unary(op, x, y);
  parallel_for_kernel(x.size(), [&](std::size_t b, std::size_t e) { kernel(x.data() + b, y.data() + b, e - b); });
}

// kernel(const T* a, const T* b, T* out, size_t n)
template <class T, class K>
void run_binary(const char* op, const char* b_name, std::span<const T> a, std::span<const T> b,
                std::span<T> out, K kernel) {
  prepare_binary(op, b_name, a, b, out);
  parallel_for_kernel(a.size(), [&](std::size_t s, std::size_t e) {
    kernel(a.data() + s, b.data() + s, out.data() + s, e - s);
  });
}

// Correct rounding to 16 bits: the f32 kernel is within 1 f32 ULP, so its
// result rounds correctly unless a 16-bit rounding boundary lies within one
// f32 ULP of it; those few elements are recomputed with `exact` (f64 compute,
// far more accurate than the 16-bit grid) and rounded from there.
template <class H>
void narrow_correctly(const float* x32, const float* y32, H* out, std::size_t n,
                      double (*exact)(double) noexcept) noexcept;

// kernel32(const float* x, float* y, size_t n); exact may be null (round once).
template <class H, class K>
void run_unary_16(const char* op, std::span<const H> x, std::span<H> y, K kernel32,
                  double (*exact)(double) noexcept) {
  prepare_unary(op, x, y);
  parallel_for_kernel(x.size(), [&](std::size_t b, std::size_t e) {
    alignas(64) float in[kBlock], out[kBlock];
    for (std::size_t i = b; i < e; i += kBlock) {
      const std::size_t k = std::min(kBlock, e - i);
      widen(x.data() + i, in, k);
      kernel32(in, out, k);
      if (exact)
        narrow_correctly(in, out, y.data() + i, k, exact);
      else
        narrow(out, y.data() + i, k);
    }
  });
}

template <class H, class K>
void run_binary_16(const char* op, const char* b_name, std::span<const H> a,
                   std::span<const H> b, std::span<H> out, K kernel32) {
  prepare_binary(op, b_name, a, b, out);
  parallel_for_kernel(a.size(), [&](std::size_t s, std::size_t e) {
    alignas(64) float fa[kBlock], fb[kBlock];
    for (std::size_t i = s; i < e; i += kBlock) {
      const std::size_t k = std::min(kBlock, e - i);
      widen(a.data() + i, fa, k);
      widen(b.data() + i, fb, k);
      kernel32(fa, fb, fa, k);
      narrow(fa, out.data() + i, k);
    }
  });
}

}  // namespace sigma::detail

// Dispatch lazily inside the call, after init_dispatch() has run.
#define SIGMA_LAZY_DISPATCH(KERNEL) \
  [](auto... args) { HWY_DYNAMIC_DISPATCH(::sigma::kernels::KERNEL)(args...); }

// Public y = f(x) for f32, f64, bf16 and f16 from the per-target kernels
// KERNEL##F32 and KERNEL##F64 (SIGMA_UNARY_KERNELS), which it exports.
// EXACT: a `double (*)(double) noexcept` used to round 16-bit results
// correctly (see narrow_correctly), or nullptr to round the f32 result once.
#define SIGMA_DEFINE_UNARY(NAME, KERNEL, EXACT)                                                  \
  SIGMA_EXPORT_KERNELS(KERNEL)                                                              \
  SIGMA_DEFINE_UNARY_SPANS(NAME, KERNEL##F32, KERNEL##F64, EXACT)

// Public dx = f(dy, saved) for the four dtypes from KERNEL##F32 and KERNEL##F64
// (SIGMA_BINARY_KERNELS), which it exports; SAVED names the second input.
#define SIGMA_DEFINE_BINARY(NAME, SAVED, KERNEL) \
  SIGMA_EXPORT_KERNELS(KERNEL)                   \
  SIGMA_DEFINE_BINARY_SPANS(NAME, SAVED, KERNEL##F32, KERNEL##F64)

// HWY_EXPORT of a kernel's f32 and f64 instances (inside namespace sigma).
#define SIGMA_EXPORT_KERNELS(KERNEL) \
  namespace kernels {                \
  HWY_EXPORT(KERNEL##F32);           \
  HWY_EXPORT(KERNEL##F64);           \
  }

#define SIGMA_DEFINE_UNARY_SPANS(NAME, K32, K64, EXACT)                                          \
  void NAME(std::span<const float> x, std::span<float> y) {                                 \
    detail::run_unary("sigma::" #NAME, x, y, SIGMA_LAZY_DISPATCH(K32));                     \
  }                                                                                         \
  void NAME(std::span<const double> x, std::span<double> y) {                               \
    detail::run_unary("sigma::" #NAME, x, y, SIGMA_LAZY_DISPATCH(K64));                     \
  }                                                                                         \
  void NAME(std::span<const bfloat16> x, std::span<bfloat16> y) {                           \
    detail::run_unary_16("sigma::" #NAME, x, y, SIGMA_LAZY_DISPATCH(K32), EXACT);           \
  }                                                                                         \
  void NAME(std::span<const float16> x, std::span<float16> y) {                             \
    detail::run_unary_16("sigma::" #NAME, x, y, SIGMA_LAZY_DISPATCH(K32), EXACT);           \
  }

#define SIGMA_DEFINE_BINARY_SPANS(NAME, SAVED, K32, K64)                                    \
  void NAME(std::span<const float> dy, std::span<const float> s, std::span<float> dx) {     \
    detail::run_binary("sigma::" #NAME, SAVED, dy, s, dx, SIGMA_LAZY_DISPATCH(K32));        \
  }                                                                                         \
  void NAME(std::span<const double> dy, std::span<const double> s, std::span<double> dx) {  \
    detail::run_binary("sigma::" #NAME, SAVED, dy, s, dx, SIGMA_LAZY_DISPATCH(K64));        \
  }                                                                                         \
  void NAME(std::span<const bfloat16> dy, std::span<const bfloat16> s,                      \
            std::span<bfloat16> dx) {                                                       \
    detail::run_binary_16("sigma::" #NAME, SAVED, dy, s, dx, SIGMA_LAZY_DISPATCH(K32));     \
  }                                                                                         \
  void NAME(std::span<const float16> dy, std::span<const float16> s,                        \
            std::span<float16> dx) {                                                        \
    detail::run_binary_16("sigma::" #NAME, SAVED, dy, s, dx, SIGMA_LAZY_DISPATCH(K32));     \
  }
