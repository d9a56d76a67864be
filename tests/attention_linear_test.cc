// linear attention against its direct formula sum_j phi(q).phi(k_j) v_j / sum_j phi(q).phi(k_j),
// phi = elu + 1, on odd shapes with padding (AVX-512 and portable loops); padding never read.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "attention_approx_util.h"
#include "isa_test_util.h"
#include "kernels/cpu/isa.h"
#include "slimformer/error.h"

using approxtest::Layer;

namespace {

double elu1(double x) { return x > 0.0 ? x + 1.0 : std::exp(x); }

std::vector<double> linear_formula(const Layer& L, int64_t b, int64_t h) {
  return approxtest::weighted_average(L, b, h, [&](int64_t i, int64_t j) {
    double s = 0.0;
    for (int64_t c = 0; c < L.head_dim; ++c) s += elu1(L.at(0, b, i, h, c)) * elu1(L.at(1, b, j, h, c));
    return s;
  });
}

}  // namespace

TEST(AttentionLinear, MatchesDirectFormula) {
  struct Case {
    int64_t batch, n, heads, d;
    std::vector<int64_t> lengths;
  };
  const std::vector<Case> cases = {{1, 1, 1, 1, {}}, {2, 3, 2, 5, {3, 2}}, {3, 33, 3, 17, {33, 1, 20}}, {1, 64, 2, 64, {}}};
  for (const Case& c : cases) {
    Layer L(c.batch, c.n, c.heads, c.d, c.lengths, 40 + static_cast<unsigned>(c.n), 1.5f);
    const auto a = approxtest::build("linear", L);
    const auto want = approxtest::apply(L, linear_formula);
    slimtest::for_each_isa(
        [&] { EXPECT_LT(approxtest::max_diff(L, approxtest::run(*a, L), want), 1e-5) << "n=" << c.n << " d=" << c.d; });
  }
}

TEST(AttentionLinear, PaddingIsNeverReadAndAllPaddingGivesZeros) {
  Layer L(3, 19, 2, 8, {19, 7, 0}, 14);
  const auto a = approxtest::build("linear", L);
  const auto clean = approxtest::run(*a, L);
  L.spoil_padding(std::nanf(""));
  const auto spoiled = approxtest::run(*a, L);
  EXPECT_EQ(approxtest::max_diff(L, spoiled, clean), 0.0);
  for (int64_t i = 2 * 19 * L.width(); i < 3 * 19 * L.width(); ++i) EXPECT_EQ(spoiled[i], 0.0f);
}

TEST(AttentionLinear, TakesNoKeysAndIsDense) {
  Layer L(1, 4, 1, 4, {}, 1);
  EXPECT_THROW(approxtest::build("linear:features=4", L), slimformer::InputError);
  const auto a = approxtest::build("linear", L);
  EXPECT_EQ(a->describe(), "linear");
  EXPECT_EQ(a->pattern(2, 0), std::vector<uint8_t>(4, 1));
}
