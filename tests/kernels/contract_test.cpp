// The per-target contract test, generated from SIGMA_OP_LIST: for every op of
// the list, on every SIMD target compiled in and supported here, in f32 and
// f64, the kernel (through the registry, as the tools and tensor ops reach
// it) meets the ULP bound its row states against the op's one reference
// (tools/sigma/op_references.h, itself checked against MPFR by
// tests/tools/op_references_test.cpp); gives NaN outside the row's domain
// and for NaN, and never otherwise where the reference has a value; and
// gives the same bits on every target. An op added to the list is tested
// here with no edit to this file. The per-op tests (tests/kernels/<op>_test.cpp)
// go further: tighter measured figures, every float near branch points,
// 16-bit storage, threads, tails, errors.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernel_checks.h"
#include "op_references.h"
#include "sigma/op_registry.h"
#include "targets.h"
#include "ulp.h"

namespace {

using sigma::Op;
using sigma::OpInfo;

// Inputs of type T: every magnitude (bit patterns with a stride, NaNs
// included), a uniform band over the interesting range, the specials, and
// the edges of the op's domain with their neighbours.
template <class T>
std::vector<T> inputs(const OpInfo& info) {
  std::vector<T> x;
  if constexpr (std::is_same_v<T, float>) {
    for (std::uint64_t b = 0; b < sigma::test::kAllF32Patterns; b += 65521)
      x.push_back(std::bit_cast<float>(std::uint32_t(b)));
    const std::vector<float> special = sigma::test::special_f32();
    x.insert(x.end(), special.begin(), special.end());
  } else {
    std::mt19937_64 rng(11);
    for (int i = 0; i < 40000; ++i) x.push_back(std::bit_cast<double>(rng()));
    for (double v : {0.0, -0.0, HUGE_VAL, -HUGE_VAL, std::numeric_limits<double>::quiet_NaN(), DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN,
                     DBL_TRUE_MIN, -DBL_TRUE_MIN, 709.0, -709.0, 745.2, -745.2, 1e300, -1e300})
      x.push_back(v);
  }
  std::mt19937_64 rng(5);
  const double lo = std::max(info.lo, -40.0), hi = std::min(info.hi, 40.0);
  std::uniform_real_distribution<double> band(lo, hi);
  for (int i = 0; i < 20000; ++i) x.push_back(T(band(rng)));
  for (double e : {info.lo, info.hi}) {
    if (!std::isfinite(e)) continue;
    T v = T(e);
    for (int k = 0; k < 64; ++k) v = std::nextafter(v, T(-INFINITY));
    for (int k = 0; k < 128; ++k, v = std::nextafter(v, T(INFINITY))) x.push_back(v);
  }
  return x;
}

// The kernel of op on x (dy = 1 for a backward, whose saved operand is x or
// the forward's output on x, as the row says); saved receives that operand.
template <class T>
std::vector<T> run(const OpInfo& info, Op op, const std::vector<T>& x, std::vector<T>& saved) {
  const sigma::OpKernels& k = sigma::op_kernels(op);
  std::vector<T> y(x.size());
  auto unary = [](const sigma::OpKernels& kk) {
    if constexpr (std::is_same_v<T, float>) return kk.f32; else return kk.f64;
  };
  if (info.arity == 1) {
    unary(k)(x, y);
    saved = x;
    return y;
  }
  saved = x;
  if (info.saved_is_output) unary(sigma::op_kernels(info.forward))(x, saved);
  const std::vector<T> ones(x.size(), T(1));
  if constexpr (std::is_same_v<T, float>) k.f32_backward(ones, saved, y);
  else k.f64_backward(ones, saved, y);
  return y;
}

bool same_bits(const auto& a, const auto& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

// R: the reference's type for T (op_references.h: double for f32, long double
// for f64).
template <class T, class R>
void check_contract(Op op) {
  const OpInfo& info = sigma::op_info(op);
  const double bound = std::is_same_v<T, float> ? info.ulp_f32 : info.ulp_f64;
  const std::vector<T> x = inputs<T>(info);
  std::vector<T> first, saved;
  bool have_first = false;
  sigma::test::for_each_target([&](const std::string& target) {
    std::vector<T> s;
    const std::vector<T> y = run(info, op, x, s);
    if (have_first) {
      EXPECT_TRUE(same_bits(y, first)) << "bits differ from target " << sigma::kernels::available_targets()[0];
      return;
    }
    have_first = true;
    first = y;
    saved = s;
    double worst = 0;
    T worst_x = 0;
    std::uint64_t bad_nan = 0, checked = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool outside = x[i] < T(info.lo) || x[i] > T(info.hi);
      if (std::isnan(x[i]) || outside) {
        bad_nan += !std::isnan(y[i]);
        if (!std::isnan(y[i]) && bad_nan == 1)
          ADD_FAILURE() << "x = " << x[i] << " (NaN or outside [" << info.lo << ", " << info.hi
                        << "]) gave " << y[i] << ", not NaN, on " << target;
        continue;
      }
      R want = sigma::cli::reference_value<R>(op, R(saved[i]));
      // A value that rounds past T's largest is inf in T.
      constexpr long double kOverflow = (long double)std::numeric_limits<T>::max() *
                                        (1.0L + (long double)std::numeric_limits<T>::epsilon() / 4);
      if (std::fabs((long double)want) >= kOverflow) want = std::copysign(R(INFINITY), want);
      if (info.arity == 2 && std::isfinite(want) &&
          std::fabs((long double)want) < (long double)std::numeric_limits<T>::min())
        continue;  // a backward's contract holds where the result is normal
      ++checked;
      const double err = sigma::test::ulp_error(y[i], (long double)want);
      if (!(err <= worst)) worst = err, worst_x = x[i];
    }
    EXPECT_EQ(bad_nan, 0u);
    EXPECT_GT(checked, x.size() / 4) << "too few inputs in the domain";
    EXPECT_LE(worst, bound) << "worst at x = " << worst_x << " on " << target;
    std::printf("%s %s: max %.3f ULP (bound %.1f) over %llu inputs\n", std::string(info.name).c_str(),
                std::is_same_v<T, float> ? "f32" : "f64", worst, bound,
                static_cast<unsigned long long>(checked));
  });
}

class KernelContract : public testing::TestWithParam<std::string_view> {};

TEST_P(KernelContract, F32BoundDomainAndBitsOnEveryTarget) {
  check_contract<float, double>(*sigma::op_from_name(GetParam()));
}

TEST_P(KernelContract, F64BoundDomainAndBitsOnEveryTarget) {
  check_contract<double, long double>(*sigma::op_from_name(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(EveryOp, KernelContract, testing::ValuesIn(sigma::op_names),
                         [](const testing::TestParamInfo<std::string_view>& p) {
                           return std::string(p.param);
                         });

}  // namespace
