// Classification metrics for the tour (accuracy, ROC, AUC, precision/recall/
// F1), in double from plain vectors; the AUC and ROC sort the scores once, so
// they cost O(n log n) and treat tied scores as one threshold. NaN or infinite
// scores are rejected: they have no place in the order.
#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>

namespace sigma::tour::metrics {

namespace {

void check_inputs(const char* what, const std::vector<double>& score,
                  const std::vector<double>& label) {
  if (score.size() != label.size()) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(score.size()) +
                                " scores but " + std::to_string(label.size()) + " labels");
  }
  if (score.empty()) throw std::invalid_argument(std::string(what) + ": no rows");
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (!std::isfinite(score[i]))
      throw std::invalid_argument(std::string(what) + ": score " + std::to_string(i) + " is " +
                                  (std::isnan(score[i]) ? "NaN" : "infinite") +
                                  ", expected finite scores");
  }
  for (double l : label) {
    if (l != 0.0 && l != 1.0)
      throw std::invalid_argument(std::string(what) + ": labels must be 0 or 1, found " + std::to_string(l));
  }
}

// Row indices by decreasing score.
std::vector<std::size_t> by_score_desc(const std::vector<double>& score) {
  std::vector<std::size_t> order(score.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  return order;
}

struct ClassCounts {
  double pos = 0, neg = 0;
};

ClassCounts count_classes(const char* what, const std::vector<double>& label) {
  ClassCounts c;
  for (double l : label) (l == 1.0 ? c.pos : c.neg) += 1;
  if (c.pos == 0 || c.neg == 0)
    throw std::invalid_argument(std::string(what) + ": needs both classes, got " +
                                std::to_string(static_cast<std::int64_t>(c.pos)) + " positives and " +
                                std::to_string(static_cast<std::int64_t>(c.neg)) + " negatives");
  return c;
}

}  // namespace

double accuracy(const std::vector<double>& score, const std::vector<double>& label, double threshold) {
  check_inputs("accuracy", score, label);
  std::size_t right = 0;
  for (std::size_t i = 0; i < score.size(); ++i)
    right += ((score[i] >= threshold) == (label[i] == 1.0)) ? 1 : 0;
  return static_cast<double>(right) / static_cast<double>(score.size());
}

double roc_auc(const std::vector<double>& score, const std::vector<double>& label) {
  check_inputs("roc_auc", score, label);
  const ClassCounts c = count_classes("roc_auc", label);
  // Walking from the highest score down, each negative beats the positives
  // already passed; a block of tied scores counts its pairs one half.
  const std::vector<std::size_t> order = by_score_desc(score);
  double pos_above = 0, wins = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    double pos = 0, neg = 0;
    for (; j < order.size() && score[order[j]] == score[order[i]]; ++j)
      (label[order[j]] == 1.0 ? pos : neg) += 1;
    wins += neg * pos_above + 0.5 * neg * pos;
    pos_above += pos;
    i = j;
  }
  return wins / (c.pos * c.neg);
}

Roc roc_curve(const std::vector<double>& score, const std::vector<double>& label) {
  check_inputs("roc_curve", score, label);
  const ClassCounts c = count_classes("roc_curve", label);
  const std::vector<std::size_t> order = by_score_desc(score);
  Roc roc{{0.0}, {0.0}};
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    for (; j < order.size() && score[order[j]] == score[order[i]]; ++j)
      (label[order[j]] == 1.0 ? tp : fp) += 1;
    roc.fpr.push_back(fp / c.neg);
    roc.tpr.push_back(tp / c.pos);
    i = j;
  }
  return roc;
}

Prf precision_recall_f1(const std::vector<double>& score, const std::vector<double>& label,
                        double threshold) {
  check_inputs("precision_recall_f1", score, label);
  double tp = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < score.size(); ++i) {
    const bool predicted = score[i] >= threshold, actual = label[i] == 1.0;
    tp += predicted && actual;
    fp += predicted && !actual;
    fn += !predicted && actual;
  }
  Prf p;
  if (tp == 0) return p;
  p.precision = tp / (tp + fp);
  p.recall = tp / (tp + fn);
  p.f1 = 2 * tp / (2 * tp + fp + fn);
  return p;
}

}  // namespace sigma::tour::metrics
