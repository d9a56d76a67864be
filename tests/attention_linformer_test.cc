// linformer against full softmax attention (k = n, identity projections) and against its direct
// formula softmax(scale Q (E K)^T) (F V) with given and with seeded projections for each sharing
// mode; padding keys left out; the projection's distribution and prefix property; bad values.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
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

// Projection matrix accessor: E[r][j] for head h (the paper's (k, n) layout).
using Matrix = std::function<double(int64_t h, int64_t r, int64_t j)>;

// softmax(scale Q K'^T) V' with K' = E K, V' = F V over the token keys (padding rows zeroed).
approxtest::HeadFormula linformer_formula(int64_t k, Matrix e, Matrix f) {
  return [=](const Layer& L, int64_t b, int64_t h) {
    const int64_t T = L.seq, d = L.head_dim;
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    std::vector<double> kp(k * d, 0.0), vp(k * d, 0.0), out(T * d, 0.0);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t j = 0; j < T; ++j) {
        if (!L.token(b, j)) continue;
        for (int64_t c = 0; c < d; ++c) {
          kp[r * d + c] += e(h, r, j) * L.at(1, b, j, h, c);
          vp[r * d + c] += f(h, r, j) * L.at(2, b, j, h, c);
        }
      }
    for (int64_t i = 0; i < T; ++i) {
      if (!L.token(b, i)) continue;
      std::vector<double> s(k);
      double mx = -1e300, sum = 0.0;
      for (int64_t r = 0; r < k; ++r) {
        s[r] = 0.0;
        for (int64_t c = 0; c < d; ++c) s[r] += scale * L.at(0, b, i, h, c) * kp[r * d + c];
        mx = std::max(mx, s[r]);
      }
      for (int64_t r = 0; r < k; ++r) sum += (s[r] = std::exp(s[r] - mx));
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < d; ++c) out[i * d + c] += s[r] / sum * vp[r * d + c];
    }
    return out;
  };
}

// The seeded matrix `matrix` of `layer` as the mechanism draws it, read in the paper's layout.
Matrix seeded(uint64_t seed, int layer, int64_t k, int64_t n, std::function<int64_t(int64_t h)> matrix_of_head) {
  auto cache = std::make_shared<std::map<int64_t, std::vector<float>>>();
  return [=](int64_t h, int64_t r, int64_t j) -> double {
    const int64_t mtx = matrix_of_head(h);
    if (!cache->count(mtx)) (*cache)[mtx] = sa::linformer_projection(seed, layer, mtx, k, n);
    return (*cache)[mtx][j * k + r];
  };
}

// Runs the check on every instruction-set target the CPU has.
template <class F>
void both_paths(F check) {
  slimtest::for_each_isa(check);
}

}  // namespace

TEST(AttentionLinformer, IdentityProjectionsWithKEqualNIsFullAttention) {
  for (int64_t n : {1, 3, 17, 40}) {
    for (int64_t d : {5, 16}) {
      Layer L(2, n, 3, d, {}, 11 + static_cast<unsigned>(n));
      std::vector<float> eye(n * n, 0.0f);
      for (int64_t i = 0; i < n; ++i) eye[i * n + i] = 1.0f;
      const auto a = sa::make_linformer_with(n, n, {eye}, {eye});
      const auto want = approxtest::apply(L, approxtest::softmax_head);
      both_paths([&] { EXPECT_LT(approxtest::max_diff(L, approxtest::run(*a, L), want), 1e-5) << "n=" << n << " d=" << d; });
    }
  }
}

TEST(AttentionLinformer, GivenProjectionsMatchDirectFormula) {
  const int64_t n = 37, k = 7, heads = 3;
  Layer L(3, n, heads, 17, {37, 20, 1}, 5);
  // one E, F per head (sharing none) and one pair shared by the heads
  std::vector<std::vector<float>> e, f;
  for (int64_t h = 0; h < heads; ++h) {
    e.push_back(slimtest::random_vec(k * n, 100 + h, 0.3f));
    f.push_back(slimtest::random_vec(k * n, 200 + h, 0.3f));
  }
  for (bool per_head : {true, false}) {
    const auto pe = per_head ? e : std::vector<std::vector<float>>{e[0]};
    const auto pf = per_head ? f : std::vector<std::vector<float>>{f[0]};
    const auto a = sa::make_linformer_with(k, n, pe, pf);
    const auto at = [cols = n](const std::vector<std::vector<float>>& m, bool ph) {
      return [m, ph, cols](int64_t h, int64_t r, int64_t j) -> double { return m[ph ? h : 0][r * cols + j]; };
    };
    const auto want = approxtest::apply(L, linformer_formula(k, at(pe, per_head), at(pf, per_head)));
    both_paths([&] { EXPECT_LT(approxtest::max_diff(L, approxtest::run(*a, L), want), 1e-5) << "per_head=" << per_head; });
  }
}

TEST(AttentionLinformer, SeededProjectionsMatchDirectFormulaForEachSharing) {
  const int64_t n = 29, k = 6, heads = 2;
  Layer L(2, n, heads, 8, {29, 13}, 9);
  L.layer = 1;
  struct Case {
    std::string sharing;
    std::function<int64_t(int64_t)> e_of, f_of;
  };
  const std::vector<Case> cases = {
      {"layer", [](int64_t) { return 0; }, [](int64_t) { return 0; }},
      {"head", [](int64_t) { return 0; }, [](int64_t) { return 1; }},
      {"none", [](int64_t h) { return 2 * h; }, [](int64_t h) { return 2 * h + 1; }},
  };
  for (const Case& c : cases) {
    const auto a = approxtest::build("linformer:k=6,sharing=" + c.sharing + ",seed=4", L);
    const auto want = approxtest::apply(L, linformer_formula(k, seeded(4, 1, k, n, c.e_of), seeded(4, 1, k, n, c.f_of)));
    both_paths([&] { EXPECT_LT(approxtest::max_diff(L, approxtest::run(*a, L), want), 1e-5) << c.sharing; });
  }
}

TEST(AttentionLinformer, ProjectionIsGaussianWithStdOneOverRootKAndGrowsByRows) {
  const int64_t k = 64, n = 1000;
  const auto et = sa::linformer_projection(7, 2, 1, k, n);
  double sum = 0.0, sum2 = 0.0;
  for (float x : et) sum += x, sum2 += double(x) * x;
  const double mean = sum / et.size(), sd = std::sqrt(sum2 / et.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(sd, 1.0 / std::sqrt(double(k)), 0.01 / std::sqrt(double(k)));
  // the projection for a shorter sequence is the first rows of the longer one
  const auto shorter = sa::linformer_projection(7, 2, 1, k, 300);
  EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), et.begin()));
  // other layers and matrices draw other numbers
  EXPECT_NE(sa::linformer_projection(7, 3, 1, k, 10), sa::linformer_projection(7, 2, 1, k, 10));
  EXPECT_NE(sa::linformer_projection(7, 2, 0, k, 10), sa::linformer_projection(7, 2, 1, k, 10));
}

TEST(AttentionLinformer, PaddingIsNeverReadAndItsLengthChangesNothing) {
  // one sequence of 21 tokens alone, then padded to 40 next to a full one
  Layer alone(1, 21, 2, 16, {}, 3);
  Layer padded(2, 40, 2, 16, {21, 40}, 4);
  for (int64_t t = 0; t < 21; ++t)
    for (int64_t c = 0; c < alone.stride(); ++c) padded.qkv[t * padded.stride() + c] = alone.qkv[t * alone.stride() + c];
  padded.spoil_padding(std::nanf(""));
  const auto a = approxtest::build("linformer:k=8,seed=2", padded);
  const auto got_alone = approxtest::run(*a, alone);
  const auto got_padded = approxtest::run(*a, padded);   // grows the layer's projections to 40
  for (int64_t t = 0; t < 21; ++t)
    for (int64_t c = 0; c < alone.width(); ++c)
      EXPECT_FLOAT_EQ(got_padded[t * padded.width() + c], got_alone[t * alone.width() + c]) << t << "," << c;
  for (int64_t t = 21; t < 40; ++t)   // padding query rows are written as zeros
    for (int64_t c = 0; c < padded.width(); ++c) EXPECT_EQ(got_padded[t * padded.width() + c], 0.0f);
  // and after growing, the short sequence still gets the same result
  EXPECT_EQ(approxtest::run(*a, alone), got_alone);
}

TEST(AttentionLinformer, SameSeedSameResultOtherSeedOther) {
  Layer L(1, 33, 2, 8, {}, 6);
  const auto x = approxtest::run(*approxtest::build("linformer:k=5,seed=1", L), L);
  EXPECT_EQ(approxtest::run(*approxtest::build("linformer:k=5,seed=1", L), L), x);
  EXPECT_GT(approxtest::max_diff(L, approxtest::run(*approxtest::build("linformer:k=5,seed=2", L), L), x), 1e-3);
}

TEST(AttentionLinformer, DescribesItselfWithDefaultsAndIsDense) {
  Layer L(1, 4, 1, 4, {}, 1);
  const auto a = approxtest::build("linformer", L);
  EXPECT_EQ(a->describe(), "linformer:k=256,sharing=layer,seed=0");
  EXPECT_EQ(approxtest::build(a->describe(), L)->describe(), a->describe());
  EXPECT_THROW(a->pattern(5, 0), slimformer::InputError) << "k=256 cannot project 5 keys";
  EXPECT_EQ(approxtest::build("linformer:k=5", L)->pattern(5, 0), std::vector<uint8_t>(25, 1));
}

TEST(AttentionLinformer, BadValuesAreInputErrors) {
  Layer L(1, 20, 1, 4, {}, 1);
  EXPECT_THROW(approxtest::build("linformer:k=0", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("linformer:k=-3", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("linformer:sharing=kv", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("linformer:seed=-1", L), slimformer::InputError);
  EXPECT_THROW(approxtest::build("linformer:rank=4", L), slimformer::InputError);
  // k larger than the sequence: refused at forward time, naming both
  const auto a = approxtest::build("linformer:k=21", L);
  try {
    approxtest::run(*a, L);
    FAIL() << "k > n accepted";
  } catch (const slimformer::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("k=21"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n=20"), std::string::npos) << e.what();
  }
  // given projections shorter than the sequence, or for another number of heads
  EXPECT_THROW(approxtest::run(*sa::make_linformer_with(2, 10, {std::vector<float>(20)}, {std::vector<float>(20)}), L),
               slimformer::InputError);
  EXPECT_THROW(sa::make_linformer_with(2, 10, {std::vector<float>(19)}, {std::vector<float>(20)}), slimformer::InputError);
  Layer two_heads(1, 10, 2, 4, {}, 1);
  const std::vector<std::vector<float>> three(3, std::vector<float>(20));
  EXPECT_THROW(approxtest::run(*sa::make_linformer_with(2, 10, three, three), two_heads), slimformer::InputError);
}
