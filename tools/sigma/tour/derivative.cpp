// Tour section "derivative": sigma'(x) = sigma(x)(1 - sigma(x)) three ways
// across [-20, 20] (the formula applied to the output, sigma's autograd, and
// central differences) in f32 and f64, against a long double reference; where
// the output-only formula breaks down in f32; and the seed's two-panel figure.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../commands.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tour.h"

namespace sigma::tour {

namespace {

struct Params {
  std::optional<int> points;  // grid points on [-20, 20]
};

constexpr double kSpan = 20;
const double kStep = std::ldexp(1.0, -17);  // central-difference step h

long double sigmoid_ld(long double x) {
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}

long double derivative_ld(long double x) { return sigmoid_ld(x) * sigmoid_ld(-x); }

// |sigma'''(x)| = |sigma'(x) (1 - 6 sigma + 6 sigma^2)|.
double third_derivative(double x) {
  const long double s = sigmoid_ld(x);
  return static_cast<double>(std::fabs(s * (1 - s) * (1 - 6 * s + 6 * s * s)));
}

double ulp64(double v) {
  return std::nextafter(std::fabs(v), std::numeric_limits<double>::infinity()) - std::fabs(v);
}

// The sigmoid's gradient by sigma's autograd: y = sigmoid(x), y.sum().backward().
template <class T>
std::vector<T> autograd(const std::vector<T>& x, std::vector<T>& y) {
  Tensor t = sigma::tensor(x, std::is_same_v<T, double> ? kDouble : kFloat).requires_grad_();
  Tensor out = t.sigmoid();
  out.sum().backward();
  y = out.detach().to_vector<T>();
  return t.grad().to_vector<T>();
}

struct Errors {
  double max_abs = 0, max_rel = 0, at = 0;
};

template <class T>
Errors errors(const std::vector<double>& x, const std::vector<T>& v) {
  Errors e;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double exact = derivative_ld(x[i]);
    const double abs = static_cast<double>(std::fabs(v[i] - exact));
    const double rel = static_cast<double>(abs / exact);
    e.max_abs = std::max(e.max_abs, abs);
    if (rel > e.max_rel) {
      e.max_rel = rel;
      e.at = x[i];
    }
  }
  return e;
}

struct Data {
  std::vector<double> x;
  std::vector<double> y64, auto64, formula64, fd, fd_bound;
  std::vector<float> y32, auto32, formula32;
};

Data compute(int points) {
  Data d;
  const int half = (points - 1) / 2;
  // Rounded to f32 so that both precisions see the same inputs.
  for (int k = -half; k <= half; ++k) d.x.push_back(static_cast<float>(kSpan * k / half));
  const std::size_t n = d.x.size();
  d.auto64 = autograd(d.x, d.y64);
  std::vector<float> xf(d.x.begin(), d.x.end());
  d.auto32 = autograd(xf, d.y32);
  for (std::size_t i = 0; i < n; ++i) {
    d.formula64.push_back(d.y64[i] * (1 - d.y64[i]));
    d.formula32.push_back(d.y32[i] * (1.0f - d.y32[i]));
  }
  std::vector<double> xp(n), xm(n), sp(n), sm(n);
  for (std::size_t i = 0; i < n; ++i) {
    xp[i] = d.x[i] + kStep;
    xm[i] = d.x[i] - kStep;
  }
  sigma::sigmoid(std::span<const double>(xp), std::span<double>(sp));
  sigma::sigmoid(std::span<const double>(xm), std::span<double>(sm));
  for (std::size_t i = 0; i < n; ++i) {
    const double h2 = xp[i] - xm[i];
    d.fd.push_back((sp[i] - sm[i]) / h2);
    // Truncation h^2/6 |sigma'''| (|sigma''''| <= 1 covers the spread over
    // [x-h, x+h]) plus one ULP of error in each sigmoid value.
    const double h = h2 / 2;
    d.fd_bound.push_back(h * h / 6 * (third_derivative(d.x[i]) + h) +
                         (ulp64(sp[i]) + ulp64(sm[i])) / h2);
  }
  return d;
}

std::vector<std::string> error_row(const char* method, const char* precision, const Errors& e) {
  return {method, precision, fmt("%.3e", e.max_abs), fmt("%.3e", e.max_rel), fmt("%.4g", e.at)};
}

plot::Figure seed_figure() {
  const Tensor x = sigma::linspace(-6, 6, 1000);
  const Tensor sig = sigma::sigmoid(x);
  const Tensor grad = sig * (1 - sig);
  const std::vector<double> xs = x.to_vector<double>(), ys = sig.to_vector<double>(),
                            gs = grad.to_vector<double>();
  plot::Panel left;
  left.title = "Sigmoid: σ(x) = 1 / (1 + e⁻ˣ)";
  left.xlabel = "x";
  left.ylabel = "σ(x)";
  left.key = "off";
  left.series = {{"", xs, ys, plot::Style::Lines, "#2196F3", 2.5}};
  left.lines = {{0.5, true, ""}, {0.0, false, ""}};
  plot::Panel right;
  right.title = "Sigmoid Derivative: σ'(x) = σ(x)(1 - σ(x))";
  right.xlabel = "x";
  right.ylabel = "σ'(x)";
  right.key = "top right";
  right.yrange = {{0, 0.27}};
  right.series = {{"", xs, gs, plot::Style::Lines, "#FF5722", 2.5}};
  right.lines = {{0.25, true, "max = 0.25"}};
  plot::Figure fig;
  fig.name = "sigmoid_and_derivative";
  fig.caption =
      "The seed's figure: sigma on [-6, 6] with the guide lines y = 0.5 and x = 0, and "
      "its derivative y(1 - y) with the maximum 0.25 at x = 0 (f32, 1000 points).";
  fig.panels = {left, right};
  fig.width = 1200;
  fig.height = 400;
  return fig;
}

template <class T>
plot::Series rel_error_series(const Data& d, const std::vector<T>& v, const char* title,
                              const char* color, plot::Style style) {
  plot::Series s{title, d.x, {}, style, color, 1.5};
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const long double exact = derivative_ld(d.x[i]);
    s.y.push_back(std::max(1e-18, static_cast<double>(std::fabs(v[i] - exact) / exact)));
  }
  return s;
}

plot::Figure error_figure(const Data& d, double one32) {
  plot::Panel p;
  p.title = "Relative error of sigma'(x) against a long double reference";
  p.xlabel = "x";
  p.ylabel = "relative error";
  p.logy = true;
  p.yrange = {{1e-18, 10}};
  p.key = "top left";
  p.series = {
      rel_error_series(d, d.formula32, "y(1-y) from the f32 output", "#d62728", plot::Style::Lines),
      rel_error_series(d, d.auto32, "autograd, f32", "#ff7f0e", plot::Style::Dashed),
      rel_error_series(d, d.fd, "central differences, f64", "#2ca02c", plot::Style::Lines),
      rel_error_series(d, d.formula64, "y(1-y) from the f64 output", "#1f77b4", plot::Style::Lines),
      rel_error_series(d, d.auto64, "autograd, f64", "#000000", plot::Style::Dashed)};
  p.lines = {{one32, false, ""}};
  plot::Figure fig;
  fig.name = "derivative_error";
  fig.caption =
      "Relative error of each way of computing the derivative on the grid (errors "
      "below 10^-18, i.e. exact, drawn at 10^-18). The dotted line is x = " +
      fmt("%.5g", one32) + ", where the f32 output rounds to 1.";
  fig.panels = {p};
  fig.width = 1000;
  fig.height = 500;
  return fig;
}

constexpr int kMaxPoints = 1000001;

void run(Report& r, const Params& prm) {
  const Context& ctx = r.context();
  const int points = prm.points.value_or(ctx.quick ? 401 : 4001);
  if (points < 3 || points > kMaxPoints || points % 2 == 0)
    throw cli::UsageError("derivative: --points must be odd and in [3, " +
                          std::to_string(kMaxPoints) + "], got " + std::to_string(points));
  const double t0 = now_seconds();
  const Data d = compute(points);
  r.timing("derivative: grid", now_seconds() - t0);
  const std::size_t n = d.x.size();

  r.text(
      "The seed derives sigma'(x) = sigma(x)(1 - sigma(x)) and notes that backpropagation can "
      "then reuse the forward output y. Here the derivative is computed on " +
      std::to_string(n) +
      " evenly spaced points of [-20, 20] in three independent ways: the "
      "formula y(1 - y) applied to sigma's output, sigma's autograd (`x.requires_grad_()`, "
      "`sigmoid(x).sum().backward()`, then `x.grad()`), and central differences "
      "(sigma(x+h) - sigma(x-h)) / 2h in f64 with h = 2^-17. All are compared with "
      "sigma(x) sigma(-x) evaluated in long double.");
  r.figure(seed_figure());

  const Errors e_auto64 = errors(d.x, d.auto64), e_form64 = errors(d.x, d.formula64);
  const Errors e_fd = errors(d.x, d.fd), e_auto32 = errors(d.x, d.auto32);
  const Errors e_form32 = errors(d.x, d.formula32);
  r.table(
      {"method", "precision", "max abs error", "max rel error", "at x"},
      {error_row("autograd", "f64", e_auto64), error_row("y(1-y) from the output", "f64", e_form64),
       error_row("central differences", "f64", e_fd), error_row("autograd", "f32", e_auto32),
       error_row("y(1-y) from the output", "f32", e_form32)});

  double worst_vs_bound = 0, max_g = -1, argmax = 0;
  std::size_t fd_fail = 0, first_one = n, wrong_zero = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double err = static_cast<double>(std::fabs(d.fd[i] - derivative_ld(d.x[i])));
    fd_fail += err > d.fd_bound[i];
    worst_vs_bound = std::max(worst_vs_bound, err / d.fd_bound[i]);
    if (d.y32[i] == 1.0f) {
      first_one = std::min(first_one, i);
      wrong_zero += d.formula32[i] == 0;
    }
    if (d.auto64[i] > max_g) {
      max_g = d.auto64[i];
      argmax = d.x[i];
    }
  }
  // The formula from the f64 output: y carries <= 1 ULP (2^-53 near 1), which
  // 1 - y turns into a relative error of 2^-53 (1 + e^x); the product adds a
  // few ULP. Autograd must stay within a few ULP everywhere instead.
  std::size_t over_bound64 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double bound = std::ldexp(1.0, -53) * (std::exp(std::max(d.x[i], 0.0)) + 8);
    over_bound64 += static_cast<double>(std::fabs(d.formula64[i] - derivative_ld(d.x[i])) /
                                        derivative_ld(d.x[i])) > bound;
  }
  const double one32 = first_one < n ? d.x[first_one] : std::numeric_limits<double>::quiet_NaN();
  // Relative error in units of 2^-52 (f64) and 2^-23 (f32): ULP at the bottom
  // of a binade, so an upper bound on the error in ULP.
  const double ulps64 = e_auto64.max_rel / std::ldexp(1.0, -52);
  const double ulps32 = e_auto32.max_rel / std::ldexp(1.0, -23);

  r.text("The formula y(1 - y) is exact algebra but not exact arithmetic. Once y passes 1/2, "
         "1 - y keeps only the bits that y is missing: y carries an error of up to one ULP "
         "near 1, which becomes a relative error of about 2^-53 e^x in 1 - y in f64 (" +
         fmt("%.1e", e_form64.max_rel) + " at x = " + fmt("%.4g", e_form64.at) +
         ") and 2^-24 e^x in f32 (" + fmt("%.2g", e_form32.max_rel) + " at x = " +
         fmt("%.4g", e_form32.at) +
         "). sigma's autograd therefore uses y(1 - y) only where y <= 1/2 and computes "
         "sigma(x) sigma(-x) from the saved input elsewhere: its worst relative error on the "
         "grid is " +
         fmt("%.2e", e_auto64.max_rel) + " in f64 and " + fmt("%.2e", e_auto32.max_rel) +
         " in f32. PyTorch's backward uses y(1 - y) everywhere. Central differences are "
         "limited by truncation (h^2/6 times the third derivative) and by rounding in the "
         "difference of two nearly equal values; they stayed within that bound at " +
         std::to_string(n - fd_fail) + " of " + std::to_string(n) + " points.");
  r.text("In f32 the output rounds to exactly 1 from x = " + fmt("%.5g", one32) +
         " on this grid, and from there y(1 - y) returns 0 although the true derivative is "
         "still " +
         fmt("%.3g", static_cast<double>(derivative_ld(one32))) +
         ". The figure shows the relative error of each method across the grid.");
  r.figure(error_figure(d, one32));

  r.check("autograd f64 vs exact, max relative error", fmt("%.2f", ulps64) + " ULP",
          "<= 4 ULP", ulps64 <= 4);
  r.check("autograd f32 vs exact, max relative error (including where y rounds to 1)",
          fmt("%.2f", ulps32) + " ULP", "<= 4 ULP", ulps32 <= 4);
  r.check("y(1-y) from the f64 output vs exact: within 2^-53 (e^max(x,0) + 8) at every point",
          std::to_string(over_bound64) + " points over", "0", over_bound64 == 0);
  r.check("central differences within truncation + rounding bound",
          std::to_string(fd_fail) + " of " + std::to_string(n) + " over (worst " +
              fmt("%.2f", worst_vs_bound) + " of the bound)",
          "0 over", fd_fail == 0);
  r.check("max derivative (autograd, f64) on the grid",
          fmt("%.17g", max_g) + " at x = " + fmt("%g", argmax), "0.25 at x = 0",
          max_g == 0.25 && argmax == 0);
  const double pred_one = std::log(std::ldexp(1.0, 25) - 1);
  const double step = 2 * kSpan / static_cast<double>(n - 1);
  r.check("f32: y(1-y) is 0 where y rounds to 1, from grid x",
          fmt("%.5g", one32) + " (" + std::to_string(wrong_zero) + " zeros)",
          "first grid point >= ln(2^25 - 1) = 17.33",
          one32 >= pred_one && one32 < pred_one + step && wrong_zero == n - first_one);

  r.metric("autograd_max_rel_err_f64", e_auto64.max_rel);
  r.metric("autograd_max_rel_err_f32", e_auto32.max_rel);
  r.metric("formula_max_rel_err_f64", e_form64.max_rel);
  r.metric("fd_max_abs_err_f64", e_fd.max_abs);
  r.metric("max_derivative", max_g);
  r.metric("f32_output_is_one_from_x", one32);
}

}  // namespace

Section derivative_section() {
  auto prm = std::make_shared<Params>();
  return {"derivative", "Derivative",
          "sigma'(x): the formula y(1-y), autograd and central differences on [-20, 20]",
          [prm](CLI::App& app) {
            app.add_option("--points", prm->points,
                           "Odd number of grid points on [-20, 20], 3..1000001 (default 4001; "
                           "--quick: 401)");
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
