// sigmoid and its two backward forms: SIMD kernels (compiled once per target by
// Highway's foreach_target) and the public span API with threading and the
// 16-bit storage types.
//
// Kernel contracts (measured in docs/ACCURACY.md, tested exhaustively):
//   f32_sigmoid:   <= 1 ULP for every input; subnormal results not flushed.
//   f64_sigmoid:   <= 1 ULP.
//   *_sigmoid_backward(dy, y) = dy * y * (1 - y): y - y^2 fused, then * dy:
//                  <= 2 ULP relative to the exact product of the given values.
//   *_sigmoid_backward_from_input(dy, x) = dy * sigmoid(x) * sigmoid(-x):
//                  <= 3 ULP where the result is normal; never 0 where it is not.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sigmoid.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/exp_core-inl.h"
#include "kernels/simd-inl.h"

SIGMA_KERNELS_BEGIN

// The exp core's constants with the short f32 polynomial: enough for a result
// rounded straight from the pieces.
template <class D>
using SigmoidVecs = ExpVecs<D, ExpPoly::kSigmoid>;

// sigmoid(|x|) and sigmoid(-|x|), each rounded once (the fast path assumes
// |x| <= kFastZ or x >= -kFastZ, see the callers).
template <class D>
struct SigmoidPair {
  hn::Vec<D> pos;  // sigmoid(|x|) in [0.5, 1]
  hn::Vec<D> neg;  // sigmoid(-|x|) in [0, 0.5]
};
template <bool kSlow, class D>
HWY_INLINE SigmoidPair<D> SigmoidAbs(D d, const SigmoidVecs<D>& k, hn::Vec<D> x) {
  using C = ExpConsts<hn::TFromD<D>>;
  const auto za = hn::Min(hn::Abs(x), kSlow ? hn::Set(d, C::kZMaxExp) : k.fast_z);
  const auto r = SigmoidPieces<kSlow>(d, k, za);
  return {SigPos(d, r.sp), r.ToNeg(SigNegW(d, r.sp))};
}

template <class D>
HWY_INLINE hn::Vec<D> SigmoidVec(D d, const SigmoidVecs<D>& k, hn::Vec<D> x) {
  const auto negative = hn::Lt(x, hn::Zero(d));
  if (HWY_LIKELY(AllFastFrom(d, k, x))) {  // larger x clamp harmlessly: sigmoid = 1
    const auto r = SigmoidAbs<false>(d, k, x);
    return hn::IfThenElse(negative, r.neg, r.pos);
  }
  const auto r = SigmoidAbs<true>(d, k, x);
  const auto y = hn::IfThenElse(negative, r.neg, r.pos);
  return hn::IfThenElse(hn::Eq(x, x), y, x);  // NaN in, the same NaN out
}

// sigmoid(x) * sigmoid(-x), the derivative, from the input.
template <class D>
HWY_INLINE hn::Vec<D> SigmoidDerivVec(D d, const SigmoidVecs<D>& k, hn::Vec<D> x) {
  if (HWY_LIKELY(AllFastAbs(d, k, x))) {
    const auto r = SigmoidAbs<false>(d, k, x);
    return hn::Mul(r.pos, r.neg);
  }
  const auto r = SigmoidAbs<true>(d, k, x);
  const auto g = hn::Mul(r.pos, r.neg);
  return hn::IfThenElse(hn::Eq(x, x), g, x);
}

template <class T>
void SigmoidKernel(const T* x, T* y, std::size_t n) {
  const hn::ScalableTag<T> d;
  const SigmoidVecs<hn::ScalableTag<T>> k(d);
  MapUnary(d, x, y, n, [&k](auto dd, auto v) { return SigmoidVec(dd, k, v); });
}
SIGMA_UNARY_KERNELS(Sigmoid, SigmoidKernel)

// Which NaN comes out of an operation on two NaNs differs between targets;
// backward kernels return the first NaN input (dy, then the saved value) so
// every target gives the same bits.
template <class V>
HWY_INLINE V FirstNaN(V r, V g, V v) {
  return hn::IfThenElse(hn::Eq(g, g), hn::IfThenElse(hn::Eq(v, v), r, v), g);
}

template <class T>
void SigmoidBackwardKernel(const T* dy, const T* y, T* dx, std::size_t n) {
  MapBinary(hn::ScalableTag<T>(), dy, y, dx, n, [](auto d, auto g, auto v) {
    return FirstNaN(hn::Mul(g, FmaNeg(d, v, v, v)), g, v);  // dy * (y - y^2)
  });
}
SIGMA_BINARY_KERNELS(SigmoidBackward, SigmoidBackwardKernel)

template <class T>
void SigmoidBackwardFromInputKernel(const T* dy, const T* x, T* dx, std::size_t n) {
  const hn::ScalableTag<T> d;
  const SigmoidVecs<hn::ScalableTag<T>> k(d);
  MapBinary(d, dy, x, dx, n,
            [&k](auto dd, auto g, auto v) {
              return FirstNaN(hn::Mul(g, SigmoidDerivVec(dd, k, v)), g, v);
            });
}
SIGMA_BINARY_KERNELS(SigmoidBackwardFromInput, SigmoidBackwardFromInputKernel)

SIGMA_KERNELS_END

#if HWY_ONCE
#include "kernels/dispatch.h"
#include "sigma/kernels.h"
#include "sigma/reference.h"

namespace sigma {
SIGMA_DEFINE_UNARY(sigmoid, Sigmoid, &reference::sigmoid)
SIGMA_DEFINE_BINARY(sigmoid_backward, "y", SigmoidBackward)
SIGMA_DEFINE_BINARY(sigmoid_backward_from_input, "x", SigmoidBackwardFromInput)

}  // namespace sigma
#endif  // HWY_ONCE
