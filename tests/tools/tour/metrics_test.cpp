// Tests of tools/sigma/tour/metrics.cpp against hand-worked examples and
// brute-force computations in double (the AUC by counting every
// positive/negative pair, the ROC by sweeping every threshold).
#include "tour/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace m = sigma::tour::metrics;

namespace {

double brute_auc(const std::vector<double>& s, const std::vector<double>& l) {
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    for (std::size_t j = 0; j < s.size(); ++j) {
      if (l[i] != 1.0 || l[j] != 0.0) continue;
      pairs += 1;
      wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
    }
  }
  return wins / pairs;
}

// Random scores on a coarse grid (so ties happen) and random labels.
void random_case(std::mt19937_64& g, std::vector<double>& s, std::vector<double>& l) {
  const std::size_t n = 2 + g() % 60;
  s.resize(n);
  l.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<double>(g() % 11) / 10.0;
    l[i] = static_cast<double>(g() % 2);
  }
  l[0] = 0;
  l[1] = 1;
}

TEST(Accuracy, HandWorked) {
  EXPECT_DOUBLE_EQ(m::accuracy({0.9, 0.2, 0.5, 0.49}, {1, 0, 1, 1}), 0.75);  // 0.5 counts as 1
  EXPECT_DOUBLE_EQ(m::accuracy({0.9, 0.2, 0.5, 0.49}, {1, 0, 1, 1}, 0.4), 1.0);
  EXPECT_DOUBLE_EQ(m::accuracy({2.0, -1.0}, {0, 1}, 0.0), 0.0);
}

TEST(Accuracy, RejectsBadInput) {
  EXPECT_THROW(m::accuracy({0.1}, {1, 0}), std::invalid_argument);
  EXPECT_THROW(m::accuracy({}, {}), std::invalid_argument);
  EXPECT_THROW(m::accuracy({0.1}, {2}), std::invalid_argument);
}

TEST(RocAuc, HandWorked) {
  EXPECT_DOUBLE_EQ(m::roc_auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);  // scikit-learn's example
  EXPECT_DOUBLE_EQ(m::roc_auc({0.9, 0.8, 0.1}, {1, 1, 0}), 1.0);
  EXPECT_DOUBLE_EQ(m::roc_auc({0.1, 0.2}, {1, 0}), 0.0);
  EXPECT_DOUBLE_EQ(m::roc_auc({0.5, 0.5, 0.5}, {1, 0, 0}), 0.5);  // all tied: one half
  EXPECT_THROW(m::roc_auc({0.1, 0.2}, {1, 1}), std::invalid_argument);
}

TEST(RocAuc, MatchesPairCounting) {
  std::mt19937_64 g(1);
  std::vector<double> s, l;
  for (int t = 0; t < 300; ++t) {
    random_case(g, s, l);
    EXPECT_NEAR(m::roc_auc(s, l), brute_auc(s, l), 1e-12);
  }
}

TEST(RocCurve, HandWorked) {
  const m::Roc r = m::roc_curve({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1});
  EXPECT_EQ(r.fpr, (std::vector<double>{0, 0, 0.5, 0.5, 1}));
  EXPECT_EQ(r.tpr, (std::vector<double>{0, 0.5, 0.5, 1, 1}));
  const m::Roc tied = m::roc_curve({0.3, 0.3, 0.3}, {1, 0, 1});
  EXPECT_EQ(tied.fpr, (std::vector<double>{0, 1}));
  EXPECT_EQ(tied.tpr, (std::vector<double>{0, 1}));
}

TEST(RocCurve, MatchesThresholdSweepAndTrapezoidIsAuc) {
  std::mt19937_64 g(2);
  std::vector<double> s, l;
  for (int t = 0; t < 200; ++t) {
    random_case(g, s, l);
    const m::Roc r = m::roc_curve(s, l);
    std::vector<double> thresholds = s;
    std::sort(thresholds.rbegin(), thresholds.rend());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    ASSERT_EQ(r.fpr.size(), thresholds.size() + 1);
    double pos = 0, neg = 0;
    for (double v : l) (v == 1 ? pos : neg) += 1;
    for (std::size_t k = 0; k < thresholds.size(); ++k) {
      double tp = 0, fp = 0;
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] < thresholds[k]) continue;
        (l[i] == 1 ? tp : fp) += 1;
      }
      EXPECT_DOUBLE_EQ(r.fpr[k + 1], fp / neg);
      EXPECT_DOUBLE_EQ(r.tpr[k + 1], tp / pos);
    }
    EXPECT_DOUBLE_EQ(r.fpr.back(), 1.0);
    EXPECT_DOUBLE_EQ(r.tpr.back(), 1.0);
    double area = 0;
    for (std::size_t k = 1; k < r.fpr.size(); ++k)
      area += (r.fpr[k] - r.fpr[k - 1]) * (r.tpr[k] + r.tpr[k - 1]) / 2;
    EXPECT_NEAR(area, brute_auc(s, l), 1e-12);
  }
}

TEST(PrecisionRecallF1, HandWorked) {
  // Predicted positive: rows 0, 1, 3 (tp 2, fp 1); missed positive: row 2.
  const m::Prf p = m::precision_recall_f1({0.9, 0.6, 0.2, 0.7, 0.1}, {1, 1, 1, 0, 0});
  EXPECT_DOUBLE_EQ(p.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(p.recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(p.f1, 2.0 / 3.0);
  const m::Prf q = m::precision_recall_f1({0.9, 0.6, 0.2}, {1, 0, 1}, 0.5);
  EXPECT_DOUBLE_EQ(q.precision, 0.5);
  EXPECT_DOUBLE_EQ(q.recall, 0.5);
  EXPECT_DOUBLE_EQ(q.f1, 0.5);
}

TEST(PrecisionRecallF1, NoTruePositivesGivesZero) {
  const m::Prf p = m::precision_recall_f1({0.1, 0.9}, {1, 0});
  EXPECT_EQ(p.precision, 0.0);
  EXPECT_EQ(p.recall, 0.0);
  EXPECT_EQ(p.f1, 0.0);
  EXPECT_EQ(m::precision_recall_f1({0.1, 0.2}, {0, 0}).f1, 0.0);
}

TEST(PrecisionRecallF1, MatchesCountedConfusion) {
  std::mt19937_64 g(3);
  std::vector<double> s, l;
  for (int t = 0; t < 200; ++t) {
    random_case(g, s, l);
    double tp = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const bool predicted = s[i] >= 0.45;
      if (predicted && l[i] == 1) tp += 1;
      if (predicted && l[i] == 0) fp += 1;
      if (!predicted && l[i] == 1) fn += 1;
    }
    const m::Prf p = m::precision_recall_f1(s, l, 0.45);
    if (tp == 0) {
      EXPECT_EQ(p.f1, 0.0);
      continue;
    }
    const double precision = tp / (tp + fp), recall = tp / (tp + fn);
    EXPECT_NEAR(p.precision, precision, 1e-12);
    EXPECT_NEAR(p.recall, recall, 1e-12);
    EXPECT_NEAR(p.f1, 2 * precision * recall / (precision + recall), 1e-12);
  }
}

TEST(NonFiniteScores, RejectedByEveryMetric) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> label{1, 0, 1, 0};
  for (double bad : {nan, inf, -inf}) {
    const std::vector<double> score{0.9, bad, 0.2, 0.4};
    EXPECT_THROW(m::accuracy(score, label), std::invalid_argument);
    EXPECT_THROW(m::roc_curve(score, label), std::invalid_argument);
    EXPECT_THROW(m::precision_recall_f1(score, label), std::invalid_argument);
    try {
      m::roc_auc(score, label);
      ADD_FAILURE() << "roc_auc accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::StartsWith("roc_auc: score 1 is "));
    }
  }
}

}  // namespace
