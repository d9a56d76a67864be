// The encoder kernels against their scalar references on odd shapes, and the references against
// values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/reference.h"
#include "test_util.h"

namespace k = slimformer::kernels;

namespace {

using slimtest::random_vec;

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return std::numeric_limits<float>::infinity();
    m = std::max(m, std::fabs(a[i] - b[i]));
  }
  return m;
}

const int64_t kShapes[] = {1, 3, 17, 513};

}  // namespace

TEST(KernelsOpsReference, HandValues) {
  float g[3] = {1, 1, 1}, b[3] = {0, 0, 0}, x[3] = {1, 2, 3}, out[3];
  k::ref::layernorm(out, x, g, b, 1, 3, 0.0f);   // mean 2, var 2/3
  EXPECT_NEAR(out[0], -1.2247449f, 1e-6);
  EXPECT_NEAR(out[2], 1.2247449f, 1e-6);
  float gx[3] = {1.0f, -1.0f, 0.0f}, gy[3];
  k::ref::gelu(gy, gx, 3);
  EXPECT_NEAR(gy[0], 0.8413447f, 1e-6);
  EXPECT_NEAR(gy[1], -0.1586553f, 1e-6);
  k::ref::gelu_tanh(gy, gx, 3);
  EXPECT_NEAR(gy[0], 0.8411920f, 1e-6);
  float s[3] = {0.0f, std::log(3.0f), 5.0f}, m[3] = {0.0f, 0.0f, k::kMaskedScore};
  k::ref::softmax_masked(s, m, 1, 3);
  EXPECT_NEAR(s[0], 0.25f, 1e-6);
  EXPECT_NEAR(s[1], 0.75f, 1e-6);
  EXPECT_EQ(s[2], 0.0f);
}

TEST(KernelsOps, LayerNormMatchesReference) {
  for (int64_t cols : kShapes) {
    for (int64_t rows : {int64_t{1}, int64_t{3}, int64_t{17}}) {
      auto x = random_vec(rows * cols, 1, 3.0f), r = random_vec(rows * cols, 2);
      auto g = random_vec(cols, 3), b = random_vec(cols, 4);
      for (auto& v : x) v += 10.0f;   // a large mean must not cancel the variance
      std::vector<float> got(x.size()), want(x.size());
      k::layernorm(got.data(), x.data(), g.data(), b.data(), rows, cols, 1e-12f);
      k::ref::layernorm(want.data(), x.data(), g.data(), b.data(), rows, cols, 1e-12f);
      EXPECT_LT(max_abs_diff(got, want), 1e-4) << rows << "x" << cols;
      k::add_layernorm(got.data(), x.data(), r.data(), g.data(), b.data(), rows, cols, 1e-5f);
      k::ref::add_layernorm(want.data(), x.data(), r.data(), g.data(), b.data(), rows, cols, 1e-5f);
      EXPECT_LT(max_abs_diff(got, want), 1e-4) << rows << "x" << cols;
      std::vector<float> inplace = x;   // out aliasing x
      k::add_layernorm(inplace.data(), inplace.data(), r.data(), g.data(), b.data(), rows, cols, 1e-5f);
      EXPECT_LT(max_abs_diff(inplace, want), 1e-4);
    }
  }
}

TEST(KernelsOps, ElementwiseMatchReference) {
  for (int64_t n : kShapes) {
    auto x = random_vec(n * 3, 5, 3.0f);
    std::vector<float> got(x.size()), want(x.size());
    k::gelu(got.data(), x.data(), n * 3);
    k::ref::gelu(want.data(), x.data(), n * 3);
    EXPECT_LT(max_abs_diff(got, want), 1e-6) << n;
    k::gelu_tanh(got.data(), x.data(), n * 3);
    k::ref::gelu_tanh(want.data(), x.data(), n * 3);
    EXPECT_LT(max_abs_diff(got, want), 1e-6) << n;
    k::relu(got.data(), x.data(), n * 3);
    k::ref::relu(want.data(), x.data(), n * 3);
    EXPECT_EQ(max_abs_diff(got, want), 0.0f) << n;
    auto bias = random_vec(n, 6);
    got = x;
    want = x;
    k::bias_add(got.data(), bias.data(), 3, n);
    k::ref::bias_add(want.data(), bias.data(), 3, n);
    EXPECT_EQ(max_abs_diff(got, want), 0.0f) << n;
  }
}

TEST(KernelsOps, SoftmaxMatchesReference) {
  for (int64_t cols : kShapes) {
    auto x = random_vec(5 * cols, 7, 4.0f);
    std::vector<float> mask(static_cast<size_t>(cols), 0.0f);
    for (int64_t j = 0; j < cols; j += 3) mask[j] = k::kMaskedScore;
    if (cols == 1) mask[0] = 0.0f;
    auto got = x, want = x;
    k::softmax_masked(got.data(), mask.data(), 5, cols);
    k::ref::softmax_masked(want.data(), mask.data(), 5, cols);
    EXPECT_LT(max_abs_diff(got, want), 1e-6) << cols;
  }
}

TEST(KernelsOps, SoftmaxFullyMaskedRowHasNoNaN) {
  std::vector<float> x = {1.0f, -2.0f, 3.0f}, mask(3, k::kMaskedScore);
  k::softmax_masked(x.data(), mask.data(), 1, 3);
  for (float v : x) EXPECT_FALSE(std::isnan(v));
  std::vector<float> inf(4, -std::numeric_limits<float>::infinity());
  k::softmax_masked(inf.data(), nullptr, 1, 4);
  for (float v : inf) EXPECT_EQ(v, 0.0f);
}

TEST(KernelsOps, AttentionMatchesReference) {
  for (int64_t seq : kShapes) {
    const int64_t batch = 2, heads = 3, d = seq == 513 ? 8 : 17;
    const int64_t n = batch * heads * seq * d;
    auto q = random_vec(n, 8), kk = random_vec(n, 9), v = random_vec(n, 10);
    std::vector<int64_t> mask01(static_cast<size_t>(batch * seq), 1);
    for (int64_t t = seq / 2 + 1; t < seq; ++t) mask01[seq + t] = 0;   // row 1 padded
    std::vector<float> add(mask01.size());
    k::additive_mask(add.data(), mask01.data(), batch, seq);
    std::vector<float> got(n), want(n), ws(k::attention_workspace_floats(seq));
    k::attention(got.data(), q.data(), kk.data(), v.data(), add.data(), batch, heads, seq, d, ws.data());
    k::ref::attention(want.data(), q.data(), kk.data(), v.data(), add.data(), batch, heads, seq, d);
    EXPECT_LT(max_abs_diff(got, want), 1e-5) << seq;
  }
}

TEST(KernelsOps, AttentionIgnoresPaddedKeys) {
  // Changing a padded key or value must not change any output.
  const int64_t seq = 5, d = 4, n = seq * d;
  auto q = random_vec(n, 11), kk = random_vec(n, 12), v = random_vec(n, 13);
  std::vector<int64_t> mask01 = {1, 1, 1, 0, 0};
  std::vector<float> add(seq), a(n), b(n), ws(k::attention_workspace_floats(seq));
  k::additive_mask(add.data(), mask01.data(), 1, seq);
  k::attention(a.data(), q.data(), kk.data(), v.data(), add.data(), 1, 1, seq, d, ws.data());
  for (int64_t c = 0; c < d; ++c) {
    kk[4 * d + c] = 100.0f;
    v[3 * d + c] = -50.0f;
  }
  k::attention(b.data(), q.data(), kk.data(), v.data(), add.data(), 1, 1, seq, d, ws.data());
  EXPECT_EQ(max_abs_diff(a, b), 0.0f);
}

TEST(KernelsOps, EmbeddingGatherMatchesReference) {
  for (int64_t dim : kShapes) {
    const int64_t vocab = 7;
    auto table = random_vec(vocab * dim, 15);
    std::vector<int64_t> ids = {6, 0, 3, 3, 1};
    std::vector<float> got(ids.size() * dim), want(ids.size() * dim);
    k::embedding_gather(got.data(), table.data(), ids.data(), 5, dim);
    k::ref::embedding_gather(want.data(), table.data(), ids.data(), 5, dim);
    EXPECT_EQ(max_abs_diff(got, want), 0.0f);
    k::embedding_gather_add(got.data(), table.data(), ids.data(), 5, dim);
    for (size_t i = 0; i < want.size(); ++i) want[i] *= 2.0f;
    EXPECT_EQ(max_abs_diff(got, want), 0.0f);
  }
}
