// Tour section "gating": sigmoid as a gate. The adding problem (Hochreiter &
// Schmidhuber 1997, Le et al. 2015) needs a value remembered across ~25-50
// steps; an LSTM learns it, a plain tanh RNN of the same size and budget
// stalls at the variance baseline. The trained LSTM's forget gates are then
// recomputed from its parameters (PyTorch's i, f, g, o layout), checked
// against the layer's own output, and drawn as histograms: the forget gate
// of all units and of the unit that holds the sum, and that unit's input gate.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../commands.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

namespace F = nn::functional;

constexpr double kBaseline = 1.0 / 6.0;  // Var(u1 + u2), u ~ U(0, 1): MSE of always predicting 1

struct Params {
  std::optional<int> steps, hidden, batch, length;
  std::optional<double> lr;
};

struct Settings {
  std::int64_t steps, hidden, batch, length, test_size, gate_size;
  double lr, clip;
};

// A size flag's value (or its default), or a usage error naming the flag.
std::int64_t size_flag(const char* flag, const std::optional<int>& value, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  const std::int64_t v = value.value_or(fallback);
  if (v < lo || v > hi)
    throw cli::UsageError(std::string("gating: ") + flag + " must be in [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "], got " + std::to_string(v));
  return v;
}

Settings settings(const Params& p, bool quick) {
  Settings s{};
  s.steps = size_flag("--steps", p.steps, quick ? 1500 : 3000, 1, 1000000);
  s.hidden = size_flag("--hidden", p.hidden, 32, 1, 256);
  s.batch = size_flag("--batch-size", p.batch, 64, 1, 1024);
  s.length = size_flag("--length", p.length, 50, 2, 1000);
  s.test_size = quick ? 1024 : 2048;
  s.gate_size = 256;  // [256, 4H] gates stay below the kernels' parallel threshold for H <= 63
  s.lr = p.lr.value_or(1e-2);
  s.clip = 1.0;
  if (!(s.lr > 0 && std::isfinite(s.lr)))
    throw cli::UsageError("gating: --lr must be a finite number > 0, got " + fmt("%g", s.lr));
  return s;
}

// ---- Data. x [T, N, 2]: (value ~ U(0, 1), marker in {0, 1}); y [N, 1].
// Drawn from the engine's bits by hand: the standard distributions are
// implementation-defined, and the report must not depend on the library.
struct AddingBatch {
  Tensor x, y;
  std::vector<float> raw;                  // x's elements, (t * N + n) * 2 + {0 value, 1 marker}
  std::vector<std::int64_t> first, second;  // marker steps of each sequence
};

// Uniform in [0, 1) from the top 53 bits.
double uniform01(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

// Uniform in [lo, hi] by rejection (no modulo bias).
std::int64_t uniform_int(std::mt19937_64& gen, std::int64_t lo, std::int64_t hi) {
  const auto n = static_cast<std::uint64_t>(hi - lo) + 1;
  const std::uint64_t reject_below = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t r = gen();
    if (r >= reject_below) return lo + static_cast<std::int64_t>(r % n);
  }
}

AddingBatch adding_batch(std::mt19937_64& gen, std::int64_t T, std::int64_t N) {
  AddingBatch b;
  std::vector<float> x(static_cast<std::size_t>(T * N * 2), 0.0f), y(static_cast<std::size_t>(N));
  auto at = [&](std::int64_t t, std::int64_t n) {
    return static_cast<std::size_t>((t * N + n) * 2);
  };
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t t = 0; t < T; ++t) x[at(t, n)] = static_cast<float>(uniform01(gen));
    const std::int64_t a = uniform_int(gen, 0, T / 2 - 1), c = uniform_int(gen, T / 2, T - 1);
    x[at(a, n) + 1] = x[at(c, n) + 1] = 1.0f;
    y[static_cast<std::size_t>(n)] = x[at(a, n)] + x[at(c, n)];
    b.first.push_back(a);
    b.second.push_back(c);
  }
  b.x = from_data(x.data(), kFloat, {T, N, 2});
  b.y = from_data(y.data(), kFloat, {N, 1});
  b.raw = std::move(x);
  return b;
}

// ---- Models: a recurrent layer and a Linear head on its last hidden state.
struct Model {
  std::string name;
  std::function<Tensor(const Tensor&)> forward;  // [T, N, 2] -> [N, 1]
  std::vector<Tensor> parameters;
};

Model lstm_model(nn::LSTM lstm, nn::Linear head) {
  std::vector<Tensor> ps = lstm->parameters();
  for (const auto& p : head->parameters()) ps.push_back(p);
  return {"LSTM",
          [lstm, head](const Tensor& x) mutable {
            auto [out, state] = lstm(x);
            return head(std::get<0>(state)[0]);
          },
          ps};
}

Model rnn_model(nn::RNN rnn, nn::Linear head) {
  std::vector<Tensor> ps = rnn->parameters();
  for (const auto& p : head->parameters()) ps.push_back(p);
  return {"tanh RNN",
          [rnn, head](const Tensor& x) mutable {
            auto [out, h_n] = rnn(x);
            return head(h_n[0]);
          },
          ps};
}

std::int64_t count(const std::vector<Tensor>& ps) {
  std::int64_t n = 0;
  for (const auto& p : ps) n += p.numel();
  return n;
}

struct Trained {
  std::vector<double> loss;  // training MSE per step
  double test_mse = 0, seconds = 0;
};

double test_mse(Model& m, const AddingBatch& test) {
  NoGradGuard no_grad;
  return F::mse_loss(m.forward(test.x), test.y).item<double>();
}

// Adam on fresh batches drawn from `gen` (a copy: both models see the same
// batches), gradients clipped to norm s.clip.
Trained train(Model& m, std::mt19937_64 gen, const Settings& s, const AddingBatch& test,
              const Context& ctx) {
  Trained t;
  optim::Adam opt(m.parameters, optim::AdamOptions(s.lr));
  Progress progress(ctx, m.name, static_cast<int>(s.steps), "step");
  const double t0 = now_seconds();
  for (std::int64_t step = 1; step <= s.steps; ++step) {
    const AddingBatch b = adding_batch(gen, s.length, s.batch);
    opt.zero_grad();
    Tensor loss = F::mse_loss(m.forward(b.x), b.y);
    loss.backward();
    nn::utils::clip_grad_norm_(m.parameters, s.clip);
    opt.step();
    t.loss.push_back(loss.item<double>());
    progress.update(static_cast<int>(step), t.loss.back());
  }
  t.seconds = now_seconds() - t0;
  t.test_mse = test_mse(m, test);
  return t;
}

// Mean training loss over consecutive windows: (window's last step, mean).
plot::Series smoothed(const std::string& title, const std::vector<double>& loss,
                      const std::string& color) {
  const std::size_t w = std::max<std::size_t>(1, loss.size() / 100);
  plot::Series s{title, {}, {}, plot::Style::Lines, color, 2};
  for (std::size_t i = 0; i + w <= loss.size(); i += w) {
    double sum = 0;
    for (std::size_t j = i; j < i + w; ++j) sum += loss[j];
    s.x.push_back(static_cast<double>(i + w));
    s.y.push_back(sum / static_cast<double>(w));
  }
  return s;
}

// The first step after which a window of training losses averages below
// 0.1 x baseline; 0 if none does.
std::int64_t breakthrough_step(const std::vector<double>& loss) {
  const plot::Series s = smoothed("", loss, "");
  for (std::size_t k = 0; k < s.y.size(); ++k)
    if (s.y[k] < 0.1 * kBaseline) return static_cast<std::int64_t>(s.x[k]);
  return 0;
}

double tail_mean(const std::vector<double>& v) {
  const std::size_t w = std::max<std::size_t>(1, v.size() / 20);
  double sum = 0;
  for (std::size_t i = v.size() - w; i < v.size(); ++i) sum += v[i];
  return sum / static_cast<double>(w);
}

// ---- Gates of the trained LSTM, recomputed in double from its parameters:
// gates = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh, split as i, f, g, o.
struct Gates {
  std::int64_t T = 0, N = 0, H = 0;
  std::vector<double> f, i;  // [T, N, H] flattened
  std::vector<double> c;     // c_t [T, N, H]
  double max_h_error = 0;    // max |h recomputed - h of the layer| over all steps
};

Gates recompute_gates(nn::LSTM lstm, const Tensor& x) {
  const std::vector<Tensor> w = lstm->all_weights();  // w_ih, w_hh, b_ih, b_hh
  if (w.size() != 4)
    throw std::runtime_error("gating: expected one LSTM layer with 4 parameters, got " +
                             std::to_string(w.size()));
  NoGradGuard no_grad;
  const Tensor layer_h = std::get<0>(lstm->forward(x)).to(kDouble);  // [T, N, H]
  const Tensor w_ih = w[0].to(kDouble).t(), w_hh = w[1].to(kDouble).t();
  const Tensor bias = w[2].to(kDouble) + w[3].to(kDouble);
  const Tensor xd = x.to(kDouble);
  Gates g{x.size(0), x.size(1), w[1].size(1), {}, {}, {}, 0};
  Tensor h = zeros({g.N, g.H}, kDouble), c = zeros({g.N, g.H}, kDouble);
  for (std::int64_t t = 0; t < g.T; ++t) {
    const std::vector<Tensor> z = (xd[t].matmul(w_ih) + h.matmul(w_hh) + bias).chunk(4, 1);
    const Tensor in = sigmoid(z[0]), forget = sigmoid(z[1]), cand = tanh(z[2]), out = sigmoid(z[3]);
    c = forget * c + in * cand;
    h = out * tanh(c);
    for (double v : forget.contiguous().to_vector<double>()) g.f.push_back(v);
    for (double v : in.contiguous().to_vector<double>()) g.i.push_back(v);
    for (double v : c.contiguous().to_vector<double>()) g.c.push_back(v);
    const double e = (h - layer_h[t]).abs().max().item<double>();
    if (!std::isnan(g.max_h_error) && !(e <= g.max_h_error)) g.max_h_error = e;  // NaN sticks
  }
  return g;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    sa += a[k], sb += b[k], saa += a[k] * a[k], sbb += b[k] * b[k], sab += a[k] * b[k];
  }
  const double cov = sab / n - sa / n * sb / n;
  const double va = saa / n - sa / n * sa / n, vb = sbb / n - sb / n * sb / n;
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0.0;
}


// Gate values of one unit (every unit when unit < 0), at marker steps, at
// the other steps, or at all steps (marker empty).
std::vector<double> pick(const std::vector<double>& gate, const Gates& g, const AddingBatch& b,
                         std::int64_t unit, std::optional<bool> marker) {
  std::vector<double> v;
  for (std::int64_t row = 0; row < g.T * g.N; ++row) {  // row = t * N + n
    const bool is_marker = b.raw[static_cast<std::size_t>(row * 2 + 1)] == 1.0f;
    if (marker && *marker != is_marker) continue;
    for (std::int64_t k = unit < 0 ? 0 : unit; k < (unit < 0 ? g.H : unit + 1); ++k)
      v.push_back(gate[static_cast<std::size_t>(row * g.H + k)]);
  }
  return v;
}

// Values of one unit's gate at the steps strictly between each sequence's
// two markers, where the first value must be held and nothing written.
std::vector<double> between_markers(const std::vector<double>& gate, const Gates& g,
                                    const AddingBatch& b, std::int64_t unit) {
  std::vector<double> v;
  for (std::int64_t n = 0; n < g.N; ++n) {
    const auto k = static_cast<std::size_t>(n);
    for (std::int64_t t = b.first[k] + 1; t < b.second[k]; ++t)
      v.push_back(gate[static_cast<std::size_t>((t * g.N + n) * g.H + unit)]);
  }
  return v;
}

// Share of the first marked value still in the unit's cell state at the last
// step: the product of its forget gates after the first marker, averaged over
// the sequences.
double retention(const Gates& g, const AddingBatch& b, std::int64_t unit) {
  double sum = 0;
  for (std::int64_t n = 0; n < g.N; ++n) {
    double keep = 1;
    for (std::int64_t t = b.first[static_cast<std::size_t>(n)] + 1; t < g.T; ++t)
      keep *= g.f[static_cast<std::size_t>((t * g.N + n) * g.H + unit)];
    sum += keep;
  }
  return sum / static_cast<double>(g.N);
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

// Over the sequences: the first marked value, and unit k's cell state on
// the first marker's step (just after writing it).
std::vector<double> first_values(const Gates& g, const AddingBatch& b) {
  std::vector<double> v;
  for (std::int64_t n = 0; n < g.N; ++n)
    v.push_back(b.raw[static_cast<std::size_t>((b.first[static_cast<std::size_t>(n)] * g.N + n) * 2)]);
  return v;
}
std::vector<double> cell_at_first_marker(const Gates& g, const AddingBatch& b, std::int64_t k) {
  std::vector<double> v;
  for (std::int64_t n = 0; n < g.N; ++n) {
    const std::int64_t t = b.first[static_cast<std::size_t>(n)];
    v.push_back(g.c[static_cast<std::size_t>((t * g.N + n) * g.H + k)]);
  }
  return v;
}

// Share of what a unit's cell held at the first marker that is still there
// on the step before the second: the product of its forget gates in
// between, averaged over the sequences.
double gap_retention(const Gates& g, const AddingBatch& b, std::int64_t k) {
  double sum = 0;
  for (std::int64_t n = 0; n < g.N; ++n) {
    double keep = 1;
    const auto s = static_cast<std::size_t>(n);
    for (std::int64_t t = b.first[s] + 1; t < b.second[s]; ++t)
      keep *= g.f[static_cast<std::size_t>((t * g.N + n) * g.H + k)];
    sum += keep;
  }
  return sum / static_cast<double>(g.N);
}

// The memory unit: the one that stores the first marked value and keeps it
// in its own cell, scored by |correlation| of its cell state at the first
// marker with that value times its gap retention. (The value soon spreads to
// other units' cell states through h, so correlation alone also picks units
// that are merely refreshed from the memory unit at every step.)
std::int64_t memory_unit(const Gates& g, const AddingBatch& b) {
  const std::vector<double> u1 = first_values(g, b);
  std::int64_t best = 0;
  double best_score = -1;
  for (std::int64_t k = 0; k < g.H; ++k) {
    const double score = std::abs(correlation(cell_at_first_marker(g, b, k), u1)) * gap_retention(g, b, k);
    if (score > best_score) best = k, best_score = score;
  }
  return best;
}

// Fraction of the finite values in each bin of width 0.02 over [0, 1], as steps.
plot::Series histogram(const std::string& title, const std::vector<double>& values,
                       const std::string& color) {
  constexpr int kBins = 50;
  std::vector<double> counts(kBins, 0.0);
  double finite = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;  // a diverged run
    const double bin = std::clamp(v * kBins, 0.0, kBins - 1.0);
    counts[static_cast<std::size_t>(bin)] += 1;
    finite += 1;
  }
  plot::Series s{title, {}, {}, plot::Style::Steps, color, 2};
  for (int k = 0; k <= kBins; ++k) {
    s.x.push_back(static_cast<double>(k) / kBins);
    s.y.push_back(counts[static_cast<std::size_t>(std::min(k, kBins - 1))] / std::max(1.0, finite));
  }
  return s;
}

// Runs the section on one thread and goes back to the defaults on exit; the
// tour sets no thread count otherwise. Every tensor here is small ([64, 128]
// gates per step). Measured on 2 cores (--quick) before sigma had its own
// thread pool (docs/PERFORMANCE.md, "Threads"), when idle OpenMP and OpenBLAS
// workers spun on the core the work needed: 1 thread took ~6 s of CPU, the
// defaults 12-17 s for the same or longer wall time, and up to 2.4x the wall
// time with the other core busy. Not measured again since.
class SingleThread {
 public:
  SingleThread() { set_num_threads(1); }
  ~SingleThread() { set_num_threads(0); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;
};

void explain_task(Report& r, const Settings& s) {
  r.text("The adding problem asks a recurrent network to remember. Every sequence has " +
         std::to_string(s.length) +
         " steps of two inputs: a value drawn from U(0, 1) and a marker that is 1 at exactly two "
         "steps, one in each half of the sequence. The target is the sum of the two marked values, "
         "read from the last hidden state through a linear head. A model that ignores the markers "
         "can at best predict the mean sum 1, whose MSE is the variance of a sum of two uniforms, "
         "**1/6 = 0.1667**; anything below that means the network carried the first marked value "
         "across at least " +
         std::to_string(s.length / 2) + " steps.");
  r.text("Both models have " + std::to_string(s.hidden) +
         " hidden units and are trained identically: " + std::to_string(s.steps) +
         " Adam steps (lr " + fmt("%g", s.lr) + ") on the same fresh batches of " +
         std::to_string(s.batch) + " sequences, MSE loss, gradients clipped to norm " +
         fmt("%g", s.clip) + ". Test MSE is measured on " + std::to_string(s.test_size) +
         " held-out sequences. Everything runs on one thread: at these sizes, forking threads "
         "costs more than it saves.");
}

void loss_figure(Report& r, const Trained& lstm, const Trained& rnn, const Settings& s) {
  plot::Panel p;
  p.title = "Adding problem, T = " + std::to_string(s.length);
  p.xlabel = "training step";
  p.ylabel = "training MSE (mean over " + std::to_string(std::max<std::int64_t>(1, s.steps / 100)) +
             " steps)";
  p.logy = true;
  p.xrange = std::make_pair(0.0, static_cast<double>(s.steps));
  p.series = {smoothed("LSTM", lstm.loss, "#2196F3"), smoothed("tanh RNN", rnn.loss, "#FF5722")};
  p.lines = {{kBaseline, true, "baseline: predict 1 (MSE 1/6)"}};
  p.key = "right center";
  r.figure({"adding_problem_loss",
            "Training MSE of the LSTM and the tanh RNN on the same batches (log scale); the "
            "horizontal line is the MSE of always predicting 1.",
            {p}});
}

// Left: the forget gate over all units vs the memory unit. Right: the memory
// unit's input gate at marker steps vs the others.
void gate_figure(Report& r, const Gates& g, const AddingBatch& probe, std::int64_t unit) {
  const std::string u = "unit " + std::to_string(unit);
  auto panel = [](std::string title, std::string xlabel, std::vector<plot::Series> series) {
    plot::Panel p;
    p.title = std::move(title);
    p.xlabel = std::move(xlabel);
    p.ylabel = "fraction of values per bin of 0.02";
    p.logy = true;
    p.xrange = std::make_pair(-0.02, 1.02);
    p.yrange = std::make_pair(1e-5, 2.0);
    p.series = std::move(series);
    p.key = "top center";
    return p;
  };
  r.figure(
      {"forget_gate_histogram",
       "Gates of the trained LSTM on fresh sequences, recomputed from its parameters. Left: "
       "forget-gate values of every unit at every step, and of the memory unit alone. Right: "
       "the memory unit's input gate at the two marker steps and at all other steps.",
       {panel("Forget gate f_t", "f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)",
              {histogram("all " + std::to_string(g.H) + " units", g.f, "#2196F3"),
               histogram(u + " (memory)", pick(g.f, g, probe, unit, {}), "#FF5722")}),
        panel("Input gate i_t of " + u + " (memory)",
              "i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)",
              {histogram("steps without a marker", pick(g.i, g, probe, unit, false), "#2196F3"),
               histogram("marker steps", pick(g.i, g, probe, unit, true), "#FF5722")})},
       2});
}

void run_with(Report& r, const Settings& s) {
  const Context& ctx = r.context();
  explain_task(r, s);

  std::mt19937_64 test_gen(ctx.section_seed ^ 0x7465737473657473ull);
  const AddingBatch test = adding_batch(test_gen, s.length, s.test_size);
  const double baseline = F::mse_loss(ones_like(test.y), test.y).item<double>();

  nn::LSTM lstm(nn::LSTMOptions(2, s.hidden));
  nn::Linear lstm_head(s.hidden, 1);
  nn::RNN rnn(nn::RNNOptions(2, s.hidden));
  nn::Linear rnn_head(s.hidden, 1);
  Model lm = lstm_model(lstm, lstm_head), rm = rnn_model(rnn, rnn_head);

  const std::mt19937_64 train_gen(ctx.section_seed);
  const Trained lt = train(lm, train_gen, s, test, ctx);
  const Trained rt = train(rm, train_gen, s, test, ctx);
  r.timing("LSTM training (" + std::to_string(s.steps) + " steps)", lt.seconds);
  r.timing("RNN training (" + std::to_string(s.steps) + " steps)", rt.seconds);

  loss_figure(r, lt, rt, s);
  r.table({"model", "parameters", "final training MSE", "test MSE", "test MSE / baseline"},
          {{"LSTM", std::to_string(count(lm.parameters)), fmt("%.3e", tail_mean(lt.loss)),
            fmt("%.3e", lt.test_mse), fmt("%.3g", lt.test_mse / kBaseline)},
           {"tanh RNN", std::to_string(count(rm.parameters)), fmt("%.3e", tail_mean(rt.loss)),
            fmt("%.3e", rt.test_mse), fmt("%.3g", rt.test_mse / kBaseline)},
           {"predict 1", "0", "", fmt("%.3e", baseline), fmt("%.3g", baseline / kBaseline)}});
  const std::int64_t lstm_break = breakthrough_step(lt.loss);
  r.text(
      "The tanh RNN's only memory is h itself: the first marked value must pass through "
      "tanh(W_hh h + ...) at every remaining step, and the gradient that should teach it to "
      "keep that value is multiplied by W_hh and tanh' at each step back, so it vanishes long "
      "before it reaches the marker. The RNN settles on predicting the average and stays at the "
      "baseline. The LSTM keeps a separate cell state updated as c_t = f_t c_{t-1} + i_t g_t, "
      "whose step-to-step derivative is just f_t: with f_t near 1 both the stored value and its "
      "gradient cross the sequence unchanged. The LSTM, too, starts on the baseline plateau; " +
      (lstm_break > 0 ? "after " + std::to_string(lstm_break) +
                            " steps its windowed training MSE is below a tenth of the baseline, "
                            "and it keeps falling by orders of magnitude."
                      : std::string("in this run it did not leave it.")));

  const double lstm_limit = 0.1 * kBaseline;
  r.check("LSTM test MSE far below the baseline 1/6", fmt("%.3e", lt.test_mse),
          "< 0.1 x 1/6 = " + fmt("%.4g", lstm_limit), lt.test_mse < lstm_limit);
  r.check("tanh RNN test MSE stays near the baseline 1/6", fmt("%.3e", rt.test_mse),
          "> 0.5 x 1/6 = " + fmt("%.4g", 0.5 * kBaseline), rt.test_mse > 0.5 * kBaseline);
  // (y - 1)^2 has variance E(y - 1)^4 - (1/6)^2 = 1/15 - 1/36 (triangular y - 1).
  const double tolerance = 4 * std::sqrt((1.0 / 15 - 1.0 / 36) / static_cast<double>(s.test_size));
  r.check("baseline: test MSE of predicting 1 vs Var(u1 + u2) = 1/6", fmt("%.4f", baseline),
          "0.1667 +- " + fmt("%.4f", tolerance) + " (4 standard errors)",
          std::abs(baseline - kBaseline) < tolerance);

  std::mt19937_64 gate_gen(ctx.section_seed ^ 0x6761746573ull);
  const AddingBatch probe = adding_batch(gate_gen, s.length, s.gate_size);
  const double t_gates = now_seconds();
  const Gates g = recompute_gates(lstm, probe.x);
  r.timing("gate recomputation", now_seconds() - t_gates);
  r.check(
      "gates recomputed in double from weight_ih_l0, weight_hh_l0 and the biases reproduce "
      "the LSTM's h",
      fmt("%.2e", g.max_h_error), "max |h - h_layer| < 1e-5", g.max_h_error < 1e-5);
  const std::int64_t unit = memory_unit(g, probe);
  gate_figure(r, g, probe, unit);

  const double f_mean = mean(g.f);
  const double f_unit = mean(between_markers(g.f, g, probe, unit));
  const double i_marker = mean(pick(g.i, g, probe, unit, true));
  const double i_other = mean(pick(g.i, g, probe, unit, false));
  const double kept = retention(g, probe, unit);
  std::int64_t open_units = 0;
  for (std::int64_t k = 0; k < g.H; ++k)
    open_units += mean(between_markers(g.f, g, probe, k)) > 0.9;
  r.text(
      "To look inside, the gates were recomputed step by step from the layer's parameters "
      "(PyTorch's layout: row blocks i, f, g, o of `weight_ih_l0` and `weight_hh_l0`) on " +
      std::to_string(s.gate_size) +
      " fresh sequences; the recomputed h matches the layer's "
      "output to " +
      fmt("%.2e", g.max_h_error) +
      ". Averaged over all units and steps the "
      "forget gate is " +
      fmt("%.3f", f_mean) + ", and " + std::to_string(open_units) + " of " + std::to_string(g.H) +
      " units keep their average above 0.9 on the steps between the two markers: most units forget "
      "within a few steps and are not memory. Unit " +
      std::to_string(unit) +
      ", the one that stores the first marked value and keeps it in its own cell (best "
      "product of the correlation of its cell state with that value at the first marker and "
      "the share of that state still there before the second), keeps its forget gate at " +
      fmt("%.3f", f_unit) +
      " on average over those steps, after the first marker and before the second; its input "
      "gate averages " +
      fmt("%.3f", i_marker) + " at marker steps against " + fmt("%.3f", i_other) +
      " elsewhere. It writes when a marker arrives and otherwise holds what it has: the "
      "product of its forget gates from the first marker to the end, the share of the first "
      "value still in its cell at the last step, averages " +
      fmt("%.3f", kept) + " (1 would be perfect recall).");
  r.text(
      "This is what the sigmoid's range buys. Because f_t lies in (0, 1), multiplying the "
      "cell state by it can only keep (f near 1) or erase (f near 0), never amplify or flip "
      "the sign, and a gate saturated near 1 lets a value through dozens of steps almost "
      "intact. Its own derivative f(1 - f) is then tiny, but that only freezes the gate's "
      "setting: the gradient along the cell state is f itself, not f'.");
  r.check("memory unit's forget gate saturated open between markers", fmt("%.3f", f_unit),
          "mean f > 0.9", f_unit > 0.9);

  r.metric("lstm_final_mse", lt.test_mse);
  r.metric("rnn_final_mse", rt.test_mse);
  r.metric("baseline_mse", baseline);
  r.metric("lstm_breakthrough_step", static_cast<double>(lstm_break));
  r.metric("forget_gate_mean", f_mean);
  r.metric("memory_unit_forget_mean", f_unit);
  r.metric("memory_unit_input_mean_marker", i_marker);
  r.metric("memory_unit_input_mean_other", i_other);
  r.metric("memory_unit_retention", kept);
}

}  // namespace

Section gating_section() {
  auto p = std::make_shared<Params>();
  auto add_flags = [p](CLI::App& cmd) {
    cmd.add_option("--steps", p->steps, "Adam steps per model (default 3000; --quick 1500)");
    cmd.add_option("--hidden", p->hidden, "Hidden units of both models (default 32)");
    cmd.add_option("--batch-size", p->batch, "Sequences per training batch (default 64)");
    cmd.add_option("--length", p->length, "Sequence length T (default 50)");
    cmd.add_option("--lr", p->lr, "Adam learning rate (default 0.01)");
  };
  auto run = [p](Report& r) {
    const Settings s = settings(*p, r.context().quick);
    SingleThread one_thread;
    run_with(r, s);
  };
  return {"gating", "Gating (LSTM)",
          "The adding problem: an LSTM remembers, a tanh RNN does not; forget-gate histogram",
          add_flags, run};
}

}  // namespace sigma::tour
