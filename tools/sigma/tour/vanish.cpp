// Tour section "vanish": the seed's DeepSigmoidNetwork (Linear(64, 64) +
// Sigmoid, ten times) passes back almost no gradient to its input. The same
// network with Tanh, ReLU and GELU, per-layer weight-gradient norms, and a
// depth sweep 1..20 beside the seed's 0.25^depth estimate show where the
// gradient goes and how fast.
#include <CLI/CLI.hpp>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../commands.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

constexpr std::int64_t kWidth = 64, kBatch = 32;
constexpr int kSeedDepth = 10;

struct Params {
  std::optional<int> trials;     // networks averaged per point
  std::optional<int> max_depth;  // deepest network of the sweep
};

enum class Act { Sigmoid, Tanh, ReLU, GELU };

struct ActInfo {
  Act act;
  const char* name;  // as the module
  const char* key;   // in metric keys
  const char* color;
};

constexpr std::array<ActInfo, 4> kActs = {{
    {Act::Sigmoid, "Sigmoid", "sigmoid", "#d62728"},
    {Act::Tanh, "Tanh", "tanh", "#1f77b4"},
    {Act::ReLU, "ReLU", "relu", "#2ca02c"},
    {Act::GELU, "GELU", "gelu", "#9467bd"},
}};

// depth x (Linear(64, 64), activation): x [N, 64] -> [N, 64].
nn::Sequential deep_network(Act act, int depth) {
  nn::Sequential net;
  for (int i = 0; i < depth; ++i) {
    net->push_back(nn::Linear(kWidth, kWidth));
    switch (act) {
      case Act::Sigmoid: net->push_back(nn::Sigmoid()); break;
      case Act::Tanh: net->push_back(nn::Tanh()); break;
      case Act::ReLU: net->push_back(nn::ReLU()); break;
      case Act::GELU: net->push_back(nn::GELU()); break;
    }
  }
  return net;
}

// One backward pass of output.sum() through a fresh network and batch.
struct Gradients {
  double input = 0;             // ||dL/dx||
  std::vector<double> weights;  // ||dL/dW_l||, layer 1 first
};

Gradients backprop(Act act, int depth) {
  auto net = deep_network(act, depth);
  auto x = sigma::randn({kBatch, kWidth}, sigma::requires_grad());
  net(x).sum().backward();
  Gradients g;
  g.input = x.grad().norm().item<double>();
  for (int l = 0; l < depth; ++l)
    g.weights.push_back(
        net->at<nn::LinearImpl>(static_cast<std::size_t>(2 * l)).weight.grad().norm().item<double>());
  return g;
}

// Geometric means over the trials (the norms span decades).
struct Sweep {
  // [activation][depth - 1]: geometric mean of ||dL/dx|| over the trials.
  std::array<std::vector<double>, kActs.size()> input;
  // [activation]: min and max of ||dL/dx|| at depth 10 over the trials.
  std::array<std::pair<double, double>, kActs.size()> spread10;
  // [activation][layer - 1]: geometric mean of ||dL/dW_l|| at depth 10.
  std::array<std::vector<double>, kActs.size()> layers10;
};

Sweep sweep(int max_depth, int trials) {
  Sweep s;
  for (std::size_t a = 0; a < kActs.size(); ++a) {
    s.spread10[a] = {INFINITY, 0};
    for (int depth = 1; depth <= max_depth; ++depth) {
      double log_input = 0;
      std::vector<double> log_layers(static_cast<std::size_t>(depth), 0.0);
      for (int t = 0; t < trials; ++t) {
        const Gradients g = backprop(kActs[a].act, depth);
        log_input += std::log(g.input);
        for (int l = 0; l < depth; ++l) log_layers[l] += std::log(g.weights[l]);
        if (depth == kSeedDepth)
          s.spread10[a] = {std::min(s.spread10[a].first, g.input),
                           std::max(s.spread10[a].second, g.input)};
      }
      s.input[a].push_back(std::exp(log_input / trials));
      if (depth == kSeedDepth)
        for (double v : log_layers) s.layers10[a].push_back(std::exp(v / trials));
    }
  }
  return s;
}

// Geometric-mean ratio of ||dL/dx|| from depth d to d + 1 over the sweep.
double decay_per_layer(const std::vector<double>& input) {
  const double n = static_cast<double>(input.size() - 1);
  return std::exp((std::log(input.back()) - std::log(input.front())) / n);
}

void seed_program(Report& r) {
  r.text("The seed's program, spelled with sigma: ten `Linear(64, 64)` + `Sigmoid` layers, a "
         "batch `x = randn({32, 64})` that requires grad, `output.sum().backward()`, and the "
         "norm of the gradient that reaches `x`.");
  const Gradients g = backprop(Act::Sigmoid, kSeedDepth);
  r.code("Input gradient norm: " + fmt("%.2e", g.input));
  r.metric("input_grad_norm_sigmoid_seed_program", g.input);
}

void explain(Report& r) {
  r.text("Why it vanishes: going backwards through one `Linear` + activation layer, the "
         "gradient is first multiplied unit by unit by the activation's derivative at that "
         "unit's pre-activation, then by the transposed weight matrix. Ten layers apply ten such "
         "factors in a row, so the gradient at the input is a product, and a product of numbers "
         "below one shrinks geometrically. The sigmoid's derivative is at most 0.25 (at 0) and "
         "smaller everywhere else, so each sigmoid layer alone divides the gradient by at least "
         "four: that is the seed's 0.25^depth estimate.");
  r.text("The weights contribute a factor too. With PyTorch's default initialisation "
         "(uniform in +-1/sqrt(64), variance 1/192) a 64x64 matrix scales a vector's norm by "
         "about sqrt(64/192) = 0.577. Here the pre-activations stay small, so each activation "
         "acts through its slope near 0: 1 for tanh, 0.25 for sigmoid, 0.5 for GELU on every "
         "unit, and 1 on about half the units for ReLU (a factor sqrt(1/2) on the norm). The "
         "product of the two predicts the factor per layer, and the measured factors follow it "
         "closely: even tanh loses gradient with this initialisation, but sigmoid pays 0.577 "
         "and 0.25 together, which puts its curve below 0.25^depth itself.");
}

// sqrt(64 var(w)) = sqrt(1/3) times the activation's root-mean-square slope
// for pre-activations near 0.
double predicted_factor(Act act) {
  const double weights = std::sqrt(1.0 / 3.0);
  switch (act) {
    case Act::Sigmoid: return weights * 0.25;
    case Act::Tanh: return weights;
    case Act::ReLU: return weights * std::sqrt(0.5);
    case Act::GELU: return weights * 0.5;
  }
  return 0;
}

void depth10_table(Report& r, const Sweep& s, int trials) {
  std::vector<std::vector<std::string>> rows;
  for (std::size_t a = 0; a < kActs.size(); ++a) {
    const double v = s.input[a][kSeedDepth - 1];
    rows.push_back({kActs[a].name, fmt("%.3e", v), fmt("%.3e", s.spread10[a].first),
                    fmt("%.3e", s.spread10[a].second), fmt("%.3g", decay_per_layer(s.input[a])),
                    fmt("%.3g", predicted_factor(kActs[a].act))});
    r.metric(std::string("input_grad_norm_") + kActs[a].key + "_depth10", v);
    r.metric(std::string(kActs[a].key) + "_decay_per_layer", decay_per_layer(s.input[a]));
  }
  r.text("The same measurement over " + std::to_string(trials) +
         " fresh networks and batches per activation (geometric mean, and the smallest and "
         "largest value seen), with the average factor by which the input gradient shrinks per "
         "added layer over the whole depth sweep, and the factor predicted below:");
  r.table({"activation", "||dL/dx|| at depth 10", "min", "max", "factor per layer",
           "predicted factor"},
          rows);
}

void layers_figure(Report& r, const Sweep& s) {
  plot::Panel p;
  p.title = "Weight-gradient norm per layer, depth-10 network";
  p.xlabel = "layer (1 = next to the input)";
  p.ylabel = "||dL/dW|| (geometric mean)";
  p.logy = true;
  p.xrange = {{0.5, kSeedDepth + 0.5}};
  p.key = "bottom right";
  for (std::size_t a = 0; a < kActs.size(); ++a) {
    plot::Series ser{kActs[a].name, {}, s.layers10[a], plot::Style::LinesPoints, kActs[a].color};
    for (int l = 1; l <= kSeedDepth; ++l) ser.x.push_back(l);
    p.series.push_back(std::move(ser));
  }
  const double spread = s.layers10[0].back() / s.layers10[0].front();
  r.text("Where the gradient goes inside the depth-10 network: the norm of each layer's weight "
         "gradient. The last layer (10) sees the loss almost directly; each step towards the "
         "input multiplies in one more factor, so the first layer of the sigmoid network "
         "receives a learning signal " + fmt("%.2g", spread) +
         " times weaker than the last, while gradient descent uses one learning rate for all.");
  r.figure({"vanish_layers", "Per-layer weight-gradient norms of the depth-10 network (log scale).",
            {p}});
}

void depth_figure(Report& r, const Sweep& s, int max_depth) {
  const double out_norm = std::sqrt(static_cast<double>(kBatch * kWidth));
  plot::Panel p;
  p.title = "Gradient reaching the input vs depth";
  p.xlabel = "depth (Linear + activation layers)";
  p.ylabel = "||dL/dx|| / ||dL/doutput||";
  p.logy = true;
  p.key = "bottom left";
  plot::Series bound{"0.25^depth (seed's estimate)", {}, {}, plot::Style::Dashed, "#000000"};
  for (int d = 1; d <= max_depth; ++d) {
    bound.x.push_back(d);
    bound.y.push_back(std::pow(0.25, d));
  }
  for (std::size_t a = 0; a < kActs.size(); ++a) {
    plot::Series ser{kActs[a].name, {}, {}, plot::Style::LinesPoints, kActs[a].color};
    for (int d = 1; d <= max_depth; ++d) {
      ser.x.push_back(d);
      ser.y.push_back(s.input[a][d - 1] / out_norm);
    }
    p.series.push_back(std::move(ser));
  }
  p.series.push_back(std::move(bound));
  r.text("The depth sweep: for each depth from 1 to " + std::to_string(max_depth) +
         ", the input-gradient norm divided by the norm of the gradient that enters at the "
         "output (all ones, norm sqrt(32 x 64) = " + fmt("%.4g", out_norm) +
         "), so it reads as the network's gain and compares directly with 0.25^depth. On a log "
         "scale a constant factor per layer is a straight line; its slope is the factor in the "
         "table above.");
  r.figure({"vanish_depth", "Input-gradient gain vs depth beside 0.25^depth (log scale).", {p}});
}

void checks(Report& r, const Sweep& s, int max_depth) {
  const double sig = s.input[0][kSeedDepth - 1];
  const double bound = std::pow(0.25, kSeedDepth);
  r.metric("bound_depth10", bound);
  r.check("sigmoid depth-10 input-gradient norm (seed: ~1e-7 or smaller)", fmt("%.3e", sig),
          "< 1e-5", sig < 1e-5);
  const double decay = decay_per_layer(s.input[0]);
  r.check("sigmoid: input gradient shrinks per layer by a factor", fmt("%.4g", decay), "<= 0.25",
          decay <= 0.25);
  const double out_norm = std::sqrt(static_cast<double>(kBatch * kWidth));
  int above = 0;
  for (int d = 1; d <= max_depth; ++d) above += s.input[0][d - 1] / out_norm > std::pow(0.25, d);
  r.check("sigmoid gain below 0.25^depth, depths 1.." + std::to_string(max_depth),
          std::to_string(above) + " depths above", "0 depths above", above == 0);
  double worst = 0;
  for (const ActInfo& a : kActs) {
    const std::size_t i = static_cast<std::size_t>(&a - kActs.data());
    worst = std::max(worst, std::fabs(decay_per_layer(s.input[i]) / predicted_factor(a.act) - 1));
  }
  r.check("factor per layer vs sqrt(1/3) x slope at 0, worst of 4 activations",
          fmt("%.3g", 100 * worst) + "% off", "within 10%", worst <= 0.10);
  for (std::size_t a : {std::size_t{2}, std::size_t{3}}) {
    const double ratio = s.input[a][kSeedDepth - 1] / sig;
    r.check(std::string(kActs[a].name) + " / Sigmoid input-gradient norm at depth 10",
            fmt("%.3e", ratio), ">= 1e2 (orders of magnitude)", ratio >= 1e2);
  }
}

void run(Report& r, const Params& prm) {
  const bool quick = r.context().quick;
  const int trials = prm.trials.value_or(quick ? 4 : 16);
  const int max_depth = prm.max_depth.value_or(20);
  if (trials < 1 || max_depth < kSeedDepth + 1)
    throw cli::UsageError("vanish: need --trials >= 1 and --max-depth >= 11, got " +
                             std::to_string(trials) + " and " + std::to_string(max_depth));
  seed_program(r);
  const double t0 = now_seconds();
  const Sweep s = sweep(max_depth, trials);
  r.timing("depth sweep (" + std::to_string(kActs.size()) + " activations x " +
               std::to_string(max_depth) + " depths x " + std::to_string(trials) + " trials)",
           now_seconds() - t0);
  depth10_table(r, s, trials);
  explain(r);
  layers_figure(r, s);
  depth_figure(r, s, max_depth);
  checks(r, s, max_depth);
}

}  // namespace

Section vanish_section() {
  auto prm = std::make_shared<Params>();
  return {"vanish", "Vanishing gradients",
          "The seed's deep sigmoid network and a depth sweep for Sigmoid, Tanh, ReLU and GELU",
          [prm](CLI::App& app) {
            app.add_option("--trials", prm->trials,
                           "Fresh networks averaged per point (default 16, --quick 4)")
                ->check(CLI::Range(1, 100000));
            app.add_option("--max-depth", prm->max_depth,
                           "Deepest network of the sweep (default 20, --quick 20)")
                ->check(CLI::Range(kSeedDepth + 1, 200));
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
