// Checks shared by the kernel tests: bit equality, the table of
// special inputs, strided bit-pattern inputs, the tail-versus-body check and
// the correctly rounded 16-bit value of an exact result.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "float_scan.h"
#include "sigma/dtypes.h"
#include "sigma/kernels.h"
#include "targets.h"
#include "ulp.h"

namespace sigma::test {

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// +-0, +-inf, NaN (both signs), +-FLT_MAX, +-5e29, +-88.7, +-104, the smallest
// subnormal and normal, followed by `extra` (each op's own edges).
inline std::vector<float> special_f32(std::initializer_list<float> extra = {}) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  std::vector<float> v = {0.0f,   -0.0f,  INFINITY, -INFINITY, NAN,  -NAN,  FLT_MAX, -FLT_MAX,
                          5e29f,  -5e29f, 88.7f,    -88.7f,    104.0f, -104.0f, tiny, -tiny,
                          FLT_MIN, -FLT_MIN};
  v.insert(v.end(), extra);
  return v;
}

// Every `stride`-th f32 bit pattern.
inline std::vector<float> strided_f32(std::uint64_t stride) {
  std::vector<float> x;
  for (std::uint64_t b = 0; b < kAllF32Patterns; b += stride) x.push_back(std::bit_cast<float>(std::uint32_t(b)));
  return x;
}

// On every target, run(dy, x, out, n) over every length 0..33 at several
// offsets of `pool` (padded with uniform values in [-range, range]) must give
// each element the bits it gets alone, and write nothing past n.
template <class F>
void expect_tails_match_body(std::vector<float> pool, float range, F run) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-range, range);
  while (pool.size() < 80) pool.push_back(d(rng));
  std::vector<float> dy(pool.size());
  for (auto& v : dy) v = d(rng);
  for_each_target([&](const std::string&) {
    std::vector<float> single(pool.size());
    for (std::size_t i = 0; i < pool.size(); ++i) run(&dy[i], &pool[i], &single[i], 1);
    for (std::size_t n = 0; n <= 33; ++n) {
      for (std::size_t off = 0; off + n <= pool.size(); off += 5) {
        std::vector<float> out(n + 1, 123.0f);
        run(dy.data() + off, pool.data() + off, out.data(), n);
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_TRUE(same_bits(out[i], single[off + i])) << "n=" << n << " off=" << off << " i=" << i;
        ASSERT_EQ(out[n], 123.0f) << "wrote past the end";
      }
    }
  });
}

// run(x, y) (f32 vectors) over 2^20 uniform inputs in [lo, hi] gives the
// same bits with 1, 2, 3 and 7 threads.
template <class Run>
void expect_bits_independent_of_threads(float lo, float hi, Run run) {
  std::vector<float> x(std::size_t{1} << 20), a(x.size()), b(x.size());
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> d(lo, hi);
  for (auto& v : x) v = d(rng);
  sigma::set_num_threads(1);
  run(x, a);
  for (int t : {2, 3, 7}) {
    sigma::set_num_threads(t);
    run(x, b);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << t << " threads";
  }
  sigma::set_num_threads(0);
}

// ULP stats of f32 results y for inputs x against ref(x) (a wider-precision
// value; one that rounds past FLT_MAX counts as inf). NaN inputs must come back
// as the same NaN.
template <class Ref>
UlpStats f32_stats(const std::vector<float>& x, const std::vector<float>& y, Ref ref) {
  UlpStats s;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      s.add(same_bits(x[i], y[i]) ? 0.0 : HUGE_VAL, x[i], false);
      continue;
    }
    long double e = ref(x[i]);
    if (std::fabs(e) >= 0x1.ffffffp127L) e = std::copysign(INFINITY, e);  // rounds to inf
    s.add(ulp_error(y[i], e), x[i], std::isnan(y[i]));
  }
  return s;
}

// The 16-bit value nearest to v (v from MPFR or long double): the neighbours of
// the f32-then-16-bit rounding are compared directly with v, so no double
// rounding can creep in.
template <class H>
H nearest16(long double v) {
  const H r = std::is_same_v<H, bfloat16> ? H{to_bfloat16(float(v)).bits} : H{to_float16(float(v)).bits};
  H best = r;
  for (int k : {-1, 1}) {
    H c = r;
    c.bits = std::uint16_t(r.bits + k);
    if (std::isfinite(to_float(c)) && std::fabs(v - to_float(c)) < std::fabs(v - to_float(best))) best = c;
  }
  return best;
}

// The quiet bit of H's NaNs (the top fraction bit).
template <class H>
constexpr std::uint16_t quiet_bit16() {
  return std::is_same_v<H, bfloat16> ? 0x0040u : 0x0200u;
}

// Number of the 65536 16-bit inputs whose result from run(x, y) (spans of H)
// is wrong: for a non-NaN input, one that differs from the correctly rounded
// exact(x) (with signed_zeros false, +0 and -0 count as equal); for a NaN
// input, anything but that NaN, quieted (IEEE 754 NaN propagation: sign and
// payload kept, quiet bit set; the f32 kernels return the same NaN, and
// narrowing quiets it). The first wrong NaN is reported with its bits.
template <class H, class Run, class Exact>
int misrounded_16bit(Run run, Exact exact, bool signed_zeros) {
  std::vector<H> x(65536), y(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) x[i].bits = std::uint16_t(i);
  run(std::span<const H>(x), std::span<H>(y));
  int wrong = 0, nans = 0, wrong_nans = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const float xf = to_float(x[i]);
    if (std::isnan(xf)) {
      ++nans;
      const std::uint16_t want = std::uint16_t(x[i].bits | quiet_bit16<H>());
      if (y[i].bits != want) {
        if (!wrong_nans++)
          ADD_FAILURE() << (std::is_same_v<H, bfloat16> ? "bf16" : "f16") << " NaN input 0x"
                        << std::hex << x[i].bits << " gave 0x" << y[i].bits << ", want 0x"
                        << want;
        ++wrong;
      }
      continue;
    }
    const H want = nearest16<H>(exact(xf));
    wrong += y[i].bits != want.bits && (signed_zeros || to_float(y[i]) != to_float(want));
  }
  // bf16: 2 signs * 127 fractions; f16: 2 * 1023.
  EXPECT_EQ(nans, (std::is_same_v<H, bfloat16> ? 254 : 2046));
  return wrong;
}

// Both 16-bit types through run(x, y) (spans of H) are correctly rounded from
// exact(x) for all 65536 inputs each (see misrounded_16bit).
template <class Run, class Exact>
void expect_16bit_correctly_rounded(Run run, Exact exact, bool signed_zeros) {
  EXPECT_EQ(misrounded_16bit<bfloat16>(run, exact, signed_zeros), 0) << "bf16";
  EXPECT_EQ(misrounded_16bit<float16>(run, exact, signed_zeros), 0) << "f16";
}

}  // namespace sigma::test
