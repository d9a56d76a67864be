// The AVX-512 row kernels called directly (the dispatched kernels in kernels_ops_test.cc take
// them on an AVX-512 machine) against the scalar references, on odd widths: masked tails,
// masked keys, a large mean, an all -inf row.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/reference.h"
#include "test_util.h"
#include "kernels/cpu/rows_avx512.h"

namespace k = slimformer::kernels;

namespace {

using slimtest::random_vec;

float max_rel_diff(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  float m = 0.0f;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i])) return std::numeric_limits<float>::infinity();
    m = std::max(m, std::fabs(got[i] - want[i]) / std::max(1.0f, std::fabs(want[i])));
  }
  return m;
}

const int64_t kWidths[] = {1, 3, 15, 16, 17, 128, 513, 768};

}  // namespace

TEST(KernelsRowsAvx512, LayerNormRowsMatchReference) {
  if (!k::avx512::has_avx512()) GTEST_SKIP() << "no AVX-512F on this CPU";
  for (int64_t cols : kWidths) {
    auto x = random_vec(cols, 1, 3.0f), r = random_vec(cols, 2);
    for (auto& v : x) v += 10.0f;
    const auto g = random_vec(cols, 3), b = random_vec(cols, 4);
    std::vector<float> got = x, want(x.size());
    k::avx512::normalize_row(got.data(), g.data(), b.data(), cols, 1e-12f);
    k::ref::layernorm(want.data(), x.data(), g.data(), b.data(), 1, cols, 1e-12f);
    EXPECT_LT(max_rel_diff(got, want), 1e-5) << cols;
    k::avx512::add_normalize_row(got.data(), x.data(), r.data(), g.data(), b.data(), cols, 1e-5f);
    k::ref::add_layernorm(want.data(), x.data(), r.data(), g.data(), b.data(), 1, cols, 1e-5f);
    EXPECT_LT(max_rel_diff(got, want), 1e-5) << cols;
  }
}

TEST(KernelsRowsAvx512, SoftmaxRowsMatchReference) {
  if (!k::avx512::has_avx512()) GTEST_SKIP() << "no AVX-512F on this CPU";
  for (int64_t cols : kWidths) {
    for (float scale : {0.1f, 4.0f, 30.0f}) {   // 30: exp arguments far below -87
      const auto x = random_vec(cols, 7, scale);
      std::vector<float> mask(static_cast<size_t>(cols), 0.0f);
      for (int64_t j = 1; j < cols; j += 3) mask[j] = k::kMaskedScore;
      for (const float* m : {static_cast<const float*>(nullptr), static_cast<const float*>(mask.data())}) {
        auto got = x, want = x;
        k::avx512::softmax_row(got.data(), m, cols);
        k::ref::softmax_masked(want.data(), m, 1, cols);
        EXPECT_LT(max_rel_diff(got, want), 1e-6) << cols << " scale " << scale;
        if (m) {
          for (int64_t j = 1; j < cols; j += 3) EXPECT_EQ(got[j], 0.0f) << "masked key " << j;
        }
      }
    }
  }
  std::vector<float> inf(17, -std::numeric_limits<float>::infinity());
  k::avx512::softmax_row(inf.data(), nullptr, 17);
  for (float v : inf) EXPECT_EQ(v, 0.0f);
}

TEST(KernelsRowsAvx512, PortableFallbackMatchesReference) {
  k::avx512::force_portable(true);
  EXPECT_FALSE(k::avx512::has_avx512());
  for (int64_t cols : kWidths) {
    auto x = random_vec(3 * cols, 11, 3.0f);
    const auto g = random_vec(cols, 12), b = random_vec(cols, 13);
    std::vector<float> got(x.size()), want(x.size());
    k::layernorm(got.data(), x.data(), g.data(), b.data(), 3, cols, 1e-5f);
    k::ref::layernorm(want.data(), x.data(), g.data(), b.data(), 3, cols, 1e-5f);
    EXPECT_LT(max_rel_diff(got, want), 1e-5) << cols;
    std::vector<float> mask(static_cast<size_t>(cols), 0.0f);
    for (int64_t j = 1; j < cols; j += 3) mask[j] = k::kMaskedScore;
    got = x;
    want = x;
    k::softmax_masked(got.data(), mask.data(), 3, cols);
    k::ref::softmax_masked(want.data(), mask.data(), 3, cols);
    EXPECT_LT(max_rel_diff(got, want), 1e-6) << cols;
  }
  k::avx512::force_portable(false);
}
