// Tour section "properties": each row of the seed's properties table (range,
// domain, monotonicity, zero-centring, maximum gradient, symmetry, fixed
// point) measured on sigma's kernels and shown as measured value + PASS/FAIL,
// with what floating point does to the rows that hold only in exact
// arithmetic.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../commands.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tour.h"

namespace sigma::tour {

namespace {

struct Params {
  std::optional<int> stride;   // every N-th float in the monotonicity scan
  std::optional<int> samples;  // N(0, 1) samples for the mean output
};

std::string verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

template <class T>
T sig(T x) {
  T y;
  sigma::sigmoid(std::span<const T>(&x, 1), std::span<T>(&y, 1));
  return y;
}

long double sigmoid_ld(long double x) {
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}

// The non-NaN floats in increasing order are the ordinals -kTop..kTop
// (-inf .. -min subnormal, +0, min subnormal .. +inf).
constexpr std::int64_t kTop = 0x7f800000;

float from_ordinal(std::int64_t k) {
  const std::uint32_t u =
      k < 0 ? 0x80000000u | static_cast<std::uint32_t>(-k) : static_cast<std::uint32_t>(k);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::int64_t ordinal(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return (u & 0x80000000u) ? -static_cast<std::int64_t>(u & 0x7fffffffu)
                           : static_cast<std::int64_t>(u);
}

struct Scan {
  std::int64_t count = 0, decreases = 0, out_of_range = 0;  // out of range: NaN, inf, < 0, > 1
};

// sigma's f32 kernel over the ordinals lo, lo + stride, ..., <= hi, in chunks:
// each output must be >= the previous one and within [0, 1].
void scan(std::int64_t lo, std::int64_t hi, std::int64_t stride, Scan& s) {
  constexpr std::int64_t kChunk = 1 << 20;
  std::vector<float> x(kChunk), y(kChunk);
  float prev = -1;
  for (std::int64_t k = lo; k <= hi;) {
    std::int64_t n = 0;
    for (; n < kChunk && k <= hi; ++n, k += stride) x[n] = from_ordinal(k);
    const auto m = static_cast<std::size_t>(n);
    sigma::sigmoid(std::span<const float>(x.data(), m), std::span<float>(y.data(), m));
    const float* v = y.data();
    std::int64_t dec = v[0] < prev, bad = 0;
    for (std::size_t i = 1; i < m; ++i) dec += v[i] < v[i - 1];
    for (std::size_t i = 0; i < m; ++i) bad += !(v[i] >= 0.0f && v[i] <= 1.0f);
    s.decreases += dec;
    s.out_of_range += bad;
    prev = v[m - 1];
    s.count += n;
  }
}

// The first float whose sigmoid satisfies pred (pred monotone in x).
template <class Pred>
float first_float(float lo, float hi, Pred pred) {
  std::int64_t a = ordinal(lo), b = ordinal(hi);  // pred(a) false, pred(b) true
  while (b - a > 1) {
    const std::int64_t m = a + (b - a) / 2;
    (pred(sig(from_ordinal(m))) ? b : a) = m;
  }
  return from_ordinal(b);
}

double first_double(double lo, double hi, bool (*pred)(double)) {
  while (std::nextafter(lo, hi) < hi) {
    const double m = lo + (hi - lo) / 2;
    if (m <= lo || m >= hi) break;
    (pred(sig(m)) ? hi : lo) = m;
  }
  return hi;
}

long double first_long_double(long double lo, long double hi) {
  for (int i = 0; i < 200; ++i) {
    const long double m = (lo + hi) / 2;
    (sigmoid_ld(m) == 1.0L ? hi : lo) = m;
  }
  return hi;
}

struct Row {
  std::string property, seed, measured;
  bool pass;
};

// ---- Output range (0, 1).
Row range_row(Report& r, const Scan& s) {
  const float one32 = first_float(10, 30, [](float y) { return y == 1.0f; });
  const float zero32_next = first_float(-200, -50, [](float y) { return y > 0.0f; });
  const float zero32 = std::nextafter(zero32_next, -1000.0f);
  const double one64 = first_double(30, 50, [](double y) { return y == 1.0; });
  const long double one_ld = first_long_double(30, 60);
  // Round-to-nearest gives 1 once 1 - sigma(x) < 2^-(p+1), p the precision's
  // fraction bits + 1, i.e. from x = (p+1) ln 2 (less a hair).
  const double pred32 = std::log(std::ldexp(1.0, 25) - 1), pred64 = 54 * std::log(2.0);
  const double pred0 = std::log(std::ldexp(1.0, -150));
  const bool ok32 = std::fabs(one32 - pred32) < 1e-4 && std::fabs(zero32 - pred0) < 1e-3;
  const bool ok64 = std::fabs(one64 - pred64) < 1e-6;
  const bool ok_scan = s.out_of_range == 0;  // checked under Domain
  r.check("f32 sigmoid is exactly 1 from x", fmt("%.7g", one32), "ln(2^25 - 1) = 17.32868",
          std::fabs(one32 - pred32) < 1e-4);
  r.check("f32 sigmoid is exactly 0 up to x", fmt("%.7g", zero32),
          "ln(2^-150) = -103.9721 (below half the least subnormal)",
          std::fabs(zero32 - pred0) < 1e-3);
  r.check("f64 sigmoid is exactly 1 from x", fmt("%.10g", one64), "54 ln 2 = 37.42994", ok64);
  r.text(
      "**Output range.** In exact arithmetic sigma(x) never reaches 0 or 1. A floating-point "
      "result does, because the numbers just below 1 are spaced 2^-24 apart in f32: once "
      "1 - sigma(x) is less than half that spacing the correctly rounded result is 1. "
      "sigma's f32 kernel returns exactly 1 from x = " +
      fmt("%.7g", one32) + ", f64 from x = " + fmt("%.7g", one64) +
      ". Written as 1/(1+e^-x) in long double, the sum 1 + e^-x already rounds to 1 from x = " +
      fmt("%.5g", static_cast<double>(one_ld)) +
      " (64 ln 2); a correctly rounded long double sigmoid would reach 1 only at 65 ln 2 = " +
      fmt("%.4g", 65 * std::log(2.0)) + ". Near 0 the floats are much denser, so 0 "
      "comes only after the subnormal range: f32 gives exactly 0 for x <= " +
      fmt("%.7g", zero32) + " and " + fmt("%.3e", sig(zero32_next)) +
      " just above it. The "
      "range (0, 1) is therefore a property of the function, not of any float format; "
      "what holds in every format is the closed range [0, 1].");
  return {
      "Output range", "(0, 1)",
      "[0, 1] in f32: 1 from x = " + fmt("%.7g", one32) + ", 0 up to x = " + fmt("%.7g", zero32),
      ok32 && ok64 && ok_scan};
}

// ---- Domain: any input.
Row domain_row(Report& r, const Scan& s) {
  const float inf = std::numeric_limits<float>::infinity();
  const float at_pinf = sig(inf), at_minf = sig(-inf);
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  const float neg_nan = -qnan;
  const bool nan_ok = std::isnan(sig(qnan)) && std::isnan(sig(neg_nan)) &&
                      std::isnan(sig(std::numeric_limits<double>::quiet_NaN()));
  const bool pass = s.out_of_range == 0 && at_pinf == 1 && at_minf == 0 && nan_ok;
  r.check("finite results in [0, 1] for every scanned float (incl. +-FLT_MAX)",
          std::to_string(s.out_of_range) + " non-finite or outside of " + std::to_string(s.count),
          "0", s.out_of_range == 0);
  r.check("sigmoid(+inf), sigmoid(-inf)", fmt("%g", at_pinf) + ", " + fmt("%g", at_minf), "1, 0",
          at_pinf == 1 && at_minf == 0);
  r.check("sigmoid(NaN) (f32 +-NaN, f64 NaN)", nan_ok ? "NaN" : "not NaN", "NaN", nan_ok);
  return {"Domain", "(-inf, +inf)", "every float: finite result; +-inf -> 1/0; NaN -> NaN", pass};
}

// ---- Monotonic.
// How the monotonicity scan chose its inputs, for the text.
std::string scan_inputs(std::int64_t stride, bool dense) {
  if (stride == 1) return "all of them";
  std::string out = "one bit pattern in every " + std::to_string(stride);
  if (dense)
    out += ", plus every float in [-104, -2^-6] and [2^-6, 17.5] (outside [-104, 17.5] the "
           "output is constant, and the two billion or so floats within 2^-6 of 0 are only "
           "sampled at the stride)";
  return out;
}

Row monotonic_row(Report& r, const Scan& s, std::int64_t stride, bool dense) {
  const bool pass = s.decreases == 0;
  r.check("sigmoid non-decreasing over " + std::to_string(s.count) + " floats in order",
          std::to_string(s.decreases) + " decreases", "0", pass);
  r.text("**Monotonic.** The scan feeds " + std::to_string(s.count) +
         " floats, in increasing order from -inf to +inf, through sigma's SIMD kernel and "
         "checks that no output is smaller than the one before. The inputs: " +
         scan_inputs(stride, dense) +
         ". Strictly increasing cannot survive rounding: many neighbouring floats share a "
         "result (all x above 17.33 give 1), so the property that holds in floating point is "
         "non-decreasing.");
  return {"Monotonic", "yes (strictly increasing)",
          std::to_string(s.decreases) + " decreases in " + std::to_string(s.count) +
              " ordered floats (non-decreasing)",
          pass};
}

// ---- Not zero-centred: mean output for z ~ N(0, 1).
Row centred_row(Report& r, std::int64_t n, double& mean_sigmoid) {
  const Tensor z = sigma::randn({n}).to(kDouble);
  const Tensor s = z.sigmoid(), t = z.tanh();
  mean_sigmoid = s.mean().item<double>();
  const double mean_tanh = t.mean().item<double>();
  const double se_s = (s - mean_sigmoid).square().mean().sqrt().item<double>() / std::sqrt(n);
  const double se_t = (t - mean_tanh).square().mean().sqrt().item<double>() / std::sqrt(n);
  const double min_s = s.min().item<double>();
  const bool ok_s = std::fabs(mean_sigmoid - 0.5) <= 4 * se_s && min_s > 0;
  const bool ok_t = std::fabs(mean_tanh) <= 4 * se_t;
  r.check("mean sigmoid(z), z ~ N(0,1), n = " + std::to_string(n), fmt("%.5f", mean_sigmoid),
          "0.5 +- 4 standard errors (" + fmt("%.1e", 4 * se_s) + ")", ok_s);
  r.check("mean tanh(z), same z", fmt("%.5f", mean_tanh),
          "0 +- 4 standard errors (" + fmt("%.1e", 4 * se_t) + ")", ok_t);
  r.text("**Not zero-centred.** For standard normal inputs the sigmoid outputs average " +
         fmt("%.4f", mean_sigmoid) + " and every one of them is positive (smallest " +
         fmt("%.3g", min_s) + "), while tanh outputs of the same inputs average " +
         fmt("%.4f", mean_tanh) + ". By the symmetry below, the exact means are 0.5 and 0.");
  return {"Zero-centred", "no (mean output ~ 0.5)",
          "mean " + fmt("%.4f", mean_sigmoid) + " (tanh: " + fmt("%.4f", mean_tanh) + ")",
          ok_s && ok_t};
}

plot::Figure centred_figure(std::int64_t n) {
  const Tensor z = sigma::randn({n}).to(kDouble);
  const std::vector<double> s = z.sigmoid().to_vector<double>(), t = z.tanh().to_vector<double>();
  constexpr int kBins = 40;
  auto hist = [&](const std::vector<double>& v, const char* title, const char* color) {
    std::vector<double> c(kBins, 0);
    for (double y : v) c[std::min(kBins - 1, static_cast<int>((y + 1) / 2 * kBins))] += 1;
    plot::Series out{title, {}, {}, plot::Style::Steps, color, 2};
    for (int b = 0; b <= kBins; ++b) {
      out.x.push_back(-1 + 2.0 * b / kBins);
      out.y.push_back(c[std::min(b, kBins - 1)] / static_cast<double>(v.size()));
    }
    return out;
  };
  plot::Panel p;
  p.title = "Outputs for z ~ N(0, 1): sigmoid is never negative";
  p.xlabel = "output value";
  p.ylabel = "fraction of samples per bin (width 0.05)";
  p.xrange = {{-1, 1}};
  p.yrange = {{0, 0.1}};
  p.series = {hist(s, "sigmoid(z)", "#2196F3"), hist(t, "tanh(z)", "#FF5722")};
  p.lines = {{0.0, false, ""}};
  plot::Figure fig;
  fig.name = "properties_output_histogram";
  fig.caption = "Histogram of sigmoid(z) and tanh(z) for the same " + std::to_string(n) +
                " standard normal samples; the dotted line is 0.";
  fig.panels = {p};
  fig.width = 760;
  fig.height = 420;
  return fig;
}

// ---- Maximum gradient 0.25 at x = 0.
Row gradient_row(Report& r, double& max_g, double& argmax_x) {
  constexpr int kHalf = 8 * 1024;  // x = k / 1024 on [-8, 8], exact in f64
  std::vector<double> x(2 * kHalf + 1), one(x.size(), 1.0), g(x.size());
  for (int k = -kHalf; k <= kHalf; ++k) x[k + kHalf] = k / 1024.0;
  sigma::sigmoid_backward_from_input(std::span<const double>(one), std::span<const double>(x),
                                     std::span<double>(g));
  const auto it = std::max_element(g.begin(), g.end());
  max_g = *it;
  argmax_x = x[static_cast<std::size_t>(it - g.begin())];
  const bool pass = max_g == 0.25 && argmax_x == 0;
  r.check("max of sigmoid'(x) over x = k/1024 in [-8, 8] (f64)",
          fmt("%.17g", max_g) + " at x = " + fmt("%g", argmax_x), "0.25 at x = 0", pass);
  return {"Maximum gradient", "0.25 (at x = 0)",
          fmt("%.17g", max_g) + " at x = " + fmt("%g", argmax_x), pass};
}

// ---- Symmetry sigma(-x) = 1 - sigma(x).
template <class T>
struct Symmetry {
  double max_abs = 0, err_direct = 0, err_complement = 0;  // errors in ULP of T
};

template <class T>
double ulp_err(T v, long double exact) {
  const long double a = std::fabs(exact);
  const long double ulp =
      a < std::numeric_limits<T>::min()
          ? static_cast<long double>(std::numeric_limits<T>::denorm_min())
          : std::ldexp(1.0L, std::ilogb(a) - std::numeric_limits<T>::digits + 1);
  return static_cast<double>(std::fabs(static_cast<long double>(v) - exact) / ulp);
}

template <class T>
Symmetry<T> symmetry(const std::vector<T>& x) {
  std::vector<T> neg(x.size()), y(x.size()), yn(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) neg[i] = -x[i];
  sigma::sigmoid(std::span<const T>(x), std::span<T>(y));
  sigma::sigmoid(std::span<const T>(neg), std::span<T>(yn));
  Symmetry<T> s;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const T complement = T(1) - y[i];
    const long double exact = sigmoid_ld(neg[i]);
    s.max_abs = std::max(s.max_abs, static_cast<double>(std::fabs(yn[i] - complement)));
    s.err_direct = std::max(s.err_direct, ulp_err(yn[i], exact));
    s.err_complement = std::max(s.err_complement, ulp_err(complement, exact));
  }
  return s;
}

Row symmetry_row(Report& r, double& max_abs32) {
  std::vector<float> xf;
  std::vector<double> xd;
  for (int k = -30 * 256; k <= 30 * 256; ++k) {
    xf.push_back(static_cast<float>(k / 256.0));
    xd.push_back(k / 256.0);
  }
  const Symmetry<float> s32 = symmetry(xf);
  const Symmetry<double> s64 = symmetry(xd);
  max_abs32 = s32.max_abs;
  // Where x < 0 both sides are numbers in [0.5, 1], so they differ by a
  // multiple of that binade's spacing (2^-24 in f32): at most one step is
  // asked for.
  const double bound32 = std::ldexp(1.0, -24), bound64 = std::ldexp(1.0, -53);
  const bool pass = s32.max_abs <= bound32 && s64.max_abs <= bound64;
  r.check("max |sigmoid(-x) - (1 - sigmoid(x))|, f32, x = k/256 in [-30, 30]",
          fmt("%.3e", s32.max_abs), "<= 2^-24 = " + fmt("%.3e", bound32), s32.max_abs <= bound32);
  r.check("the same in f64", fmt("%.3e", s64.max_abs), "<= 2^-53 = " + fmt("%.3e", bound64),
          s64.max_abs <= bound64);
  r.table({"precision", "max |sigmoid(-x) - (1 - sigmoid(x))|", "error of sigmoid(-x) (ULP)",
           "error of 1 - sigmoid(x) (ULP)"},
          {{"f32", fmt("%.3e", s32.max_abs), fmt("%.3g", s32.err_direct),
            fmt("%.3g", s32.err_complement)},
           {"f64", fmt("%.3e", s64.max_abs), fmt("%.3g", s64.err_direct),
            fmt("%.3g", s64.err_complement)}});
  r.text(
      "**Symmetry.** The two sides agree to within one rounding of a number near 1 "
      "(an absolute error of at most 2^-24 in f32), so the identity holds as well as the "
      "format can express it. It is not a safe way to compute the small tail, though: "
      "1 - sigma(x) subtracts two nearly equal numbers when x is large, and its error "
      "measured in ULP of the result (the last column, against long double) grows without "
      "bound, while sigma(-x) evaluated directly stays within one ULP.");
  return {"Symmetry", "sigma(-x) = 1 - sigma(x)",
          "max abs difference " + fmt("%.2e", s32.max_abs) + " (f32), " + fmt("%.2e", s64.max_abs) +
              " (f64)",
          pass};
}

// ---- Fixed point sigma(0) = 0.5.
Row fixed_point_row(Report& r) {
  const float p32 = sig(0.0f), n32 = sig(-0.0f);
  const double p64 = sig(0.0), n64 = sig(-0.0);
  const double t = sigma::tensor({0.0f}).sigmoid().item<double>();
  const bool pass = p32 == 0.5f && n32 == 0.5f && p64 == 0.5 && n64 == 0.5 && t == 0.5;
  r.check("sigmoid(+0), sigmoid(-0) in f32 and f64, and on a tensor",
          fmt("%.9g", p32) + ", " + fmt("%.9g", n32) + ", " + fmt("%.17g", p64) + ", " +
              fmt("%.17g", n64) + ", " + fmt("%.9g", t),
          "0.5 exactly", pass);
  return {"Fixed point", "sigma(0) = 0.5", "exactly 0.5 (f32, f64, +0 and -0)", pass};
}

constexpr int kMaxStride = 1 << 30, kMaxSamples = 10000000;

int bounded_flag(const char* flag, const std::optional<int>& value, int fallback, int lo, int hi) {
  const int v = value.value_or(fallback);
  if (v < lo || v > hi)
    throw cli::UsageError(std::string("properties: ") + flag + " must be in [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                          std::to_string(v));
  return v;
}

void run(Report& r, const Params& prm) {
  const Context& ctx = r.context();
  const int stride = bounded_flag("--stride", prm.stride, ctx.quick ? 4099 : 61, 1, kMaxStride);
  const int samples =
      bounded_flag("--samples", prm.samples, ctx.quick ? 100000 : 1000000, 2, kMaxSamples);
  r.text(
      "The seed lists seven properties. Each is measured below on sigma's kernels; where a "
      "property holds only in exact arithmetic, the measurement says what floating point "
      "makes of it.");

  const double t0 = now_seconds();
  Scan s;
  scan(-kTop, kTop, stride, s);
  const bool dense = stride > 1 && !ctx.quick;
  if (dense) {
    scan(ordinal(-104.0f), ordinal(-0x1p-6f), 1, s);
    scan(ordinal(0x1p-6f), ordinal(17.5f), 1, s);
  }
  r.timing("properties: monotonicity scan", now_seconds() - t0);

  double mean = 0, max_g = 0, argmax = 0, sym = 0;
  std::vector<Row> rows;
  rows.push_back(range_row(r, s));
  rows.push_back(domain_row(r, s));
  rows.push_back(monotonic_row(r, s, stride, dense));
  rows.push_back(centred_row(r, samples, mean));
  r.figure(centred_figure(std::min(samples, 200000)));
  rows.push_back(gradient_row(r, max_g, argmax));
  rows.push_back(symmetry_row(r, sym));
  rows.push_back(fixed_point_row(r));

  std::vector<std::vector<std::string>> table;
  for (const Row& row : rows)
    table.push_back({row.property, row.seed, row.measured, verdict(row.pass)});
  r.text("The seed's table, measured:");
  r.table({"property", "seed", "measured", ""}, table);

  r.metric("max_gradient", max_g);
  r.metric("argmax_gradient_x", argmax);
  r.metric("mean_output_normal_input", mean);
  r.metric("symmetry_max_abs_err", sym);
  r.metric("monotonic_floats_scanned", static_cast<double>(s.count));
}

}  // namespace

Section properties_section() {
  auto prm = std::make_shared<Params>();
  return {"properties", "Properties",
          "The seed's properties table measured: range, domain, monotonicity, mean, gradient, "
          "symmetry",
          [prm](CLI::App& app) {
            app.add_option("--stride", prm->stride,
                           "Monotonicity scan: every N-th of the 2^32 floats, in order, 1..2^30; 1 "
                           "scans them all (tens of seconds) (default 61, plus every float in "
                           "[-104, 17.5] with |x| >= 2^-6 unless --quick; --quick: 4099)");
            app.add_option("--samples", prm->samples,
                           "N(0, 1) samples for the mean output, 2..10^7 (default 1000000; "
                           "--quick: 100000)");
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
