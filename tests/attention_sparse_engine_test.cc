// The sparse-pattern engine: the gathered-attention kernel against its scalar reference, and
// sparse_attention_forward with an arbitrary pattern (repeated keys, partial masks, padding,
// global rows with separate projections) against a reference written here from the contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "attention/sparse_pattern.h"
#include "isa_test_util.h"
#include "kernels/cpu/gathered_attention.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/online_softmax.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
using namespace slimformer::attention;

namespace {

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

struct KernelCase {
  int64_t nq, nk, d;
  bool consecutive_queries, consecutive_keys, with_allowed, with_mask;
};

void check_kernel(const KernelCase& kc, unsigned seed) {
  const int64_t T = std::max<int64_t>(kc.nq, kc.nk) + 7, stride = 3 * kc.d + 5, out_stride = kc.d + 3;
  const std::vector<float> in = slimtest::random_vec(T * stride, seed, 1.5f);
  std::mt19937 gen(seed);
  std::vector<int32_t> queries(kc.nq), keys(kc.nk);
  for (int64_t i = 0; i < kc.nq; ++i) queries[i] = kc.consecutive_queries ? int32_t(3 + i) : int32_t(gen() % T);
  std::sort(queries.begin(), queries.end());
  queries.erase(std::unique(queries.begin(), queries.end()), queries.end());
  for (int64_t c = 0; c < kc.nk; ++c) keys[c] = kc.consecutive_keys ? int32_t(2 + c) : int32_t(gen() % T);   // repeats
  std::vector<uint8_t> allowed;
  if (kc.with_allowed) {
    allowed.resize(queries.size() * keys.size());
    for (auto& a : allowed) a = gen() % 3 != 0;
    if (!queries.empty()) std::fill_n(allowed.begin(), keys.size(), uint8_t{0});   // a row that attends nothing
  }
  std::vector<int64_t> mask(T, 1);
  if (kc.with_mask) {
    for (auto& m : mask) m = gen() % 4 != 0;
  }
  kernels::HeadRows h;
  h.q = in.data();
  h.k = in.data() + kc.d;
  h.v = in.data() + 2 * kc.d;
  h.in_stride = stride;
  h.out_stride = out_stride;
  h.head_dim = kc.d;
  std::vector<float> got(T * out_stride, -7.0f), want(T * out_stride, -7.0f);
  std::vector<float> scratch(kernels::gathered_attention_floats(kc.d));
  const float scale = 1.0f / std::sqrt(float(kc.d));
  h.out = got.data();
  kernels::gathered_attention(h, queries.data(), queries.size(), keys.data(), keys.size(),
                              allowed.empty() ? nullptr : allowed.data(), kc.with_mask ? mask.data() : nullptr, scale,
                              scratch.data());
  h.out = want.data();
  kernels::ref::gathered_attention(h, queries.data(), queries.size(), keys.data(), keys.size(),
                                   allowed.empty() ? nullptr : allowed.data(), kc.with_mask ? mask.data() : nullptr,
                                   scale);
  EXPECT_LE(max_diff(got, want), 1e-5f) << "nq " << kc.nq << " nk " << kc.nk << " d " << kc.d;
  if (kc.with_allowed && !queries.empty()) {   // first row attends nothing: zeros
    for (int64_t e = 0; e < kc.d; ++e) EXPECT_EQ(got[queries[0] * out_stride + e], 0.0f);
  }
}

}  // namespace

TEST(AttentionSparseEngine, GatheredKernelMatchesReference) {
  const KernelCase cases[] = {
      {1, 1, 1, true, true, false, false},     {3, 17, 3, false, false, true, true},
      {17, 130, 16, true, true, true, false},  {65, 513, 64, false, false, true, true},
      {130, 1100, 8, true, false, true, true}, {70, 1030, 64, true, true, false, true},
      {5, 0, 4, true, true, false, false},
  };
  slimtest::for_each_isa([&] {   // the softmax steps of every target the CPU has
    unsigned seed = 1;
    for (const KernelCase& kc : cases) check_kernel(kc, seed++);
  });
}

TEST(AttentionSparseEngine, OnlineSoftmaxStepMatchesReference) {
  slimtest::for_each_isa([] {
  for (int64_t cnt : {1, 3, 7, 8, 9, 17, 130, 513}) {
    std::vector<float> a = slimtest::random_vec(cnt, unsigned(cnt), 4.0f);
    for (int64_t j = 0; j < cnt; j += 3) a[j] = -INFINITY;
    std::vector<float> b = a;
    float ma = 0.5f, la = 2.0f, mb = 0.5f, lb = 2.0f;
    const float alpha_a = kernels::online_softmax_step(a.data(), cnt, ma, la);
    const float alpha_b = kernels::ref::online_softmax_step(b.data(), cnt, mb, lb);
    EXPECT_NEAR(alpha_a, alpha_b, 1e-6f);
    EXPECT_EQ(ma, mb);
    EXPECT_NEAR(la, lb, 1e-5f * lb);
    EXPECT_LE(max_diff(a, b), 1e-6f);
    std::vector<float> none(cnt, -INFINITY);
    float m = -INFINITY, l = 0.0f;
    EXPECT_EQ(kernels::online_softmax_step(none.data(), cnt, m, l), 1.0f);
    EXPECT_EQ(l, 0.0f);
    for (float x : none) EXPECT_EQ(x, 0.0f);
  }
  });
}

namespace {

// A deliberately awkward pattern: per sequence, query rows in shuffled tiles of 5; each tile
// lists 9 keys drawn with repeats (padding keys included) and allows a random subset per row;
// the tiles differ per head. Rows 1 and T-2 are global. The whole description is a function of
// (seed, b, t, head), so the test can rebuild it.
class AwkwardPattern final : public SparsePattern {
 public:
  explicit AwkwardPattern(bool per_head) : per_head_(per_head) {}
  void global_queries(const SequenceInfo& s, uint8_t* flags) const override {
    if (s.seq > 3) flags[1] = flags[s.seq - 2] = 1;
  }
  int64_t tile_count(const SequenceInfo& s) const override { return (s.seq + 4) / 5; }
  void tile(const SequenceInfo& s, int64_t t, int64_t head, Tile& out) const override {
    std::mt19937 gen(static_cast<unsigned>(1000 * s.index + 10 * t + (per_head_ ? head : 0)));
    for (int64_t q = 5 * t; q < std::min<int64_t>(s.seq, 5 * t + 5); ++q) out.queries.push_back(int32_t(q));
    std::shuffle(out.queries.begin(), out.queries.end(), gen);
    for (int c = 0; c < 9; ++c) out.keys.push_back(int32_t(gen() % s.seq));
    out.reset_allowed();
    for (auto& a : out.allowed) a = gen() % 2;
  }
  bool heads_share_tiles() const override { return !per_head_; }

 private:
  bool per_head_;
};

// Straight from the contract: multiplicity-weighted softmax over each row's allowed listings.
void reference(const AttentionIO& io, const SparsePattern& p, std::vector<float>& out) {
  const int64_t T = io.seq, d = io.head_dim;
  const float scale = 1.0f / std::sqrt(float(d));
  std::fill(out.begin(), out.end(), 0.0f);
  for (int64_t b = 0; b < io.batch; ++b) {
    const int64_t* mask = io.mask + b * T;
    std::vector<int32_t> tokens, rank(T, -1);
    for (int64_t t = 0; t < T; ++t) {
      if (mask[t]) {
        rank[t] = int32_t(tokens.size());
        tokens.push_back(int32_t(t));
      }
    }
    SequenceInfo s;
    s.index = b;
    s.seq = T;
    s.mask = mask;
    s.tokens = tokens;
    s.rank = rank;
    std::vector<uint8_t> global(T, 0);
    p.global_queries(s, global.data());
    for (int64_t t = 0; t < T; ++t) global[t] = global[t] && mask[t];
    for (int64_t h = 0; h < io.heads; ++h) {
      std::vector<std::vector<int>> count(T, std::vector<int>(T, 0));   // [query][key] listings
      for (int64_t t = 0; t < p.tile_count(s); ++t) {
        Tile tile;
        p.tile(s, t, h, tile);
        for (size_t r = 0; r < tile.queries.size(); ++r)
          for (size_t c = 0; c < tile.keys.size(); ++c) count[tile.queries[r]][tile.keys[c]] += tile.allowed[r * tile.keys.size() + c];
      }
      for (int64_t i = 0; i < T; ++i) {
        if (!mask[i]) continue;
        const bool g = global[i];
        const float* Q = (g ? io.q_global : io.q) + (b * T + i) * io.in_row_stride + h * d;
        const float* K = (g ? io.k_global : io.k) + b * T * io.in_row_stride + h * d;
        const float* V = (g ? io.v_global : io.v) + b * T * io.in_row_stride + h * d;
        std::vector<double> w(T, 0.0);
        double mx = -INFINITY;
        for (int64_t j = 0; j < T; ++j) {
          const int c = g ? 1 : count[i][j];
          if (!mask[j] || c == 0) continue;
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += double(Q[e]) * K[j * io.in_row_stride + e];
          w[j] = dot * scale;
          mx = std::max(mx, w[j]);
        }
        double sum = 0.0;
        std::vector<double> o(d, 0.0);
        for (int64_t j = 0; j < T; ++j) {
          const int c = g ? 1 : count[i][j];
          if (!mask[j] || c == 0) continue;
          const double e = c * std::exp(w[j] - mx);
          sum += e;
          for (int64_t x = 0; x < d; ++x) o[x] += e * V[j * io.in_row_stride + x];
        }
        for (int64_t x = 0; x < d; ++x) out[(b * T + i) * io.out_row_stride + h * d + x] = sum > 0 ? float(o[x] / sum) : 0.0f;
      }
    }
  }
}

}  // namespace

TEST(AttentionSparseEngine, ForwardFollowsTheContract) {
  for (bool per_head : {false, true}) {
    for (int64_t T : {1, 3, 17, 40}) {
      const int64_t B = 2, H = 3, d = 8, stride = 3 * H * d;
      const std::vector<float> qkv = slimtest::random_vec(B * T * stride, unsigned(T), 1.5f);
      const std::vector<float> glob = slimtest::random_vec(B * T * stride, unsigned(T + 100), 1.5f);
      std::vector<int64_t> mask(B * T, 1);
      for (int64_t t = T - T / 3; t < T; ++t) mask[T + t] = 0;   // second sequence padded at the end
      if (T > 2) mask[0] = 0;                                     // and the first at its start
      AttentionIO io;
      io.batch = B;
      io.seq = T;
      io.heads = H;
      io.head_dim = d;
      io.q = qkv.data();
      io.k = qkv.data() + H * d;
      io.v = qkv.data() + 2 * H * d;
      io.in_row_stride = stride;
      io.q_global = glob.data();
      io.k_global = glob.data() + H * d;
      io.v_global = glob.data() + 2 * H * d;
      io.mask = mask.data();
      io.out_row_stride = H * d + 2;
      std::vector<float> got(B * T * io.out_row_stride, NAN), want(got.size());
      io.out = got.data();
      AwkwardPattern p(per_head);
      AttentionScratch scratch;
      sparse_attention_forward(io, scratch, p);
      reference(io, p, want);
      for (size_t i = 0; i < got.size(); ++i) {
        if (int64_t(i % io.out_row_stride) >= H * d) got[i] = want[i] = 0.0f;   // the gap between rows
      }
      EXPECT_LE(max_diff(got, want), 1e-5f) << "T " << T << " per_head " << per_head;
    }
  }
}

TEST(AttentionSparseEngine, PatternMatrixAndErrors) {
  AwkwardPattern p(false);
  const int64_t n = 12;
  const std::vector<uint8_t> m = pattern_matrix(p, n, 0);
  ASSERT_EQ(m.size(), size_t(n * n));
  for (int64_t j = 0; j < n; ++j) EXPECT_EQ(m[1 * n + j], 1) << "global row 1 attends every key";
  AttentionIO io;
  io.batch = 1;
  io.seq = 4;
  io.heads = 1;
  io.head_dim = 2;
  std::vector<float> buf(4 * 6);
  io.q = io.k = io.v = buf.data();
  io.out = buf.data();
  io.q_global = buf.data();
  AttentionScratch scratch;
  EXPECT_THROW(sparse_attention_forward(io, scratch, p), InputError);
}
