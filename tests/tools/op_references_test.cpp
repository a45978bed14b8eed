// The references of `sigma accuracy` (tools/sigma/op_references.h) against
// MPFR at 300 bits, for every op of SIGMA_OP_LIST, in the types the tool uses
// (double for f32 inputs, long double for f64 inputs): within 1/64 ULP of the
// result type everywhere, including where the formulas would cancel (silu's
// derivative near its root), underflow or overflow; NaN kept; the mathematical
// limits at +-inf.
#include <gtest/gtest.h>
#include <mpfr.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "op_references.h"
#include "ulp.h"

namespace {

using sigma::Op;

class Big {
 public:
  Big() { mpfr_init2(v_, 300); }
  ~Big() { mpfr_clear(v_); }
  Big(const Big&) = delete;
  Big& operator=(const Big&) = delete;
  mpfr_ptr operator*() { return v_; }

 private:
  mpfr_t v_;
};

// sigmoid(sign * x) into r.
void mp_sigmoid(mpfr_ptr r, mpfr_srcptr x, int sign) {
  if (sign > 0) mpfr_neg(r, x, MPFR_RNDN);
  else mpfr_set(r, x, MPFR_RNDN);
  mpfr_exp(r, r, MPFR_RNDN);
  mpfr_add_ui(r, r, 1, MPFR_RNDN);
  mpfr_ui_div(r, 1, r, MPFR_RNDN);
}

// The exact value of op at a finite s, from the definitions.
long double exact(Op op, long double s) {
  Big x, a, b;
  mpfr_set_ld(*x, s, MPFR_RNDN);
  switch (op) {
    case Op::sigmoid: mp_sigmoid(*a, *x, 1); break;
    case Op::sigmoid_backward:  // s (1 - s)
    case Op::tanh_backward:     // (1 - s)(1 + s)
      mpfr_ui_sub(*a, 1, *x, MPFR_RNDN);
      if (op == Op::sigmoid_backward) mpfr_mul(*a, *a, *x, MPFR_RNDN);
      else mpfr_add_ui(*b, *x, 1, MPFR_RNDN), mpfr_mul(*a, *a, *b, MPFR_RNDN);
      break;
    case Op::sigmoid_backward_from_input:
      mp_sigmoid(*a, *x, 1), mp_sigmoid(*b, *x, -1), mpfr_mul(*a, *a, *b, MPFR_RNDN);
      break;
    case Op::log_sigmoid:  // min(x, 0) - log1p(e^-|x|): e^|x| would leave MPFR's range for |x| > 7e8
      mpfr_abs(*a, *x, MPFR_RNDN), mpfr_neg(*a, *a, MPFR_RNDN), mpfr_exp(*a, *a, MPFR_RNDN);
      mpfr_log1p(*a, *a, MPFR_RNDN);
      if (s < 0) mpfr_sub(*a, *x, *a, MPFR_RNDN);
      else mpfr_neg(*a, *a, MPFR_RNDN);
      break;
    case Op::log_sigmoid_backward: mp_sigmoid(*a, *x, -1); break;
    case Op::softplus:  // log(1 + e^x), or x itself above PyTorch's threshold 20
      if (s > 20) return s;
      mpfr_exp(*a, *x, MPFR_RNDN), mpfr_log1p(*a, *a, MPFR_RNDN);
      break;
    case Op::softplus_backward:
      if (s > 20) return 1;
      mp_sigmoid(*a, *x, 1);
      break;
    case Op::silu: mp_sigmoid(*a, *x, 1), mpfr_mul(*a, *a, *x, MPFR_RNDN); break;
    case Op::silu_backward:  // sigmoid(x) (1 + x (1 - sigmoid(x)))
      mp_sigmoid(*a, *x, 1);
      mpfr_ui_sub(*b, 1, *a, MPFR_RNDN), mpfr_mul(*b, *b, *x, MPFR_RNDN), mpfr_add_ui(*b, *b, 1, MPFR_RNDN);
      mpfr_mul(*a, *a, *b, MPFR_RNDN);
      break;
    case Op::tanh: mpfr_tanh(*a, *x, MPFR_RNDN); break;
    case Op::hardsigmoid:  // min(max(x + 3, 0), 6) / 6
      mpfr_add_ui(*a, *x, 3, MPFR_RNDN);
      if (mpfr_sgn(*a) < 0) mpfr_set_ui(*a, 0, MPFR_RNDN);
      if (mpfr_cmp_ui(*a, 6) > 0) mpfr_set_ui(*a, 6, MPFR_RNDN);
      mpfr_div_ui(*a, *a, 6, MPFR_RNDN);
      break;
    case Op::hardsigmoid_backward:
      if (s > -3 && s < 3) mpfr_set_ui(*a, 1, MPFR_RNDN), mpfr_div_ui(*a, *a, 6, MPFR_RNDN);
      else mpfr_set_ui(*a, 0, MPFR_RNDN);
      break;
    case Op::logit:  // log(x / (1 - x)), exact to 300 bits
      mpfr_ui_sub(*b, 1, *x, MPFR_RNDN), mpfr_div(*a, *x, *b, MPFR_RNDN), mpfr_log(*a, *a, MPFR_RNDN);
      break;
    case Op::logit_backward:  // 1 / (x (1 - x))
      mpfr_ui_sub(*b, 1, *x, MPFR_RNDN), mpfr_mul(*a, *x, *b, MPFR_RNDN);
      mpfr_ui_div(*a, 1, *a, MPFR_RNDN);
      break;
  }
  return mpfr_get_ld(*a, MPFR_RNDN);
}

// The value at +inf and -inf, from the definitions' limits.
struct Limits {
  Op op;
  long double at_minus, at_plus;
};
constexpr long double kInf = std::numeric_limits<long double>::infinity();
constexpr long double kNaN = std::numeric_limits<long double>::quiet_NaN();
const Limits kLimits[] = {
    {Op::sigmoid, 0, 1},
    {Op::sigmoid_backward, -kInf, -kInf},  // y (1 - y) for y -> -inf, +inf
    {Op::sigmoid_backward_from_input, 0, 0},
    {Op::log_sigmoid, -kInf, -0.0L},
    {Op::log_sigmoid_backward, 1, 0},
    {Op::softplus, 0, kInf},
    {Op::softplus_backward, 0, 1},
    {Op::hardsigmoid, 0, 1},
    {Op::hardsigmoid_backward, 0, 0},
    {Op::logit, kNaN, kNaN},  // outside the domain [0, 1]
    {Op::logit_backward, kNaN, kNaN},
    {Op::silu, -0.0L, kInf},
    {Op::silu_backward, -0.0L, 1},
    {Op::tanh, -1, 1},
    {Op::tanh_backward, -kInf, -kInf},  // (1 - y)(1 + y)
};

// Inputs of type T that the tool can pass: for sigmoid_backward and
// tanh_backward the forward's outputs, else anything finite.
template <class T>
std::vector<T> inputs(Op op) {
  std::vector<T> xs;
  std::mt19937_64 rng(7);
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const sigma::OpInfo& info = sigma::op_info(op);
  if (info.lo == 0 && info.hi == 1) {  // logit: the open interval (0, 1)
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 3000; ++i) xs.push_back(T(u(rng)));
    for (int i = 0; i < 3000; ++i) {  // every magnitude below 1
      const T v = std::fabs(std::bit_cast<T>(Bits(rng())));
      if (v > 0 && v < 1) xs.push_back(v);
    }
    for (T c : {T(0.5), T(0.25), T(0.75), T(1) / 3, T(2) / 3, T(1)}) {  // both sides of each
      T v = c;
      for (int i = 0; i < 200; ++i) v = std::nextafter(v, T(0)), xs.push_back(v);
      v = c;
      for (int i = 0; i < 200 && c < 1; ++i) v = std::nextafter(v, T(1)), xs.push_back(v);
    }
    for (T v : {std::numeric_limits<T>::min(), std::numeric_limits<T>::denorm_min(), T(1e-30)})
      xs.push_back(v);
    return xs;
  }
  const bool takes_y = op == Op::sigmoid_backward || op == Op::tanh_backward;
  if (takes_y) {
    std::uniform_real_distribution<double> x(-40, 40);
    for (int i = 0; i < 3000; ++i) {
      const double v = x(rng);
      xs.push_back(op == Op::tanh_backward ? T(std::tanh(v)) : T(1 / (1 + std::exp(-v))));
    }
    for (T v : {T(0), T(1), T(-1), T(0.5), std::nextafter(T(1), T(0)), std::numeric_limits<T>::denorm_min()})
      xs.push_back(v);
    return xs;
  }
  for (int i = 0; i < 3000; ++i) {  // every magnitude
    const T v = std::bit_cast<T>(Bits(rng()));
    if (std::isfinite(v)) xs.push_back(v);
  }
  std::uniform_real_distribution<double> wide(-800, 800);
  for (int i = 0; i < 3000; ++i) xs.push_back(T(wide(rng)));
  // Where sigmoid underflows in T and in the wide type, huge |x|, tiny |x|.
  for (double v : {-87.5, -103.9, -104.0, -120.0, -708.5, -745.2, -800.0, -1e5, -1e30, 1e30, 88.7, 100.0,
                   709.0, 1e-30, -1e-30, 0.0, -0.0, 20.0, 20.000001, 19.99999})
    xs.push_back(T(v));
  for (T v : {std::numeric_limits<T>::max(), -std::numeric_limits<T>::max(), std::numeric_limits<T>::min(),
              std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min()})
    xs.push_back(v);
  // The 2000 values of T nearest silu's derivative's root, -1.27846454276107...
  T x0 = T(-1.2784645427610738);
  for (int i = 0; i < 1000; ++i) x0 = std::nextafter(x0, T(0));
  for (int i = 0; i < 2000; ++i, x0 = std::nextafter(x0, T(-2))) xs.push_back(x0);
  return xs;
}

// R is the reference's type for inputs of type T.
template <class T, class R>
void check_op(Op op) {
  const std::string name(sigma::op_name(op));
  double worst = 0;
  T worst_x = 0;
  for (T x : inputs<T>(op)) {
    const long double want = exact(op, x);
    const R got = sigma::cli::reference_value<R>(op, R(x));
    ASSERT_FALSE(std::isnan(got)) << name << " at " << x;
    const double err = double(std::fabs((long double)got - want) / sigma::test::ulp_at<T>(want));
    if (err > worst) worst = err, worst_x = x;
  }
  EXPECT_LE(worst, 1.0 / 64) << name << ": the reference is " << worst
                             << " ULP of the result type off at x = " << worst_x;
  // NaN is kept; +-inf give the limits, with the sign of a zero limit.
  EXPECT_TRUE(std::isnan(sigma::cli::reference_value<R>(op, std::numeric_limits<R>::quiet_NaN()))) << name;
  for (const Limits& l : kLimits) {
    if (l.op != op) continue;
    for (const auto& [x, want] : {std::pair{-kInf, l.at_minus}, std::pair{kInf, l.at_plus}}) {
      const R got = sigma::cli::reference_value<R>(op, R(x));
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << name << " at " << x;
        continue;
      }
      EXPECT_EQ((long double)got, want) << name << " at " << x;
      EXPECT_EQ(std::signbit(got), std::signbit(want)) << name << " at " << x;
    }
  }
}

TEST(AccuracyReferences, MatchMpfrForF32Inputs) {
  for (int i = 0; i < sigma::op_count; ++i) check_op<float, double>(Op(i));
}

TEST(AccuracyReferences, MatchMpfrForF64Inputs) {
  for (int i = 0; i < sigma::op_count; ++i) check_op<double, long double>(Op(i));
}

TEST(AccuracyReferences, EveryOpHasItsLimits) {
  for (int i = 0; i < sigma::op_count; ++i) {
    int rows = 0;
    for (const Limits& l : kLimits) rows += l.op == Op(i);
    EXPECT_EQ(rows, 1) << sigma::op_name(Op(i));
  }
}

}  // namespace
