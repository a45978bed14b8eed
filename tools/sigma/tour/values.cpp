// Tour section: the numbers the seed prints, recomputed by sigma's kernels.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../number_format.h"
#include "sigma/reference.h"
#include "tour.h"

namespace sigma::tour {

namespace {

void run(Report& r) {
  r.text("The seed evaluates the sigmoid at five points and prints four decimals.");
  std::vector<std::vector<std::string>> rows;
  const float xs[] = {-3, -1, 0, 1, 3};
  const char* seed[] = {"0.0474", "0.2689", "0.5000", "0.7311", "0.9526"};
  for (int i = 0; i < 5; ++i) {
    const std::string got = cli::format_value(reference::sigmoid(xs[i]), 4);
    const bool ok = got == seed[i];
    rows.push_back({cli::format_shortest(xs[i]), got, seed[i], ok ? "PASS" : "FAIL"});
    r.check("sigmoid(" + cli::format_shortest(xs[i]) + ") at 4 decimals", got, seed[i], ok);
  }
  r.table({"x", "sigmoid(x)", "seed prints", ""}, rows);

  const float g0 = reference::sigmoid_backward(1.0f, reference::sigmoid(0.0f));
  r.check("sigmoid'(0) from the output, y(1-y)", cli::format_value(g0, 4), "0.2500", g0 == 0.25f);
  r.text("The derivative at 0 from the saved output y(1-y): " + cli::format_value(g0, 4) +
         " (the seed: 0.25).");

  // The seed's stability snippet: sigmoid(+-100) is exactly 1 and 0 in f32,
  // with no NaN or inf on the way.
  const float hi = reference::sigmoid(100.0f), lo = reference::sigmoid(-100.0f);
  r.check("sigmoid(100) in f32", cli::format_shortest(hi), "1", hi == 1.0f);
  r.check("sigmoid(-100) in f32 (true value 3.7e-44, subnormal)", cli::format_shortest(lo),
          "> 0, finite", lo > 0.0f && std::isfinite(lo));
  r.text("At x = +-100 the f32 results are " + cli::format_shortest(hi) + " and " +
         cli::format_shortest(lo) +
         ": no NaN or inf. The seed's `tensor([1., 0.])` shows 0 because PyTorch prints four "
         "decimals; the f32 value is the subnormal nearest to e^-100.");
  for (int i = 0; i < 5; ++i) r.metric("sigmoid_at_" + std::to_string(static_cast<int>(xs[i])),
                                       reference::sigmoid(xs[i]));
}

}  // namespace

Section values_section() {
  return {"values", "The seed's printed values", "The numbers the seed prints, recomputed",
          nullptr, run};
}

}  // namespace sigma::tour
