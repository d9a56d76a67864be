// Correlation metrics against numpy and hand-worked ranks; the STS Benchmark reader on the real files.
#include <gtest/gtest.h>

#include <fstream>

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

TEST(EvalStsb, ReadsDevFile) {
  const auto pairs = read_sts_benchmark(slimtest::shared_dir() + "/data/stsbenchmark/sts-dev.csv");
  ASSERT_EQ(pairs.size(), 1500u);
  EXPECT_EQ(pairs[0].genre, "main-captions");
  EXPECT_EQ(pairs[0].score, 5.0);
  EXPECT_EQ(pairs[0].sentence1, "A man with a hard hat is dancing.");
  EXPECT_EQ(pairs[0].sentence2, "A man wearing a hard hat is dancing.");
  // Line 268 holds quotes that a CSV parser would take as a field delimiter.
  EXPECT_EQ(pairs[267].sentence2, "a woman is standing by a pillar where \"u2\" is written.");
  for (const auto& p : pairs) {
    EXPECT_GE(p.score, 0.0);
    EXPECT_LE(p.score, 5.0);
  }
}

TEST(EvalStsb, ExtraFieldsAreIgnoredAndAllSplitsRead) {
  const std::string dir = slimtest::shared_dir() + "/data/stsbenchmark/";
  EXPECT_EQ(read_sts_benchmark(dir + "sts-train.csv").size(), 5749u);
  const auto test = read_sts_benchmark(dir + "sts-test.csv");
  EXPECT_EQ(test.size(), 1379u);
  for (const auto& p : test) EXPECT_EQ(p.sentence2.find('\t'), std::string::npos);
}

TEST(EvalStsb, BadRowsNameTheLine) {
  const std::string path = slimtest::make_temp_dir() + "/bad.csv";
  std::ofstream(path) << "g\tf\t2012\t1\t3.5\ta\tb\ng\tf\t2012\t2\t4\tonly six\n";
  try {
    read_sts_benchmark(path);
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::ofstream(path) << "g\tf\t2012\t1\tfive\ta\tb\n";
  EXPECT_THROW(read_sts_benchmark(path), FormatError);
  EXPECT_THROW(read_sts_benchmark(path + ".missing"), IoError);
}
