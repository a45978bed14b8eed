// Tour section "multiclass": the vendored digits as a 10-class problem, once
// with softmax + CrossEntropyLoss (one distribution over the classes) and
// once with 10 independent sigmoids + BCEWithLogitsLoss (one yes/no question
// per class), same network, same initial weights, same batches. Compared:
// test accuracy, how far the sigmoid probabilities of an image are from
// summing to 1, and calibration (reliability diagram, expected calibration
// error) of the top prediction of each.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../commands.h"
#include "data.h"
#include "mlp.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

constexpr std::int64_t kClasses = 10, kPixels = 64;
constexpr double kTestFraction = 0.25;
constexpr int kBins = 10;
constexpr double kMinAccuracy = 0.95;
constexpr double kMaxEce = 0.1;


struct Split {
  Tensor x_train, x_test, y_train, y_test;  // y: int64 class indices
  Tensor onehot_train, onehot_test;         // [n, 10] float
};

Tensor one_hot(const Tensor& y) {
  const std::vector<std::int64_t> v = y.to_vector<std::int64_t>();
  std::vector<float> t(v.size() * kClasses, 0.0f);
  for (std::size_t i = 0; i < v.size(); ++i) t[i * kClasses + static_cast<std::size_t>(v[i])] = 1.0f;
  return sigma::tensor(t).reshape({static_cast<std::int64_t>(v.size()), kClasses});
}

Split prepare(const data::Dataset& ds, std::uint64_t seed) {
  const data::Split s = data::stratified_split(ds.y, kTestFraction, seed);
  Split p;
  const Tensor x_train = data::take_rows(ds.x, s.train);
  const auto scaler = data::Standardizer::fit(x_train);
  p.x_train = scaler.apply(x_train);
  p.x_test = scaler.apply(data::take_rows(ds.x, s.test));
  p.y_train = data::take_rows(ds.y, s.train).to(kInt64);
  p.y_test = data::take_rows(ds.y, s.test).to(kInt64);
  p.onehot_train = one_hot(p.y_train);
  p.onehot_test = one_hot(p.y_test);
  return p;
}

enum class Head { Softmax, Sigmoid };

struct Trained {
  std::vector<double> train_loss, test_loss;
  std::vector<float> probs;  // [n_test, 10]: softmax or sigmoid probabilities
};

Tensor loss_of(Head h, const Tensor& logits, const Tensor& y, const Tensor& onehot) {
  return h == Head::Softmax ? sigma::cross_entropy(logits, y)
                            : sigma::binary_cross_entropy_with_logits(logits, onehot);
}

// Linear(64, H) + ReLU + Linear(H, 10) from the same initial weights (the
// generator is re-seeded), trained with Adam on the same shuffled batches.
Trained train(Head h, const Split& s, const Context& ctx, int epochs, int hidden, int batch,
              double lr) {
  sigma::manual_seed(ctx.section_seed);
  nn::Sequential model(nn::Linear(kPixels, hidden), nn::ReLU(), nn::Linear(hidden, kClasses));
  optim::Adam opt(model->parameters(), optim::AdamOptions(lr));
  Progress progress(ctx, h == Head::Softmax ? "multiclass softmax" : "multiclass sigmoid", epochs);
  Trained t;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    t.train_loss.push_back(train_epoch(s.x_train.size(0), batch, opt, [&](const auto& rows) {
      return loss_of(h, model(data::take_rows(s.x_train, rows)), data::take_rows(s.y_train, rows),
                     data::take_rows(s.onehot_train, rows));
    }));
    NoGradGuard no_grad;
    t.test_loss.push_back(loss_of(h, model(s.x_test), s.y_test, s.onehot_test).item<double>());
    progress.update(epoch, t.train_loss.back());
  }
  NoGradGuard no_grad;
  const Tensor logits = model(s.x_test);
  t.probs = (h == Head::Softmax ? sigma::softmax(logits, 1) : sigma::sigmoid(logits))
                .to_vector<float>();
  return t;
}

// The top prediction of each test image and its reliability: bins of the
// confidence (the predicted class's probability) over [0, 1].
struct Calibration {
  double accuracy = 0, ece = 0;
  std::array<double, kBins> conf{}, acc{};
  std::array<std::int64_t, kBins> count{};
};

Calibration calibrate(const std::vector<float>& probs, const std::vector<std::int64_t>& y) {
  Calibration c;
  const std::size_t n = y.size();
  for (std::size_t i = 0; i < n; ++i) {
    const float* p = probs.data() + i * kClasses;
    const auto top = static_cast<std::int64_t>(std::max_element(p, p + kClasses) - p);
    const double conf = p[top];
    const bool right = top == y[i];
    const int b = std::min(kBins - 1, static_cast<int>(conf * kBins));
    c.conf[static_cast<std::size_t>(b)] += conf;
    c.acc[static_cast<std::size_t>(b)] += right;
    ++c.count[static_cast<std::size_t>(b)];
    c.accuracy += right;
  }
  for (int b = 0; b < kBins; ++b) {
    const auto k = static_cast<double>(c.count[static_cast<std::size_t>(b)]);
    if (k == 0) continue;
    c.conf[static_cast<std::size_t>(b)] /= k;
    c.acc[static_cast<std::size_t>(b)] /= k;
    c.ece += k / static_cast<double>(n) *
             std::fabs(c.acc[static_cast<std::size_t>(b)] - c.conf[static_cast<std::size_t>(b)]);
  }
  c.accuracy /= static_cast<double>(n);
  return c;
}

// The probabilities' sum per image.
std::vector<double> row_sums(const std::vector<float>& probs) {
  std::vector<double> s(probs.size() / kClasses, 0.0);
  for (std::size_t i = 0; i < probs.size(); ++i) s[i / kClasses] += probs[i];
  return s;
}

void loss_figure(Report& r, const Trained& soft, const Trained& sig) {
  plot::Panel p;
  p.title = "test loss per epoch";
  p.xlabel = "epoch";
  p.ylabel = "loss";
  p.logy = true;
  p.key = "top right";
  plot::Series a{"softmax + cross-entropy", {}, soft.test_loss, plot::Style::Lines, "#1f77b4"};
  plot::Series b{"10 sigmoids + BCE (mean over 10 outputs)", {}, sig.test_loss, plot::Style::Lines, "#d62728"};
  for (std::size_t i = 0; i < soft.test_loss.size(); ++i) {
    a.x.push_back(static_cast<double>(i + 1));
    b.x.push_back(static_cast<double>(i + 1));
  }
  p.series = {a, b};
  r.figure({"multiclass_loss",
            "Test loss per epoch. The two losses are on different scales: BCE averages 10 "
            "binary terms, 9 of them easy negatives.",
            {p}});
}

void reliability_figure(Report& r, const Calibration& soft, const Calibration& sig) {
  std::vector<plot::Panel> panels;
  for (const auto& [c, name, color] :
       {std::tuple{&soft, "softmax", "#1f77b4"}, std::tuple{&sig, "sigmoid", "#d62728"}}) {
    plot::Panel p;
    p.title = std::string(name) + ": ECE " + fmt("%.4f", c->ece);
    p.xlabel = "confidence of the top class";
    p.ylabel = "accuracy";
    p.xrange = {{0, 1}};
    p.yrange = {{0, 1.05}};
    p.key = "top left";
    plot::Series acc{"accuracy in bin", {}, {}, plot::Style::LinesPoints, color};
    plot::Series diag{"perfect calibration", {0, 1}, {0, 1}, plot::Style::Dashed, "#888888", 1};
    for (int b = 0; b < kBins; ++b)
      if (c->count[static_cast<std::size_t>(b)] > 0) {
        acc.x.push_back(c->conf[static_cast<std::size_t>(b)]);
        acc.y.push_back(c->acc[static_cast<std::size_t>(b)]);
      }
    p.series = {acc, diag};
    panels.push_back(std::move(p));
  }
  r.figure({"multiclass_reliability",
            "Reliability diagrams on the test split: the test images binned by the probability "
            "of their predicted class (10 bins of width 0.1); each point is a bin's mean "
            "confidence and its accuracy. Points below the diagonal are over-confident.",
            panels, 2});
}

void sums_figure(Report& r, const std::vector<double>& soft, const std::vector<double>& sig) {
  plot::Panel p;
  p.title = "sum of the 10 probabilities per test image";
  p.xlabel = "sum";
  p.ylabel = "images";
  p.key = "top left";
  // Histogram in bins of 0.05 over [0, 2].
  const auto hist = [](const std::vector<double>& v, const char* title, const char* color) {
    plot::Series s{title, {}, {}, plot::Style::Boxes, color};
    std::vector<double> h(40, 0.0);
    for (double x : v) h[static_cast<std::size_t>(std::clamp(static_cast<int>(x / 0.05), 0, 39))] += 1;
    for (int b = 0; b < 40; ++b) {
      s.x.push_back(0.025 + 0.05 * b);
      s.y.push_back(h[static_cast<std::size_t>(b)]);
    }
    return s;
  };
  p.box_width = 0.045;
  p.logy = false;
  p.series = {hist(sig, "10 sigmoids", "#d62728"), hist(soft, "softmax", "#1f77b4")};
  r.figure({"multiclass_sums",
            "How the probabilities of one image add up: softmax's always give 1 (one bar), the "
            "independent sigmoids' spread on both sides of it.",
            {p}});
}

constexpr int kEpochs = 30, kQuickEpochs = 10;

void run(Report& r, const MlpParams& prm) {
  const Context& ctx = r.context();
  const auto [epochs, hidden, batch, lr] =
      mlp_settings("multiclass", prm, ctx.quick, kEpochs, kQuickEpochs);
  const data::Dataset ds = data::digits();
  const Split s = prepare(ds, ctx.section_seed);
  r.text("Which digit is it? Ten classes, exactly one of them right: the textbook case for "
         "softmax, which turns 10 scores into a distribution (positive, summing to 1) and is "
         "trained with cross-entropy. The alternative is to ask ten independent yes/no "
         "questions, one sigmoid per class trained with `BCEWithLogitsLoss` on one-hot targets, "
         "as the multi-label section does for attributes that can hold together. Both heads sit "
         "on the same network, `Linear(64, " + std::to_string(hidden) + ")` + `ReLU` + "
         "`Linear(" + std::to_string(hidden) + ", 10)`, start from the same weights, see the same "
         "batches (Adam, lr " + fmt("%.3g", lr) + ", batches of " + std::to_string(batch) +
         ", " + std::to_string(epochs) + " epochs) and are scored on the same " +
         std::to_string(s.y_test.numel()) + " held-out images.");
  const double t0 = now_seconds();
  const Trained soft = train(Head::Softmax, s, ctx, epochs, hidden, batch, lr);
  const Trained sig = train(Head::Sigmoid, s, ctx, epochs, hidden, batch, lr);
  r.timing("multiclass training (2 x " + std::to_string(epochs) + " epochs)", now_seconds() - t0);
  loss_figure(r, soft, sig);

  const std::vector<std::int64_t> y = s.y_test.to_vector<std::int64_t>();
  const Calibration cs = calibrate(soft.probs, y), cg = calibrate(sig.probs, y);
  const std::vector<double> ss = row_sums(soft.probs), sg = row_sums(sig.probs);
  double soft_dev = 0, sig_mean = 0, sig_max = 0, sig_far = 0, sig_min_sum = 1e9, sig_max_sum = 0;
  for (double v : ss) soft_dev = std::max(soft_dev, std::fabs(v - 1));
  for (double v : sg) {
    sig_mean += std::fabs(v - 1);
    sig_max = std::max(sig_max, std::fabs(v - 1));
    sig_far += std::fabs(v - 1) > 0.1;
    sig_min_sum = std::min(sig_min_sum, v);
    sig_max_sum = std::max(sig_max_sum, v);
  }
  sig_mean /= static_cast<double>(sg.size());
  sig_far /= static_cast<double>(sg.size());

  r.table({"head", "test accuracy", "max |sum - 1|", "mean |sum - 1|", "ECE (10 bins)"},
          {{"softmax + cross-entropy", fmt("%.4f", cs.accuracy), fmt("%.2e", soft_dev), "-",
            fmt("%.4f", cs.ece)},
           {"10 sigmoids + BCE", fmt("%.4f", cg.accuracy), fmt("%.4f", sig_max),
            fmt("%.4f", sig_mean), fmt("%.4f", cg.ece)}});
  r.text("Both heads classify the digits about equally well: the decision is the largest "
         "output either way. What differs is what the outputs mean. Softmax's ten "
         "probabilities add up to 1 to within float32 rounding (largest deviation " +
         fmt("%.2e", soft_dev) + "). The sigmoids' sums range from " + fmt("%.3f", sig_min_sum) +
         " to " + fmt("%.3f", sig_max_sum) + " over the test images, " +
         fmt("%.1f%%", 100 * sig_far) + " of them more than 0.1 away from 1: where the network "
         "hesitates between two digits, both sigmoids can say yes, or neither.");
  sums_figure(r, ss, sg);
  r.text("Calibration asks whether a prediction made with confidence p is right a fraction p of "
         "the time. The expected calibration error (ECE) bins the test images by the "
         "probability of their predicted class and averages |accuracy - confidence| over the "
         "bins, weighted by their size: " + fmt("%.4f", cs.ece) + " for softmax and " +
         fmt("%.4f", cg.ece) + " for the sigmoids on this split. With about 450 test images "
         "most of them fall in the top bin, so the lower bins hold few images each and their "
         "points are noisy.");
  reliability_figure(r, cs, cg);

  r.metric("softmax_accuracy", cs.accuracy);
  r.metric("sigmoid_accuracy", cg.accuracy);
  r.metric("softmax_sum_max_deviation", soft_dev);
  r.metric("sigmoid_sum_mean_deviation", sig_mean);
  r.metric("sigmoid_sum_far_fraction", sig_far);
  r.metric("softmax_ece", cs.ece);
  r.metric("sigmoid_ece", cg.ece);
  r.check("softmax + cross-entropy test accuracy", fmt("%.4f", cs.accuracy),
          ">= " + fmt("%.2f", kMinAccuracy), cs.accuracy >= kMinAccuracy);
  r.check("10 sigmoids + BCE test accuracy", fmt("%.4f", cg.accuracy),
          ">= " + fmt("%.2f", kMinAccuracy), cg.accuracy >= kMinAccuracy);
  r.check("softmax probabilities sum to 1 (largest |sum - 1|, float32)", fmt("%.2e", soft_dev),
          "<= 1e-6", soft_dev <= 1e-6);
  r.check("sigmoid probabilities do not: some test image's sum is off by more than 0.1",
          fmt("%.4f", sig_max), "> 0.1", sig_max > 0.1);
  r.check("expected calibration error, softmax / sigmoid", fmt("%.4f", cs.ece) + " / " + fmt("%.4f", cg.ece),
          "both < " + fmt("%.1f", kMaxEce), cs.ece < kMaxEce && cg.ece < kMaxEce);
}

}  // namespace

Section multiclass_section() {
  auto prm = std::make_shared<MlpParams>();
  return {"multiclass", "Softmax or ten sigmoids: multi-class digits",
          "Ten-class digits with softmax + cross-entropy vs 10 sigmoids + BCE: accuracy, sums, calibration",
          [prm](CLI::App& app) { add_mlp_flags(app, *prm, kEpochs, kQuickEpochs); },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
