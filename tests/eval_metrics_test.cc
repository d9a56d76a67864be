// Correlation metrics against numpy and hand-worked ranks (the data readers: eval_data_test.cc).
#include <gtest/gtest.h>

#include "slimformer/error.h"
#include "slimformer/eval.h"
#include "test_util.h"

using namespace slimformer;

TEST(EvalMetrics, PearsonMatchesNumpy) {
  // numpy.corrcoef([1,2,2,3,4,4,4], [2,1,3,3,5,0,7])[0,1]
  EXPECT_NEAR(pearson({1, 2, 2, 3, 4, 4, 4}, {2, 1, 3, 3, 5, 0, 7}), 0.40337758054429407, 1e-12);
  EXPECT_NEAR(pearson({1, 2, 3}, {-2, -4, -6}), -1.0, 1e-12);
}

TEST(EvalMetrics, AverageRanksForTies) {
  const std::vector<double> r = average_ranks({1, 2, 2, 3, 4, 4, 4});
  const std::vector<double> want = {1, 2.5, 2.5, 4, 6, 6, 6};
  EXPECT_EQ(r, want);
}

TEST(EvalMetrics, SpearmanWithTies) {
  // Pearson of the average ranks [1,2.5,2.5,4,6,6,6] and [3,2,4.5,4.5,6,1,7], by numpy.
  EXPECT_NEAR(spearman({1, 2, 2, 3, 4, 4, 4}, {2, 1, 3, 3, 5, 0, 7}), 0.34930539682282946, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 8, 27, 64}), 1.0, 1e-12);   // monotone, not linear
}

TEST(EvalMetrics, RefusesBadSeries) {
  EXPECT_THROW(pearson({1, 2}, {1, 2, 3}), InputError);
  EXPECT_THROW(pearson({1}, {1}), InputError);
  EXPECT_THROW(pearson({1, 1, 1}, {1, 2, 3}), InputError);
}

TEST(EvalMetrics, RowCosines) {
  Tensor a = Tensor::empty({2, 2}), b = Tensor::empty({2, 2});
  const float av[] = {1, 0, 3, 4}, bv[] = {0, 2, 6, 8};
  std::copy(av, av + 4, a.data<float>());
  std::copy(bv, bv + 4, b.data<float>());
  const std::vector<double> c = row_cosines(a, b);
  EXPECT_NEAR(c[0], 0.0, 1e-12);
  EXPECT_NEAR(c[1], 1.0, 1e-12);
}
