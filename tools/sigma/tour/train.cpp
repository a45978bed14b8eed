// Tour section "train" (also `sigma train`): the seed's BinaryClassifier
// (Linear, ReLU, Linear -> logits) trained with BCEWithLogitsLoss and Adam on
// the vendored breast-cancer data or a user's CSV. The headline is repeated
// stratified k-fold cross-validation (one 80/20 split of 569 rows is too
// noisy to pass or fail on); one held-out split gives the loss and ROC
// curves, predict_proba on a few rows and the model `--save` writes for
// `sigma predict`. Then the seed's warning made visible: the same model and
// seed with a sigmoid applied before BCEWithLogitsLoss, whose loss has a
// floor above zero and whose "probabilities" are squashed into
// [0.5, sigmoid(1)]. Large files are read streaming and split in place, so
// memory stays within twice the float data.
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
#include "classifier.h"
#include "data.h"
#include "metrics.h"
#include "sigma/sigma.h"
#include "tour.h"

namespace sigma::tour {

namespace {

struct Params {
  std::optional<std::string> csv, target, save;
  std::optional<int> epochs, hidden, batch_size, folds, repeats;
  std::optional<double> lr, test_fraction;
};

// The knobs after defaults, --quick and validation. folds = 0: no
// cross-validation; -1: decided once the data's size is known.
struct Config {
  int epochs = 0, hidden = 0, batch_size = 0, folds = 0, repeats = 0;
  double lr = 0, test_fraction = 0;
};

constexpr int kEpochs = 60, kQuickEpochs = 25, kHidden = 32, kBatch = 32;
constexpr int kFolds = 5, kRepeats = 3, kQuickRepeats = 1;
constexpr double kLr = 1e-3, kTestFraction = 0.2;
constexpr std::size_t kShownRows = 8;
// Above this many rows a user's file is not cross-validated unless --folds
// asks for it: each fold is a full training run.
constexpr std::int64_t kCvMaxRows = 100000;
// Whole-set losses and gradients are evaluated in blocks of this many rows.
constexpr std::int64_t kBlockRows = 1 << 13;
// The ROC figure keeps at most this many points.
constexpr std::size_t kRocPoints = 2000;

constexpr int kMaxEpochs = 100000, kMaxHidden = 4096, kMaxBatch = 1000000, kMaxFolds = 20,
              kMaxRepeats = 100;

void check_size(const char* flag, int value, int max) {
  if (value < 1 || value > max)
    throw cli::UsageError(std::string("train: ") + flag + " must be in [1, " + std::to_string(max) +
                          "], got " + std::to_string(value));
}

// --save must be writable before a long training starts, not after it.
void check_save_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw cli::UsageError("train: --save needs a file name, got an empty string");
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw cli::UsageError("train: --save " + path + " is a directory, expected a file name");
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw cli::UsageError("train: --save " + path + ": the directory " + dir.string() + " does not exist");
}

Config configure(const Params& p, bool quick) {
  Config c;
  c.epochs = p.epochs.value_or(quick ? kQuickEpochs : kEpochs);
  c.hidden = p.hidden.value_or(kHidden);
  c.batch_size = p.batch_size.value_or(kBatch);
  c.lr = p.lr.value_or(kLr);
  c.test_fraction = p.test_fraction.value_or(kTestFraction);
  c.folds = p.folds.value_or(-1);
  c.repeats = p.repeats.value_or(quick ? kQuickRepeats : kRepeats);
  check_size("--epochs", c.epochs, kMaxEpochs);
  check_size("--hidden", c.hidden, kMaxHidden);
  check_size("--batch-size", c.batch_size, kMaxBatch);
  check_size("--repeats", c.repeats, kMaxRepeats);
  if (p.folds && (*p.folds < 0 || *p.folds == 1 || *p.folds > kMaxFolds))
    throw cli::UsageError("train: --folds must be 0 (no cross-validation) or in [2, " +
                          std::to_string(kMaxFolds) + "], got " + std::to_string(*p.folds));
  if (!(c.lr > 0 && std::isfinite(c.lr))) throw cli::UsageError("train: --lr must be > 0, got " + fmt("%g", c.lr));
  if (!(c.test_fraction > 0 && c.test_fraction < 1))
    throw cli::UsageError("train: --test-fraction must be in (0, 1), got " + fmt("%g", c.test_fraction));
  if (p.csv.has_value() != p.target.has_value())
    throw cli::UsageError("train: --csv and --target go together (the file and its 0/1 target column)");
  if (p.save) check_save_path(*p.save);
  return c;
}

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
  data::Standardizer scaler;                // fitted on x_train's raw rows
  Tensor x_train, y_train, x_test, y_test;  // x [N, D] standardised, y [N, 1]
};

[[noreturn]] void one_class(const std::string& source, const char* part, std::int64_t rows,
                            const std::string& detail, bool user_file) {
  const std::string msg = "train: " + source + ": the " + part + " part (" + std::to_string(rows) +
                          " rows) does not hold both classes; " + detail;
  if (user_file) throw cli::UsageError(msg);
  throw std::runtime_error(msg);
}

void check_both_classes(const Tensor& y, const std::string& source, const char* part,
                        const std::string& detail, bool user_file) {
  const double pos = y.sum().item<double>();
  if (pos < 1 || pos > static_cast<double>(y.size(0)) - 1) one_class(source, part, y.size(0), detail, user_file);
}

// Training and test rows from `ds` without copying it: the training rows are
// moved to the front of ds.x in place and both parts are views of it,
// standardised in place with the training rows' mean and deviation.
Prepared prepare_split(data::Dataset& ds, const std::string& source, double test_fraction,
                       std::uint64_t seed, bool user_file) {
  const data::Split s = data::stratified_split(ds.y, test_fraction, seed);
  const std::int64_t n_train = data::move_rows_first(ds.x, ds.y, s.train);
  const std::int64_t n_test = ds.x.size(0) - n_train;
  Prepared d{source, ds.feature_names, ds.target_name, {}, {}, {}, {}, {}};
  d.scaler = data::Standardizer::fit(ds.x.narrow(0, 0, n_train));
  d.scaler.apply_(ds.x);
  d.x_train = ds.x.narrow(0, 0, n_train);
  d.x_test = ds.x.narrow(0, n_train, n_test);
  d.y_train = ds.y.narrow(0, 0, n_train).unsqueeze(1);
  d.y_test = ds.y.narrow(0, n_train, n_test).unsqueeze(1);
  const std::string detail = "the data need more rows of each class for --test-fraction " + fmt("%g", test_fraction);
  check_both_classes(d.y_train, source, "training", detail, user_file);
  check_both_classes(d.y_test, source, "test", detail, user_file);
  return d;
}

// One cross-validation fold: copies of its rows, standardised on its own
// training rows.
Prepared prepare_fold(const data::Dataset& ds, const data::Split& s, const std::string& source, int folds,
                      bool user_file) {
  Prepared d{source, ds.feature_names, ds.target_name, {}, {}, {}, {}, {}};
  d.x_train = data::take_rows(ds.x, s.train);
  d.scaler = data::Standardizer::fit(d.x_train);
  d.scaler.apply_(d.x_train);
  d.x_test = data::take_rows(ds.x, s.test);
  d.scaler.apply_(d.x_test);
  d.y_train = data::take_rows(ds.y, s.train).unsqueeze(1);
  d.y_test = data::take_rows(ds.y, s.test).unsqueeze(1);
  const std::string detail = "the data need at least " + std::to_string(folds) +
                             " rows of each class for --folds " + std::to_string(folds);
  check_both_classes(d.y_train, source, "training", detail, user_file);
  check_both_classes(d.y_test, source, "test", detail, user_file);
  return d;
}

struct History {
  std::vector<double> train_loss, test_loss, grad_norm;  // per epoch
};

// Mean BCEWithLogitsLoss over all rows, in blocks.
double full_loss(BinaryClassifier& m, const Tensor& x, const Tensor& y, Head head) {
  NoGradGuard no_grad;
  const std::int64_t n = x.size(0);
  double sum = 0;
  for (std::int64_t start = 0; start < n; start += kBlockRows) {
    const std::int64_t rows = std::min(kBlockRows, n - start);
    const double mean = sigma::binary_cross_entropy_with_logits(
                            loss_input(m, x.narrow(0, start, rows), head), y.narrow(0, start, rows))
                            .item<double>();
    if (rows == n) return mean;
    sum += mean * static_cast<double>(rows);
  }
  return sum / static_cast<double>(n);
}

// ||dL/dtheta|| of the whole training set's mean loss, accumulated in blocks.
double gradient_norm(BinaryClassifier& m, const Prepared& d, Head head) {
  m->zero_grad();
  const std::int64_t n = d.x_train.size(0);
  for (std::int64_t start = 0; start < n; start += kBlockRows) {
    const std::int64_t rows = std::min(kBlockRows, n - start);
    Tensor loss = sigma::binary_cross_entropy_with_logits(
        loss_input(m, d.x_train.narrow(0, start, rows), head), d.y_train.narrow(0, start, rows));
    if (rows != n) loss = loss * (static_cast<double>(rows) / static_cast<double>(n));
    loss.backward();
  }
  double sq = 0;
  for (const Tensor& p : m->parameters()) sq += p.grad().square().sum().item<double>();
  m->zero_grad();
  return std::sqrt(sq);
}

// What fit() records besides training.
enum class Track { None, Losses, LossesAndGradients };

// Mini-batch Adam; the batch order comes from sigma's seeded generator.
History fit(BinaryClassifier& m, const Prepared& d, const Config& c, Head head, const Context& ctx,
            const std::string& label, Track track, bool log_epochs) {
  nn::BCEWithLogitsLoss criterion;
  optim::Adam opt(m->parameters(), optim::AdamOptions(c.lr));
  Progress progress(ctx, label, c.epochs, "epoch", log_epochs);
  History h;
  const std::int64_t n = d.x_train.size(0);
  const std::int64_t batches = (n + c.batch_size - 1) / c.batch_size;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    const std::vector<std::int64_t> order = sigma::randperm(n).to_vector<std::int64_t>();
    double last = 0;
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::int64_t start = b * c.batch_size;
      const std::int64_t end = std::min<std::int64_t>(n, start + c.batch_size);
      const std::vector<std::int64_t> rows(order.begin() + start, order.begin() + end);
      opt.zero_grad();
      Tensor loss = criterion(loss_input(m, data::take_rows(d.x_train, rows), head),
                              data::take_rows(d.y_train, rows));
      loss.backward();
      opt.step();
      if (progress.wants_step()) {
        last = loss.item<double>();
        progress.step(epoch - 1, b + 1, batches, last);
      }
    }
    if (track != Track::None) {
      h.train_loss.push_back(full_loss(m, d.x_train, d.y_train, head));
      h.test_loss.push_back(full_loss(m, d.x_test, d.y_test, head));
      last = h.train_loss.back();
    }
    if (track == Track::LossesAndGradients) h.grad_norm.push_back(gradient_norm(m, d, head));
    progress.update(epoch, last);
  }
  return h;
}

std::vector<double> as_doubles(const Tensor& t) {
  return t.detach().reshape({-1}).to(sigma::kDouble).to_vector<double>();
}

// One trained model and what the test rows say about it.
struct Outcome {
  BinaryClassifier model{nullptr};
  History history;
  std::vector<double> logit, proba, label;  // test rows
  double accuracy = 0, auc = 0;
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};

// Trains a fresh model from `seed` (the same initial weights and batches for
// both heads) and scores the test rows.
Outcome train_and_test(const Prepared& d, const Config& c, Head head, const Context& ctx,
                       const std::string& label, std::uint64_t seed, Track track, bool log_epochs) {
  sigma::manual_seed(seed);
  Outcome o;
  o.model = BinaryClassifier(d.x_train.size(1), c.hidden);
  o.history = fit(o.model, d, c, head, ctx, label, track, log_epochs);
  NoGradGuard no_grad;
  for (std::int64_t start = 0; start < d.x_test.size(0); start += kBlockRows) {
    const std::int64_t rows = std::min(kBlockRows, d.x_test.size(0) - start);
    const Tensor x = d.x_test.narrow(0, start, rows);
    const Tensor z = loss_input(o.model, x, head);
    const auto logit = as_doubles(z);
    const auto proba = as_doubles(head == Head::Logits ? o.model->predict_proba(x) : probabilities(o.model, x, head));
    o.logit.insert(o.logit.end(), logit.begin(), logit.end());
    o.proba.insert(o.proba.end(), proba.begin(), proba.end());
  }
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

void describe_data(Report& r, const data::Dataset& ds, const std::string& source, const Config& c) {
  const double pos = ds.y.sum().item<double>();
  r.text(source + ": " + std::to_string(ds.x.size(0)) + " rows, " + std::to_string(ds.feature_names.size()) +
         " numeric features, target `" + ds.target_name + "` (" + fmt("%.0f", pos) +
         " positive rows). Every model below standardises each feature with the mean and standard "
         "deviation of its own training rows only, so nothing about its test rows leaks into "
         "training.");
  std::ostringstream model;
  BinaryClassifier shape(static_cast<std::int64_t>(ds.feature_names.size()), c.hidden);
  model << shape;
  r.text("The model is the seed's `BinaryClassifier`: one ReLU hidden layer of " +
         std::to_string(c.hidden) +
         " units and a single raw logit out. `forward` returns the logit; the sigmoid lives inside "
         "`BCEWithLogitsLoss` during training and in `predict_proba` at inference. Adam (lr " +
         fmt("%g", c.lr) + ") runs " + std::to_string(c.epochs) + " epochs of mini-batches of " +
         std::to_string(c.batch_size) + ".");
  r.code(model.str());
}

// ---- Cross-validation: the headline.

struct Spread {
  double mean = 0, sd = 0, min = 0, max = 0;
};

Spread spread(const std::vector<double>& v) {
  Spread s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

std::string mean_sd(const Spread& s) { return fmt("%.4f", s.mean) + " ± " + fmt("%.4f", s.sd); }

void cross_validate(Report& r, const data::Dataset& ds, const std::string& source, const Config& c,
                    bool vendored) {
  const Context& ctx = r.context();
  std::vector<double> acc, auc;
  for (int rep = 0; rep < c.repeats; ++rep) {
    const std::uint64_t rep_seed = ctx.section_seed + 1000003ull * static_cast<std::uint64_t>(rep + 1);
    const std::vector<data::Split> folds = data::stratified_kfold(ds.y, c.folds, rep_seed);
    for (int f = 0; f < c.folds; ++f) {
      const Prepared d = prepare_fold(ds, folds[static_cast<std::size_t>(f)], source, c.folds, !vendored);
      const std::string label = "cross-validation " + std::to_string(rep * c.folds + f + 1) + "/" +
                                std::to_string(c.repeats * c.folds);
      const Outcome o = train_and_test(d, c, Head::Logits, ctx, label, rep_seed + static_cast<std::uint64_t>(f),
                                       Track::None, false);
      acc.push_back(o.accuracy);
      auc.push_back(o.auc);
    }
  }
  const Spread a = spread(acc), u = spread(auc);
  const std::string scheme = std::to_string(c.folds) + "-fold x " + std::to_string(c.repeats);
  r.text("**Cross-validation.** One split of " + std::to_string(ds.x.size(0)) +
         " rows leaves a test part small enough that a few rows move its accuracy by a percent, so "
         "the headline is repeated stratified k-fold cross-validation (" + scheme +
         "): every row is a test row once per repeat, each fold keeps the class balance, and each "
         "of the " + std::to_string(acc.size()) +
         " fits trains a fresh model on the other folds. The table gives the mean, the standard "
         "deviation over the fits and the range.");
  r.table({"scheme", "fits", "accuracy (mean ± sd)", "accuracy range", "ROC AUC (mean ± sd)", "ROC AUC range"},
          {{scheme, std::to_string(acc.size()), mean_sd(a), "[" + fmt("%.4f", a.min) + ", " + fmt("%.4f", a.max) + "]",
            mean_sd(u), "[" + fmt("%.4f", u.min) + ", " + fmt("%.4f", u.max) + "]"}});
  r.metric("cv_accuracy_mean", a.mean);
  r.metric("cv_accuracy_sd", a.sd);
  r.metric("cv_roc_auc_mean", u.mean);
  r.metric("cv_roc_auc_sd", u.sd);
  r.metric("cv_fits", static_cast<double>(acc.size()));
  r.note("cross-validated (" + scheme + "): accuracy " + mean_sd(a) + ", ROC AUC " + mean_sd(u));
  if (vendored) {
    r.check("cross-validated accuracy on breast cancer (" + scheme + ", mean)", fmt("%.4f", a.mean),
            ">= 0.95", a.mean >= 0.95);
    r.check("cross-validated ROC AUC on breast cancer (" + scheme + ", mean)", fmt("%.4f", u.mean),
            ">= 0.98", u.mean >= 0.98);
  }
}

// ---- The held-out split: curves, rows, the saved model.

// At most `n` points of a curve, evenly spaced in index, keeping both ends.
std::vector<double> thin(const std::vector<double>& v, std::size_t n) {
  if (v.size() <= n) return v;
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(v[i * (v.size() - 1) / (n - 1)]);
  return out;
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
  rc.series.push_back({"model", thin(roc.fpr, kRocPoints), thin(roc.tpr, kRocPoints), plot::Style::Steps, "#1f77b4"});
  rc.series.push_back({"chance", {0.0, 1.0}, {0.0, 1.0}, plot::Style::Dashed, "#888888", 1});
  r.figure({.name = "train_loss_roc",
            .caption = "Left: training and test loss after each epoch. Right: ROC curve of "
                       "predict_proba on the held-out rows.",
            .panels = {loss, rc}});
}

void results(Report& r, const Prepared& d, const Outcome& o) {
  const double n = static_cast<double>(o.proba.size());
  r.text("**One held-out split.** A stratified split (seeded) keeps the class balance in both "
         "parts: " + std::to_string(d.y_train.size(0)) + " training rows (" +
         fmt("%.0f", d.y_train.sum().item<double>()) + " positive) and " + std::to_string(d.y_test.size(0)) +
         " test rows (" + fmt("%.0f", d.y_test.sum().item<double>()) +
         " positive). This model gives the curves, the rows below and the checkpoint `--save` writes.");
  r.table({"test rows", "accuracy", "ROC AUC", "true pos", "false pos", "true neg", "false neg"},
          {{fmt("%.0f", n), fmt("%.4f", o.accuracy), fmt("%.4f", o.auc), std::to_string(o.tp),
            std::to_string(o.fp), std::to_string(o.tn), std::to_string(o.fn)}});
  r.metric("test_accuracy", o.accuracy);
  r.metric("roc_auc", o.auc);
  r.metric("final_train_loss", o.history.train_loss.back());
  r.metric("final_test_loss", o.history.test_loss.back());
  r.note("held-out split (" + fmt("%.0f", n) + " test rows): accuracy " + fmt("%.4f", o.accuracy) +
         ", ROC AUC " + fmt("%.4f", o.auc));
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
  const Outcome twice = train_and_test(d, c, Head::SigmoidFirst, r.context(), "double sigmoid",
                                      r.context().section_seed, Track::LossesAndGradients, false);
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

// A user's CSV, read with progress on a terminal and one line after.
data::Dataset load_user_csv(const std::string& path, const std::string& target, const Context& ctx) {
  const double t0 = now_seconds();
  double last_draw = -1;
  const data::ReadProgress progress = [&](std::uint64_t done, std::uint64_t total, std::int64_t rows) {
    if (!ctx.interactive) return;
    const double t = now_seconds();
    if (last_draw >= 0 && t - last_draw < 0.1) return;
    last_draw = t;
    std::printf("\r  reading %s: %3.0f%%  %lld rows", path.c_str(),
                total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0,
                static_cast<long long>(rows));
    std::fflush(stdout);
  };
  data::Dataset ds;
  try {
    ds = data::read_csv(path, target, true, progress);
  } catch (const std::runtime_error& e) {
    if (ctx.interactive) std::printf("\n");
    throw cli::UsageError(std::string("train: ") + e.what());
  }
  if (ctx.interactive) std::printf("\r\033[K");
  std::printf("  read %lld rows x %zu features from %s (%.1f s)\n", static_cast<long long>(ds.x.size(0)),
              ds.feature_names.size(), path.c_str(), now_seconds() - t0);
  std::fflush(stdout);
  return ds;
}

void run(Report& r, const Params& p) {
  const Context& ctx = r.context();
  Config c = configure(p, ctx.quick);
  const bool vendored = !p.csv.has_value();
  data::Dataset ds = vendored ? data::breast_cancer() : load_user_csv(*p.csv, *p.target, ctx);
  const std::string source = vendored ? "Breast cancer (Wisconsin diagnostic, vendored)"
                                      : "`" + std::filesystem::path(*p.csv).filename().string() + "`";
  if (c.folds < 0) c.folds = vendored || ds.x.size(0) <= kCvMaxRows ? kFolds : 0;
  describe_data(r, ds, source, c);
  if (c.folds > 0) {
    const double t = now_seconds();
    cross_validate(r, ds, source, c, vendored);
    r.timing("cross-validation", now_seconds() - t);
  } else {
    r.text("Cross-validation is off (" +
           std::string(p.folds ? "--folds 0" : "more than " + std::to_string(kCvMaxRows) + " rows; --folds K turns it on") +
           "): the numbers below come from one held-out split.");
  }
  const Prepared d = prepare_split(ds, source, c.test_fraction, ctx.section_seed, !vendored);
  const double t0 = now_seconds();
  const Outcome right = train_and_test(d, c, Head::Logits, ctx, "BCEWithLogitsLoss", ctx.section_seed,
                                       vendored ? Track::LossesAndGradients : Track::Losses, !vendored);
  r.timing("training (logits)", now_seconds() - t0);
  loss_roc_figure(r, right);
  results(r, d, right);
  proba_table(r, right);
  if (p.save) {
    save_classifier({right.model, d.scaler, d.feature_names, d.target_name}, *p.save);
    r.note("model saved to " + *p.save + " (use: sigma predict --model " + *p.save + " --csv FILE)");
  }
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
                           "Share of rows held out for the single split, stratified (default 0.2)");
            app.add_option("--folds", prm->folds,
                           "Cross-validation folds, 0 for none (default " + std::to_string(kFolds) +
                               "; 0 for a CSV of more than " + std::to_string(kCvMaxRows) + " rows)");
            app.add_option("--repeats", prm->repeats,
                           "Cross-validation repeats, each with new folds (default " +
                               std::to_string(kRepeats) + ", --quick " + std::to_string(kQuickRepeats) + ")");
            app.add_option("--save", prm->save,
                           "Write the held-out split's model, its standardisation and feature "
                           "names to this safetensors file (for sigma predict)");
          },
          [prm](Report& r) { run(r, *prm); }};
}

}  // namespace sigma::tour
