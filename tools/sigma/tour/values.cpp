// Tour section: the numbers the seed prints, recomputed through sigma's
// tensor op and autograd exactly as the seed's snippets do.
#include <cmath>
#include <string>
#include <vector>

#include "../number_format.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

constexpr int kPoints = 5;
const float kXs[kPoints] = {-3, -1, 0, 1, 3};
const char* const kSeedPrints[kPoints] = {"0.0474", "0.2689", "0.5000", "0.7311", "0.9526"};

void five_values(Report& r) {
  r.text("The seed feeds the five inputs below to `sigmoid` as one tensor and prints four "
         "decimals. Here the same tensor goes through `sigma::sigmoid`, and each element is "
         "rounded to four decimals and compared with the seed's output as text.");
  const Tensor y = sigma::sigmoid(sigma::tensor({-3.0f, -1.0f, 0.0f, 1.0f, 3.0f}));
  const float* v = y.data_ptr<float>();
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < kPoints; ++i) {
    const std::string x = cli::format_shortest(kXs[i]);
    const std::string got = cli::format_value(v[i], 4);
    const bool ok = got == kSeedPrints[i];
    rows.push_back({x, got, kSeedPrints[i], ok ? "PASS" : "FAIL"});
    r.check("sigmoid(" + x + ") at 4 decimals", got, kSeedPrints[i], ok);
    r.metric("sigmoid_at_" + std::to_string(static_cast<int>(kXs[i])), v[i]);
  }
  r.table({"x", "sigmoid(x)", "seed prints", ""}, rows);
}

void gradient_at_zero(Report& r) {
  Tensor x = sigma::tensor({0.0}, sigma::requires_grad());
  Tensor y = sigma::sigmoid(x);
  y.backward();
  const double g0 = x.grad().item<double>();
  const double y0 = y.item<double>();
  r.check("sigmoid(0) through the tensor op", cli::format_value(y0, 4), "0.5000", y0 == 0.5);
  r.check("sigmoid'(0) from autograd, x.grad()", cli::format_value(g0, 4), "0.2500 = 0.5 * (1 - 0.5)",
          g0 == 0.25);
  r.text("The gradient snippet, replayed: a one-element `x = tensor({0.0})` that requires "
         "grad, `sigmoid(x).backward()`, then `x.grad()`. Autograd returns " +
         cli::format_value(g0, 4) +
         ", which is y(1-y) at y = 0.5, the peak of the derivative.");
}

// e^-100 / (1 + e^-100) in long double, rounded once to the nearest f32 (a
// subnormal: 27 * 2^-149).
float expected_sigmoid_minus_100() {
  const long double e = std::exp(-100.0L);
  return static_cast<float>(e / (1.0L + e));
}

void extremes(Report& r) {
  const Tensor y = sigma::sigmoid(sigma::tensor({100.0f, -100.0f}));
  const float hi = y.data_ptr<float>()[0], lo = y.data_ptr<float>()[1];
  const float lo_expected = expected_sigmoid_minus_100();
  r.check("sigmoid(100) in f32", cli::format_shortest(hi), "1", hi == 1.0f);
  r.check("sigmoid(-100) in f32, exact", fmt("%.5e", lo),
          fmt("%.5e", lo_expected) + " (e^-100 rounded to f32)", lo == lo_expected);
  r.check("sigmoid(+-100) finite", std::isfinite(hi) && std::isfinite(lo) ? "yes" : "no", "yes",
          std::isfinite(hi) && std::isfinite(lo));
  const float big = 100.0f;
  const float naive = 1.0f / (1.0f + std::exp(big));
  r.check("PyTorch's formula 1/(1+exp(-x)) in f32 at x = -100", cli::format_shortest(naive),
          "0 (exp(100) is inf in f32)", naive == 0.0f && std::isinf(std::exp(big)));
  r.metric("sigmoid_at_-100", lo);
  r.text("The stability snippet gives " + cli::format_shortest(hi) + " at x = 100 and " +
         fmt("%.4e", lo) +
         " at x = -100: nothing overflows and nothing turns into NaN. The second value is the "
         "f32 subnormal closest to e^-100 (27 times 2^-149), the correctly rounded answer. "
         "The seed shows `tensor([1., 0.])` because PyTorch's CPU kernel evaluates "
         "1/(1+exp(-x)); at x = -100 the exponential exp(100) is already inf in f32, so the "
         "quotient is exactly 0: the zero PyTorch prints is a real zero, not a display rounding. "
         "sigma keeps the tiny true value instead.");
}

void run(Report& r) {
  five_values(r);
  gradient_at_zero(r);
  extremes(r);
}

}  // namespace

Section values_section() {
  return {"values", "The seed's printed values", "The numbers the seed prints, recomputed",
          nullptr, run};
}

}  // namespace sigma::tour
