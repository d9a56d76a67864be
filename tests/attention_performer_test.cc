// performer against its direct formula (unstabilized, double) with the features it draws, the
// features' orthogonal blocks and chi-distributed norms, convergence to softmax attention as the
// number of features grows, redraw and seeds, padding left out, bad values.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "attention/approx.h"
#include "attention_approx_util.h"
#include "isa_test_util.h"
#include "kernels/cpu/isa.h"
#include "slimformer/error.h"

namespace sa = slimformer::attention;
using approxtest::Layer;

namespace {

// phi(x) = exp(w_r.x' - |x'|^2/2) / sqrt(m), x' = x / d^(1/4); out_i = sum_j phi(q_i).phi(k_j) v_j / (same without v_j)
approxtest::HeadFormula performer_formula(const std::vector<float>& w, int64_t m) {
  return [w, m](const Layer& L, int64_t b, int64_t h) {
    const int64_t d = L.head_dim;
    const double root = std::pow(static_cast<double>(d), -0.25);
    const auto phi = [&](int part, int64_t t) {
      std::vector<double> f(m);
      double norm2 = 0.0;
      for (int64_t c = 0; c < d; ++c) norm2 += std::pow(root * L.at(part, b, t, h, c), 2);
      for (int64_t r = 0; r < m; ++r) {
        double proj = 0.0;
        for (int64_t c = 0; c < d; ++c) proj += w[r * d + c] * root * L.at(part, b, t, h, c);
        f[r] = std::exp(proj - norm2 / 2) / std::sqrt(static_cast<double>(m));
      }
      return f;
    };
    std::vector<std::vector<double>> fq(L.seq), fk(L.seq);
    for (int64_t t = 0; t < L.seq; ++t)
      if (L.token(b, t)) fq[t] = phi(0, t), fk[t] = phi(1, t);
    return approxtest::weighted_average(L, b, h, [&](int64_t i, int64_t j) {
      double s = 0.0;
      for (int64_t r = 0; r < m; ++r) s += fq[i][r] * fk[j][r];
      return s;
    });
  };
}

}  // namespace

TEST(AttentionPerformer, MatchesDirectFormulaWithItsFeatures) {
  struct Case {
    int64_t batch, n, heads, d, m;
    std::vector<int64_t> lengths;
  };
  const std::vector<Case> cases = {{1, 1, 1, 4, 3, {}}, {2, 29, 3, 16, 37, {29, 11}}, {1, 50, 2, 5, 16, {}},
                                   {3, 17, 2, 17, 64, {17, 1, 9}}};
  for (const Case& c : cases) {
    Layer L(c.batch, c.n, c.heads, c.d, c.lengths, 31 + static_cast<unsigned>(c.n), 0.7f);
    L.layer = 1;
    const auto a = approxtest::build("performer:features=" + std::to_string(c.m) + ",seed=5", L);
    const auto want = approxtest::apply(L, performer_formula(sa::performer_features(5, 1, 0, c.m, c.d), c.m));
    slimtest::for_each_isa(
        [&] { EXPECT_LT(approxtest::max_diff(L, approxtest::run(*a, L), want), 1e-5) << "n=" << c.n << " m=" << c.m; });
  }
}

TEST(AttentionPerformer, LargeScoresStayFinite) {
  // |q|, |k| large enough that exp(w.x) overflows float without the stabilizing shifts
  Layer L(1, 40, 1, 16, {}, 8, 12.0f);
  const auto out = approxtest::run(*approxtest::build("performer:features=32", L), L);
  for (float x : out) ASSERT_TRUE(std::isfinite(x));
}

TEST(AttentionPerformer, FeaturesAreOrthogonalBlocksWithChiNorms) {
  const int64_t d = 16, m = 40;   // blocks of 16, 16 and 8 rows
  const auto w = sa::performer_features(3, 0, 0, m, d);
  const auto dot = [&](int64_t a, int64_t b) {
    double s = 0.0;
    for (int64_t c = 0; c < d; ++c) s += double(w[a * d + c]) * w[b * d + c];
    return s;
  };
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a + 1; b < m && b / d == a / d; ++b)
      EXPECT_LT(std::fabs(dot(a, b)) / std::sqrt(dot(a, a) * dot(b, b)), 1e-5) << a << "," << b;
  // squared norms ~ chi-square with d degrees: mean d, variance 2d
  const auto many = sa::performer_features(3, 0, 0, 4096, d);
  double sum = 0.0, sum2 = 0.0;
  for (int64_t r = 0; r < 4096; ++r) {
    double n2 = 0.0;
    for (int64_t c = 0; c < d; ++c) n2 += double(many[r * d + c]) * many[r * d + c];
    sum += n2, sum2 += n2 * n2;
  }
  const double mean = sum / 4096, var = sum2 / 4096 - mean * mean;
  EXPECT_NEAR(mean, double(d), 0.05 * d);
  EXPECT_NEAR(var, 2.0 * d, 0.15 * 2.0 * d);
}

TEST(AttentionPerformer, ConvergesToSoftmaxAttentionAsFeaturesGrow) {
  // mean |performer - softmax| averaged over seeds, for m = 16, 256, 4096. The estimator's
  // standard error falls as 1/sqrt(m): each 16-fold m should divide the error by about 4
  // (measured: 0.024, 0.0077, 0.0023), asserted here as at least 2.
  const std::vector<int64_t> ms = {16, 256, 4096};
  std::vector<double> err(ms.size(), 0.0);
  const int seeds = 3;
  for (int s = 0; s < seeds; ++s) {
    Layer L(1, 48, 2, 16, {}, 70 + s, 0.5f);
    const auto exact = approxtest::apply(L, approxtest::softmax_head);
    for (size_t i = 0; i < ms.size(); ++i) {
      const auto a = approxtest::build("performer:features=" + std::to_string(ms[i]) + ",seed=" + std::to_string(s), L);
      err[i] += approxtest::mean_abs_diff(L, approxtest::run(*a, L), exact) / seeds;
    }
  }
  const std::string seen = "m=16: " + std::to_string(err[0]) + " m=256: " + std::to_string(err[1]) +
                           " m=4096: " + std::to_string(err[2]);
  EXPECT_GT(err[0], 2.0 * err[1]) << seen;
  EXPECT_GT(err[1], 2.0 * err[2]) << seen;
  EXPECT_LT(err[2], 0.005) << seen;
}

TEST(AttentionPerformer, RedrawDrawsNewFeaturesEachForwardAndSeedsRepeat) {
  Layer L(1, 20, 2, 8, {}, 12);
  const auto fixed = approxtest::build("performer:features=8,seed=1", L);
  const auto first = approxtest::run(*fixed, L);
  EXPECT_EQ(approxtest::run(*fixed, L), first);
  EXPECT_EQ(approxtest::run(*approxtest::build("performer:features=8,seed=1", L), L), first);
  EXPECT_GT(approxtest::max_diff(L, approxtest::run(*approxtest::build("performer:features=8,seed=2", L), L), first), 1e-3);

  const auto redraw = approxtest::build("performer:features=8,redraw=true,seed=1", L);
  const auto r1 = approxtest::run(*redraw, L), r2 = approxtest::run(*redraw, L);
  EXPECT_GT(approxtest::max_diff(L, r2, r1), 1e-3);
  // the same sequence of draws from a new object with the same seed
  const auto again = approxtest::build("performer:features=8,redraw=true,seed=1", L);
  EXPECT_EQ(approxtest::run(*again, L), r1);
  EXPECT_EQ(approxtest::run(*again, L), r2);
  // and the n-th draw is the documented one
  const auto want = approxtest::apply(L, performer_formula(sa::performer_features(1, 0, 2, 8, 8), 8));
  EXPECT_LT(approxtest::max_diff(L, r2, want), 1e-5);
}

TEST(AttentionPerformer, PaddingIsNeverRead) {
  Layer L(2, 30, 2, 8, {30, 12}, 13);
  const auto a = approxtest::build("performer:features=24", L);
  const auto clean = approxtest::run(*a, L);
  L.spoil_padding(std::nanf(""));
  const auto spoiled = approxtest::run(*a, L);
  EXPECT_EQ(approxtest::max_diff(L, spoiled, clean), 0.0);
  for (int64_t t = 12; t < 30; ++t)
    for (int64_t c = 0; c < L.width(); ++c) EXPECT_EQ(spoiled[(30 + t) * L.width() + c], 0.0f);
}

TEST(AttentionPerformer, DescribesItselfWithDefaultsAndIsDense) {
  Layer L(1, 4, 1, 4, {}, 1);
  const auto a = approxtest::build("performer", L);
  EXPECT_EQ(a->describe(), "performer:features=256,redraw=false,seed=0");
  EXPECT_EQ(approxtest::build(a->describe(), L)->describe(), a->describe());
  EXPECT_EQ(a->pattern(3, 0), std::vector<uint8_t>(9, 1));
}

TEST(AttentionPerformer, BadValuesAreInputErrors) {
  Layer L(1, 4, 1, 4, {}, 1);
  EXPECT_THROW(approxtest::build("performer:features=0", L), slimformer::InputError);
  // A huge m would allocate m x head_dim floats per layer: refused by range, not by running out of memory.
  EXPECT_THROW(approxtest::build("performer:features=65537", L), slimformer::InputError);
  EXPECT_NO_THROW(approxtest::build("performer:features=65536", L));
  EXPECT_THROW(approxtest::build("performer:features=many", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("performer:redraw=yes", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("performer:seed=-2", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("performer:k=4", L), slimformer::InputError);
}
