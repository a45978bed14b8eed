// Tour section "train" (also `sigma train`): the seed's BinaryClassifier
// (Linear, ReLU, Linear -> logits) trained with BCEWithLogitsLoss and Adam on
// the vendored breast-cancer data or a user's CSV; accuracy, ROC AUC, loss and
// ROC curves, predict_proba on a few rows. Then the seed's warning made
// visible: the same model and seed with a sigmoid applied before
// BCEWithLogitsLoss, whose loss has a floor above zero and whose
// "probabilities" are squashed into [0.5, sigmoid(1)].
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../commands.h"
#include "../number_format.h"
#include "data.h"
#include "metrics.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

struct Params {
  std::optional<std::string> csv, target;
  std::optional<int> epochs, hidden, batch_size;
  std::optional<double> lr, test_fraction;
};

// The knobs after defaults, --quick and validation.
struct Config {
  int epochs = 0, hidden = 0, batch_size = 0;
  double lr = 0, test_fraction = 0;
};

constexpr int kEpochs = 60, kQuickEpochs = 25, kHidden = 32, kBatch = 32;
constexpr double kLr = 1e-3, kTestFraction = 0.2;
constexpr std::size_t kShownRows = 8;

constexpr int kMaxEpochs = 100000, kMaxHidden = 4096, kMaxBatch = 1000000;

void check_size(const char* flag, int value, int max) {
  if (value < 1 || value > max)
    throw cli::UsageError(std::string("train: ") + flag + " must be in [1, " + std::to_string(max) +
                          "], got " + std::to_string(value));
}

Config configure(const Params& p, bool quick) {
  Config c;
  c.epochs = p.epochs.value_or(quick ? kQuickEpochs : kEpochs);
  c.hidden = p.hidden.value_or(kHidden);
  c.batch_size = p.batch_size.value_or(kBatch);
  c.lr = p.lr.value_or(kLr);
  c.test_fraction = p.test_fraction.value_or(kTestFraction);
  check_size("--epochs", c.epochs, kMaxEpochs);
  check_size("--hidden", c.hidden, kMaxHidden);
  check_size("--batch-size", c.batch_size, kMaxBatch);
  if (!(c.lr > 0 && std::isfinite(c.lr))) throw cli::UsageError("train: --lr must be > 0, got " + fmt("%g", c.lr));
  if (!(c.test_fraction > 0 && c.test_fraction < 1))
    throw cli::UsageError("train: --test-fraction must be in (0, 1), got " + fmt("%g", c.test_fraction));
  if (p.csv.has_value() != p.target.has_value())
    throw cli::UsageError("train: --csv and --target go together (the file and its 0/1 target column)");
  return c;
}

// The seed's classifier: x [N, D] -> logits [N, 1]; no sigmoid in forward.
struct BinaryClassifierImpl : nn::Module {
  BinaryClassifierImpl(std::int64_t input_dim, std::int64_t hidden_dim)
      : fc1(register_module("fc1", nn::Linear(input_dim, hidden_dim))),
        fc2(register_module("fc2", nn::Linear(hidden_dim, 1))),
        relu(register_module("relu", nn::ReLU())) {}
  Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
  Tensor predict_proba(const Tensor& x) { return sigma::sigmoid(forward(x)); }
  nn::Linear fc1, fc2;
  nn::ReLU relu;
};
SIGMA_MODULE(BinaryClassifier);

// What goes into BCEWithLogitsLoss: the logits (right), or sigmoid(logits)
// (the mistake the seed warns about).
enum class Head { Logits, SigmoidFirst };

Tensor loss_input(BinaryClassifier& m, const Tensor& x, Head head) {
  Tensor z = m(x);
  return head == Head::Logits ? z : sigma::sigmoid(z);
}

// predict_proba as a user would call it: sigmoid of what the model is
// trained to emit as logits.
Tensor probabilities(BinaryClassifier& m, const Tensor& x, Head head) {
  return sigma::sigmoid(loss_input(m, x, head));
}

struct Prepared {
  std::string source;  // a few words for the text
  std::vector<std::string> feature_names;
  std::string target_name;
  Tensor x_train, y_train, x_test, y_test;  // x [N, D] standardised, y [N, 1]
};

Prepared prepare(data::Dataset ds, const std::string& source, double test_fraction, std::uint64_t seed,
              bool user_file) {
  const data::Split s = data::stratified_split(ds.y, test_fraction, seed);
  Prepared d{source, ds.feature_names, ds.target_name, {}, {}, {}, {}};
  const Tensor x_train = data::take_rows(ds.x, s.train);
  const auto scaler = data::Standardizer::fit(x_train);
  d.x_train = scaler.apply(x_train);
  d.x_test = scaler.apply(data::take_rows(ds.x, s.test));
  d.y_train = data::take_rows(ds.y, s.train).unsqueeze(1);
  d.y_test = data::take_rows(ds.y, s.test).unsqueeze(1);
  for (const Tensor* y : {&d.y_train, &d.y_test}) {
    const double pos = y->sum().item<double>();
    if (pos < 1 || pos > static_cast<double>(y->size(0)) - 1) {
      const std::string msg = "train: " + source + ": the " + (y == &d.y_train ? "training" : "test") +
                              " part (" + std::to_string(y->size(0)) +
                              " rows) does not hold both classes; the data need more rows of each "
                              "class for --test-fraction " + fmt("%g", test_fraction);
      if (user_file) throw cli::UsageError(msg);
      throw std::runtime_error(msg);
    }
  }
  return d;
}

struct History {
  std::vector<double> train_loss, test_loss, grad_norm;  // per epoch
};

double full_loss(BinaryClassifier& m, const Tensor& x, const Tensor& y, Head head) {
  NoGradGuard no_grad;
  return sigma::binary_cross_entropy_with_logits(loss_input(m, x, head), y).item<double>();
}

// ||dL/dtheta|| of the whole training set's loss.
double gradient_norm(BinaryClassifier& m, const Prepared& d, Head head) {
  m->zero_grad();
  sigma::binary_cross_entropy_with_logits(loss_input(m, d.x_train, head), d.y_train).backward();
  double sq = 0;
  for (const Tensor& p : m->parameters()) sq += p.grad().square().sum().item<double>();
  m->zero_grad();
  return std::sqrt(sq);
}

// Mini-batch Adam; the batch order comes from sigma's seeded generator.
History fit(BinaryClassifier& m, const Prepared& d, const Config& c, Head head, const Context& ctx,
            const std::string& label) {
  nn::BCEWithLogitsLoss criterion;
  optim::Adam opt(m->parameters(), optim::AdamOptions(c.lr));
  Progress progress(ctx, label, c.epochs);
  History h;
  const std::int64_t n = d.x_train.size(0);
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    const std::vector<std::int64_t> order = sigma::randperm(n).to_vector<std::int64_t>();
    for (std::int64_t start = 0; start < n; start += c.batch_size) {
      const std::int64_t end = std::min<std::int64_t>(n, start + c.batch_size);
      const std::vector<std::int64_t> rows(order.begin() + start, order.begin() + end);
      opt.zero_grad();
      criterion(loss_input(m, data::take_rows(d.x_train, rows), head), data::take_rows(d.y_train, rows))
          .backward();
      opt.step();
    }
    h.train_loss.push_back(full_loss(m, d.x_train, d.y_train, head));
    h.test_loss.push_back(full_loss(m, d.x_test, d.y_test, head));
    h.grad_norm.push_back(gradient_norm(m, d, head));
    progress.update(epoch, h.train_loss.back());
  }
  return h;
}

std::vector<double> as_doubles(const Tensor& t) {
  return t.detach().reshape({-1}).to(sigma::kDouble).to_vector<double>();
}

// One trained model and what the test rows say about it.
struct Outcome {
  History history;
  std::vector<double> logit, proba, label;  // test rows
  double accuracy = 0, auc = 0;
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};

Outcome train_and_test(const Prepared& d, const Config& c, Head head, const Context& ctx,
                       const std::string& label) {
  sigma::manual_seed(ctx.section_seed);  // the same initial weights and batches for both heads
  BinaryClassifier model(d.x_train.size(1), c.hidden);
  Outcome o;
  o.history = fit(model, d, c, head, ctx, label);
  NoGradGuard no_grad;
  o.logit = as_doubles(loss_input(model, d.x_test, head));
  o.proba = as_doubles(head == Head::Logits ? model->predict_proba(d.x_test)
                                            : probabilities(model, d.x_test, head));
  o.label = as_doubles(d.y_test);
  o.accuracy = metrics::accuracy(o.proba, o.label);
  o.auc = metrics::roc_auc(o.proba, o.label);
  for (std::size_t i = 0; i < o.proba.size(); ++i) {
    const bool pred = o.proba[i] >= 0.5, pos = o.label[i] == 1;
    (pred ? (pos ? o.tp : o.fp) : (pos ? o.fn : o.tn)) += 1;
  }
  return o;
}

std::vector<double> epochs_axis(std::size_t n) {
  std::vector<double> e(n);
  for (std::size_t i = 0; i < n; ++i) e[i] = static_cast<double>(i + 1);
  return e;
}

void describe_data(Report& r, const Prepared& d, const Config& c) {
  const double pos_train = d.y_train.sum().item<double>(), pos_test = d.y_test.sum().item<double>();
  const auto n_train = d.y_train.size(0), n_test = d.y_test.size(0);
  r.text(d.source + ": " + std::to_string(n_train + n_test) + " rows, " +
         std::to_string(d.feature_names.size()) + " numeric features, target `" + d.target_name +
         "`. A stratified split (seeded) keeps the class balance in both parts: " +
         std::to_string(n_train) + " training rows (" + fmt("%.0f", pos_train) + " positive) and " +
         std::to_string(n_test) + " test rows (" + fmt("%.0f", pos_test) +
         " positive). Each feature is standardised with the mean and standard deviation of the "
         "training rows only, so nothing about the test rows leaks into training.");
  std::ostringstream model;
  BinaryClassifier shape(d.x_train.size(1), c.hidden);
  model << shape;
  r.text("The model is the seed's `BinaryClassifier`: one ReLU hidden layer of " +
         std::to_string(c.hidden) +
         " units and a single raw logit out. `forward` returns the logit; the sigmoid lives inside "
         "`BCEWithLogitsLoss` during training and in `predict_proba` at inference. Adam (lr " +
         fmt("%g", c.lr) + ") runs " + std::to_string(c.epochs) + " epochs of mini-batches of " +
         std::to_string(c.batch_size) + ".");
  r.code(model.str());
}

void loss_roc_figure(Report& r, const Outcome& o) {
  const auto e = epochs_axis(o.history.train_loss.size());
  const metrics::Roc roc = metrics::roc_curve(o.proba, o.label);
  plot::Panel loss{.title = "BCEWithLogitsLoss per epoch", .xlabel = "epoch", .ylabel = "mean loss",
                   .logy = true, .key = "top right"};
  loss.series.push_back({"train", e, o.history.train_loss, plot::Style::Lines, "#1f77b4"});
  loss.series.push_back({"test", e, o.history.test_loss, plot::Style::Lines, "#ff7f0e"});
  plot::Panel rc{.title = "ROC curve on the test rows (AUC " + fmt("%.4f", o.auc) + ")",
                 .xlabel = "false positive rate", .ylabel = "true positive rate",
                 .xrange = std::pair{0.0, 1.0}, .yrange = std::pair{0.0, 1.02}, .key = "bottom right"};
  rc.series.push_back({"model", roc.fpr, roc.tpr, plot::Style::Steps, "#1f77b4"});
  rc.series.push_back({"chance", {0.0, 1.0}, {0.0, 1.0}, plot::Style::Dashed, "#888888", 1});
  r.figure({.name = "train_loss_roc",
            .caption = "Left: training and test loss after each epoch. Right: ROC curve of "
                       "predict_proba on the held-out rows.",
            .panels = {loss, rc}});
}

void results(Report& r, const Outcome& o, bool vendored) {
  const double n = static_cast<double>(o.proba.size());
  r.table({"test rows", "accuracy", "ROC AUC", "true pos", "false pos", "true neg", "false neg"},
          {{fmt("%.0f", n), fmt("%.4f", o.accuracy), fmt("%.4f", o.auc), std::to_string(o.tp),
            std::to_string(o.fp), std::to_string(o.tn), std::to_string(o.fn)}});
  r.metric("test_accuracy", o.accuracy);
  r.metric("roc_auc", o.auc);
  r.metric("final_train_loss", o.history.train_loss.back());
  r.metric("final_test_loss", o.history.test_loss.back());
  if (vendored) {
    r.check("test accuracy on breast cancer", fmt("%.4f", o.accuracy), ">= 0.95", o.accuracy >= 0.95);
    r.check("ROC AUC on breast cancer", fmt("%.4f", o.auc), ">= 0.98", o.auc >= 0.98);
  }
  r.text("Accuracy counts a row right when `predict_proba >= 0.5` matches its label. The AUC "
         "ignores the threshold: it is the probability that a random positive row gets a higher "
         "score than a random negative one (ties count one half).");
}

// Test rows to show: the first few of each class, in test order.
std::vector<std::size_t> shown_rows(const std::vector<double>& label) {
  std::vector<std::size_t> rows;
  for (double cls : {0.0, 1.0}) {
    std::size_t taken = 0;
    for (std::size_t i = 0; i < label.size() && taken < kShownRows / 2; ++i)
      if (label[i] == cls) rows.push_back(i), ++taken;
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

void proba_table(Report& r, const Outcome& o) {
  double worst = 0;
  for (std::size_t i = 0; i < o.proba.size(); ++i)
    worst = std::max(worst, std::abs(o.proba[i] - 1.0 / (1.0 + std::exp(-o.logit[i]))));
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i : shown_rows(o.label)) {
    rows.push_back({std::to_string(i), fmt("%.4f", o.logit[i]), cli::format_value(o.proba[i], 4),
                    o.proba[i] >= 0.5 ? "1" : "0", fmt("%.0f", o.label[i])});
  }
  r.text("`predict_proba` on " + std::to_string(rows.size()) +
         " test rows (up to the first " + std::to_string(kShownRows / 2) +
         " of each class, in test order): the logit the model returns, its sigmoid, the "
         "class at the 0.5 threshold and the true label.");
  r.table({"test row", "logit", "predict_proba", "predicted", "true"}, rows);
  r.check("predict_proba = 1/(1+exp(-logit)) in double, all test rows", fmt("%.2e", worst),
          "<= 1e-6 (f32)", worst <= 1e-6);
}

// ---- The double sigmoid.

// The lowest mean BCEWithLogitsLoss reachable when its input p is already a
// sigmoid, p in (0, 1): log(1 + e^-1) for a positive row (p -> 1) and log 2
// for a negative row (p -> 0).
double loss_floor(const Tensor& y) {
  const double pos = y.sum().item<double>(), n = static_cast<double>(y.size(0));
  return (pos * std::log1p(std::exp(-1.0)) + (n - pos) * std::log(2.0)) / n;
}

void double_sigmoid_figure(Report& r, const Outcome& right, const Outcome& twice, double floor) {
  const auto e = epochs_axis(right.history.train_loss.size());
  plot::Panel loss{.title = "Training loss", .xlabel = "epoch", .ylabel = "mean loss", .logy = true,
                   .key = "bottom left"};
  loss.series.push_back({"logits into BCEWithLogitsLoss", e, right.history.train_loss,
                         plot::Style::Lines, "#1f77b4"});
  loss.series.push_back({"sigmoid(logits) into BCEWithLogitsLoss", e, twice.history.train_loss,
                         plot::Style::Lines, "#d62728"});
  loss.lines.push_back({floor, true, "floor of the double sigmoid " + fmt("%.4f", floor)});
  plot::Panel grad{.title = "Gradient norm of the full training loss", .xlabel = "epoch",
                   .ylabel = "gradient norm", .logy = true, .key = "top right"};
  grad.series.push_back({"logits into BCEWithLogitsLoss", e, right.history.grad_norm,
                         plot::Style::Lines, "#1f77b4"});
  grad.series.push_back({"sigmoid(logits) into BCEWithLogitsLoss", e, twice.history.grad_norm,
                         plot::Style::Lines, "#d62728"});
  r.figure({.name = "double_sigmoid",
            .caption = "The same model, seed and batches trained two ways. The double sigmoid's "
                       "loss levels off above its floor while its gradient keeps shrinking.",
            .panels = {loss, grad}});
}

std::pair<double, double> range(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {*lo, *hi};
}

void double_sigmoid(Report& r, const Prepared& d, const Config& c, const Outcome& right) {
  const Outcome twice = train_and_test(d, c, Head::SigmoidFirst, r.context(), "double sigmoid");
  const double floor = loss_floor(d.y_train);
  const double final_loss = twice.history.train_loss.back();
  const auto [lo, hi] = range(twice.proba);
  const auto [lo_right, hi_right] = range(right.proba);
  const double sig1 = 1.0 / (1.0 + std::exp(-1.0));
  const double base_rate = d.y_test.sum().item<double>() / static_cast<double>(d.y_test.size(0));

  r.text("**The seed's warning: a sigmoid before `BCEWithLogitsLoss`.** Below, the same model, "
         "seed and mini-batches are trained once more, with `sigmoid` applied to the logits before "
         "the loss (which applies its own). The loss then sees p = sigmoid(z) in (0, 1) as its "
         "logit, so a positive row costs at least log(1 + e^-1) = " +
         fmt("%.4f", std::log1p(std::exp(-1.0))) + " and a negative row at least log 2 = " +
         fmt("%.4f", std::log(2.0)) + "; over these training rows the mean cannot go below " +
         fmt("%.4f", floor) + ". The gradient reaching z is sigmoid'(z) (sigmoid(p) - y), and "
         "sigmoid(p) - y never gets closer to 0 than 0.27, so training only quiets down once "
         "sigmoid'(z) has vanished: the logits are driven into saturation.");
  double_sigmoid_figure(r, right, twice, floor);
  r.table({"", "logits into the loss (right)", "sigmoid(logits) into the loss"},
          {{"final training loss", fmt("%.4f", right.history.train_loss.back()), fmt("%.4f", final_loss)},
           {"lowest possible training loss", "0", fmt("%.4f", floor)},
           {"final gradient norm", fmt("%.3e", right.history.grad_norm.back()),
            fmt("%.3e", twice.history.grad_norm.back())},
           {"test accuracy (predict_proba >= 0.5)", fmt("%.4f", right.accuracy), fmt("%.4f", twice.accuracy)},
           {"test ROC AUC", fmt("%.4f", right.auc), fmt("%.4f", twice.auc)},
           {"predict_proba range on the test rows",
            "[" + fmt("%.4f", lo_right) + ", " + fmt("%.4f", hi_right) + "]",
            "[" + fmt("%.4f", lo) + ", " + fmt("%.4f", hi) + "]"}});
  r.text("At inference the mistake shows twice over: `predict_proba` applies the sigmoid again, "
         "so every \"probability\" lands in [0.5, sigmoid(1) = 0.7311], every row is called "
         "positive, and the accuracy falls to the share of positive test rows (" +
         fmt("%.4f", base_rate) +
         "). The AUC survives because a sigmoid keeps the order of the scores: the model still "
         "ranks rows, but neither its loss nor its probabilities mean what they say.");

  r.metric("double_sigmoid_test_accuracy", twice.accuracy);
  r.metric("double_sigmoid_final_loss", final_loss);
  r.metric("double_sigmoid_loss_floor", floor);
  r.metric("double_sigmoid_roc_auc", twice.auc);
  r.check("double-sigmoid final training loss >= its floor", fmt("%.4f", final_loss),
          ">= " + fmt("%.4f", floor), final_loss >= floor - 1e-6);
  r.check("the correct model's training loss ends below that floor",
          fmt("%.4f", right.history.train_loss.back()), "< " + fmt("%.4f", floor),
          right.history.train_loss.back() < floor);
  r.check("double-sigmoid final gradient norm below the correct model's (despite a higher loss)",
          fmt("%.3e", twice.history.grad_norm.back()), "< " + fmt("%.3e", right.history.grad_norm.back()),
          twice.history.grad_norm.back() < right.history.grad_norm.back());
  r.check("double-sigmoid predict_proba within [0.5, sigmoid(1)]",
          "[" + fmt("%.4f", lo) + ", " + fmt("%.4f", hi) + "]", "[0.5000, " + fmt("%.4f", sig1) + "]",
          lo >= 0.5 && hi <= sig1 + 1e-6);
  r.check("double-sigmoid accuracy = share of positive test rows (all called positive)",
          fmt("%.4f", twice.accuracy), fmt("%.4f", base_rate), twice.accuracy == base_rate);
}

data::Dataset load_user_csv(const std::string& path, const std::string& target) {
  try {
    return data::read_csv(path, target);
  } catch (const std::runtime_error& e) {
    throw cli::UsageError(std::string("train: ") + e.what());
  }
}

void run(Report& r, const Params& p) {
  const Context& ctx = r.context();
  const Config c = configure(p, ctx.quick);
  const bool vendored = !p.csv.has_value();
  const Prepared d =
      vendored ? prepare(data::breast_cancer(), "Breast cancer (Wisconsin diagnostic, vendored)",
                         c.test_fraction, ctx.section_seed, false)
               : prepare(load_user_csv(*p.csv, *p.target),
                         "`" + std::filesystem::path(*p.csv).filename().string() + "`", c.test_fraction,
                         ctx.section_seed, true);
  describe_data(r, d, c);
  const double t0 = now_seconds();
  const Outcome right = train_and_test(d, c, Head::Logits, ctx, "BCEWithLogitsLoss");
  r.timing("training (logits)", now_seconds() - t0);
  loss_roc_figure(r, right);
  results(r, right, vendored);
  proba_table(r, right);
  if (!vendored) return;
  const double t1 = now_seconds();
  double_sigmoid(r, d, c, right);
  r.timing("training (double sigmoid)", now_seconds() - t1);
}

}  // namespace

Section train_section() {
  auto prm = std::make_shared<Params>();
  return {"train", "Binary classification",
          "The seed's BinaryClassifier on breast-cancer data (or --csv), and the double-sigmoid mistake",
          [prm](CLI::App& app) {
            app.add_option("--csv", prm->csv,
                           "Train on this CSV instead (header row, numeric cells; needs --target)");
            app.add_option("--target", prm->target, "The CSV's 0/1 target column (with --csv)");
            app.add_option("--epochs", prm->epochs,
                           "Training epochs (default " + std::to_string(kEpochs) + ", --quick " +
                               std::to_string(kQuickEpochs) + ")");
            app.add_option("--hidden", prm->hidden,
                           "Hidden units (default " + std::to_string(kHidden) + ")");
            app.add_option("--lr", prm->lr, "Adam learning rate (default 0.001)");
            app.add_option("--batch-size", prm->batch_size,
                           "Mini-batch size (default " + std::to_string(kBatch) + ")");
            app.add_option("--test-fraction", prm->test_fraction,
                           "Share of rows held out for testing, stratified (default 0.2)");
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
