// Tour section "forms": the seed's three equivalent forms of the sigmoid,
// written as a user would in f32 and in f64, measured over a dense grid
// against sigma's kernel and a long double reference: how far apart they are
// in ULP of f32, where e^x/(e^x+1) overflows into NaN and where
// 1/2 + 1/2 tanh(x/2) loses all relative accuracy.
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
#include "tour.h"

namespace sigma::tour {

namespace {

struct Params {
  std::optional<int> per_unit;  // uniform grid points per unit of x
  std::optional<int> stride;    // stride through the f32 bit patterns of [-120, 120]
};

constexpr float kSpan = 120;  // the grid covers [-kSpan, kSpan] plus huge |x|

std::int64_t ordinal(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return (u & 0x80000000u) ? -static_cast<std::int64_t>(u & 0x7fffffffu)
                           : static_cast<std::int64_t>(u);
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

long double sigmoid_ld(long double x) {
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}

// The spacing of f32 numbers at r (subnormal spacing below FLT_MIN).
long double ulp32(long double r) {
  r = std::fabs(r);
  if (r < FLT_MIN) return std::ldexp(1.0L, -149);
  int e = 0;
  std::frexp(r, &e);
  return std::ldexp(1.0L, e - 24);
}

double ulp_error(float v, long double exact) {
  if (std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(std::fabs(static_cast<long double>(v) - exact) / ulp32(exact));
}

// The three forms, spelled as in the seed.
template <class T>
T form_reciprocal(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
template <class T>
T form_ratio(T x) {
  const T e = std::exp(x);
  return e / (e + T(1));
}
template <class T>
T form_tanh(T x) {
  return T(0.5) + T(0.5) * std::tanh(x / T(2));
}

struct Form {
  const char* name;
  float (*f32)(float);
  double (*f64)(double);
};

const Form kForms[] = {
    {"1/(1+e^-x)", form_reciprocal<float>, form_reciprocal<double>},
    {"e^x/(e^x+1)", form_ratio<float>, form_ratio<double>},
    {"1/2+1/2 tanh(x/2)", form_tanh<float>, form_tanh<double>},
};

// Uniform points, every stride-th f32 bit pattern of [-kSpan, kSpan] (which
// reaches down to the subnormals), every float around ln(FLT_MAX), and huge
// and infinite inputs; sorted, without duplicates.
std::vector<float> make_grid(int per_unit, int stride) {
  std::vector<float> g;
  const std::int64_t n = static_cast<std::int64_t>(kSpan) * per_unit;
  for (std::int64_t k = -n; k <= n; ++k) g.push_back(static_cast<float>(k) / per_unit);
  std::uint32_t top;
  std::memcpy(&top, &kSpan, 4);
  for (std::uint32_t u = 0; u <= top; u += static_cast<std::uint32_t>(stride)) {
    g.push_back(from_bits(u));
    g.push_back(-from_bits(u));
  }
  for (float x = 88.70f; x <= 88.75f; x = std::nextafter(x, 100.0f)) g.push_back(x);
  for (float h : {150.0f, 1e3f, 1e10f, 1e30f, FLT_MAX, std::numeric_limits<float>::infinity()}) {
    g.push_back(h);
    g.push_back(-h);
  }
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
  return g;
}

struct Stats {
  std::int64_t max_ord_all = 0, max_ord_mid = 0;  // |ULP distance| to sigma: whole grid, |x| <= 20
  double max_err = 0;                             // vs long double, in ULP, non-NaN results
  std::int64_t nans = 0, wrong_zeros = 0;
  double first_nan = std::numeric_limits<double>::quiet_NaN();
  double last_bad = std::numeric_limits<double>::quiet_NaN();   // largest x with > 1 ULP to sigma
  double last_zero = std::numeric_limits<double>::quiet_NaN();  // largest x with a wrong 0
};

struct Eval {
  std::vector<float> x, sigma;
  std::vector<long double> exact;
  std::vector<float> value[3][2];  // [form][f32, f64 rounded to f32]
  Stats stats[3][2];
  Stats sigma_stats;
};

void accumulate(Stats& s, float x, float v, float sig, long double exact) {
  if (std::isnan(v)) {
    ++s.nans;
    if (std::isnan(s.first_nan)) s.first_nan = x;
    return;
  }
  const std::int64_t d = std::abs(ordinal(v) - ordinal(sig));
  s.max_ord_all = std::max(s.max_ord_all, d);
  if (std::fabs(x) <= 20) s.max_ord_mid = std::max(s.max_ord_mid, d);
  if (d > 1) s.last_bad = x;
  s.max_err = std::max(s.max_err, ulp_error(v, exact));
  if (v == 0 && static_cast<float>(exact) != 0) {
    ++s.wrong_zeros;
    s.last_zero = x;
  }
}

Eval evaluate(std::vector<float> grid) {
  Eval e;
  e.x = std::move(grid);
  const std::size_t n = e.x.size();
  e.sigma.resize(n);
  sigma::sigmoid(std::span<const float>(e.x), std::span<float>(e.sigma));
  e.exact.resize(n);
  for (std::size_t i = 0; i < n; ++i) e.exact[i] = sigmoid_ld(e.x[i]);
  for (int f = 0; f < 3; ++f) {
    e.value[f][0].resize(n);
    e.value[f][1].resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      e.value[f][0][i] = kForms[f].f32(e.x[i]);
      e.value[f][1][i] = static_cast<float>(kForms[f].f64(e.x[i]));
      for (int p = 0; p < 2; ++p)
        accumulate(e.stats[f][p], e.x[i], e.value[f][p][i], e.sigma[i], e.exact[i]);
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    accumulate(e.sigma_stats, e.x[i], e.sigma[i], e.sigma[i], e.exact[i]);
  return e;
}

// Smallest double x > 700 at which e^x/(e^x+1) in f64 is NaN (bisection on
// the bit patterns; the predicate is monotone there).
double nan_threshold_f64() {
  double lo = 700, hi = 800;
  while (std::nextafter(lo, hi) < hi) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    (std::isnan(form_ratio(mid)) ? hi : lo) = mid;
  }
  return hi;
}

std::vector<std::string> form_row(const char* precision, const Stats& s) {
  return {precision,
          std::to_string(s.max_ord_mid),
          std::to_string(s.max_ord_all),
          std::to_string(s.nans),
          std::to_string(s.wrong_zeros),
          std::isnan(s.last_zero) ? "never" : fmt("%.5g", s.last_zero)};
}

const std::vector<std::string> kFormHeader = {
    "evaluated in", "max ULP vs sigma, |x| <= 20",  "max ULP vs sigma, whole grid (not NaN)",
    "NaN results",  "0 where the f32 value is not", "wrongly 0 up to x"};

// Largest |ULP distance| to sigma over the f64-evaluated forms, the tanh form
// only where sigma(x) >= 2^-30, a margin above the 2^-32 where it goes off.
std::int64_t forms_max_ulp_f64(const Eval& e, float tanh_floor) {
  std::int64_t m = 0;
  for (std::size_t i = 0; i < e.x.size(); ++i)
    for (int f = 0; f < 3; ++f) {
      const float v = e.value[f][1][i];
      if (std::isnan(v) || (f == 2 && e.x[i] < tanh_floor)) continue;
      m = std::max(m, std::abs(ordinal(v) - ordinal(e.sigma[i])));
    }
  return m;
}

// The worst ULP error vs the exact value in each bin of x (NaN results left
// out), for a readable figure of hundreds of thousands of points.
plot::Series binned_error(const Eval& e, const std::vector<float>& v, const char* title,
                          const char* color, double width) {
  constexpr double kBin = 0.25;
  const int bins = static_cast<int>(2 * kSpan / kBin);
  std::vector<double> worst(bins, -1);
  for (std::size_t i = 0; i < e.x.size(); ++i) {
    if (std::fabs(e.x[i]) > kSpan || std::isnan(v[i])) continue;
    const int b = std::min(bins - 1, static_cast<int>((e.x[i] + kSpan) / kBin));
    worst[b] = std::max(worst[b], ulp_error(v[i], e.exact[i]));
  }
  plot::Series s{title, {}, {}, plot::Style::Lines, color, width};
  for (int b = 0; b < bins; ++b) {
    if (worst[b] < 0) continue;
    s.x.push_back(-kSpan + (b + 0.5) * kBin);
    s.y.push_back(std::max(worst[b], 1e-3));  // exact results drawn on the floor
  }
  return s;
}

plot::Figure error_figure(const Eval& e, double nan_x) {
  plot::Panel p;
  p.title = "f32 error of the three forms evaluated in f32 (worst per 0.25-wide bin)";
  p.xlabel = "x";
  p.ylabel = "error vs exact sigmoid (ULP of f32)";
  p.logy = true;
  p.xrange = {{-kSpan, kSpan}};
  p.yrange = {{1e-3, 1e9}};
  p.key = "top right";
  p.series = {
      binned_error(e, e.value[0][0], "1/(1+e^-x)", "#1f77b4", 2),
      binned_error(e, e.value[1][0], "e^x/(e^x+1)  (NaN right of the dotted line)", "#ff7f0e", 2),
      binned_error(e, e.value[2][0], "1/2+1/2 tanh(x/2)", "#2ca02c", 2),
      binned_error(e, e.sigma, "sigma::sigmoid (kernel)", "#000000", 1)};
  p.lines = {{1.0, true, "1 ULP"}, {nan_x, false, ""}};
  plot::Figure fig;
  fig.name = "forms_ulp_error";
  fig.caption =
      "Worst error of each f32 form per bin of x, in ULP of f32, against a long double "
      "reference; values below 10^-3 ULP are drawn at 10^-3. The dotted vertical line "
      "is where e^x/(e^x+1) starts returning NaN.";
  fig.panels = {p};
  fig.width = 1000;
  fig.height = 480;
  return fig;
}

// Bounds that keep the grid under about six million points.
constexpr int kMaxPerUnit = 16384;
constexpr int kMinStride = 1024, kMaxStride = 1 << 30;

int bounded_flag(const char* flag, const std::optional<int>& value, int fallback, int lo, int hi) {
  const int v = value.value_or(fallback);
  if (v < lo || v > hi)
    throw cli::UsageError(std::string("forms: ") + flag + " must be in [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "], got " + std::to_string(v));
  return v;
}

std::string value_cell(float v) { return v == 0 ? "0" : fmt("%.4g", v); }

void examples_table(Report& r) {
  const double xs[] = {-95, -45, -20, -10, 88.72284, 710};
  std::vector<std::vector<std::string>> rows;
  for (double x : xs) {
    const float xf = static_cast<float>(x);
    float s = 0;
    sigma::sigmoid(std::span<const float>(&xf, 1), std::span<float>(&s, 1));
    rows.push_back({fmt("%.7g", x), fmt("%.4e", static_cast<double>(sigmoid_ld(x))),
                    value_cell(form_reciprocal(xf)), value_cell(form_ratio(xf)),
                    value_cell(static_cast<float>(form_ratio(x))), value_cell(form_tanh(xf)),
                    value_cell(static_cast<float>(form_tanh(x))), value_cell(s)});
  }
  r.table({"x", "exact", "1/(1+e^-x) f32", "e^x/(e^x+1) f32", "e^x/(e^x+1) f64", "tanh form f32",
           "tanh form f64", "sigma f32"},
          rows);
}

void run(Report& r, const Params& prm) {
  const Context& ctx = r.context();
  const int per_unit = bounded_flag("--per-unit", prm.per_unit, ctx.quick ? 256 : 2048, 1,
                                    kMaxPerUnit);
  const int stride = bounded_flag("--stride", prm.stride, ctx.quick ? 131073 : 8193, kMinStride,
                                  kMaxStride);
  const double t0 = now_seconds();
  const Eval e = evaluate(make_grid(per_unit, stride));
  r.timing("forms: grid evaluation", now_seconds() - t0);

  r.text(
      "The seed writes the sigmoid three ways: `1/(1+e^-x)`, `e^x/(e^x+1)` and "
      "`1/2 + 1/2 tanh(x/2)`. They are the same function on paper, but a program evaluates "
      "each with rounded exponentials and divisions, and each form has its own weak spot. "
      "Below, each form is written exactly as a user would (`std::exp`, `std::tanh`), once in "
      "f32 and once in f64 with the result rounded to f32, and compared with sigma's f32 kernel "
      "and with a long double evaluation of the stable form.");
  r.text("The grid has " + std::to_string(e.x.size()) + " points: every 1/" +
         std::to_string(per_unit) + " on [-120, 120], one f32 bit pattern in " +
         std::to_string(stride) +
         " across that interval (down to the subnormals), every float in "
         "[88.70, 88.75], and huge inputs up to +-FLT_MAX and +-inf. ULP distances count the "
         "f32 numbers between two results.");
  for (int f = 0; f < 3; ++f) {
    r.text(std::string("**") + kForms[f].name + "**");
    r.table(kFormHeader,
            {form_row("f32", e.stats[f][0]), form_row("f64, rounded to f32", e.stats[f][1])});
  }
  r.text(
      "Reading the tables: in f32 the two exponential forms add their own rounding to that of "
      "`expf` and land at most " +
      std::to_string(std::max(e.stats[0][0].max_ord_mid, e.stats[1][0].max_ord_mid)) +
      " ULP from sigma on |x| <= 20; further out, the first flushes "
      "to 0 and the second turns NaN (below). The "
      "tanh form in f32 is far worse: near -1, `tanhf` can only resolve steps of about 2^-24, "
      "so for negative x it loses the small result: inside |x| <= 20 it is up to " +
      std::to_string(e.stats[2][0].max_ord_mid) +
      " ULP away from sigma (more than one ULP from x = " +
      fmt("%.4g", e.stats[2][0].last_bad) + " down, exactly 0 from x = " +
      fmt("%.4g", e.stats[2][0].last_zero) +
      "). Evaluated in f64 and rounded once, the two exponential forms agree with sigma to "
      "within one ULP everywhere they are finite.");
  r.text(
      "The tanh form in f64 has the same flaw, only pushed further out. For x << 0 it adds "
      "1/2 to 1/2 tanh(x/2) with tanh(x/2) close to -1; that cancellation keeps an absolute "
      "error of about 2^-55, however small the result is. An f32 ULP of sigma(x) drops below "
      "that once sigma(x) < 2^-32, i.e. for x < ln(2^-32) = -22.18: measured, the rounded "
      "result is more than one ULP off from x = " +
      fmt("%.4g", e.stats[2][1].last_bad) + " down, and it is exactly 0 from x = " +
      fmt("%.4g", e.stats[2][1].last_zero) +
      ", where the true value is still a normal f32 number.");
  examples_table(r);

  const float tanh_floor = static_cast<float>(std::log(std::ldexp(1.0, -30)));
  const std::int64_t max_f64 = forms_max_ulp_f64(e, tanh_floor);
  const double nan32 = e.stats[1][0].first_nan, nan64 = nan_threshold_f64();
  r.text(
      "The overflow of `e^x/(e^x+1)` is sharp: once `e^x` rounds to inf the form computes "
      "inf/inf = NaN. In f32 that happens from x = " +
      fmt("%.7g", nan32) + " (ln FLT_MAX = 88.7228), in f64 from x = " + fmt("%.7g", nan64) +
      " (ln DBL_MAX = 709.7827). `1/(1+e^-x)` overflows on the other side without a NaN: "
      "`e^-x` = inf gives 1/inf = 0, which is wrong only where the true value is still a "
      "representable subnormal (x in [-103.97, -88.72] for f32).");
  r.figure(error_figure(e, nan32));

  bool sigma_ok = true;
  for (float v : e.sigma) sigma_ok &= std::isfinite(v) && v >= 0 && v <= 1;
  r.check("f64-evaluated forms rounded to f32 vs sigma, max ULP (tanh form where sigma >= 2^-30)",
          std::to_string(max_f64), "<= 1", max_f64 <= 1);
  r.check("sigma's sigmoid over the grid (" + std::to_string(e.x.size()) + " points, +-inf incl.)",
          sigma_ok ? "finite, in [0, 1]" : "non-finite or outside [0, 1]", "finite, in [0, 1]",
          sigma_ok);
  r.check("sigma's kernel vs exact, max error (ULP)", fmt("%.4g", e.sigma_stats.max_err),
          "<= 1 (kernel contract)", e.sigma_stats.max_err <= 1);
  r.check("e^x/(e^x+1) in f32 is NaN from x", fmt("%.7g", nan32), "88.7228 +- 0.01 (ln FLT_MAX)",
          std::fabs(nan32 - std::log(static_cast<double>(FLT_MAX))) <= 0.01);
  r.check("e^x/(e^x+1) in f64 is NaN from x", fmt("%.7g", nan64), "709.7827 +- 0.01 (ln DBL_MAX)",
          std::fabs(nan64 - std::log(DBL_MAX)) <= 0.01);
  const float tanh45 = form_tanh(-45.0f);
  const double tanh45d = form_tanh(-45.0);
  r.check("1/2+1/2 tanh(x/2) at x = -45 (exact 2.86e-20), f32 and f64",
          value_cell(tanh45) + ", " + fmt("%.4g", tanh45d), "0, 0 (all relative accuracy lost)",
          tanh45 == 0 && tanh45d == 0);
  const double tanh_last = e.stats[2][1].last_bad;
  const double tanh_edge = std::log(std::ldexp(1.0, -32));
  r.check("tanh form in f64: largest x off by more than 1 ULP", fmt("%.4g", tanh_last),
          fmt("%.4f", tanh_edge) + " +- 0.05 (sigma(x) = 2^-32: 1 ULP = 2^-55)",
          std::fabs(tanh_last - tanh_edge) <= 0.05);

  r.metric("forms_max_ulp_f64", static_cast<double>(max_f64));
  r.metric("naive_nan_from_x_f32", nan32);
  r.metric("naive_nan_from_x_f64", nan64);
  r.metric("tanh_form_f64_inaccurate_below_x", tanh_last);
  r.metric("grid_points", static_cast<double>(e.x.size()));
}

}  // namespace

Section forms_section() {
  auto prm = std::make_shared<Params>();
  return {"forms", "Definition and equivalent forms",
          "The three forms of the sigmoid in f32 and f64: ULP distances, overflow, lost accuracy",
          [prm](CLI::App& app) {
            app.add_option("--per-unit", prm->per_unit,
                           "Uniform grid points per unit of x on [-120, 120], 1..16384 "
                           "(default 2048; --quick: 256)");
            app.add_option("--stride", prm->stride,
                           "Take every N-th f32 bit pattern of [-120, 120] too, "
                           "1024..2^30 (default 8193; --quick: 131073)");
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
