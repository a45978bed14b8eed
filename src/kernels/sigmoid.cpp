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

// y = sigmoid(x) and g = sigmoid(x) sigmoid(-x) from one exp, bit for bit
// what SigmoidKernel and SigmoidBackwardFromInputKernel (dy = 1) give: where
// every |x| <= kFastZ both take the fast path on the same pieces (SigmoidVec's
// condition, every x >= -kFastZ, holds too); elsewhere it calls both. The
// recurrent cells' forward, so their backward multiplies instead of
// recomputing the exp. g may be x (in place); y may not alias either.
template <class T>
void SigmoidAndDerivativeKernel(const T* x, T* y, T* g, std::size_t n) {
  using D = hn::ScalableTag<T>;
  const D d;
  const SigmoidVecs<D> k(d);
  const auto both = [&k, d](hn::Vec<D> v, T* yo, T* go) {
    if (HWY_LIKELY(AllFastAbs(d, k, v))) {
      const auto r = SigmoidAbs<false>(d, k, v);
      hn::StoreU(hn::IfThenElse(hn::Lt(v, hn::Zero(d)), r.neg, r.pos), d, yo);
      hn::StoreU(hn::Mul(r.pos, r.neg), d, go);
    } else {
      hn::StoreU(SigmoidVec(d, k, v), d, yo);
      hn::StoreU(SigmoidDerivVec(d, k, v), d, go);
    }
  };
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) both(hn::LoadU(d, x + i), y + i, g + i);
  if (i < n) {  // through zero-padded local vectors, as in MapUnary
    alignas(64) T bx[hn::MaxLanes(D())] = {};
    alignas(64) T by[hn::MaxLanes(D())];
    std::memcpy(bx, x + i, (n - i) * sizeof(T));
    both(hn::Load(d, bx), by, bx);
    std::memcpy(y + i, by, (n - i) * sizeof(T));
    std::memcpy(g + i, bx, (n - i) * sizeof(T));
  }
}
void SigmoidAndDerivativeF32(const float* x, float* y, float* g, std::size_t n) {
  SigmoidAndDerivativeKernel(x, y, g, n);
}
void SigmoidAndDerivativeF64(const double* x, double* y, double* g, std::size_t n) {
  SigmoidAndDerivativeKernel(x, y, g, n);
}

// dx = dy * g for g from SigmoidAndDerivativeKernel, with the backward
// kernels' NaN rule: the same bits as SigmoidBackwardFromInputKernel(dy, x).
template <class T>
void SigmoidBackwardFromDerivativeKernel(const T* dy, const T* g, T* dx, std::size_t n) {
  MapBinary(hn::ScalableTag<T>(), dy, g, dx, n,
            [](auto, auto a, auto v) { return FirstNaN(hn::Mul(a, v), a, v); });
}
SIGMA_BINARY_KERNELS(SigmoidBackwardFromDerivative, SigmoidBackwardFromDerivativeKernel)


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
#include "kernels/table.h"
#include "sigma/kernels.h"
#include "sigma/reference.h"

namespace sigma {
SIGMA_DEFINE_UNARY(sigmoid, Sigmoid, &reference::sigmoid)
SIGMA_DEFINE_BINARY(sigmoid_backward, "y", SigmoidBackward)
SIGMA_DEFINE_BINARY(sigmoid_backward_from_input, "x", SigmoidBackwardFromInput)
SIGMA_EXPORT_KERNELS(SigmoidAndDerivative)
SIGMA_EXPORT_KERNELS(SigmoidBackwardFromDerivative)

namespace detail {

template <class T, class K>
void run_sigmoid_and_derivative(std::span<const T> x, std::span<T> y, std::span<T> g, K kernel) {
  constexpr const char* op = "sigmoid_and_derivative";
  check_same_size(op, "x", x.size(), "y", y.size());
  check_same_size(op, "x", x.size(), "g", g.size());
  check_no_partial_overlap(op, "x", x.data(), x.size(), "g", g.data(), g.size());
  check_no_overlap(op, "x", x.data(), x.size(), "y", y.data(), y.size());
  check_no_overlap(op, "g", g.data(), g.size(), "y", y.data(), y.size());
  init_dispatch();
  parallel_for_kernel(x.size(), [&](std::size_t b, std::size_t e) {
    kernel(x.data() + b, y.data() + b, g.data() + b, e - b);
  });
}

void sigmoid_and_derivative(std::span<const float> x, std::span<float> y, std::span<float> g) {
  run_sigmoid_and_derivative(x, y, g, SIGMA_LAZY_DISPATCH(SigmoidAndDerivativeF32));
}
void sigmoid_and_derivative(std::span<const double> x, std::span<double> y, std::span<double> g) {
  run_sigmoid_and_derivative(x, y, g, SIGMA_LAZY_DISPATCH(SigmoidAndDerivativeF64));
}

void sigmoid_backward_from_derivative(std::span<const float> dy, std::span<const float> g,
                                      std::span<float> dx) {
  run_binary("sigmoid_backward_from_derivative", "g", dy, g, dx,
             SIGMA_LAZY_DISPATCH(SigmoidBackwardFromDerivativeF32));
}
void sigmoid_backward_from_derivative(std::span<const double> dy, std::span<const double> g,
                                      std::span<double> dx) {
  run_binary("sigmoid_backward_from_derivative", "g", dy, g, dx,
             SIGMA_LAZY_DISPATCH(SigmoidBackwardFromDerivativeF64));
}

}  // namespace detail

}  // namespace sigma
#endif  // HWY_ONCE
