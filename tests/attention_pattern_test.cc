// sliding, global, random and their '+' unions against a masked softmax written here, with the
// boolean masks built here from each mechanism's definition (random's from its pattern(), whose
// properties are checked separately); odd lengths, padding, windows that do not divide n.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <set>

#include "slimformer/attention.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;

namespace {

// allowed(b, i, j): query i of sequence b attends key j (positions in the padded batch).
using MaskFn = std::function<bool(int64_t b, int64_t i, int64_t j)>;

struct Inputs {
  int64_t B = 0, T = 0, H = 2, d = 8;
  std::vector<float> qkv, glob;
  std::vector<int64_t> mask, global_mask;
  AttentionIO io(std::vector<float>& out, bool with_global_projections, int layer = 0) {
    AttentionIO io;
    io.batch = B;
    io.seq = T;
    io.heads = H;
    io.head_dim = d;
    io.q = qkv.data();
    io.k = qkv.data() + H * d;
    io.v = qkv.data() + 2 * H * d;
    io.in_row_stride = 3 * H * d;
    if (with_global_projections) {
      io.q_global = glob.data();
      io.k_global = glob.data() + H * d;
      io.v_global = glob.data() + 2 * H * d;
    }
    io.mask = mask.data();
    io.global_mask = global_mask.empty() ? nullptr : global_mask.data();
    out.assign(B * T * H * d, NAN);
    io.out = out.data();
    io.out_row_stride = H * d;
    io.layer = layer;
    return io;
  }
  int64_t length(int64_t b) const { return std::count(mask.begin() + b * T, mask.begin() + (b + 1) * T, 1); }
};

// Sequence 0 is whole; sequence 1 (when B > 1) keeps its first T - T/3 tokens.
Inputs make_inputs(int64_t B, int64_t T, unsigned seed) {
  Inputs in;
  in.B = B;
  in.T = T;
  in.qkv = slimtest::random_vec(B * T * 3 * in.H * in.d, seed, 1.5f);
  in.glob = slimtest::random_vec(B * T * 3 * in.H * in.d, seed + 7, 1.5f);
  in.mask.assign(B * T, 1);
  for (int64_t b = 1; b < B; ++b)
    for (int64_t t = T - T / 3; t < T; ++t) in.mask[b * T + t] = 0;
  return in;
}

// Masked softmax attention from the definition; rows at padding and rows that attend nothing are
// zeros. global(b, i): row i uses the global projections (when given).
std::vector<float> masked_reference(const AttentionIO& io, const MaskFn& allowed,
                                    const std::function<bool(int64_t, int64_t)>& global_row) {
  const int64_t T = io.seq, d = io.head_dim, ld = io.in_row_stride;
  std::vector<float> out(io.batch * T * io.out_row_stride, 0.0f);
  for (int64_t b = 0; b < io.batch; ++b) {
    for (int64_t h = 0; h < io.heads; ++h) {
      for (int64_t i = 0; i < T; ++i) {
        if (!io.mask[b * T + i]) continue;
        const bool g = io.q_global && global_row(b, i);
        const float* Q = (g ? io.q_global : io.q) + (b * T + i) * ld + h * d;
        const float* K = (g ? io.k_global : io.k) + b * T * ld + h * d;
        const float* V = (g ? io.v_global : io.v) + b * T * ld + h * d;
        std::vector<double> s(T, -INFINITY);
        double mx = -INFINITY;
        for (int64_t j = 0; j < T; ++j) {
          if (!io.mask[b * T + j] || !allowed(b, i, j)) continue;
          double dot = 0.0;
          for (int64_t e = 0; e < d; ++e) dot += double(Q[e]) * K[j * ld + e];
          s[j] = dot / std::sqrt(double(d));
          mx = std::max(mx, s[j]);
        }
        if (mx == -INFINITY) continue;
        double sum = 0.0;
        std::vector<double> o(d, 0.0);
        for (int64_t j = 0; j < T; ++j) {
          if (s[j] == -INFINITY) continue;
          const double p = std::exp(s[j] - mx);
          sum += p;
          for (int64_t e = 0; e < d; ++e) o[e] += p * V[j * ld + e];
        }
        for (int64_t e = 0; e < d; ++e) out[(b * T + i) * io.out_row_stride + h * d + e] = float(o[e] / sum);
      }
    }
  }
  return out;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    const float x = std::fabs(a[i] - b[i]);
    if (std::isnan(x)) return INFINITY;
    m = std::max(m, x);
  }
  return m;
}

std::unique_ptr<Attention> build(const std::string& spec, int64_t layers = 2) {
  AttentionContext ctx;
  ctx.num_layers = layers;
  ctx.heads = 2;
  ctx.head_dim = 8;
  return make_attention(AttentionSpec::parse(spec), ctx);
}

// Independent definitions of the patterns.
bool in_window(int64_t i, int64_t j, int64_t window, int64_t dilation) {
  const int64_t diff = i - j;
  return diff % dilation == 0 && std::abs(diff) / dilation <= window / 2;
}

// Token positions of sequence b with global attention under first=N, positions=P, and the mask.
std::set<int64_t> global_set(const Inputs& in, int64_t b, int64_t first, const std::vector<int64_t>& positions) {
  std::set<int64_t> g(positions.begin(), positions.end());
  int64_t seen = 0;
  for (int64_t t = 0; t < in.T; ++t) {
    if (!in.mask[b * in.T + t]) continue;
    if (seen++ < first) g.insert(t);
    if (!in.global_mask.empty() && in.global_mask[b * in.T + t]) g.insert(t);
  }
  for (auto it = g.begin(); it != g.end();) it = in.mask[b * in.T + *it] ? std::next(it) : g.erase(it);
  return g;
}

void expect_matches(const std::string& spec, Inputs& in, const MaskFn& allowed,
                    const std::function<bool(int64_t, int64_t)>& global_row, bool projections, int layer = 0) {
  std::vector<float> got;
  AttentionIO io = in.io(got, projections, layer);
  AttentionScratch scratch;
  build(spec)->forward(io, scratch);
  EXPECT_LE(max_diff(got, masked_reference(io, allowed, global_row)), 1e-5f)
      << spec << " T=" << in.T << " layer " << layer << " projections " << projections;
}

const int64_t kLengths[] = {1, 3, 17, 130, 513};

}  // namespace

TEST(AttentionPattern, SlidingMatchesMaskedReference) {
  for (int64_t T : kLengths) {
    Inputs in = make_inputs(2, T, unsigned(T));
    for (int64_t w : {1, 2, 6, 11, 64}) {
      for (int64_t dil : {1, 3}) {
        if (T > 130 && (w < 6 || (w == 64) == (dil == 3))) continue;   // the long case: two windows
        const std::string spec = "sliding:window=" + std::to_string(w) + ",dilation=" + std::to_string(dil);
        expect_matches(spec, in, [&](int64_t, int64_t i, int64_t j) { return in_window(i, j, w, dil); },
                       [](int64_t, int64_t) { return false; }, false);
      }
    }
  }
}

TEST(AttentionPattern, SlidingWiderThanTheSequenceIsFull) {
  Inputs in = make_inputs(2, 130, 5);
  std::vector<float> got, want;
  AttentionIO io = in.io(got, false);
  AttentionScratch s1, s2;
  build("sliding:window=1000")->forward(io, s1);
  AttentionIO io_full = in.io(want, false);
  build("full")->forward(io_full, s2);
  for (int64_t r = 0; r < in.B * in.T; ++r) {   // full computes padding rows too; compare tokens
    if (in.mask[r]) continue;
    std::fill_n(got.begin() + r * in.H * in.d, in.H * in.d, 0.0f);
    std::fill_n(want.begin() + r * in.H * in.d, in.H * in.d, 0.0f);
  }
  EXPECT_LE(max_diff(got, want), 1e-5f);
}

TEST(AttentionPattern, SlidingPerLayerWindows) {
  Inputs in = make_inputs(2, 130, 11);
  const int64_t windows[] = {4, 10};
  for (int layer = 0; layer < 2; ++layer) {
    const int64_t w = windows[layer];
    expect_matches("sliding:window=[4,10]", in, [&](int64_t, int64_t i, int64_t j) { return in_window(i, j, w, 1); },
                   [](int64_t, int64_t) { return false; }, false, layer);
    const std::vector<uint8_t> p = build("sliding:window=[4,10]")->pattern(17, layer);
    for (int64_t i = 0; i < 17; ++i)
      for (int64_t j = 0; j < 17; ++j) EXPECT_EQ(p[i * 17 + j], in_window(i, j, w, 1) ? 1 : 0) << i << "," << j;
  }
}

TEST(AttentionPattern, GlobalMatchesMaskedReference) {
  for (int64_t T : kLengths) {
    for (bool projections : {false, true}) {
      Inputs in = make_inputs(2, T, unsigned(T) + 3);
      in.global_mask.assign(in.B * T, 0);
      if (T > 7) in.global_mask[7] = 1;           // sequence 0, as the Longformer fixture does
      if (T > 2) in.global_mask[2 * T - 1] = 1;   // sequence 1: at padding, so not global
      std::vector<int64_t> positions;
      if (T > 5) positions = {5, T - 1};
      std::string spec = "global:first=2";
      if (!positions.empty()) spec += ",positions=[" + std::to_string(positions[0]) + "," + std::to_string(positions[1]) + "]";
      std::vector<std::set<int64_t>> g = {global_set(in, 0, 2, positions), global_set(in, 1, 2, positions)};
      auto is_global = [&](int64_t b, int64_t i) { return g[b].count(i) > 0; };
      expect_matches(spec, in, [&](int64_t b, int64_t i, int64_t j) { return is_global(b, i) || is_global(b, j); },
                     is_global, projections);
    }
  }
}

TEST(AttentionPattern, SlidingPlusGlobalIsLongformer) {
  for (int64_t T : kLengths) {
    for (bool projections : {false, true}) {
      Inputs in = make_inputs(2, T, unsigned(T) + 9);
      in.global_mask.assign(in.B * T, 0);
      in.global_mask[0] = 1;
      if (T > 7) in.global_mask[7] = 1;
      in.global_mask[T] = 1;
      std::vector<std::set<int64_t>> g = {global_set(in, 0, 0, {}), global_set(in, 1, 0, {})};
      auto is_global = [&](int64_t b, int64_t i) { return g[b].count(i) > 0; };
      for (const char* spec : {"sliding:window=8+global:first=0", "global:first=0+sliding:window=8"}) {
        if (T > 130 && spec[0] == 'g') continue;   // the long case once
        expect_matches(spec, in,
                       [&](int64_t b, int64_t i, int64_t j) { return is_global(b, i) || is_global(b, j) || in_window(i, j, 8, 1); },
                       is_global, projections);
      }
    }
  }
}

namespace {

// The random part's keys, read from its own pattern (the draw cannot be rebuilt independently).
std::vector<uint8_t> random_pattern(const std::string& spec, int64_t n, int layer) { return build(spec)->pattern(n, layer); }

}  // namespace

TEST(AttentionPattern, RandomPatternProperties) {
  for (int64_t n : kLengths) {
    for (int64_t r : {0, 1, 3, 20}) {
      const std::string spec = "random:r=" + std::to_string(r) + ",seed=5";
      const std::vector<uint8_t> p = random_pattern(spec, n, 1);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(std::count(p.begin() + i * n, p.begin() + (i + 1) * n, 1), std::min(r, n)) << spec << " row " << i;
      }
      EXPECT_EQ(p, random_pattern(spec, n, 1)) << "same seed, same draw";
    }
  }
  const int64_t n = 130;
  EXPECT_NE(random_pattern("random:seed=1", n, 0), random_pattern("random:seed=2", n, 0));
  EXPECT_NE(random_pattern("random:seed=1", n, 0), random_pattern("random:seed=1", n, 1));
  // Spread: over 130 rows of 3 draws, most keys get drawn at least once.
  const std::vector<uint8_t> p = random_pattern("random:r=3,seed=9", n, 0);
  int64_t drawn = 0;
  for (int64_t j = 0; j < n; ++j) {
    bool any = false;
    for (int64_t i = 0; i < n; ++i) any = any || p[i * n + j];
    drawn += any;
  }
  EXPECT_GT(drawn, n / 2);
}

TEST(AttentionPattern, RandomAndUnionsMatchMaskedReference) {
  for (int64_t T : kLengths) {
    Inputs in = make_inputs(2, T, unsigned(T) + 21);
    in.global_mask.assign(in.B * T, 0);
    if (T > 4) in.global_mask[T + 4] = 1;
    const int layer = 1;
    // Sequence b's random keys: the pattern of its unpadded length (right padding keeps positions).
    std::vector<std::vector<uint8_t>> rnd;
    std::vector<int64_t> len;
    for (int64_t b = 0; b < in.B; ++b) {
      len.push_back(in.length(b));
      rnd.push_back(random_pattern("random:r=3,seed=4", len[b], layer));
    }
    auto random_ok = [&](int64_t b, int64_t i, int64_t j) {
      const int64_t n = len[b];
      return i < n && j < n && rnd[b][i * n + j];
    };
    std::vector<std::set<int64_t>> g = {global_set(in, 0, 1, {}), global_set(in, 1, 1, {})};
    auto is_global = [&](int64_t b, int64_t i) { return g[b].count(i) > 0; };
    auto no_global = [](int64_t, int64_t) { return false; };
    expect_matches("random:r=3,seed=4", in, random_ok, no_global, false, layer);
    expect_matches("random:r=3,seed=4+global", in,
                   [&](int64_t b, int64_t i, int64_t j) { return random_ok(b, i, j) || is_global(b, i) || is_global(b, j); },
                   is_global, true, layer);
    expect_matches("sliding:window=[6,10],dilation=2+random:r=3,seed=4", in,
                   [&](int64_t b, int64_t i, int64_t j) { return random_ok(b, i, j) || in_window(i, j, 10, 2); }, no_global,
                   false, layer);
    expect_matches("sliding:window=10+random:r=3,seed=4+global", in,
                   [&](int64_t b, int64_t i, int64_t j) {
                     return random_ok(b, i, j) || in_window(i, j, 10, 1) || is_global(b, i) || is_global(b, j);
                   },
                   is_global, true, layer);
  }
}

TEST(AttentionPattern, PaddingDoesNotChangeTokens) {
  // A sequence alone and the same sequence padded in a batch give the same rows.
  for (const char* spec : {"sliding:window=6,dilation=2+random:r=2+global:first=1", "random:r=5,seed=3"}) {
    Inputs padded = make_inputs(2, 40, 77);
    Inputs alone = padded;
    const int64_t n = padded.length(1), row = 3 * padded.H * padded.d;
    alone.B = 1;
    alone.T = n;
    alone.qkv.assign(padded.qkv.begin() + 40 * row, padded.qkv.begin() + (40 + n) * row);
    alone.glob.assign(padded.glob.begin() + 40 * row, padded.glob.begin() + (40 + n) * row);
    alone.mask.assign(n, 1);
    std::vector<float> a, b;
    AttentionScratch s;
    auto attn = build(spec);
    AttentionIO io_a = alone.io(a, false), io_b = padded.io(b, false);
    attn->forward(io_a, s);
    attn->forward(io_b, s);
    const std::vector<float> tail(b.begin() + 40 * padded.H * padded.d, b.begin() + (40 + n) * padded.H * padded.d);
    EXPECT_LE(max_diff(a, tail), 1e-6f) << spec;
  }
}

TEST(AttentionPattern, DescribeRoundTrips) {
  for (const char* spec : {"sliding", "sliding:window=[8,16],dilation=2", "global", "global:positions=[3,1]",
                           "random", "random:r=2,seed=7", "sliding:window=64+global:first=0",
                           "sliding+random+global"}) {
    const std::string canonical = build(spec)->describe();
    EXPECT_EQ(build(canonical)->describe(), canonical) << spec;
  }
  EXPECT_EQ(build("sliding")->describe(), "sliding:window=512,dilation=1");
  EXPECT_EQ(build("global")->describe(), "global:first=1");
  EXPECT_EQ(build("random")->describe(), "random:r=3,seed=0");
  EXPECT_EQ(build("sliding:window=[8,16]+global")->describe(), "sliding:window=[8,16],dilation=1+global:first=1");
}

TEST(AttentionPattern, BadSpecsAreInputErrors) {
  for (const char* spec : {"sliding:window=0", "sliding:window=-4", "sliding:dilation=0", "sliding:dilation=-1",
                           "sliding:window=[8,16,0]", "random:r=-1", "random:seed=-3", "global:positions=[-1]",
                           "global:first=-2", "sliding:width=3", "global:window=2", "random:k=2", "sliding+full",
                           "full+global", "sliding:window=x", "sliding:window=2147483648",
                           "sliding:window=[8,9223372036854775807]", "sliding:dilation=4611686018427387904"}) {
    EXPECT_THROW(build(spec, 3), InputError) << spec;
  }
  EXPECT_THROW(build("sliding:window=[8,16]", 3), InputError) << "list shorter than the layers";
  EXPECT_NO_THROW(build("sliding:window=[8,16]", 2));
  // Positions past the sequence are found at forward time.
  Inputs in = make_inputs(1, 5, 1);
  std::vector<float> out;
  AttentionIO io = in.io(out, false);
  AttentionScratch s;
  EXPECT_THROW(build("global:positions=[5]")->forward(io, s), InputError);
  EXPECT_NO_THROW(build("global:positions=[4]")->forward(io, s));
  // A window list indexed past its end.
  AttentionIO late = in.io(out, false, 2);
  EXPECT_THROW(build("sliding:window=[8,16]")->forward(late, s), InputError);
}
