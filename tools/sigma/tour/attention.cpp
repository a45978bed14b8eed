// Tour section "attention": a two-layer Transformer encoder learns
// associative recall (read stored key-value pairs, then answer the value of
// a queried key), once with each kind of attention weights: softmax, sigmoid
// with the score bias -log(n) (Ramapuram et al. 2024), sigmoid without it,
// and softmax with a sigmoid gate per head on the attention output (Qiu et
// al. 2025). Same data, same initial weights where the architectures share
// them, same optimiser. Compared: loss curves, test accuracy, attention maps
// of one example, and how much attention goes to the first token (the
// "sink").
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../commands.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

constexpr std::int64_t kPairs = 6, kKeys = 8, kValues = 8;
constexpr std::int64_t kBos = 0;
// BOS; a stored pair (key k, value v) is one token 1 + k V + v; the query
// for key k is the token 1 + K V + k.
constexpr std::int64_t kVocab = 1 + kKeys * kValues + kKeys;
constexpr std::int64_t kLen = 2 + kPairs;  // BOS, the pairs, the query
constexpr std::int64_t kWidth = 32, kHeads = 2, kFeedForward = 64;
constexpr std::int64_t kTest = 1000;

struct Params {
  std::optional<int> steps, batch;
  std::optional<double> lr;
};

// A batch of sequences [n, 10] and their answers [n] (value index 0..7).
struct Batch {
  Tensor tokens, answers;
  std::vector<std::int64_t> raw;  // tokens, row-major
};

Batch make_batch(std::int64_t n, std::mt19937_64& gen) {
  Batch b;
  std::vector<std::int64_t> ans;
  std::array<std::int64_t, kKeys> keys;
  std::iota(keys.begin(), keys.end(), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    std::shuffle(keys.begin(), keys.end(), gen);
    std::array<std::int64_t, kPairs> vals{};
  static_assert(kPairs <= kKeys);
    b.raw.push_back(kBos);
    for (std::int64_t p = 0; p < kPairs; ++p) {
      vals[static_cast<std::size_t>(p)] = static_cast<std::int64_t>(gen() % kValues);
      b.raw.push_back(1 + keys[static_cast<std::size_t>(p)] * kValues + vals[static_cast<std::size_t>(p)]);
    }
    const auto q = static_cast<std::size_t>(gen() % kPairs);
    b.raw.push_back(1 + kKeys * kValues + keys[q]);
    ans.push_back(vals[q]);
  }
  b.tokens = sigma::tensor(b.raw).reshape({n, kLen});
  b.answers = sigma::tensor(ans);
  return b;
}

struct Variant {
  const char* name;
  const char* key;  // metric prefix
  nn::AttentionKind kind;
  std::optional<double> bias;
  bool gated;
};

// Token and position embeddings, two pre-norm encoder layers, a final
// LayerNorm and a linear read-out of the last position (the query key).
struct RecallNetImpl : nn::Module {
  nn::Embedding tok = nullptr, pos = nullptr;
  nn::TransformerEncoderLayer layer1 = nullptr, layer2 = nullptr;
  nn::LayerNorm norm = nullptr;
  nn::Linear head = nullptr;

  explicit RecallNetImpl(const Variant& v) {
    const auto layer = [&] {
      return nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(kWidth, kHeads)
                                             .dim_feedforward(kFeedForward)
                                             .dropout(0.0)
                                             .batch_first(true)
                                             .norm_first(true)
                                             .attention(v.kind)
                                             .sigmoid_bias(v.bias)
                                             .gated(v.gated));
    };
    tok = register_module("tok", nn::Embedding(kVocab, kWidth));
    pos = register_module("pos", nn::Embedding(kLen, kWidth));
    layer1 = register_module("layer1", layer());
    layer2 = register_module("layer2", layer());
    norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({kWidth})));
    head = register_module("head", nn::Linear(kWidth, kValues));
  }

  Tensor embed(const Tensor& tokens) {
    return tok(tokens) + pos(sigma::arange(tokens.size(1)));
  }
  Tensor forward(const Tensor& tokens) {
    const Tensor h = layer2(layer1(embed(tokens)));
    return head(norm(h.select(1, -1)));
  }
  // Each layer's attention weights per head, [n, H, L, L], for tokens.
  std::vector<Tensor> attention_maps(const Tensor& tokens) {
    std::vector<Tensor> maps;
    Tensor h = embed(tokens);
    for (auto* l : {&layer1, &layer2}) {
      const Tensor a = (*l)->norm1(h);
      maps.push_back(std::get<1>((*l)->self_attn->forward(a, a, a, {}, true, {}, false)));
      h = (*l)(h);
    }
    return maps;
  }
};
SIGMA_MODULE(RecallNet);

struct Result {
  std::vector<double> steps, loss;   // smoothed training loss
  double accuracy = 0;
  std::optional<double> steps_to_01;       // first step where the smoothed loss < 0.1
  std::array<double, 2> first_token{};     // mean weight on position 0, per layer
  std::array<double, 2> first_share{};     // the same as a share of each query's total weight
  std::array<double, 2> weight_sum{};      // mean total weight per query
  std::vector<Tensor> maps;                // one example's, head-averaged [L, L]
};

Result train(const Variant& v, const Batch& test, const Context& ctx, int steps, int batch,
             double lr) {
  sigma::manual_seed(ctx.section_seed);
  RecallNet net(v);
  optim::Adam opt(net->parameters(), optim::AdamOptions(lr));
  std::mt19937_64 gen(ctx.section_seed ^ 0x5eedULL);
  Progress progress(ctx, std::string("attention ") + v.name, steps, "step");
  Result r;
  double acc_loss = 0;
  int acc_n = 0;
  const int every = std::max(1, steps / 60);
  for (int step = 1; step <= steps; ++step) {
    const Batch b = make_batch(batch, gen);
    const Tensor loss = sigma::cross_entropy(net(b.tokens), b.answers);
    opt.zero_grad();
    loss.backward();
    opt.step();
    acc_loss += loss.item<double>();
    ++acc_n;
    if (step % every == 0 || step == steps) {
      r.steps.push_back(step);
      r.loss.push_back(acc_loss / acc_n);
      acc_loss = 0;
      acc_n = 0;
    }
    progress.update(step, loss.item<double>());
  }
  for (std::size_t i = 0; i < r.loss.size() && !r.steps_to_01; ++i)
    if (r.loss[i] < 0.1) r.steps_to_01 = r.steps[i];
  NoGradGuard no_grad;
  const Tensor pred = net(test.tokens).argmax(1);
  r.accuracy = pred.eq(test.answers).to(kFloat64).mean().item<double>();
  const std::vector<Tensor> maps = net->attention_maps(test.tokens);
  for (std::size_t l = 0; l < 2; ++l) {
    const Tensor w = maps[l].to(kFloat64);                 // [n, H, L, L]
    const Tensor total = w.sum({-1});                      // [n, H, L]
    const Tensor first = w.select(3, 0);                   // [n, H, L]
    r.first_token[l] = first.mean().item<double>();
    r.first_share[l] = (first / total).mean().item<double>();
    r.weight_sum[l] = total.mean().item<double>();
    r.maps.push_back(maps[l].select(0, 0).mean({0}));      // example 0, heads averaged
  }
  return r;
}

// "BOS", a pair as "c5", the query as "c?".
std::string token_name(std::int64_t t) {
  if (t == kBos) return "BOS";
  if (t <= kKeys * kValues)
    return std::string(1, static_cast<char>('a' + (t - 1) / kValues)) + std::to_string((t - 1) % kValues);
  return std::string(1, static_cast<char>('a' + (t - 1 - kKeys * kValues))) + "?";
}

void maps_figure(Report& r, const std::vector<Variant>& variants, const std::vector<Result>& res,
                 const Batch& test) {
  std::vector<plot::Panel> panels;
  std::vector<std::pair<double, std::string>> tics;
  for (std::int64_t i = 0; i < kLen; ++i)
    tics.push_back({static_cast<double>(i), token_name(test.raw[static_cast<std::size_t>(i)])});
  for (std::size_t l = 0; l < 2; ++l)
    for (std::size_t k = 0; k < variants.size(); ++k) {
      plot::Panel p;
      p.title = std::string(variants[k].name) + ", layer " + std::to_string(l + 1);
      p.xlabel = "key";
      p.ylabel = "query";
      p.key = "off";
      p.xtics = tics;
      p.ytics = tics;
      p.xrange = {{-0.5, kLen - 0.5}};
      p.cbrange = {{0, 1}};
      const Tensor m = res[k].maps[l];
      for (std::int64_t i = 0; i < kLen; ++i) {
        std::vector<double> row;
        for (std::int64_t j = 0; j < kLen; ++j) row.push_back(m.select(0, i).select(0, j).item<double>());
        p.heatmap.push_back(row);
      }
      panels.push_back(std::move(p));
    }
  r.figure({"attention_maps",
            "Attention weights of the first test sequence (tokens along the axes: BOS, six "
            "stored pairs, the query last), averaged over the two heads; top row layer 1, "
            "bottom row layer 2. Each row is one query position; white is 0, dark blue 1.",
            panels, static_cast<int>(variants.size()), 4 * 330, 2 * 300});
}

void loss_figure(Report& r, const std::vector<Variant>& variants, const std::vector<Result>& res) {
  plot::Panel p;
  p.title = "training loss (cross-entropy over the 8 values)";
  p.xlabel = "step";
  p.ylabel = "loss";
  p.logy = true;
  p.key = "bottom left";
  const char* colors[] = {"#1f77b4", "#d62728", "#ff7f0e", "#2ca02c"};
  for (std::size_t k = 0; k < variants.size(); ++k)
    p.series.push_back({variants[k].name, res[k].steps, res[k].loss, plot::Style::Lines, colors[k % 4]});
  p.lines.push_back({std::log(static_cast<double>(kValues)), true, "chance: log 8"});
  r.figure({"attention_loss", "Training loss per step (averaged over stretches of steps).", {p}});
}

void run(Report& r, const Params& prm) {
  const Context& ctx = r.context();
  const int steps = prm.steps.value_or(ctx.quick ? 200 : 800);
  const int batch = prm.batch.value_or(64);
  const double lr = prm.lr.value_or(3e-3);
  if (steps < 1 || batch < 1 || !(lr > 0))
    throw cli::UsageError("attention: need --steps, --batch-size >= 1 and --lr > 0");
  const std::vector<Variant> variants = {
      {"softmax", "softmax", nn::kSoftmaxAttention, std::nullopt, false},
      {"sigmoid, b = -log n", "sigmoid_bias", nn::kSigmoidAttention, std::nullopt, false},
      {"sigmoid, b = 0", "sigmoid_nobias", nn::kSigmoidAttention, 0.0, false},
      {"gated softmax", "gated", nn::kSoftmaxAttention, std::nullopt, true},
  };
  std::mt19937_64 test_gen(ctx.section_seed ^ 0x7e57ULL);
  const Batch test = make_batch(kTest, test_gen);

  r.text("Associative recall: the model reads six stored key-value pairs, each one token "
         "(`c5`: key c holds 5), then a query token for one of the keys, and must answer the "
         "value stored with it: `BOS c5 a1 g7 e2 h0 b3 g?` -> 7. Keys are 8 letters and values "
         "8 digits, drawn afresh for every sequence, so nothing can be memorised: the answer has "
         "to be fetched from wherever the queried key was stored, which is what attention does. "
         "The model is two pre-norm `TransformerEncoderLayer`s (width " +
         std::to_string(kWidth) + ", " + std::to_string(kHeads) + " heads, feed-forward " +
         std::to_string(kFeedForward) + ", no dropout) over token and position embeddings, a "
         "final `LayerNorm` and a linear read-out of the last position; Adam (lr " + fmt("%.3g", lr) +
         "), " + std::to_string(steps) + " steps of " + std::to_string(batch) +
         " fresh sequences, then " + std::to_string(kTest) + " test sequences. Each variant "
         "starts from the same seed, so the weights they share start equal.");
  r.text("The four variants differ only in how a query weighs the keys. **softmax**: "
         "`softmax(q k^T / sqrt(d))`, weights that sum to 1 over the keys. **sigmoid, b = -log "
         "n**: `sigmoid(q k^T / sqrt(d) + b)` per key, independent of the other keys, with the "
         "bias Ramapuram et al. (2024) recommend for n keys (here n = " + std::to_string(kLen) +
         ", b = " + fmt("%.2f", -std::log(static_cast<double>(kLen))) + "), which starts "
         "the summed weight of a query near 1 instead of near n/2. **sigmoid, b = 0**: the same "
         "without the bias. **gated softmax**: softmax attention whose output is multiplied, "
         "element by element and per head, by `sigmoid(x W_g + b_g)` of the layer's normalised "
         "input before the output projection (Qiu et al. 2025).");

  std::vector<Result> res;
  const double t0 = now_seconds();
  for (const Variant& v : variants) res.push_back(train(v, test, ctx, steps, batch, lr));
  r.timing("attention training (4 x " + std::to_string(steps) + " steps)", now_seconds() - t0);
  loss_figure(r, variants, res);

  std::vector<std::vector<std::string>> rows;
  for (std::size_t k = 0; k < variants.size(); ++k) {
    rows.push_back({variants[k].name, fmt("%.4f", res[k].accuracy), fmt("%.4f", res[k].loss.back()),
                    res[k].steps_to_01 ? fmt("%.0f", *res[k].steps_to_01) : "not reached",
                    fmt("%.3f", res[k].first_token[0]) + " / " + fmt("%.3f", res[k].first_token[1]),
                    fmt("%.3f", res[k].first_share[0]) + " / " + fmt("%.3f", res[k].first_share[1]),
                    fmt("%.2f", res[k].weight_sum[0]) + " / " + fmt("%.2f", res[k].weight_sum[1])});
    const std::string key = variants[k].key;
    r.metric(key + "_accuracy", res[k].accuracy);
    r.metric(key + "_final_loss", res[k].loss.back());
    if (res[k].steps_to_01) r.metric(key + "_steps_to_loss_0_1", *res[k].steps_to_01);
    r.metric(key + "_first_token_share_layer2", res[k].first_share[1]);
    r.metric(key + "_weight_sum_layer2", res[k].weight_sum[1]);
  }
  r.table({"attention", "test accuracy", "final training loss", "steps to loss < 0.1",
           "weight on BOS (layer 1 / 2)",
           "share of a query's weight on BOS", "summed weight per query"},
          rows);
  r.text("The weight on the first token (BOS, which carries no information here) is averaged over "
         "test sequences, heads and query positions; the share divides it by the query's total "
         "weight, which is 1 for softmax and anything for the sigmoid. A softmax query must "
         "spend its unit of weight somewhere even when nothing is worth reading; a large, "
         "steady share on the first token is the attention sink Qiu et al. observe in large "
         "language models.");
  maps_figure(r, variants, res, test);

  r.text("What the papers report, at a scale far beyond this toy, beside what sigma measured here:");
  const auto& soft = res[0];
  const auto& sigb = res[1];
  const auto& sig0 = res[2];
  const auto& gate = res[3];
  const auto steps_of = [](const Result& x) {
    return x.steps_to_01 ? fmt("%.0f", *x.steps_to_01) : std::string("never");
  };
  r.table({"claim", "paper", "sigma, this run"},
          {{"sigmoid attention with b = -log n matches softmax", "Ramapuram et al. 2024: language, "
            "vision and speech models up to billions of parameters, with LayerScale or hybrid-norm",
            "accuracy " + fmt("%.3f", sigb.accuracy) + " vs softmax " + fmt("%.3f", soft.accuracy) +
                "; loss < 0.1 after " + steps_of(sigb) + " vs " + steps_of(soft) + " steps"},
           {"without the bias, sigmoid attention trains worse early", "Ramapuram et al. 2024: large "
            "initial attention norms destabilise training; the bias fixes it",
            "loss < 0.1 after " + steps_of(sig0) + " steps vs " + steps_of(sigb) +
                " with the bias; final loss " + fmt("%.3f", sig0.loss.back()) + " vs " +
                fmt("%.3f", sigb.loss.back())},
           {"a sigmoid gate after attention removes the attention sink", "Qiu et al. 2025: first-token "
            "attention falls from 46.7% to 4.8% in a 1.7B model trained on 3.5T tokens",
            "share on BOS (layer 2) " + fmt("%.3f", gate.first_share[1]) + " gated vs " +
                fmt("%.3f", soft.first_share[1]) + " softmax"},
           {"gating improves quality", "Qiu et al. 2025: lower perplexity, better benchmarks, larger "
            "stable learning rates", "accuracy " + fmt("%.3f", gate.accuracy) + " vs " +
                                         fmt("%.3f", soft.accuracy) + "; loss < 0.1 after " +
                                         steps_of(gate) + " vs " + steps_of(soft) + " steps"}});
  r.text(std::string("On the sink, this run ") +
         (gate.first_share[1] < soft.first_share[1] ? "agrees in direction" : "does not agree") +
         ": the gated model puts " + fmt("%.1f%%", 100 * gate.first_share[1]) +
         " of a layer-2 query's weight on BOS against softmax's " +
         fmt("%.1f%%", 100 * soft.first_share[1]) + ". Neither is a sink of the size the paper "
         "reports for language models: with eight tokens, two layers and every position worth "
         "reading for some query, softmax attention has little reason to park its weight on the "
         "first token, so there is little for the gate to remove.");
  r.text("The numbers are reported as measured, without tuning any variant to agree with the "
         "papers: a two-layer model on an eight-token task cannot show everything a billion-parameter "
         "language model does. The checks below ask only what the task itself establishes: that "
         "attention learns the recall far above chance (1/8), and that softmax weights are a "
         "distribution while sigmoid weights are not.");

  constexpr double kChance = 1.0 / kValues;
  r.check("softmax attention learns the recall", fmt("%.4f", soft.accuracy), "> 0.5",
          soft.accuracy > 0.5);
  r.check("sigmoid attention (b = -log n) learns the recall", fmt("%.4f", sigb.accuracy), "> 0.5",
          sigb.accuracy > 0.5);
  r.check("gated softmax attention learns the recall", fmt("%.4f", gate.accuracy), "> 0.5",
          gate.accuracy > 0.5);
  r.check("sigmoid attention (b = 0) beats chance", fmt("%.4f", sig0.accuracy),
          "> 2 x chance = " + fmt("%.3f", 2 * kChance), sig0.accuracy > 2 * kChance);
  r.check("softmax weights of a query sum to 1 (mean, layer 2)", fmt("%.6f", soft.weight_sum[1]),
          "within 1e-5", std::fabs(soft.weight_sum[1] - 1) <= 1e-5);
  r.check("sigmoid weights do not (mean sum per query, layer 2, b = -log n)",
          fmt("%.4f", sigb.weight_sum[1]), "differs from 1 by > 0.01",
          std::fabs(sigb.weight_sum[1] - 1) > 0.01);
}

}  // namespace

Section attention_section() {
  auto prm = std::make_shared<Params>();
  return {"attention", "Attention: softmax, sigmoid and gated",
          "A two-layer Transformer learns associative recall with softmax, sigmoid and gated attention",
          [prm](CLI::App& app) {
            app.add_option("--steps", prm->steps, "Training steps per variant (default 800, --quick 200)")
                ->check(CLI::Range(1, 10000000));
            app.add_option("--batch-size", prm->batch, "Sequences per step (default 64)")
                ->check(CLI::Range(1, 100000));
            app.add_option("--lr", prm->lr, "Adam learning rate (default 3e-3)")
                ->check(CLI::PositiveNumber);
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
