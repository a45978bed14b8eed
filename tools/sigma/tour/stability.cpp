// Tour section "stability": the seed's numerical-stability claims at the
// inputs where they matter. Naive vs stable sigmoid at +-100 and +-1000,
// log(sigmoid(x)) vs log_sigmoid(x), sigmoid-then-BCELoss vs
// BCEWithLogitsLoss at large logits, and the gradient at x = 20 from the
// output alone vs from the input; each against a long double value.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sigma/kernels.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tour.h"

namespace sigma::tour {

namespace {

// As fmt, but a zero prints as "0" or "-0" whatever the format.
std::string fmt_value(const char* f, double v) {
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  return fmt(f, v);
}

std::string val(double v) { return fmt_value("%.6g", v); }
std::string val_ld(long double v) { return fmt_value("%.6e", static_cast<double>(v)); }

long double sigmoid_ld(long double x) {
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}

long double softplus_ld(long double z) {
  return std::fmax(z, 0.0L) + std::log1p(std::exp(-std::fabs(z)));
}
long double log_sigmoid_ld(long double x) { return -softplus_ld(-x); }

template <class T>
ScalarType dtype_of() {
  return std::is_same_v<T, double> ? kDouble : kFloat;
}
template <class T>
const char* name_of() {
  return std::is_same_v<T, double> ? "f64" : "f32";
}

// Within one ULP of the exact value, or both the same infinity/zero after
// rounding.
template <class T>
bool close(T v, long double exact) {
  const T rounded = static_cast<T>(exact);
  if (v == rounded) return true;
  const T lo = std::nextafter(rounded, -std::numeric_limits<T>::infinity());
  const T hi = std::nextafter(rounded, std::numeric_limits<T>::infinity());
  return v >= lo && v <= hi;
}

// ---- Sigmoid at +-100 and +-1000.
template <class T>
struct Naive {
  T reciprocal, ratio, stable, kernel;
  bool reciprocal_inf, ratio_inf;  // the intermediate exponential overflowed
};

template <class T>
Naive<T> naive(T x) {
  Naive<T> n{};
  const T em = std::exp(-x), ep = std::exp(x);
  n.reciprocal = T(1) / (T(1) + em);
  n.reciprocal_inf = std::isinf(em);
  n.ratio = ep / (T(1) + ep);
  n.ratio_inf = std::isinf(ep);
  n.stable = x >= 0 ? T(1) / (T(1) + em) : ep / (T(1) + ep);
  sigma::sigmoid(std::span<const T>(&x, 1), std::span<T>(&n.kernel, 1));
  return n;
}

template <class T>
void sigmoid_rows(std::vector<std::vector<std::string>>& rows, bool& stable_ok) {
  for (T x : {T(-1000), T(-100), T(100), T(1000)}) {
    const Naive<T> n = naive(x);
    const long double exact = sigmoid_ld(x);
    stable_ok &= close(n.stable, exact) && close(n.kernel, exact);
    rows.push_back({val(x), name_of<T>(), val_ld(exact),
                    val(n.reciprocal) + (n.reciprocal_inf ? " (e^-x = inf)" : ""),
                    val(n.ratio) + (n.ratio_inf ? " (e^x = inf)" : ""), val(n.stable),
                    val(n.kernel)});
  }
}

void sigmoid_section(Report& r) {
  r.text(
      "Both textbook forms of the sigmoid compute an exponential that overflows for large "
      "|x|. `1/(1+e^-x)` survives it for x << 0 (1/inf = 0, with an overflow on the way) but "
      "returns 0 in f32 at x = -100 where the true value, 3.7e-44, is a representable "
      "subnormal. `e^x/(1+e^x)` does not survive it: inf/inf is NaN, from x = 88.72 in f32 "
      "and 709.78 in f64. The seed's piecewise form picks, for each sign of x, the one whose "
      "exponential cannot overflow:");
  r.code(
      "float stable_sigmoid(float x) {\n"
      "  if (x >= 0) return 1 / (1 + std::exp(-x));  // e^-x <= 1\n"
      "  const float e = std::exp(x);                  // e^x < 1\n"
      "  return e / (1 + e);\n"
      "}");
  std::vector<std::vector<std::string>> rows;
  bool stable_ok = true;
  sigmoid_rows<float>(rows, stable_ok);
  sigmoid_rows<double>(rows, stable_ok);
  r.table({"x", "precision", "exact", "1/(1+e^-x)", "e^x/(1+e^x)", "stable (piecewise)",
           "sigma::sigmoid"},
          rows);

  const Naive<float> f100 = naive(100.0f), fm100 = naive(-100.0f);
  const Naive<double> d1000 = naive(1000.0), dm1000 = naive(-1000.0);
  r.check("e^x/(1+e^x) at x = 100 (f32) and x = 1000 (f64)",
          val(f100.ratio) + ", " + val(d1000.ratio), "NaN, NaN (inf/inf)",
          std::isnan(f100.ratio) && std::isnan(d1000.ratio));
  r.check("1/(1+e^-x) at x = -100, f32 (exact 3.72e-44)",
          val(fm100.reciprocal) + (fm100.reciprocal_inf ? ", e^-x = inf" : ""),
          "0 after an inf intermediate", fm100.reciprocal == 0 && fm100.reciprocal_inf);
  r.check("1/(1+e^-x) at x = -1000, f64",
          val(dm1000.reciprocal) + (dm1000.reciprocal_inf ? ", e^-x = inf" : ""),
          "0 after an inf intermediate", dm1000.reciprocal == 0 && dm1000.reciprocal_inf);
  r.check("stable form and sigma::sigmoid at +-100, +-1000 (f32, f64)",
          stable_ok ? "finite, within 1 ULP of exact" : "off", "finite, within 1 ULP of exact",
          stable_ok);
}

// ---- log(sigmoid(x)) vs log_sigmoid(x).
template <class T>
struct LogRow {
  T naive, fused;
};

template <class T>
LogRow<T> log_row(T x) {
  const Tensor t = sigma::tensor(std::vector<T>{x}, dtype_of<T>());
  return {sigma::log(sigma::sigmoid(t)).item<T>(), sigma::log_sigmoid(t).item<T>()};
}

double log_section(Report& r) {
  std::vector<std::vector<std::string>> rows;
  bool fused_ok = true;
  auto add = [&](auto x) {
    const auto row = log_row(x);
    const long double exact = log_sigmoid_ld(x);
    fused_ok &= close(row.fused, exact);
    rows.push_back({val(x), name_of<decltype(x)>(), val_ld(exact), val(row.naive), val(row.fused)});
    return row;
  };
  const LogRow<float> m200 = add(-200.0f);
  add(-100.0f);
  const LogRow<float> p20 = add(20.0f);
  const LogRow<double> m800 = add(-800.0);
  add(40.0);
  r.text(
      "The log of a probability is where sigmoid's rounding shows first. `log(sigmoid(x))` "
      "takes the log of a number that has already underflowed to 0 (x = -200 in f32, -800 in "
      "f64: -inf instead of about x), lost most of its bits in the subnormal range (x = -100 "
      "in f32) or rounded to 1 (x = 20 in f32: 0 instead of -2.06e-9). `log_sigmoid(x)` "
      "computes min(x, 0) - log1p(e^-|x|) and never forms the small probability at all.");
  r.table({"x", "precision", "exact", "log(sigmoid(x))", "log_sigmoid(x)"}, rows);
  r.check("log(sigmoid(-200)), f32", val(m200.naive), "-inf",
          std::isinf(m200.naive) && m200.naive < 0);
  r.check("log_sigmoid(-200), f32", val(m200.fused), "-200 (within 1 ULP)",
          close(m200.fused, log_sigmoid_ld(-200.0L)));
  r.check("log(sigmoid(-800)), f64", val(m800.naive), "-inf",
          std::isinf(m800.naive) && m800.naive < 0);
  r.check("log(sigmoid(20)), f32 (exact -2.06e-9)", val(p20.naive), "0", p20.naive == 0);
  r.check("log_sigmoid at every row", fused_ok ? "within 1 ULP of exact" : "off",
          "within 1 ULP of exact", fused_ok);
  return m200.fused;
}

// ---- sigmoid + BCELoss vs BCEWithLogitsLoss.
struct LossGrad {
  double loss, grad;
};

LossGrad bce_after_sigmoid(float logit, float target) {
  Tensor x = sigma::tensor({logit}).requires_grad_();
  nn::BCELoss criterion;
  Tensor loss = criterion(sigma::sigmoid(x), sigma::tensor({target}));
  loss.backward();
  return {loss.item<double>(), x.grad().item<double>()};
}

LossGrad bce_with_logits(float logit, float target) {
  Tensor x = sigma::tensor({logit}).requires_grad_();
  nn::BCEWithLogitsLoss criterion;
  Tensor loss = criterion(x, sigma::tensor({target}));
  loss.backward();
  return {loss.item<double>(), x.grad().item<double>()};
}

double bce_section(Report& r) {
  struct Case {
    float logit, target;
  };
  const Case cases[] = {{200, 0}, {-200, 1}, {20, 0}, {10, 0}, {2, 1}};
  std::vector<std::vector<std::string>> rows;
  bool fused_ok = true;
  LossGrad at200_naive{}, at200_fused{};
  double grad20 = 0;
  for (const Case& c : cases) {
    const LossGrad a = bce_after_sigmoid(c.logit, c.target), b = bce_with_logits(c.logit, c.target);
    const long double exact = c.target == 1 ? softplus_ld(-c.logit) : softplus_ld(c.logit);
    const long double exact_grad = sigmoid_ld(c.logit) - c.target;
    fused_ok &=
        close(static_cast<float>(b.loss), exact) && close(static_cast<float>(b.grad), exact_grad);
    if (c.logit == 20) grad20 = a.grad;
    if (c.logit == 200) {
      at200_naive = a;
      at200_fused = b;
    }
    rows.push_back({val(c.logit), val(c.target), val_ld(exact), val(a.loss), val(b.loss),
                    val_ld(exact_grad), val(a.grad), val(b.grad)});
  }
  r.text(
      "The same happens inside a loss. Applying `sigmoid` and then `BCELoss` passes a "
      "probability that has rounded to exactly 0 or 1, and BCELoss, like PyTorch's, clamps "
      "each log at -100 to stay finite: a confidently wrong logit of 200 costs 100 instead of "
      "200, and in f32 a logit of only 20 already hits the clamp. The gradient through the "
      "clamp is wrong too. At logit 200 it is 0, so the most wrong example teaches the model "
      "nothing. At logit 20 it is " +
      val(grad20) +
      " instead of 1: BCELoss's backward divides "
      "by max(p (1 - p), 1e-12) with p rounded to 1, and sigma's autograd then multiplies by "
      "the exact sigmoid gradient 2.06e-9 (PyTorch multiplies by y (1 - y) = 0 and gets 0). "
      "`BCEWithLogitsLoss` works on the logit (log-sum-exp form) and gets both the loss and "
      "the gradient sigmoid(x) - t right. All values f32, reduction mean over one element.");
  r.table({"logit", "target", "exact loss", "sigmoid + BCELoss", "BCEWithLogitsLoss",
           "exact d loss/d logit", "gradient, sigmoid + BCELoss", "gradient, BCEWithLogitsLoss"},
          rows);
  r.check("sigmoid + BCELoss at logit 200, target 0", val(at200_naive.loss),
          "100 (log clamped at -100)", at200_naive.loss == 100);
  r.check("BCEWithLogitsLoss at logit 200, target 0", val(at200_fused.loss), "200",
          at200_fused.loss == 200);
  r.check("gradient at logit 200, target 0: sigmoid + BCELoss vs BCEWithLogitsLoss",
          val(at200_naive.grad) + " vs " + val(at200_fused.grad), "0 (clamped) vs 1",
          at200_naive.grad == 0 && at200_fused.grad == 1);
  r.check("BCEWithLogitsLoss loss and gradient at every row",
          fused_ok ? "within 1 ULP of exact" : "off", "within 1 ULP of exact", fused_ok);
  return at200_fused.loss;
}

// ---- The gradient at x = 20: y (1 - y) from the output vs from the input.
template <class T>
struct GradRow {
  T y, output_only, from_input, autograd;
};

template <class T>
GradRow<T> grad_row(T x) {
  GradRow<T> g{};
  const T one = 1;
  sigma::sigmoid(std::span<const T>(&x, 1), std::span<T>(&g.y, 1));
  sigma::sigmoid_backward(std::span<const T>(&one, 1), std::span<const T>(&g.y, 1),
                          std::span<T>(&g.output_only, 1));
  sigma::sigmoid_backward_from_input(std::span<const T>(&one, 1), std::span<const T>(&x, 1),
                                     std::span<T>(&g.from_input, 1));
  Tensor t = sigma::tensor(std::vector<T>{x}, dtype_of<T>()).requires_grad_();
  t.sigmoid().sum().backward();
  g.autograd = t.grad().template item<T>();
  return g;
}

void grad_section(Report& r, float& exact20, float& output_only20) {
  std::vector<std::vector<std::string>> rows;
  auto add = [&](auto x) {
    const auto g = grad_row(x);
    const long double exact = sigmoid_ld(x) * sigmoid_ld(-x);
    rows.push_back({val(x), name_of<decltype(x)>(), fmt_value("%.17g", g.y), val(g.output_only),
                    val(g.from_input), val(g.autograd), val_ld(exact)});
    return g;
  };
  const GradRow<float> f20 = add(20.0f);
  add(20.0);
  const GradRow<double> d40 = add(40.0);
  r.text(
      "Finally the backward pass. The derivative written in terms of the output, y (1 - y), "
      "needs 1 - y, and once y has rounded to 1 that is 0: at x = 20 the f32 output is "
      "exactly 1 and the gradient from the output alone is 0 instead of 2.06e-9 (in f64 the "
      "same happens from x = 37.4). sigma's kernels offer the gradient from the saved input, "
      "sigma(x) sigma(-x), which has no cancellation. sigma's autograd uses it wherever the "
      "saved output is above 1/2 (for tanh, wherever |y| > 1/2), i.e. wherever 1 - y loses "
      "bits, not only where y has already reached 1.");
  r.table(
      {"x", "precision", "y = sigmoid(x)", "y (1 - y)", "sigma(x) sigma(-x)", "autograd", "exact"},
      rows);
  const long double e20 = sigmoid_ld(20.0L) * sigmoid_ld(-20.0L);
  r.check("gradient at x = 20 from the f32 output, y (1 - y)", val(f20.output_only), "0 (y == 1)",
          f20.output_only == 0 && f20.y == 1);
  r.check("gradient at x = 20, f32, from the input and by autograd",
          val(f20.from_input) + ", " + val(f20.autograd), "2.0612e-09 (within 3 ULP)",
          std::fabs(f20.from_input - e20) <= 3 * std::ldexp(1.0L, -52) &&
              std::fabs(f20.autograd - e20) <= 3 * std::ldexp(1.0L, -52));
  r.check("gradient at x = 40 from the f64 output vs autograd",
          val(d40.output_only) + " vs " + val(d40.autograd), "0 vs 4.2484e-18",
          d40.output_only == 0 && close(d40.autograd, sigmoid_ld(40.0L) * sigmoid_ld(-40.0L)));
  exact20 = f20.autograd;
  output_only20 = f20.output_only;
}

void run(Report& r) {
  sigmoid_section(r);
  const double log200 = log_section(r);
  const double bce200 = bce_section(r);
  float exact20 = 0, output_only20 = 0;
  grad_section(r, exact20, output_only20);
  r.metric("log_sigmoid_at_minus_200", log200);
  r.metric("bce_with_logits_at_200", bce200);
  r.metric("grad_at_20_exact", exact20);
  r.metric("grad_at_20_output_only", output_only20);
}

}  // namespace

Section stability_section() {
  return {"stability", "Numerical stability",
          "Naive vs stable sigmoid, log_sigmoid, BCEWithLogitsLoss and the gradient at large |x|",
          nullptr, run};
}

}  // namespace sigma::tour
