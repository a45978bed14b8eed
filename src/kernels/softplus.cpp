// softplus(x) = log(1 + e^(beta x)) / beta with PyTorch's linear shortcut, and
// its backward dy * sigmoid(beta x): SIMD kernels (compiled once per target)
// and the public span API (contracts in sigma/kernels.h).
//
// beta x is kept exact as zh + zl, so the shortcut test (beta x > threshold)
// is exact, as in sigma::reference::softplus, and a large beta x loses nothing
// to its rounding. log(1 + e^z) = max(z, 0) + log1p(e^-|z|) comes unrounded from
// log1p_core-inl.h; the division by beta is corrected by its exact residual,
// so the result is rounded once.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/softplus.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/simd-inl.h"
#include "kernels/exp_core-inl.h"
#include "kernels/log1p_core-inl.h"

SIGMA_KERNELS_BEGIN

// z = beta x = zh + zl exactly, and the lanes where z > threshold.
template <class D>
struct ScaledInput {
  hn::Vec<D> zh, zl;
  hn::Mask<D> linear;
};
template <bool kUnitBeta, class D>
HWY_INLINE ScaledInput<D> ScaleInput(D d, hn::Vec<D> x, hn::Vec<D> beta, hn::Vec<D> thr) {
  if constexpr (kUnitBeta) {
    (void)beta;
    return {x, hn::Zero(d), hn::Gt(x, thr)};
  } else {
    const auto zh = hn::Mul(beta, x);
    const auto zl = hn::IfThenElseZero(hn::IsFinite(zh), FmaSub(d, beta, x, zh));
    // Equal after rounding: the exact product is larger when zl > 0, when
    // beta x overflowed to -inf (threshold -inf) from a finite x, or when it
    // underflowed to 0 (threshold 0) from a positive product.
    const auto zero = hn::Zero(d);
    const auto overflowed =
        hn::And(hn::Lt(zh, zero), hn::AndNot(hn::IsFinite(zh), hn::IsFinite(x)));
    const auto underflowed =
        hn::And(hn::Eq(zh, zero), hn::Gt(hn::Mul(x, hn::CopySign(hn::Set(d, 1), beta)), zero));
    const auto above = hn::Or(hn::Gt(zl, zero), hn::Or(overflowed, underflowed));
    const auto tie = hn::And(hn::Eq(zh, thr), above);
    return {zh, zl, hn::Or(hn::Gt(zh, thr), tie)};
  }
}

// (hi + lo) / beta, rounded once: q + (r + lo) / beta with r = hi - q beta exact.
template <bool kUnitBeta, class D>
HWY_INLINE hn::Vec<D> DivideByBeta(D d, const Pair<D>& s, hn::Vec<D> beta) {
  if constexpr (kUnitBeta) {
    (void)d, (void)beta;
    return hn::Add(s.hi, s.lo);
  } else {
    const auto q = hn::Div(s.hi, beta);
    const auto c = hn::Div(hn::Add(FmaNeg(d, q, beta, s.hi), s.lo), beta);
    return hn::Add(q, hn::IfThenElseZero(hn::IsFinite(q), c));  // q = inf: tiny beta
  }
}

template <bool kUnitBeta, class D>
HWY_INLINE hn::Vec<D> SoftplusVec(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk, hn::Vec<D> x,
                                  hn::Vec<D> beta, hn::Vec<D> thr) {
  using L = Log1pConsts<hn::TFromD<D>>;
  const ScaledInput<D> z = ScaleInput<kUnitBeta>(d, x, beta, thr);
  // Beyond kLinear, log(1 + e^z)/beta rounds to z/beta = x.
  const auto is_x = hn::Or(z.linear, hn::Ge(z.zh, hn::Set(d, L::kLinear)));
  if (HWY_LIKELY(AllFastFrom(d, ek, z.zh))) {
    const auto p = Softplus<false, !kUnitBeta>(d, ek, lk, z.zh, z.zl);
    return hn::IfThenElse(is_x, x, PostScale(p, DivideByBeta<kUnitBeta>(d, p.s, beta)));
  }
  const auto p = Softplus<true, !kUnitBeta>(d, ek, lk, z.zh, z.zl);
  const auto y = hn::IfThenElse(is_x, x, PostScale(p, DivideByBeta<kUnitBeta>(d, p.s, beta)));
  return hn::IfThenElse(hn::Eq(x, x), y, x);  // NaN in, the same NaN out
}

template <class T>
void SoftplusKernel(const T* x, T* y, std::size_t n, T beta, T threshold) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> ek(d);
  const LogVecs<hn::ScalableTag<T>> lk(d);
  const auto b = hn::Set(d, beta), t = hn::Set(d, threshold);
  if (beta == T(1)) {
    MapUnary(d, x, y, n, [&](auto dd, auto v) { return SoftplusVec<true>(dd, ek, lk, v, b, t); });
  } else {
    MapUnary(d, x, y, n, [&](auto dd, auto v) { return SoftplusVec<false>(dd, ek, lk, v, b, t); });
  }
}
void SoftplusF32(const float* x, float* y, std::size_t n, float beta, float threshold) {
  SoftplusKernel(x, y, n, beta, threshold);
}
void SoftplusF64(const double* x, double* y, std::size_t n, double beta, double threshold) {
  SoftplusKernel(x, y, n, beta, threshold);
}

// dx = dy * sigmoid(beta x), or dy itself where beta x > threshold.
template <bool kUnitBeta, class D>
HWY_INLINE hn::Vec<D> SoftplusBackwardVec(D d, const ExpVecs<D>& k, hn::Vec<D> dy, hn::Vec<D> x,
                                          hn::Vec<D> beta, hn::Vec<D> thr) {
  const ScaledInput<D> z = ScaleInput<kUnitBeta>(d, x, beta, thr);
  hn::Vec<D> g;
  if (HWY_LIKELY(AllFastFrom(d, k, z.zh))) {
    g = DyTimesSigmoid<false, !kUnitBeta>(d, k, dy, z.zh, z.zl);
  } else {
    g = DyTimesSigmoid<true, !kUnitBeta>(d, k, dy, z.zh, z.zl);
    g = hn::IfThenElse(hn::Eq(x, x), g, x);
  }
  return hn::IfThenElse(z.linear, dy, g);
}

template <class T>
void SoftplusBackwardKernel(const T* dy, const T* x, T* dx, std::size_t n, T beta, T threshold) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  const auto b = hn::Set(d, beta), t = hn::Set(d, threshold);
  if (beta == T(1)) {
    MapBinary(d, dy, x, dx, n, [&](auto dd, auto g, auto v) {
      return SoftplusBackwardVec<true>(dd, k, g, v, b, t);
    });
  } else {
    MapBinary(d, dy, x, dx, n, [&](auto dd, auto g, auto v) {
      return SoftplusBackwardVec<false>(dd, k, g, v, b, t);
    });
  }
}
void SoftplusBackwardF32(const float* dy, const float* x, float* dx, std::size_t n, float beta,
                         float threshold) {
  SoftplusBackwardKernel(dy, x, dx, n, beta, threshold);
}
void SoftplusBackwardF64(const double* dy, const double* x, double* dx, std::size_t n, double beta,
                         double threshold) {
  SoftplusBackwardKernel(dy, x, dx, n, beta, threshold);
}

SIGMA_KERNELS_END

#if HWY_ONCE
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/dispatch.h"
#include "sigma/kernels.h"
#include "sigma/reference.h"

namespace sigma {
SIGMA_EXPORT_KERNELS(Softplus)
SIGMA_EXPORT_KERNELS(SoftplusBackward)

namespace {

template <class T>
void check_softplus_args(const char* op, T beta, T threshold) {
  if (!(std::isfinite(beta) && beta != 0))
    throw std::invalid_argument(std::string(op) + ": beta must be finite and non-zero, got " +
                                std::to_string(beta));
  if (std::isnan(threshold)) throw std::invalid_argument(std::string(op) + ": threshold is NaN");
}

// For rounding 16-bit results correctly: the reference at the default
// parameters (others round the f32 result once).
double softplus_exact(double x) noexcept { return reference::softplus(x); }
using Exact = double (*)(double) noexcept;
Exact softplus_exact_for(float beta, float threshold) {
  return beta == 1.0f && threshold == 20.0f ? &softplus_exact : nullptr;
}

// The kernel with beta and threshold bound, dispatched lazily.
#define SIGMA_SOFTPLUS_BOUND(KERNEL) \
  [=](auto... args) { HWY_DYNAMIC_DISPATCH(kernels::KERNEL)(args..., beta, threshold); }

}  // namespace

void softplus(std::span<const float> x, std::span<float> y, float beta, float threshold) {
  check_softplus_args("sigma::softplus", beta, threshold);
  detail::run_unary("sigma::softplus", x, y, SIGMA_SOFTPLUS_BOUND(SoftplusF32));
}
void softplus(std::span<const double> x, std::span<double> y, double beta, double threshold) {
  check_softplus_args("sigma::softplus", beta, threshold);
  detail::run_unary("sigma::softplus", x, y, SIGMA_SOFTPLUS_BOUND(SoftplusF64));
}
void softplus(std::span<const bfloat16> x, std::span<bfloat16> y, float beta, float threshold) {
  check_softplus_args("sigma::softplus", beta, threshold);
  detail::run_unary_16("sigma::softplus", x, y, SIGMA_SOFTPLUS_BOUND(SoftplusF32),
                       softplus_exact_for(beta, threshold));
}
void softplus(std::span<const float16> x, std::span<float16> y, float beta, float threshold) {
  check_softplus_args("sigma::softplus", beta, threshold);
  detail::run_unary_16("sigma::softplus", x, y, SIGMA_SOFTPLUS_BOUND(SoftplusF32),
                       softplus_exact_for(beta, threshold));
}

void softplus_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx,
                       float beta, float threshold) {
  check_softplus_args("sigma::softplus_backward", beta, threshold);
  detail::run_binary("sigma::softplus_backward", "x", dy, x, dx,
                     SIGMA_SOFTPLUS_BOUND(SoftplusBackwardF32));
}
void softplus_backward(std::span<const double> dy, std::span<const double> x, std::span<double> dx,
                       double beta, double threshold) {
  check_softplus_args("sigma::softplus_backward", beta, threshold);
  detail::run_binary("sigma::softplus_backward", "x", dy, x, dx,
                     SIGMA_SOFTPLUS_BOUND(SoftplusBackwardF64));
}
void softplus_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                       std::span<bfloat16> dx, float beta, float threshold) {
  check_softplus_args("sigma::softplus_backward", beta, threshold);
  detail::run_binary_16("sigma::softplus_backward", "x", dy, x, dx,
                        SIGMA_SOFTPLUS_BOUND(SoftplusBackwardF32));
}
void softplus_backward(std::span<const float16> dy, std::span<const float16> x,
                       std::span<float16> dx, float beta, float threshold) {
  check_softplus_args("sigma::softplus_backward", beta, threshold);
  detail::run_binary_16("sigma::softplus_backward", "x", dy, x, dx,
                        SIGMA_SOFTPLUS_BOUND(SoftplusBackwardF32));
}

}  // namespace sigma
#endif  // HWY_ONCE
