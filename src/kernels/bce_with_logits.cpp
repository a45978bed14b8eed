// Element-wise binary cross-entropy on logits and its gradient with respect to
// the logits: SIMD kernels (compiled once per target) and the public span API
// (contracts in sigma/kernels.h).
//
//   loss = w [a softplus(-x) + b softplus(x)],      a = pw t, b = 1 - t
//   dx   = dloss w [b sigmoid(x) - a sigmoid(-x)]
//
// softplus(+-x) = max(+-x, 0) + log1p(e^-|x|) share one log1p and stay
// unrounded pairs; a and b are exact pairs (pw t by fma, 1 - t by TwoSum), so
// with non-negative terms the loss is rounded about once. A zero coefficient
// zeroes its term before any product (no 0 * inf), so x = +-inf gives exact
// losses. Missing weight / pos_weight are ones run through the same
// arithmetic, hence bitwise equal to explicit ones. The gradient scales
// sigmoid(-|x|) = w' 2^-m last, so x = 100, t = 1 gives -dloss e^-100 exactly
// rounded even where that is subnormal (f32) or tiny.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/bce_with_logits.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cstring>

#include "kernels/simd-inl.h"
#include "kernels/exp_core-inl.h"
#include "kernels/log1p_core-inl.h"

SIGMA_KERNELS_BEGIN

// out[i] = f(d, a, b, c, w, pw) over n elements; c, w and pw are ones where
// the pointer is null. The tail goes through zero-padded local vectors (as in
// MapUnary: masked loads/stores may touch bytes past the end on some targets).
template <class D, class F>
HWY_INLINE void MapLoss(D d, const hn::TFromD<D>* a, const hn::TFromD<D>* b, const hn::TFromD<D>* c,
                        const hn::TFromD<D>* w, const hn::TFromD<D>* pw, hn::TFromD<D>* out,
                        std::size_t n, F f) {
  using T = hn::TFromD<D>;
  const std::size_t N = hn::Lanes(d);
  const auto ones = hn::Set(d, T(1));
  const auto load = [&](const T* p, std::size_t i) { return p ? hn::LoadU(d, p + i) : ones; };
  std::size_t i = 0;
  for (; i + N <= n; i += N)
    hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i), load(c, i), load(w, i), load(pw, i)),
               d, out + i);
  if (i < n) {
    constexpr std::size_t kMax = hn::MaxLanes(D());
    alignas(64) T buf[5][kMax] = {};
    const T* src[5] = {a, b, c, w, pw};
    hn::Vec<D> v[5];
    for (int k = 0; k < 5; ++k) {
      if (src[k]) std::memcpy(buf[k], src[k] + i, (n - i) * sizeof(T));
      v[k] = src[k] ? hn::Load(d, buf[k]) : ones;
    }
    hn::Store(f(d, v[0], v[1], v[2], v[3], v[4]), d, buf[0]);
    std::memcpy(out + i, buf[0], (n - i) * sizeof(T));
  }
}

// In the slow path beyond kFastZ, softplus(-|x|) = e^-|x| = (ph + pl) 2^-m to
// 2^-100 and softplus(|x|) = |x|: where the |x| term's coefficient is 0, the
// loss is computed from the unscaled (ph, pl) and scaled last (rounded once,
// also into subnormals); otherwise the tiny term is negligible and dropped.
// The slow path reaches 2 kZMaxExp (4-factor scaling), as w pw t e^-|x| may be
// large.
template <bool kSlow, class D>
HWY_INLINE hn::Vec<D> BceVec(D d, const ExpVecs<D>& ek, const LogVecs<D>& lk, hn::Vec<D> x,
                             hn::Vec<D> t, hn::Vec<D> w, hn::Vec<D> pw) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto ax = hn::Abs(x);
  const auto za = hn::Min(ax, kSlow ? hn::Set(d, 2 * C::kZMaxExp) : ek.fast_z);
  const ExpParts<D> e = ExpNeg<false>(d, ek, za, zero);
  const auto ah = hn::Mul(pw, t);
  const auto al = FmaSub(d, pw, t, ah);
  const Pair<D> b = TwoSum<D>(ek.one, hn::Neg(t));
  const auto a0 = hn::Eq(ah, zero), b0 = hn::Eq(b.hi, zero);
  const auto xpos = hn::Gt(x, zero);
  Pair<D> L;
  hn::Vec<D> post_a, post_b;
  if constexpr (kSlow) {
    const auto far = hn::Gt(za, ek.fast_z);
    // only the tiny term, and not beyond the clamp
    const auto keep = hn::And(far, hn::Or(hn::And(xpos, b0), hn::AndNot(xpos, a0)));
    const auto live = hn::And(keep, hn::Eq(ax, za));
    const Pow2Split<4, D> sc = SplitPow2<4>(d, ek, e.mfield);
    post_a = hn::IfThenElse(keep, sc.a, ek.one);
    post_b = hn::IfThenElse(keep, sc.b, ek.one);
    L = Log1pExp(d, ek, lk, Scale(sc, e.ph), Scale(sc, e.pl));
    L.hi = hn::IfThenElse(far, hn::IfThenElseZero(live, e.ph), L.hi);
    L.lo = hn::IfThenElse(far, hn::IfThenElseZero(live, e.pl), L.lo);
  } else {
    const Pair<D> u = ExpPair<false>(d, ek, e);
    L = Log1pExp(d, ek, lk, u.hi, u.lo);
  }
  Pair<D> sp = AddPositive<D>(hn::IfThenElseZero(xpos, x), L);                      // softplus(x)
  Pair<D> sn = AddPositive<D>(hn::IfThenElseZero(hn::Lt(x, zero), hn::Neg(x)), L);  // softplus(-x)
  sn = {hn::IfThenElseZero(hn::Not(a0), sn.hi), hn::IfThenElseZero(hn::Not(a0), sn.lo)};
  sp = {hn::IfThenElseZero(hn::Not(b0), sp.hi), hn::IfThenElseZero(hn::Not(b0), sp.lo)};
  const auto p1 = hn::Mul(ah, sn.hi);
  const auto p2 = hn::Mul(b.hi, sp.hi);
  const Pair<D> s = TwoSum<D>(p1, p2);
  const auto lo1 = Fma(d, ah, sn.lo, Fma(d, al, sn.hi, FmaSub(d, ah, sn.hi, p1)));
  const auto lo2 = Fma(d, b.hi, sp.lo, Fma(d, b.lo, sp.hi, FmaSub(d, b.hi, sp.hi, p2)));
  auto lo = hn::Add(s.lo, hn::Add(lo1, lo2));
  lo = hn::IfThenElseZero(hn::IsFinite(s.hi), lo);  // an infinite loss has no low part
  auto loss = Fma(d, w, s.hi, hn::Mul(w, lo));
  if constexpr (kSlow) {
    loss = hn::Mul(hn::Mul(hn::Mul(hn::Mul(loss, post_a), post_a), post_a), post_b);
    loss = hn::IfThenElse(hn::Eq(x, x), loss, x);  // NaN logits give NaN
  }
  return hn::IfThenElse(hn::And(hn::Eq(w, zero), hn::IsInf(s.hi)), zero, loss);
}

template <class T>
void BceKernel(const T* x, const T* t, const T* w, const T* pw, T* loss, std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> ek(d);
  const LogVecs<hn::ScalableTag<T>> lk(d);
  MapLoss(d, x, t, nullptr, w, pw, loss, n, [&](auto dd, auto vx, auto vt, auto, auto vw, auto vp) {
    return HWY_LIKELY(hn::AllTrue(dd, hn::Le(hn::Abs(vx), ek.fast_z)))
               ? BceVec<false>(dd, ek, lk, vx, vt, vw, vp)
               : BceVec<true>(dd, ek, lk, vx, vt, vw, vp);
  });
}
void BceF32(const float* x, const float* t, const float* w, const float* pw, float* loss,
            std::size_t n) {
  BceKernel(x, t, w, pw, loss, n);
}
void BceF64(const double* x, const double* t, const double* w, const double* pw, double* loss,
            std::size_t n) {
  BceKernel(x, t, w, pw, loss, n);
}

// dx = K [alpha sigmoid(|x|) + gamma sigmoid(-|x|)], K = dloss w, with
// (alpha, gamma) = (b, -a) for x >= 0 and (-a, b) for x < 0.
template <bool kSlow, class D>
HWY_INLINE hn::Vec<D> BceBackwardVec(D d, const ExpVecs<D>& k, hn::Vec<D> g, hn::Vec<D> x,
                                     hn::Vec<D> t, hn::Vec<D> w, hn::Vec<D> pw) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto zero = hn::Zero(d);
  const auto za = hn::Min(hn::Abs(x), kSlow ? hn::Set(d, C::kZMaxGrad) : k.fast_z);
  const ExpParts<D> e = ExpNeg<false>(d, k, za, zero);
  const GradScale<kSlow, D> gs = MakeGradScale<kSlow>(d, k, za, e);
  const SigmoidSplit<D> sp = SplitSigmoid(d, k, e, gs.s);
  const auto a = hn::Mul(pw, t);
  const auto b = hn::Sub(k.one, t);
  const auto nonneg = hn::Ge(x, zero);
  const auto alpha = hn::IfThenElse(nonneg, b, hn::Neg(a));
  const auto gamma = hn::IfThenElse(nonneg, hn::Neg(a), b);
  const auto kk = hn::Mul(g, w);
  const auto t2 = ScaleGrad(gs, hn::Mul(hn::Mul(kk, gamma), SigNegW(d, sp)));
  auto dx = Fma(d, hn::Mul(kk, alpha), SigPos(d, sp), t2);
  if constexpr (kSlow) dx = hn::IfThenElse(hn::Eq(x, x), dx, x);
  return dx;
}

template <class T>
void BceBackwardKernel(const T* dloss, const T* x, const T* t, const T* w, const T* pw, T* dx,
                       std::size_t n) {
  const hn::ScalableTag<T> d;
  const ExpVecs<hn::ScalableTag<T>> k(d);
  MapLoss(d, x, t, dloss, w, pw, dx, n, [&](auto dd, auto vx, auto vt, auto vg, auto vw, auto vp) {
    return HWY_LIKELY(hn::AllTrue(dd, hn::Le(hn::Abs(vx), k.fast_z)))
               ? BceBackwardVec<false>(dd, k, vg, vx, vt, vw, vp)
               : BceBackwardVec<true>(dd, k, vg, vx, vt, vw, vp);
  });
}
void BceBackwardF32(const float* dloss, const float* x, const float* t, const float* w,
                    const float* pw, float* dx, std::size_t n) {
  BceBackwardKernel(dloss, x, t, w, pw, dx, n);
}
void BceBackwardF64(const double* dloss, const double* x, const double* t, const double* w,
                    const double* pw, double* dx, std::size_t n) {
  BceBackwardKernel(dloss, x, t, w, pw, dx, n);
}

SIGMA_KERNELS_END

#if HWY_ONCE
#include "kernels/dispatch.h"
#include "sigma/kernels.h"

namespace sigma {
SIGMA_EXPORT_KERNELS(Bce)
SIGMA_EXPORT_KERNELS(BceBackward)

namespace {

// Sizes and overlaps of the optional per-element weights; returns its data or
// null when empty.
template <class T, class O>
const T* optional_input(const char* op, const char* name, std::span<const T> v, std::size_t n,
                        const O* out) {
  if (v.empty()) return nullptr;
  detail::check_same_size(op, "x", n, name, v.size());
  detail::check_no_partial_overlap(op, name, v.data(), v.size(), "output", out, n);
  return v.data();
}

template <class T, class K>
void run_bce(std::span<const T> x, std::span<const T> t, std::span<T> loss, std::span<const T> w,
             std::span<const T> pw, K kernel) {
  constexpr const char* op = "sigma::bce_with_logits";
  detail::check_same_size(op, "x", x.size(), "target", t.size());
  detail::check_same_size(op, "x", x.size(), "loss", loss.size());
  detail::check_no_partial_overlap(op, "x", x.data(), x.size(), "loss", loss.data(), loss.size());
  detail::check_no_partial_overlap(op, "target", t.data(), t.size(), "loss", loss.data(),
                                   loss.size());
  const T* wp = optional_input(op, "weight", w, x.size(), loss.data());
  const T* pp = optional_input(op, "pos_weight", pw, x.size(), loss.data());
  detail::init_dispatch();
  detail::parallel_for_kernel(x.size(), [&](std::size_t b, std::size_t e) {
    kernel(x.data() + b, t.data() + b, wp ? wp + b : nullptr, pp ? pp + b : nullptr,
           loss.data() + b, e - b);
  });
}

template <class T, class K>
void run_bce_backward(std::span<const T> g, std::span<const T> x, std::span<const T> t,
                      std::span<T> dx, std::span<const T> w, std::span<const T> pw, K kernel) {
  constexpr const char* op = "sigma::bce_with_logits_backward";
  detail::check_same_size(op, "x", x.size(), "dloss", g.size());
  detail::check_same_size(op, "x", x.size(), "target", t.size());
  detail::check_same_size(op, "x", x.size(), "dx", dx.size());
  detail::check_no_partial_overlap(op, "dloss", g.data(), g.size(), "dx", dx.data(), dx.size());
  detail::check_no_partial_overlap(op, "x", x.data(), x.size(), "dx", dx.data(), dx.size());
  detail::check_no_partial_overlap(op, "target", t.data(), t.size(), "dx", dx.data(), dx.size());
  const T* wp = optional_input(op, "weight", w, x.size(), dx.data());
  const T* pp = optional_input(op, "pos_weight", pw, x.size(), dx.data());
  detail::init_dispatch();
  detail::parallel_for_kernel(x.size(), [&](std::size_t b, std::size_t e) {
    kernel(g.data() + b, x.data() + b, t.data() + b, wp ? wp + b : nullptr, pp ? pp + b : nullptr,
           dx.data() + b, e - b);
  });
}

}  // namespace

void bce_with_logits(std::span<const float> x, std::span<const float> target, std::span<float> loss,
                     std::span<const float> weight, std::span<const float> pos_weight) {
  run_bce(x, target, loss, weight, pos_weight, SIGMA_LAZY_DISPATCH(BceF32));
}
void bce_with_logits(std::span<const double> x, std::span<const double> target,
                     std::span<double> loss, std::span<const double> weight,
                     std::span<const double> pos_weight) {
  run_bce(x, target, loss, weight, pos_weight, SIGMA_LAZY_DISPATCH(BceF64));
}
void bce_with_logits_backward(std::span<const float> dloss, std::span<const float> x,
                              std::span<const float> target, std::span<float> dx,
                              std::span<const float> weight, std::span<const float> pos_weight) {
  run_bce_backward(dloss, x, target, dx, weight, pos_weight, SIGMA_LAZY_DISPATCH(BceBackwardF32));
}
void bce_with_logits_backward(std::span<const double> dloss, std::span<const double> x,
                              std::span<const double> target, std::span<double> dx,
                              std::span<const double> weight, std::span<const double> pos_weight) {
  run_bce_backward(dloss, x, target, dx, weight, pos_weight, SIGMA_LAZY_DISPATCH(BceBackwardF64));
}

}  // namespace sigma
#endif  // HWY_ONCE
