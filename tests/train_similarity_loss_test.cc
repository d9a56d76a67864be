// CosineSimilarityLoss (sentence-transformers): its value against a double-precision forward and
// its gradients against central finite differences of that forward.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"
#include "train/reference.h"
#include "train/similarity_loss.h"

namespace ref = slimformer::train::ref;
using ref::Vec;

namespace {

// mean over rows of (cos(a_r, b_r) - t_r)^2, in double.
double reference_loss(const Vec& a, const Vec& b, const std::vector<double>& t, int64_t R, int64_t D) {
  const Vec cos = ref::cosine_rows(a, b, R, D);
  double total = 0.0;
  for (int64_t r = 0; r < R; ++r) total += (cos[r] - t[r]) * (cos[r] - t[r]);
  return total / static_cast<double>(R);
}

}  // namespace

TEST(TrainSimilarityLoss, MatchesFiniteDifferences) {
  const int64_t R = 4, D = 6;
  const auto a = slimtest::random_vec(R * D, 81), b = slimtest::random_vec(R * D, 82);
  const std::vector<double> t = {0.0, 0.3, 0.75, 1.0};
  const Vec ad(a.begin(), a.end()), bd(b.begin(), b.end());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> da(R * D, nan), db(R * D, nan);
  const double loss = slimformer::train::cosine_similarity_loss(da.data(), db.data(), a.data(), b.data(), t.data(), R, D);
  EXPECT_NEAR(loss, reference_loss(ad, bd, t, R, D), 1e-12);
  const Vec ga = ref::numeric_gradient([&](const Vec& x) { return reference_loss(x, bd, t, R, D); }, ad);
  const Vec gb = ref::numeric_gradient([&](const Vec& x) { return reference_loss(ad, x, t, R, D); }, bd);
  EXPECT_LT(ref::max_rel_error(da.data(), ga), 1e-4);
  EXPECT_LT(ref::max_rel_error(db.data(), gb), 1e-4);
}

TEST(TrainSimilarityLoss, HandValues) {
  const float a[4] = {1.0f, 0.0f, 0.0f, 2.0f}, b[4] = {3.0f, 0.0f, 1.0f, 0.0f};
  const double one = 1.0, half = 0.5;
  float da[2], db[2];
  // Parallel vectors scored 5/5: no loss and no gradient.
  EXPECT_DOUBLE_EQ(slimformer::train::cosine_similarity_loss(da, db, a, b, &one, 1, 2), 0.0);
  EXPECT_EQ(da[0], 0.0f);
  EXPECT_EQ(db[1], 0.0f);
  // Orthogonal vectors scored 2.5/5: (0 - 0.5)^2.
  EXPECT_DOUBLE_EQ(slimformer::train::cosine_similarity_loss(nullptr, nullptr, a + 2, b + 2, &half, 1, 2), 0.25);
}
