// The metrics against independent references: scipy's pearsonr/spearmanr on real series
// (tests/reference/eval_metrics_scipy.py printed the constants), a brute-force threshold search,
// and accuracy/F1 counted by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"
#include "test_util.h"

using namespace slimformer;

namespace {

std::vector<double> dev_gold() {
  std::vector<double> gold;
  for (const StsPair& p : read_sts(slimtest::shared_dir() + "/data/stsbenchmark/sts-dev.csv")) gold.push_back(p.score);
  return gold;
}

}  // namespace

TEST(EvalMetricsScipy, FixtureCosinesAndAngularScores) {
  const auto j = nlohmann::json::parse(read_text_file(slimtest::fixtures_dir() + "/outputs/stsb-dev-st-bert-uncased.json"));
  const auto cos = j["first_predictions_cosine"].get<std::vector<double>>();
  std::vector<double> gold = dev_gold();
  gold.resize(cos.size());
  std::vector<double> angular;
  for (double c : cos) angular.push_back(angular_similarity(c));
  EXPECT_NEAR(pearson(cos, gold), -0.4892306935300105, 1e-12);
  EXPECT_NEAR(spearman(cos, gold), -0.46111710025623875, 1e-12);
  EXPECT_NEAR(pearson(angular, gold), -0.48962292933758517, 1e-12);
  EXPECT_NEAR(spearman(angular, gold), -0.46111710025623875, 1e-12);
}

TEST(EvalMetricsScipy, TiesOnBothSides) {
  const std::vector<double> gold = dev_gold();
  std::vector<double> y;
  for (size_t i = 0; i < gold.size(); ++i) y.push_back(static_cast<double>((i * 7919) % 23));
  EXPECT_NEAR(pearson(gold, y), 0.008927730635485201, 1e-12);
  EXPECT_NEAR(spearman(gold, y), 0.007476589513386556, 1e-12);
}

TEST(EvalMetrics, AngularSimilarity) {
  EXPECT_DOUBLE_EQ(angular_similarity(1.0), 1.0);
  EXPECT_DOUBLE_EQ(angular_similarity(-1.0), 0.0);
  EXPECT_DOUBLE_EQ(angular_similarity(0.0), 0.5);
  EXPECT_DOUBLE_EQ(angular_similarity(1.0 + 1e-7), 1.0);    // rounding past 1 is clamped, not NaN
  EXPECT_DOUBLE_EQ(angular_similarity(-1.0 - 1e-7), 0.0);
  EXPECT_NEAR(angular_similarity(0.5), 1.0 - 1.0 / 3.0, 1e-15);   // arccos(0.5) = pi/3
}

TEST(EvalMetrics, BinaryScoresCountedByHand) {
  // predicted 1 1 1 0 0 0 1, gold 1 0 1 1 0 0 1: tp 3, fp 1, fn 1, tn 2.
  const BinaryScores s = binary_scores({1, 1, 1, 0, 0, 0, 1}, {1, 0, 1, 1, 0, 0, 1});
  EXPECT_EQ(s.true_pos, 3);
  EXPECT_EQ(s.false_pos, 1);
  EXPECT_EQ(s.false_neg, 1);
  EXPECT_EQ(s.true_neg, 2);
  EXPECT_DOUBLE_EQ(s.accuracy, 5.0 / 7.0);
  EXPECT_DOUBLE_EQ(s.precision, 0.75);
  EXPECT_DOUBLE_EQ(s.recall, 0.75);
  EXPECT_DOUBLE_EQ(s.f1, 0.75);
  // Nothing predicted positive: precision, recall and F1 are 0, not NaN.
  const BinaryScores none = binary_scores({0, 0, 0}, {1, 0, 1});
  EXPECT_EQ(none.f1, 0.0);
  EXPECT_DOUBLE_EQ(none.accuracy, 1.0 / 3.0);
  EXPECT_THROW(binary_scores({1, 0}, {1}), InputError);
  EXPECT_THROW(binary_scores({}, {}), InputError);
  EXPECT_THROW(binary_scores({2}, {1}), InputError);
  EXPECT_THROW(binary_scores({1}, {-1}), InputError);
}

namespace {

// Every threshold worth trying, tried: each score itself and one past the largest.
double best_accuracy_by_brute_force(const std::vector<double>& scores, const std::vector<int>& gold) {
  std::vector<double> candidates = scores;
  candidates.push_back(INFINITY);
  double best = 0;
  for (double t : candidates) best = std::max(best, binary_scores(apply_threshold(scores, t), gold).accuracy);
  return best;
}

}  // namespace

TEST(EvalMetrics, ThresholdMatchesBruteForceSearch) {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + trial % 37;
    std::vector<double> scores;
    std::vector<int> gold;
    for (int i = 0; i < n; ++i) {
      // Few distinct values, so ties are common; labels loosely follow the score.
      const double s = static_cast<double>(gen() % 9) / 8.0;
      scores.push_back(s);
      gold.push_back(gen() % 10 < static_cast<unsigned>(2 + 6 * s) ? 1 : 0);
    }
    const ThresholdChoice c = choose_threshold(scores, gold);
    const double brute = best_accuracy_by_brute_force(scores, gold);
    ASSERT_DOUBLE_EQ(c.accuracy, brute) << "trial " << trial;
    // The chosen threshold gives the accuracy it reports.
    ASSERT_DOUBLE_EQ(binary_scores(apply_threshold(scores, c.threshold), gold).accuracy, c.accuracy) << "trial " << trial;
  }
}

TEST(EvalMetrics, ThresholdEdgeCases) {
  // Separable: the cut falls midway between the classes.
  ThresholdChoice c = choose_threshold({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1});
  EXPECT_DOUBLE_EQ(c.threshold, 0.5);
  EXPECT_DOUBLE_EQ(c.accuracy, 1.0);
  // All positive: the lowest score (every pair called 1) is the lowest best cut.
  c = choose_threshold({0.3, 0.1, 0.2}, {1, 1, 1});
  EXPECT_DOUBLE_EQ(c.threshold, 0.1);
  // All negative: a cut past the highest score.
  c = choose_threshold({0.3, 0.1, 0.2}, {0, 0, 0});
  EXPECT_GT(c.threshold, 0.3);
  EXPECT_DOUBLE_EQ(c.accuracy, 1.0);
  // Neighbouring doubles: the cut still separates them.
  const double a = 0.5, b = std::nextafter(0.5, 1.0);
  c = choose_threshold({a, b}, {0, 1});
  EXPECT_EQ(apply_threshold({a, b}, c.threshold), (std::vector<int>{0, 1}));
  // Equal accuracies: the lowest cut wins (here calling everything 1 ties with the cut at 0.5).
  c = choose_threshold({0.2, 0.4, 0.6, 0.8}, {1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(c.threshold, 0.2);
  EXPECT_DOUBLE_EQ(c.accuracy, 0.75);
  EXPECT_THROW(choose_threshold({NAN, 0.1}, {0, 1}), InputError);
  EXPECT_THROW(choose_threshold({0.1}, {3}), InputError);
}
