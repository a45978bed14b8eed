// logit(x) = log(x / (1 - x)), the inverse of sigmoid, and its backward
// dy / (x (1 - x)), with PyTorch's eps: SIMD kernels (compiled once per
// target) on the log1p core of log1p_core-inl.h, and the public span API
// (contracts in sigma/kernels.h).
//
// No form of the quotient is safe everywhere, so the line is cut in three:
//   x in [0.34, 0.66]: 2x - 1 and 1 - x are exact (Sterbenz), and
//     logit = log1p((2x - 1) / (1 - x)) for x >= 1/2,
//           = -log1p((1 - 2x) / x)     below,
//     the quotient in [0, 0.95] kept as an exact-residual pair, so logit
//     near 1/2 (where it crosses 0) has a small relative error;
//   elsewhere logit = log(x) - log(1 - x), with 1 - x a pair and each log an
//     unrounded pair (exponent times a two-part ln 2, plus log1p of the
//     mantissa minus 1): one of the two logs is at least 1.08 in magnitude
//     and the other at most 0.42, so nothing cancels.
// One rounding at the end. x = 0 and 1 give -inf and +inf, x outside [0, 1]
// NaN; with eps >= 0, x is first clamped to [eps, 1 - eps] (in T, as
// PyTorch).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/logit.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cstdint>
#include <limits>

#include "kernels/exp_core-inl.h"
#include "kernels/log1p_core-inl.h"
#include "kernels/simd-inl.h"

SIGMA_KERNELS_BEGIN

template <class T>
struct LogConsts;
template <>
struct LogConsts<float> {
  using Bits = std::int32_t;
  static constexpr float kLn2Hi = 0x1.62e4p-1f;      // 16 bits: e kLn2Hi exact for |e| < 256
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;   // ln 2 - kLn2Hi
  static constexpr float kSubScale = 0x1p24f;         // subnormals times this are normal
  static constexpr float kSubExp = 24.0f;
  static constexpr int kMantBits = 23;
  static constexpr Bits kBias = 127, kMantMask = 0x007fffff, kOneBits = 0x3f800000;
};
template <>
struct LogConsts<double> {
  using Bits = std::int64_t;
  static constexpr double kLn2Hi = 0x1.62e42fefa2p-1;         // 40 bits
  static constexpr double kLn2Lo = 0x1.9ef35793c7673p-41;     // ln 2 - kLn2Hi
  static constexpr double kSubScale = 0x1p54;
  static constexpr double kSubExp = 54.0;
  static constexpr int kMantBits = 52;
  static constexpr Bits kBias = 1023, kMantMask = 0x000fffffffffffff,
                        kOneBits = 0x3ff0000000000000;
};

// log(a) as an unrounded pair, for a > 0 finite (subnormal included):
// a = 2^e m, m in [1, 2), log(a) = e ln 2 + log1p(m - 1), m - 1 exact.
// Relative error about that of Log1pExp (2^-28 f32, 2^-58 f64).
template <class D>
HWY_INLINE Pair<D> LogPair(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk, hn::Vec<D> a) {
  using T = hn::TFromD<D>;
  using C = LogConsts<T>;
  const hn::RebindToSigned<D> di;
  const auto sub = hn::Lt(a, hn::Set(d, std::numeric_limits<T>::min()));
  a = hn::IfThenElse(sub, hn::Mul(a, hn::Set(d, C::kSubScale)), a);
  const auto bits = hn::BitCast(di, a);
  auto e = hn::ConvertTo(d, hn::Sub(hn::ShiftRight<C::kMantBits>(bits), hn::Set(di, C::kBias)));
  e = hn::IfThenElse(sub, hn::Sub(e, hn::Set(d, C::kSubExp)), e);
  const auto m = hn::BitCast(
      d, hn::Or(hn::And(bits, hn::Set(di, C::kMantMask)), hn::Set(di, C::kOneBits)));
  const Pair<D> L = Log1pExp(d, ek, lk, hn::Sub(m, ek.one), hn::Zero(d));
  // e kLn2Hi and L.hi: e = 0, or |e ln 2| >= 0.69 in a binade not below L.hi's.
  const Pair<D> s = FastTwoSum<D>(hn::Mul(e, hn::Set(d, C::kLn2Hi)), L.hi);
  return {s.hi, hn::Add(s.lo, Fma(d, e, hn::Set(d, C::kLn2Lo), L.lo))};
}

template <class D>
HWY_INLINE hn::Vec<D> LogitMid(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk, hn::Vec<D> x) {
  const auto half = hn::Set(d, hn::TFromD<D>(0.5));
  const auto upper = hn::Ge(x, half);
  const auto two_x = hn::Add(x, x);
  // Numerator and denominator, both exact: (2x - 1, 1 - x) or (1 - 2x, x).
  const auto num = hn::IfThenElse(upper, hn::Sub(two_x, ek.one), hn::Sub(ek.one, two_x));
  const auto den = hn::IfThenElse(upper, hn::Sub(ek.one, x), x);
  const auto qh = hn::Div(num, den);
  const auto ql = hn::Div(FmaNeg(d, qh, den, num), den);
  const Pair<D> L = Log1pExp(d, ek, lk, qh, ql);
  const auto r = hn::Add(L.hi, L.lo);
  return hn::IfThenElse(upper, r, hn::Neg(r));
}

template <class D>
HWY_INLINE hn::Vec<D> LogitOuter(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk, hn::Vec<D> x) {
  const Pair<D> w = FastTwoSum<D>(ek.one, hn::Neg(x));  // 1 - x = w.hi + w.lo
  const Pair<D> lx = LogPair(d, ek, lk, x);
  const Pair<D> lw = LogPair(d, ek, lk, w.hi);
  const Pair<D> s = TwoSum<D>(lx.hi, hn::Neg(lw.hi));
  const auto tail = hn::Sub(hn::Add(s.lo, lx.lo), hn::Add(lw.lo, hn::Div(w.lo, w.hi)));
  return hn::Add(s.hi, tail);
}

template <class T>
void LogitKernel(const T* x, T* y, std::size_t n, double eps) {
  using D = hn::ScalableTag<T>;
  const D d;
  const ExpVecs<D> ek(d);
  const LogVecs<D> lk(d);
  const bool clamp = eps >= 0;
  const auto lo = hn::Set(d, T(eps)), hi = hn::Set(d, T(1) - T(eps));
  const auto zero = hn::Zero(d), mid_lo = hn::Set(d, T(0.34)), mid_hi = hn::Set(d, T(0.66));
  const auto inf = hn::Set(d, std::numeric_limits<T>::infinity());
  const auto nan = hn::Set(d, std::numeric_limits<T>::quiet_NaN());
  MapUnary(d, x, y, n, [&](auto dd, auto v) {
    if (clamp) v = hn::IfThenElse(hn::Lt(v, lo), lo, hn::IfThenElse(hn::Gt(v, hi), hi, v));
    const auto mid = hn::And(hn::Ge(v, mid_lo), hn::Le(v, mid_hi));
    hn::Vec<D> r;
    if (hn::AllTrue(dd, mid)) {
      r = LogitMid(dd, ek, lk, v);
    } else if (hn::AllFalse(dd, mid)) {
      r = LogitOuter(dd, ek, lk, v);
    } else {
      r = hn::IfThenElse(mid, LogitMid(dd, ek, lk, v), LogitOuter(dd, ek, lk, v));
    }
    r = hn::IfThenElse(hn::Eq(v, zero), hn::Neg(inf), r);
    r = hn::IfThenElse(hn::Eq(v, ek.one), inf, r);
    r = hn::IfThenElse(hn::Or(hn::Lt(v, zero), hn::Gt(v, ek.one)), nan, r);
    return hn::IfThenElse(hn::Eq(v, v), r, v);  // NaN in, the same NaN out
  });
}
void LogitF32(const float* x, float* y, std::size_t n, double eps) { LogitKernel(x, y, n, eps); }
void LogitF64(const double* x, double* y, std::size_t n, double eps) { LogitKernel(x, y, n, eps); }

// dx = dy / (x (1 - x)) with x (1 - x) as a pair and the quotient corrected
// by its exact residual. Outside [lo, hi]: 0 with eps >= 0, NaN without; a
// NaN x is inside, as in PyTorch, and comes back as itself.
template <class T>
void LogitBackwardKernel(const T* dy, const T* x, T* dx, std::size_t n, double eps) {
  const hn::ScalableTag<T> d;
  const bool clamp = eps >= 0;
  const auto one = hn::Set(d, T(1));
  const auto lo = hn::Set(d, clamp ? T(eps) : T(0)), hi = hn::Set(d, clamp ? T(1) - T(eps) : T(1));
  const auto outside_value = clamp ? hn::Zero(d) : hn::Set(d, std::numeric_limits<T>::quiet_NaN());
  MapBinary(d, dy, x, dx, n, [&](auto dd, auto g, auto v) {
    const Pair<decltype(dd)> w = FastTwoSum<decltype(dd)>(one, hn::Neg(v));
    const auto ph = hn::Mul(v, w.hi);
    const auto pl = Fma(dd, v, w.lo, FmaSub(dd, v, w.hi, ph));  // x (1 - x) = ph + pl
    const auto q = hn::Div(g, ph);
    const auto res = FmaNeg(dd, q, ph, g);  // g - q ph, exact
    const auto fine = hn::Div(FmaNeg(dd, q, pl, res), ph);
    auto r = hn::IfThenElse(hn::IsFinite(q), hn::Add(q, fine), q);
    // A NaN x gives that NaN: computed, its bits would depend on which NaN
    // operand each target's fma passes on.
    r = hn::IfThenElse(hn::Eq(v, v), r, v);
    const auto outside = hn::Or(hn::Lt(v, lo), hn::Gt(v, hi));
    return hn::IfThenElse(outside, outside_value, r);
  });
}
void LogitBackwardF32(const float* dy, const float* x, float* dx, std::size_t n, double eps) {
  LogitBackwardKernel(dy, x, dx, n, eps);
}
void LogitBackwardF64(const double* dy, const double* x, double* dx, std::size_t n, double eps) {
  LogitBackwardKernel(dy, x, dx, n, eps);
}

SIGMA_KERNELS_END

#if HWY_ONCE
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/dispatch.h"
#include "sigma/kernels.h"

namespace sigma {
SIGMA_EXPORT_KERNELS(Logit)
SIGMA_EXPORT_KERNELS(LogitBackward)

namespace {

void check_eps(const char* op, double eps) {
  if (std::isnan(eps)) throw std::invalid_argument(std::string(op) + ": eps is NaN");
}

// logit in long double, for rounding 16-bit results correctly (without eps).
double logit_exact(double x) noexcept {
  const long double v = x;
  return double(std::log(v) - std::log1p(-v));
}
using Exact = double (*)(double) noexcept;
Exact logit_exact_for(double eps) { return eps < 0 ? &logit_exact : nullptr; }

#define SIGMA_LOGIT_BOUND(KERNEL) \
  [=](auto... args) { HWY_DYNAMIC_DISPATCH(kernels::KERNEL)(args..., eps); }

}  // namespace

void logit(std::span<const float> x, std::span<float> y, double eps) {
  check_eps("sigma::logit", eps);
  detail::run_unary("sigma::logit", x, y, SIGMA_LOGIT_BOUND(LogitF32));
}
void logit(std::span<const double> x, std::span<double> y, double eps) {
  check_eps("sigma::logit", eps);
  detail::run_unary("sigma::logit", x, y, SIGMA_LOGIT_BOUND(LogitF64));
}
void logit(std::span<const bfloat16> x, std::span<bfloat16> y, double eps) {
  check_eps("sigma::logit", eps);
  detail::run_unary_16("sigma::logit", x, y, SIGMA_LOGIT_BOUND(LogitF32), logit_exact_for(eps));
}
void logit(std::span<const float16> x, std::span<float16> y, double eps) {
  check_eps("sigma::logit", eps);
  detail::run_unary_16("sigma::logit", x, y, SIGMA_LOGIT_BOUND(LogitF32), logit_exact_for(eps));
}

void logit_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx,
                    double eps) {
  check_eps("sigma::logit_backward", eps);
  detail::run_binary("sigma::logit_backward", "x", dy, x, dx, SIGMA_LOGIT_BOUND(LogitBackwardF32));
}
void logit_backward(std::span<const double> dy, std::span<const double> x, std::span<double> dx,
                    double eps) {
  check_eps("sigma::logit_backward", eps);
  detail::run_binary("sigma::logit_backward", "x", dy, x, dx, SIGMA_LOGIT_BOUND(LogitBackwardF64));
}
void logit_backward(std::span<const bfloat16> dy, std::span<const bfloat16> x,
                    std::span<bfloat16> dx, double eps) {
  check_eps("sigma::logit_backward", eps);
  detail::run_binary_16("sigma::logit_backward", "x", dy, x, dx,
                        SIGMA_LOGIT_BOUND(LogitBackwardF32));
}
void logit_backward(std::span<const float16> dy, std::span<const float16> x,
                    std::span<float16> dx, double eps) {
  check_eps("sigma::logit_backward", eps);
  detail::run_binary_16("sigma::logit_backward", "x", dy, x, dx,
                        SIGMA_LOGIT_BOUND(LogitBackwardF32));
}

}  // namespace sigma
#endif  // HWY_ONCE
