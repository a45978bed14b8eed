// Tour section "zigzag": sigmoid outputs are all positive, so the weight
// gradient of the next layer has one sign along each row for every example
// (dL/dw_j = dL/dz h_j). Measured on per-example gradients after a sigmoid
// and after a tanh layer, then shown on a two-weight regression where
// gradient descent on positive inputs zig-zags and on zero-centred inputs
// goes straight to the optimum.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "../commands.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

constexpr std::int64_t kIn = 16, kHidden = 32, kOut = 8;  // the sign-pattern network
constexpr std::int64_t kPoints = 256;                      // the two-weight regression
constexpr std::array<double, 2> kOptimum = {2.0, -1.0};

struct Params {
  std::optional<int> examples;      // per-example gradients in part (a)
  std::optional<int> steps;         // most gradient-descent steps in part (b)
  std::optional<double> tolerance;  // ||w - w*|| relative to the start
};

// ---- (a) Signs of per-example weight gradients after the activation.

struct SignPattern {
  double same_sign = 0;        // fraction of (example, unit) rows of one sign
  double same_sign_batch = 0;  // the same in the gradient of the batch mean
  double positive_h = 0;       // fraction of hidden activations > 0
  std::string first_row;       // signs of example 0, unit 0: "++-+..."
};

// Fraction of the rows of g [kOut, kHidden] whose entries are all > 0 or all < 0.
double one_sign_rows(const Tensor& g, std::string* first_row = nullptr) {
  const std::vector<float> v = g.to_vector<float>();
  int rows = 0;
  for (std::int64_t j = 0; j < kOut; ++j) {
    int pos = 0, neg = 0;
    for (std::int64_t i = 0; i < kHidden; ++i) {
      const float e = v[static_cast<std::size_t>(j * kHidden + i)];
      pos += e > 0;
      neg += e < 0;
      if (first_row && j == 0) *first_row += e > 0 ? '+' : e < 0 ? '-' : '0';
    }
    rows += pos == kHidden || neg == kHidden;
  }
  return static_cast<double>(rows) / kOut;
}

// x [N, 16] -> fc1 -> act -> h [N, 32] -> fc2 -> z [N, 8]; loss 0.5 ||z - t||^2.
SignPattern sign_pattern(bool sigmoid, nn::Linear& fc1, nn::Linear& fc2, const Tensor& x,
                         const Tensor& t) {
  auto hidden = [&](const Tensor& xs) { return sigmoid ? fc1(xs).sigmoid() : fc1(xs).tanh(); };
  SignPattern s;
  const std::int64_t n = x.size(0);
  double same = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    fc1->zero_grad();
    fc2->zero_grad();
    const Tensor z = fc2(hidden(x.narrow(0, i, 1)));
    ((z - t.narrow(0, i, 1)).square().sum() * 0.5).backward();
    same += one_sign_rows(fc2->weight.grad(), i == 0 ? &s.first_row : nullptr);
  }
  s.same_sign = same / static_cast<double>(n);
  fc1->zero_grad();
  fc2->zero_grad();
  const Tensor h = hidden(x);
  ((fc2(h) - t).square().sum({1}).mean() * 0.5).backward();
  s.same_sign_batch = one_sign_rows(fc2->weight.grad());
  s.positive_h = (h > 0.0).to(kDouble).mean().item<double>();
  return s;
}

void part_a(Report& r, int examples) {
  nn::Linear fc1(kIn, kHidden), fc2(kHidden, kOut);
  const Tensor x = sigma::randn({examples, kIn});
  const Tensor t = sigma::randn({examples, kOut});
  const SignPattern sig = sign_pattern(true, fc1, fc2, x, t);
  const SignPattern tnh = sign_pattern(false, fc1, fc2, x, t);

  r.text("The weight w_j from hidden unit j to an output unit gets the gradient dL/dz h_j: one "
         "number dL/dz shared by the whole row, times each unit's activation. After a sigmoid "
         "every h_j is positive, so for any single example the row's gradient has the sign of "
         "dL/dz in every entry. A network `Linear(16, 32)` + activation + `Linear(32, 8)` with a "
         "squared-error loss, run once per example (" +
         std::to_string(examples) +
         " examples, one backward pass each, same weights and data for both activations), "
         "shows it in the gradient autograd computes for the second layer's weight:");
  r.table({"activation", "h > 0", "row 1 of dL/dW, example 1", "rows of one sign, per example",
           "rows of one sign, batch gradient"},
          {{"Sigmoid", fmt("%.1f%%", 100 * sig.positive_h), "`" + sig.first_row + "`",
            fmt("%.1f%%", 100 * sig.same_sign), fmt("%.1f%%", 100 * sig.same_sign_batch)},
           {"Tanh", fmt("%.1f%%", 100 * tnh.positive_h), "`" + tnh.first_row + "`",
            fmt("%.1f%%", 100 * tnh.same_sign), fmt("%.1f%%", 100 * tnh.same_sign_batch)}});
  r.text("Every per-example update of a row moves all 32 weights up together or down together "
         "after a sigmoid; after a tanh the signs follow the hidden units' signs and a row of one "
         "sign is a 2 x 2^-32 accident. Averaging over a batch mixes examples with different "
         "signs of dL/dz, so the batch gradient is less constrained, but it is still a sum of "
         "such one-signed moves, which is what slows the optimisation below.");
  r.metric("same_sign_fraction_sigmoid", sig.same_sign);
  r.metric("same_sign_fraction_tanh", tnh.same_sign);
  r.metric("same_sign_fraction_sigmoid_batch", sig.same_sign_batch);
  r.check("per-example rows of one sign after Sigmoid", fmt("%.4g", sig.same_sign), "1",
          sig.same_sign == 1.0);
  r.check("per-example rows of one sign after Tanh", fmt("%.4g", tnh.same_sign), "< 0.05",
          tnh.same_sign < 0.05);
}

// ---- (b) Gradient descent on two weights.

struct Descent {
  std::string name;
  double lambda_min = 0, lambda_max = 0, lr = 0;
  std::array<double, 3> hessian{};  // a, b, c of [[a, b], [b, c]]
  std::vector<double> w1, w2, loss;  // at steps 0, 1, ...
  int steps_to_tolerance = -1;       // -1: not reached
};

// z = w1 h1 + w2 h2 fitted to y = h . w* by full-batch gradient descent from
// w = 0, loss 0.5 mean((z - y)^2), step 2 / (lambda_min + lambda_max).
Descent descend(std::string name, const Tensor& h, int max_steps, double tolerance) {
  Descent d;
  d.name = std::move(name);
  const Tensor wstar = sigma::tensor({kOptimum[0], kOptimum[1]}, sigma::dtype(kDouble));
  const Tensor y = h.matmul(wstar);
  const std::vector<double> hh = (h.t().matmul(h) / static_cast<double>(h.size(0))).to_vector<double>();
  d.hessian = {hh[0], hh[1], hh[3]};
  const double m = (hh[0] + hh[3]) / 2, q = std::hypot((hh[0] - hh[3]) / 2, hh[1]);
  d.lambda_min = m - q;
  d.lambda_max = m + q;
  d.lr = 2 / (d.lambda_min + d.lambda_max);

  Tensor w = sigma::zeros({2}, sigma::dtype(kDouble).requires_grad(true));
  optim::SGD opt({w}, optim::SGDOptions(d.lr));
  const double dist0 = std::hypot(kOptimum[0], kOptimum[1]);
  for (int step = 0;; ++step) {
    opt.zero_grad();
    const Tensor loss = (h.matmul(w) - y).square().mean() * 0.5;
    const std::vector<double> wv = w.detach().to_vector<double>();
    d.w1.push_back(wv[0]);
    d.w2.push_back(wv[1]);
    d.loss.push_back(loss.item<double>());
    const double dist = std::hypot(wv[0] - kOptimum[0], wv[1] - kOptimum[1]);
    if (d.steps_to_tolerance < 0 && dist <= tolerance * dist0) d.steps_to_tolerance = step;
    if (step == max_steps || dist <= 1e-8 * dist0) break;
    loss.backward();
    opt.step();
  }
  return d;
}

// The level set 0.5 (w - w*)^T H (w - w*) = level as a closed curve.
plot::Series contour(const Descent& d, double level, bool titled) {
  plot::Series s{titled ? "loss contours" : "", {}, {}, plot::Style::Lines, "#aaaaaa", 1};
  for (int i = 0; i <= 180; ++i) {
    const double a = 2 * std::numbers::pi * i / 180, c = std::cos(a), sn = std::sin(a);
    const double quad = d.hessian[0] * c * c + 2 * d.hessian[1] * c * sn + d.hessian[2] * sn * sn;
    const double radius = std::sqrt(2 * level / quad);
    s.x.push_back(kOptimum[0] + radius * c);
    s.y.push_back(kOptimum[1] + radius * sn);
  }
  return s;
}

plot::Panel path_panel(const Descent& d, const std::string& color,
                       std::pair<double, double> xr, std::pair<double, double> yr) {
  plot::Panel p;
  p.title = d.name + " inputs: gradient-descent path";
  p.xlabel = "w1";
  p.ylabel = "w2";
  p.xrange = xr;
  p.yrange = yr;
  p.key = "top right";
  const double l0 = d.loss.front();
  for (double f : {1.0, 0.2, 0.04}) p.series.push_back(contour(d, f * l0, f == 1.0));
  p.series.push_back({"path from w = (0, 0)", d.w1, d.w2, plot::Style::LinesPoints, color, 1.5});
  p.series.push_back({"optimum (2, -1)", {kOptimum[0]}, {kOptimum[1]}, plot::Style::Points,
                      "#000000", 5});
  return p;
}

void paths_figure(Report& r, const Descent& sig, const Descent& tnh) {
  double lo1 = 0, hi1 = kOptimum[0], lo2 = kOptimum[1], hi2 = 0;
  for (const Descent* d : {&sig, &tnh}) {
    lo1 = std::min(lo1, *std::min_element(d->w1.begin(), d->w1.end()));
    hi1 = std::max(hi1, *std::max_element(d->w1.begin(), d->w1.end()));
    lo2 = std::min(lo2, *std::min_element(d->w2.begin(), d->w2.end()));
    hi2 = std::max(hi2, *std::max_element(d->w2.begin(), d->w2.end()));
  }
  const double span = std::max(hi1 - lo1, hi2 - lo2) + 1.0;
  const double c1 = (lo1 + hi1) / 2, c2 = (lo2 + hi2) / 2;
  const std::pair<double, double> xr{c1 - span / 2, c1 + span / 2}, yr{c2 - span / 2, c2 + span / 2};

  plot::Panel loss;
  loss.title = "Loss vs step";
  loss.xlabel = "gradient-descent step";
  loss.ylabel = "loss 0.5 mean((z - y)^2)";
  loss.logy = true;
  loss.key = "top right";
  for (const auto& [d, color] : {std::pair{&sig, "#d62728"}, std::pair{&tnh, "#1f77b4"}}) {
    plot::Series s{d->name + " inputs", {}, d->loss, plot::Style::LinesPoints, color, 1.5};
    for (std::size_t i = 0; i < d->loss.size(); ++i) s.x.push_back(static_cast<double>(i));
    loss.series.push_back(std::move(s));
  }
  r.figure({"zigzag_paths",
            "Gradient descent on two weights: sigmoid (positive) inputs zig-zag, tanh "
            "(zero-centred) inputs go straight; loss on a log scale.",
            {path_panel(sig, "#d62728", xr, yr), path_panel(tnh, "#1f77b4", xr, yr), loss},
            0, 3 * 460, 460});
}

void part_b(Report& r, int max_steps, double tolerance) {
  const Tensor u = sigma::randn({kPoints, 2}, sigma::dtype(kDouble));
  const Descent sig = descend("Sigmoid", u.sigmoid(), max_steps, tolerance);
  const Descent tnh = descend("Tanh", u.tanh(), max_steps, tolerance);

  r.text("A regression with two weights, z = w1 h1 + w2 h2, where the inputs h are the "
         "activations of " + std::to_string(kPoints) +
         " standard normal pre-activations and the target is y = 2 h1 - h2: starting from "
         "w = (0, 0), w1 must go up and w2 down. Each single-example gradient is a multiple of h, "
         "so with sigmoid inputs every one of them moves both weights the same way, and their "
         "average mostly moves along (1, 1): the loss is steep in that direction and flat along "
         "(1, -1), where the optimum lies. Tanh inputs have mean zero and the bowl is round.");
  r.text("Both runs use full-batch gradient descent with the best fixed step for their own "
         "problem, 2 / (lambda_min + lambda_max) of the loss's Hessian E[h h^T], so the "
         "difference is not a matter of tuning. With that step the distance to the optimum "
         "shrinks by (kappa - 1) / (kappa + 1) per step, kappa = lambda_max / lambda_min, and "
         "the steep component flips sign every step: the zig-zag.");

  std::vector<std::vector<std::string>> rows;
  for (const Descent* d : {&sig, &tnh}) {
    const double kappa = d->lambda_max / d->lambda_min, rho = (kappa - 1) / (kappa + 1);
    const int predicted = static_cast<int>(std::ceil(std::log(tolerance) / std::log(rho)));
    rows.push_back({d->name, fmt("%.4g", d->lambda_min), fmt("%.4g", d->lambda_max),
                    fmt("%.4g", kappa), fmt("%.4g", d->lr), std::to_string(predicted),
                    d->steps_to_tolerance < 0 ? "not reached" : std::to_string(d->steps_to_tolerance)});
  }
  r.table({"inputs", "lambda_min", "lambda_max", "kappa", "step", "steps predicted",
           "steps to " + fmt("%.0e", tolerance) + " of the start distance"},
          rows);
  paths_figure(r, sig, tnh);

  const auto steps = [&](const Descent& d) {
    return d.steps_to_tolerance < 0 ? max_steps + 1 : d.steps_to_tolerance;
  };
  r.metric("steps_to_tolerance_sigmoid", steps(sig));
  r.metric("steps_to_tolerance_tanh", steps(tnh));
  r.metric("condition_number_sigmoid", sig.lambda_max / sig.lambda_min);
  r.metric("condition_number_tanh", tnh.lambda_max / tnh.lambda_min);
  r.check("gradient-descent steps to tolerance, Sigmoid vs Tanh inputs",
          std::to_string(steps(sig)) + " vs " + std::to_string(steps(tnh)), "Sigmoid more",
          steps(sig) > steps(tnh));
}

void run(Report& r, const Params& prm) {
  const bool quick = r.context().quick;
  const int examples = prm.examples.value_or(quick ? 64 : 256);
  const int steps = prm.steps.value_or(200);
  const double tolerance = prm.tolerance.value_or(1e-3);
  if (examples < 1 || steps < 1 || !(tolerance > 0 && tolerance < 1))
    throw cli::UsageError("zigzag: need --examples >= 1, --steps >= 1 and 0 < --tolerance < 1");
  part_a(r, examples);
  part_b(r, steps, tolerance);
}

}  // namespace

Section zigzag_section() {
  auto prm = std::make_shared<Params>();
  return {"zigzag", "Not zero-centred",
          "Same-sign weight gradients after a sigmoid, and gradient descent that zig-zags",
          [prm](CLI::App& app) {
            app.add_option("--examples", prm->examples,
                           "Examples whose weight-gradient signs are counted (default 256, "
                           "--quick 64)")
                ->check(CLI::Range(1, 1000000));
            app.add_option("--steps", prm->steps,
                           "Most gradient-descent steps on the two-weight problem (default 200, "
                           "--quick 200)")
                ->check(CLI::Range(1, 1000000));
            app.add_option("--tolerance", prm->tolerance,
                           "Distance to the optimum, relative to the start, that counts as "
                           "reached (default 1e-3)")
                ->check(CLI::Range(1e-12, 0.5));
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
