// Tour section "multilabel": four independent yes/no attributes of each
// handwritten digit (even, >= 5, prime, has a closed loop) predicted by one
// sigmoid per label with BCEWithLogitsLoss, on the vendored 8x8 digits.
// Per-label precision/recall/F1 and exact match on a held-out split, and the
// independence of the outputs: an image's probabilities need not sum to 1.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../commands.h"
#include "data.h"
#include "metrics.h"
#include "mlp.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

constexpr std::int64_t kLabels = 4, kPixels = 64;
constexpr double kTestFraction = 0.25;
constexpr double kMinF1 = 0.9;
constexpr std::array<const char*, kLabels> kLabelNames = {"even", ">=5", "prime", "loop"};
constexpr std::array<const char*, kLabels> kLabelKeys = {"even", "ge5", "prime", "loop"};


// The attributes of digit d. A closed loop: 0, 6, 8, 9 (4 is left out, see
// the text).
std::array<bool, kLabels> attributes(int d) {
  const bool prime = d == 2 || d == 3 || d == 5 || d == 7;
  const bool loop = d == 0 || d == 6 || d == 8 || d == 9;
  return {d % 2 == 0, d >= 5, prime, loop};
}

std::string attribute_list(int d) {
  std::string s;
  const auto a = attributes(d);
  for (std::size_t j = 0; j < kLabels; ++j)
    if (a[j]) s += (s.empty() ? "" : ", ") + std::string(kLabelNames[j]);
  return s.empty() ? "none" : s;
}

// digits [n] -> targets [n, 4] of 0/1.
Tensor targets(const std::vector<int>& digits) {
  std::vector<float> t;
  for (int d : digits)
    for (bool b : attributes(d)) t.push_back(b ? 1.0f : 0.0f);
  return sigma::tensor(t).reshape({static_cast<std::int64_t>(digits.size()), kLabels});
}

std::vector<int> as_ints(const Tensor& t) {
  std::vector<int> v;
  for (float f : t.to_vector<float>()) v.push_back(static_cast<int>(f));
  return v;
}

// The first `count` images of digit 4 as text, side by side.
std::string fours_ascii(const data::Dataset& ds, int count) {
  static const char ramp[] = " .:-=+*#%@";
  const std::vector<float> x = ds.x.to_vector<float>();
  const std::vector<int> y = as_ints(ds.y);
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < y.size() && static_cast<int>(rows.size()) < count; ++i)
    if (y[i] == 4) rows.push_back(i);
  std::string s;
  for (int r = 0; r < 8; ++r) {
    for (std::size_t k = 0; k < rows.size(); ++k) {
      for (int c = 0; c < 8; ++c) {
        const float v = x[rows[k] * kPixels + static_cast<std::size_t>(r * 8 + c)];
        s += ramp[std::min(9, static_cast<int>(v / 16.0f * 10.0f))];
      }
      s += k + 1 < rows.size() ? "   " : "\n";
    }
  }
  return s;
}

struct Split {
  Tensor x_train, x_test, t_train, t_test;
  std::vector<int> d_train, d_test;
};

Split prepare(const data::Dataset& ds, std::uint64_t seed) {
  const data::Split s = data::stratified_split(ds.y, kTestFraction, seed);
  Split p;
  const Tensor x_train = data::take_rows(ds.x, s.train);
  const auto scaler = data::Standardizer::fit(x_train);
  p.x_train = scaler.apply(x_train);
  p.x_test = scaler.apply(data::take_rows(ds.x, s.test));
  p.d_train = as_ints(data::take_rows(ds.y, s.train));
  p.d_test = as_ints(data::take_rows(ds.y, s.test));
  p.t_train = targets(p.d_train);
  p.t_test = targets(p.d_test);
  return p;
}

struct Training {
  std::vector<double> train_loss, test_loss;  // per epoch
};

// Linear(64, H) + ReLU + Linear(H, 4): x [N, 64] -> logits [N, 4].
Training train(nn::Sequential& model, const Split& s, const Context& ctx, int epochs, int batch,
               double lr) {
  nn::BCEWithLogitsLoss criterion;
  optim::Adam opt(model->parameters(), optim::AdamOptions(lr));
  Progress progress(ctx, "multilabel", epochs);
  Training t;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    t.train_loss.push_back(train_epoch(s.x_train.size(0), batch, opt, [&](const auto& rows) {
      return criterion(model(data::take_rows(s.x_train, rows)), data::take_rows(s.t_train, rows));
    }));
    NoGradGuard no_grad;
    t.test_loss.push_back(criterion(model(s.x_test), s.t_test).item<double>());
    progress.update(epoch, t.train_loss.back());
  }
  return t;
}

void loss_figure(Report& r, const Training& t) {
  plot::Panel p;
  p.title = "BCEWithLogitsLoss (mean over the 4 labels)";
  p.xlabel = "epoch";
  p.ylabel = "loss";
  p.logy = true;
  p.key = "top right";
  plot::Series tr{"train", {}, t.train_loss, plot::Style::Lines, "#1f77b4"};
  plot::Series te{"test", {}, t.test_loss, plot::Style::Lines, "#ff7f0e"};
  for (std::size_t i = 0; i < t.train_loss.size(); ++i) {
    tr.x.push_back(static_cast<double>(i + 1));
    te.x.push_back(static_cast<double>(i + 1));
  }
  p.series = {tr, te};
  r.figure({"multilabel_loss", "Training and test loss per epoch (log scale).", {p}});
}

// Per-label scores on the test split; returns the F1 of each label.
std::array<double, kLabels> label_table(Report& r, const std::vector<float>& probs,
                                        const Split& s) {
  const std::vector<float> truth = s.t_test.to_vector<float>();
  const std::size_t n = s.d_test.size();
  std::vector<std::vector<std::string>> rows;
  std::array<double, kLabels> f1{};
  for (std::size_t j = 0; j < kLabels; ++j) {
    std::vector<double> score, label;
    for (std::size_t i = 0; i < n; ++i) {
      score.push_back(probs[i * kLabels + j]);
      label.push_back(truth[i * kLabels + j]);
    }
    const metrics::Prf m = metrics::precision_recall_f1(score, label);
    double positives = 0;
    for (double l : label) positives += l;
    f1[j] = m.f1;
    rows.push_back({kLabelNames[j], std::to_string(static_cast<int>(positives)),
                    fmt("%.4f", m.precision), fmt("%.4f", m.recall), fmt("%.4f", m.f1)});
    r.metric(std::string("f1_") + kLabelKeys[j], m.f1);
  }
  r.table({"label", "positives in test", "precision", "recall", "F1"}, rows);
  return f1;
}

struct Independence {
  double exact_match = 0;
  double sum_above = 0;      // fraction of images whose probabilities sum > 1.5
  double truth_above = 0;    // fraction with two or more true labels
  double sum_below = 0;      // fraction whose probabilities sum < 0.5
  double truth_none = 0;     // fraction with no true label
  double mean_abs_gap = 0;   // mean |sum of probabilities - number of true labels|
};

Independence independence(const std::vector<float>& probs, const Split& s) {
  const std::vector<float> truth = s.t_test.to_vector<float>();
  const std::size_t n = s.d_test.size();
  Independence ind;
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0, count = 0;
    bool all = true;
    for (std::size_t j = 0; j < kLabels; ++j) {
      const double p = probs[i * kLabels + j], t = truth[i * kLabels + j];
      sum += p;
      count += t;
      all = all && ((p >= 0.5) == (t == 1.0));
    }
    ind.exact_match += all;
    ind.sum_above += sum > 1.5;
    ind.truth_above += count >= 2;
    ind.sum_below += sum < 0.5;
    ind.truth_none += count == 0;
    ind.mean_abs_gap += std::fabs(sum - count);
  }
  for (double* v : {&ind.exact_match, &ind.sum_above, &ind.truth_above, &ind.sum_below,
                    &ind.truth_none, &ind.mean_abs_gap})
    *v /= static_cast<double>(n);
  return ind;
}

// The test images shown: the first of digits 8, 1 and 5 (three, no and two
// labels), then the three whose worst label is furthest from the truth.
std::vector<std::size_t> shown_images(const std::vector<float>& probs, const Split& s) {
  std::vector<std::size_t> shown;
  for (int digit : {8, 1, 5}) {
    const auto it = std::find(s.d_test.begin(), s.d_test.end(), digit);
    if (it != s.d_test.end()) shown.push_back(static_cast<std::size_t>(it - s.d_test.begin()));
  }
  const std::vector<float> truth = s.t_test.to_vector<float>();
  std::vector<std::pair<double, std::size_t>> worst;
  for (std::size_t i = 0; i < s.d_test.size(); ++i) {
    double e = 0;
    for (std::size_t j = 0; j < kLabels; ++j)
      e = std::max(e, static_cast<double>(std::fabs(probs[i * kLabels + j] - truth[i * kLabels + j])));
    worst.push_back({-e, i});
  }
  std::sort(worst.begin(), worst.end());
  for (std::size_t k = 0; k < worst.size() && shown.size() < 6; ++k)
    if (std::find(shown.begin(), shown.end(), worst[k].second) == shown.end())
      shown.push_back(worst[k].second);
  return shown;
}

// One panel per shown test image: the four probabilities as bars.
void probabilities_figure(Report& r, const std::vector<float>& probs, const Split& s) {
  std::vector<plot::Panel> panels;
  for (std::size_t i : shown_images(probs, s)) {
    const int digit = s.d_test[i];
    const auto truth = attributes(digit);
    plot::Panel p;
    double sum = 0;
    for (std::size_t j = 0; j < kLabels; ++j) sum += probs[i * kLabels + j];
    p.title = "digit " + std::to_string(digit) + " (" + attribute_list(digit) + "): sum " +
              fmt("%.2f", sum);
    p.ylabel = "sigmoid probability";
    p.yrange = {{0, 1.45}};
    p.xrange = {{0.4, 4.6}};
    p.key = panels.empty() ? "top left horizontal" : "off";
    plot::Series yes{"true label", {}, {}, plot::Style::Boxes, "#2ca02c"};
    plot::Series no{"not a label", {}, {}, plot::Style::Boxes, "#bbbbbb"};
    for (std::size_t j = 0; j < kLabels; ++j) {
      p.xtics.push_back({static_cast<double>(j + 1), kLabelNames[j]});
      plot::Series& ser = truth[j] ? yes : no;
      ser.x.push_back(static_cast<double>(j + 1));
      ser.y.push_back(probs[i * kLabels + j]);
    }
    p.series = {yes, no};
    p.lines.push_back({0.5, true, panels.empty() ? "0.5 threshold" : ""});
    panels.push_back(std::move(p));
  }
  r.text("Per-label probabilities for six test images: the first 8, 1 and 5 of the test split "
         "(three, none and two labels), then the three images on which the model is most wrong "
         "about some label. Each bar is its own sigmoid; nothing makes them add up to 1, and on "
         "the hard images several labels can be unsure at once.");
  r.figure({"multilabel_probabilities",
            "Per-label sigmoid probabilities for six test images (top: the first 8, 1 and 5 of "
            "the test split, bottom: the three worst); green bars are the image's true labels, the dotted line is the 0.5 "
            "threshold.",
            panels, 3, 3 * 400, 2 * 330});
}

void introduce(Report& r, const data::Dataset& ds) {
  r.text("Multi-label classification asks several yes/no questions about one input at once. "
         "Here the input is an 8x8 handwritten digit (the vendored digits, 1797 images) and the "
         "questions are: is the digit even, is it >= 5, is it prime (2, 3, 5, 7), does it have a "
         "closed loop. A digit can answer yes to several (8: even, >= 5, loop) or to none (1), "
         "so each label gets its own logit and its own sigmoid, and the loss is "
         "`BCEWithLogitsLoss` on all four: no softmax ties them together.");
  r.text("The loop label is 0, 6, 8 and 9. The 4 is left out: in these scans it is drawn closed "
         "(a triangle) by some writers and open at the top by others, as the first six 4s of the "
         "data show, so a loop is not a property of the digit 4.");
  r.code(fours_ascii(ds, 6));
}

constexpr int kEpochs = 40, kQuickEpochs = 12;

void run(Report& r, const MlpParams& prm) {
  const Context& ctx = r.context();
  const auto [epochs, hidden, batch, lr] =
      mlp_settings("multilabel", prm, ctx.quick, kEpochs, kQuickEpochs);

  const data::Dataset ds = data::digits();
  introduce(r, ds);
  const Split s = prepare(ds, ctx.section_seed);
  nn::Sequential model(nn::Linear(kPixels, hidden), nn::ReLU(), nn::Linear(hidden, kLabels));
  const double t0 = now_seconds();
  const Training t = train(model, s, ctx, epochs, batch, lr);
  r.timing("multilabel training (" + std::to_string(epochs) + " epochs)", now_seconds() - t0);

  r.text("A stratified split by digit keeps " + std::to_string(s.d_test.size()) +
         " images for testing and trains on " + std::to_string(s.d_train.size()) +
         " (pixels standardised with the training statistics). The model is `Linear(64, " +
         std::to_string(hidden) + ")` + `ReLU` + `Linear(" + std::to_string(hidden) +
         ", 4)`, trained with Adam (lr " + fmt("%.3g", lr) + ", batches of " +
         std::to_string(batch) + ") for " + std::to_string(epochs) + " epochs.");
  loss_figure(r, t);

  std::vector<float> probs;
  {
    NoGradGuard no_grad;
    probs = sigma::sigmoid(model(s.x_test)).to_vector<float>();
  }
  r.text("Each label is scored on the test split at the threshold 0.5:");
  const auto f1 = label_table(r, probs, s);
  const Independence ind = independence(probs, s);
  r.text("Exact match, all four answers right for an image, is the strictest score: " +
         fmt("%.4f", ind.exact_match) + " of the test images.");
  r.text("The outputs are independent probabilities, not a distribution over the labels. Their "
         "sum over the four labels exceeds 1.5 for " + fmt("%.1f%%", 100 * ind.sum_above) +
         " of the test images (" + fmt("%.1f%%", 100 * ind.truth_above) +
         " have two or more true labels) and stays below 0.5 for " +
         fmt("%.1f%%", 100 * ind.sum_below) + " (" + fmt("%.1f%%", 100 * ind.truth_none) +
         " have none, the 1s); on average it differs from the number of true labels by " +
         fmt("%.3f", ind.mean_abs_gap) + ". A softmax would have forced every sum to 1.");
  probabilities_figure(r, probs, s);

  r.text("The checks ask for F1 >= " + fmt("%.1f", kMinF1) +
         " on every label and an exact match >= 0.85. Each label is a union of digits, so it "
         "can only be wrong where the model mistakes a digit for one on the other side of that "
         "label; a model that has learned the digits gets nearly all of them right, and the "
         "margin below the scores above leaves room for the shorter `--quick` run and for other "
         "seeds.");
  r.metric("exact_match", ind.exact_match);
  r.metric("probability_sum_above_1_5", ind.sum_above);
  for (std::size_t j = 0; j < kLabels; ++j)
    r.check(std::string("F1 of label '") + kLabelNames[j] + "' on the test split",
            fmt("%.4f", f1[j]), ">= " + fmt("%.2f", kMinF1), f1[j] >= kMinF1);
  r.check("exact match (all 4 labels right)", fmt("%.4f", ind.exact_match), ">= 0.85",
          ind.exact_match >= 0.85);
  r.check("images whose probabilities sum > 1.5 vs images with >= 2 true labels",
          fmt("%.4f", ind.sum_above) + " vs " + fmt("%.4f", ind.truth_above), "within 0.05",
          std::fabs(ind.sum_above - ind.truth_above) <= 0.05);
}

}  // namespace

Section multilabel_section() {
  auto prm = std::make_shared<MlpParams>();
  return {"multilabel", "Multi-label classification",
          "Four independent sigmoid labels per handwritten digit with BCEWithLogitsLoss",
          [prm](CLI::App& app) { add_mlp_flags(app, *prm, kEpochs, kQuickEpochs); },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
