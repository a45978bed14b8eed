// Classification metrics for the tour, computed in double from plain vectors.
#pragma once

#include <vector>

namespace sigma::tour::metrics {

// Fraction of rows where (score >= threshold) equals the 0/1 label.
double accuracy(const std::vector<double>& score, const std::vector<double>& label,
                double threshold = 0.5);

// Area under the ROC curve (ties count one half: the Mann-Whitney statistic).
double roc_auc(const std::vector<double>& score, const std::vector<double>& label);

// The ROC curve: false and true positive rates at every distinct threshold,
// from (0, 0) to (1, 1).
struct Roc {
  std::vector<double> fpr, tpr;
};
Roc roc_curve(const std::vector<double>& score, const std::vector<double>& label);

// Precision, recall and F1 of the positive class at `threshold` (F1 = 0 when
// there are no true positives).
struct Prf {
  double precision = 0, recall = 0, f1 = 0;
};
Prf precision_recall_f1(const std::vector<double>& score, const std::vector<double>& label,
                        double threshold = 0.5);

}  // namespace sigma::tour::metrics
