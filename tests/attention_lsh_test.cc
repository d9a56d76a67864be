// `lsh` (Reformer's LSH self-attention) against references written here from its definition:
// the hash (argmax over [xR, -xR]) on explicit rotations, chunked attention when every token
// shares one bucket, the full multi-round algorithm in doubles, and padding, seeds, odd lengths,
// parameters, scratch growth.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attention/lsh_hash.h"
#include "kernels/cpu/isa.h"
#include "slimformer/attention.h"
#include "slimformer/error.h"
#include "slimformer/threads.h"
#include "test_util.h"

using namespace slimformer;
namespace lsh = slimformer::attention::lsh;

namespace {

std::unique_ptr<Attention> make_lsh(const std::string& params, int64_t head_dim = 16) {
  AttentionContext ctx;
  ctx.heads = 2;
  ctx.head_dim = head_dim;
  return make_attention(AttentionSpec::parse(params.empty() ? "lsh" : "lsh:" + params), ctx);
}

// q, v: (B, T, H, D) contiguous; mask (B, T) or empty.
struct Inputs {
  int64_t B = 1, T = 1, H = 2, D = 16;
  std::vector<float> q, v;
  std::vector<int64_t> mask;

  Inputs(int64_t b, int64_t t, int64_t h, int64_t d, unsigned seed) : B(b), T(t), H(h), D(d) {
    q = slimtest::random_vec(B * T * H * D, seed);
    v = slimtest::random_vec(B * T * H * D, seed + 1);
  }
  float* qrow(int64_t b, int64_t t, int64_t h) { return q.data() + ((b * T + t) * H + h) * D; }
  const float* qrow(int64_t b, int64_t t, int64_t h) const { return q.data() + ((b * T + t) * H + h) * D; }
  const float* vrow(int64_t b, int64_t t, int64_t h) const { return v.data() + ((b * T + t) * H + h) * D; }
  bool real(int64_t b, int64_t t) const { return mask.empty() || mask[b * T + t] != 0; }
};

// The views of `in` with out as the output; io.k is junk (NaN): shared QK never reads it.
AttentionIO views(const Inputs& in, const std::vector<float>& junk, std::vector<float>& out) {
  AttentionIO io;
  io.batch = in.B;
  io.seq = in.T;
  io.heads = in.H;
  io.head_dim = in.D;
  io.q = in.q.data();
  io.k = junk.data();
  io.v = in.v.data();
  io.in_row_stride = in.H * in.D;
  io.out = out.data();
  io.out_row_stride = in.H * in.D;
  io.mask = in.mask.empty() ? nullptr : in.mask.data();
  return io;
}

// Runs the mechanism; rows it leaves unwritten stay NaN.
std::vector<float> run(const Attention& a, const Inputs& in, AttentionScratch* keep = nullptr) {
  AttentionScratch local;
  const std::vector<float> junk(in.q.size(), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> out(in.q.size(), std::numeric_limits<float>::quiet_NaN());
  a.forward(views(in, junk, out), keep ? *keep : local);
  return out;
}

// Reformer's key: the query at unit RMS, times 1/sqrt(D) (so a score is q . k / ||k||).
double score(const Inputs& in, int64_t b, int64_t h, int64_t i, int64_t j) {
  const float* qi = in.qrow(b, i, h);
  const float* kj = in.qrow(b, j, h);
  double dot = 0, sq = 0;
  for (int64_t e = 0; e < in.D; ++e) {
    dot += double(qi[e]) * kj[e];
    sq += double(kj[e]) * kj[e];
  }
  return dot / std::sqrt(sq / in.D + 1e-6) / std::sqrt(double(in.D));
}

// softmax over `keys` of query i (its own position excluded unless it is all there is):
// writes the context to ctx, returns the logsumexp of the scores that count.
double attend(const Inputs& in, int64_t b, int64_t h, int64_t i, const std::vector<int64_t>& keys,
              std::vector<double>& ctx) {
  std::vector<int64_t> use;
  for (int64_t j : keys) if (j != i) use.push_back(j);
  const bool alone = use.empty();
  if (alone) use = keys;   // only itself (perhaps twice): HF's -1e5 self score is then the max
  std::vector<double> s;
  for (int64_t j : use) s.push_back(alone ? -1e5 : score(in, b, h, i, j));
  const double mx = *std::max_element(s.begin(), s.end());
  double sum = 0;
  for (double& x : s) sum += (x = std::exp(x - mx));
  ctx.assign(in.D, 0.0);
  for (size_t k = 0; k < use.size(); ++k) {
    for (int64_t e = 0; e < in.D; ++e) ctx[e] += s[k] / sum * in.vrow(b, use[k], h)[e];
  }
  return mx + std::log(sum);
}

// Chunked attention in position order: chunk g (of `chunk` positions, the last padded) attends
// chunks g-1 (wrapping) and g; a sequence of at most `chunk` tokens is one unpadded chunk.
std::vector<double> chunked_reference(const Inputs& in, int64_t b, int64_t h, int64_t chunk, int64_t i) {
  std::vector<int64_t> keys;
  if (in.T <= chunk) {
    for (int64_t j = 0; j < in.T; ++j) keys.push_back(j);
  } else {
    const int64_t chunks = (in.T + chunk - 1) / chunk, g = i / chunk;
    for (int64_t c : {(g + chunks - 1) % chunks, g}) {
      for (int64_t j = c * chunk; j < (c + 1) * chunk && j < in.T; ++j) keys.push_back(j);
    }
  }
  std::vector<double> ctx;
  attend(in, b, h, i, keys, ctx);
  return ctx;
}

// The hash by its definition: argmax over [x R, -x R] with R = rot_t^T, first maximum.
int bucket_by_definition(const float* x, const std::vector<float>& rot_t, int64_t d, int64_t n_buckets) {
  std::vector<double> y;
  for (int64_t k = 0; k < n_buckets / 2; ++k) {
    double dot = 0;
    for (int64_t e = 0; e < d; ++e) dot += double(x[e]) * rot_t[k * d + e];
    y.push_back(dot);
  }
  for (int64_t k = 0; k < n_buckets / 2; ++k) y.push_back(-y[k]);
  return static_cast<int>(std::max_element(y.begin(), y.end()) - y.begin());
}

std::vector<float> rotation(int64_t d, int64_t n_buckets, uint64_t seed, int64_t head, int64_t round) {
  std::vector<float> r(n_buckets / 2 * d);
  lsh::random_rotation(r.data(), d, n_buckets, seed, head, round);
  return r;
}

// The whole algorithm in doubles for one (sequence, head): per round, real tokens sorted by
// (bucket, position) then padding (masked or past the end); rounds laid end to end and cut into
// chunks; chunk g attends chunks g-1 (wrapping over all rounds) and g; rounds weighted by
// softmax of their logsumexps.
std::vector<std::vector<double>> lsh_reference(const Inputs& in, int64_t b, int64_t h, int64_t n_hashes,
                                               int64_t n_buckets, int64_t chunk, uint64_t seed) {
  const int64_t T = in.T;
  std::vector<std::vector<double>> out(T);
  if (T <= chunk) {   // one chunk, no hashing
    std::vector<int64_t> keys;
    for (int64_t j = 0; j < T; ++j) if (in.real(b, j)) keys.push_back(j);
    for (int64_t i = 0; i < T; ++i) if (in.real(b, i)) attend(in, b, h, i, keys, out[i]);
    return out;
  }
  const int64_t padded = (T + chunk - 1) / chunk * chunk;
  std::vector<int64_t> sorted;   // rounds * padded positions
  for (int64_t r = 0; r < n_hashes; ++r) {
    const std::vector<float> rot = rotation(in.D, n_buckets, seed, h, r);
    std::vector<int64_t> bucket(padded), pos(padded);
    for (int64_t t = 0; t < padded; ++t) {
      pos[t] = t;
      bucket[t] = t < T && in.real(b, t) ? bucket_by_definition(in.qrow(b, t, h), rot, in.D, n_buckets) : n_buckets;
    }
    std::stable_sort(pos.begin(), pos.end(), [&](int64_t x, int64_t y) { return bucket[x] < bucket[y]; });
    sorted.insert(sorted.end(), pos.begin(), pos.end());
  }
  const int64_t chunks = n_hashes * padded / chunk;
  std::vector<std::vector<std::vector<double>>> ctx(T);
  std::vector<std::vector<double>> lse(T);
  for (int64_t g = 0; g < chunks; ++g) {
    std::vector<int64_t> keys;
    for (int64_t c : {(g + chunks - 1) % chunks, g}) {
      for (int64_t k = c * chunk; k < (c + 1) * chunk; ++k) {
        if (sorted[k] < T && in.real(b, sorted[k])) keys.push_back(sorted[k]);
      }
    }
    for (int64_t k = g * chunk; k < (g + 1) * chunk; ++k) {
      const int64_t i = sorted[k];
      if (i >= T || !in.real(b, i)) continue;
      std::vector<double> c;
      lse[i].push_back(attend(in, b, h, i, keys, c));
      ctx[i].push_back(c);
    }
  }
  for (int64_t i = 0; i < T; ++i) {
    if (!in.real(b, i)) continue;
    const double mx = *std::max_element(lse[i].begin(), lse[i].end());
    double total = 0;
    for (double l : lse[i]) total += std::exp(l - mx);
    out[i].assign(in.D, 0.0);
    for (size_t r = 0; r < lse[i].size(); ++r) {
      for (int64_t e = 0; e < in.D; ++e) out[i][e] += ctx[i][r][e] * std::exp(lse[i][r] - mx) / total;
    }
  }
  return out;
}

void expect_matches(const Inputs& in, const std::vector<float>& out, int64_t b, int64_t h, int64_t t,
                    const std::vector<double>& want, double tol, const std::string& what) {
  const float* got = out.data() + ((b * in.T + t) * in.H + h) * in.D;
  for (int64_t e = 0; e < in.D; ++e) {
    ASSERT_NEAR(got[e], want[e], tol) << what << " b=" << b << " h=" << h << " t=" << t << " e=" << e;
  }
}

}  // namespace

TEST(AttentionLshHash, BucketIsArgmaxOverRotatedAndNegatedOnExplicitExamples) {
  // R = identity (d = 2, four buckets): [x0, x1, -x0, -x1]
  const std::vector<float> rot_t = {1, 0, 0, 1};
  auto bucket = [&](float a, float b) {
    const float x[2] = {a, b};
    return lsh::bucket_of(x, rot_t.data(), 2, 4);
  };
  EXPECT_EQ(bucket(3, 1), 0);
  EXPECT_EQ(bucket(0.5f, 2), 1);
  EXPECT_EQ(bucket(-3, 1), 2);
  EXPECT_EQ(bucket(1, -3), 3);
  EXPECT_EQ(bucket(1, 1), 0);     // tie inside +x: the first
  EXPECT_EQ(bucket(-1, -1), 2);   // tie inside -x: the first
  EXPECT_EQ(bucket(0, 0), 0);     // all equal: the first of all
  EXPECT_EQ(bucket(2, -2), 0);    // tie between x0 and -x1: +x comes first
  // A non-orthogonal rotation (d = 3, six buckets): R columns (1,1,0), (0,1,-1), (2,0,1)
  const std::vector<float> r3 = {1, 1, 0, 0, 1, -1, 2, 0, 1};
  const float x[3] = {0.2f, -1.0f, 0.1f};   // xR = (-0.8, -1.1, 0.5) -> [-0.8, -1.1, 0.5, 0.8, 1.1, -0.5]
  EXPECT_EQ(lsh::bucket_of(x, r3.data(), 3, 6), 4);
  // Random vectors: the same as the definition written out.
  const std::vector<float> rot = rotation(24, 10, 7, 1, 2);
  for (unsigned s = 0; s < 200; ++s) {
    const std::vector<float> v = slimtest::random_vec(24, 1000 + s);
    ASSERT_EQ(lsh::bucket_of(v.data(), rot.data(), 24, 10), bucket_by_definition(v.data(), rot, 24, 10)) << s;
  }
}

TEST(AttentionLshHash, NearbyVectorsShareBucketsFarMoreThanUnrelatedOnes) {
  const int64_t d = 32, n_buckets = 16, trials = 2000;
  const std::vector<float> rot = rotation(d, n_buckets, 3, 0, 0);
  int near_same = 0, far_same = 0;
  for (int64_t i = 0; i < trials; ++i) {
    const std::vector<float> x = slimtest::random_vec(d, 10 + 3 * i);
    const std::vector<float> noise = slimtest::random_vec(d, 11 + 3 * i, 0.05f);
    const std::vector<float> other = slimtest::random_vec(d, 12 + 3 * i);
    std::vector<float> near(x);
    for (int64_t e = 0; e < d; ++e) near[e] += noise[e];   // about 3 degrees away
    const int bx = lsh::bucket_of(x.data(), rot.data(), d, n_buckets);
    near_same += bx == lsh::bucket_of(near.data(), rot.data(), d, n_buckets);
    far_same += bx == lsh::bucket_of(other.data(), rot.data(), d, n_buckets);
  }
  EXPECT_GT(near_same, trials * 85 / 100);
  EXPECT_LT(far_same, trials * 15 / 100);   // chance is 1/16
}

TEST(AttentionLshHash, RotationsAreStandardNormalAndKeyedByHeadAndRound) {
  const std::vector<float> a = rotation(64, 64, 5, 0, 0);
  EXPECT_EQ(a, rotation(64, 64, 5, 0, 0));
  EXPECT_NE(a, rotation(64, 64, 5, 1, 0));
  EXPECT_NE(a, rotation(64, 64, 5, 0, 1));
  EXPECT_NE(a, rotation(64, 64, 6, 0, 0));
  double mean = 0, var = 0;
  for (float x : a) mean += x;
  mean /= a.size();
  for (float x : a) var += (x - mean) * (x - mean);
  var /= a.size();
  EXPECT_NEAR(mean, 0.0, 0.05);   // 2048 draws: the standard error is 0.022
  EXPECT_NEAR(var, 1.0, 0.1);
}

TEST(AttentionLshHash, SortIsByBucketThenPosition) {
  const std::vector<int32_t> buckets = {2, 0, 3, 0, 2, 1, 3, 0};
  std::vector<int32_t> counts(5), order(8);
  lsh::sort_by_bucket(buckets.data(), 8, 4, counts.data(), order.data());
  EXPECT_EQ(order, (std::vector<int32_t>{1, 3, 7, 5, 0, 4, 2, 6}));
}

// n_buckets = 2 has one rotation column w: bucket 0 is x . w >= 0. Flipping every query onto
// that side puts all tokens in one bucket, so the sorted order is the position order and lsh is
// exactly chunked attention.
TEST(AttentionLshForward, OneBucketIsChunkedAttentionWithSelfMasked) {
  const uint64_t seed = 11;
  const int64_t chunk = 16;
  auto attention = make_lsh("n_hashes=1,n_buckets=2,chunk_length=16,seed=11");
  for (int64_t T : {1, 3, 16, 67, 130}) {
    Inputs in(2, T, 2, 16, 100 + T);
    for (int64_t h = 0; h < in.H; ++h) {
      const std::vector<float> w = rotation(in.D, 2, seed, h, 0);
      for (int64_t b = 0; b < in.B; ++b) {
        for (int64_t t = 0; t < T; ++t) {
          float* x = in.qrow(b, t, h);
          double dot = 0;
          for (int64_t e = 0; e < in.D; ++e) dot += double(x[e]) * w[e];
          if (dot < 0) for (int64_t e = 0; e < in.D; ++e) x[e] = -x[e];
        }
      }
    }
    const std::vector<float> out = run(*attention, in);
    for (int64_t b = 0; b < in.B; ++b) {
      for (int64_t h = 0; h < in.H; ++h) {
        for (int64_t t = 0; t < T; ++t) {
          expect_matches(in, out, b, h, t, chunked_reference(in, b, h, chunk, t), 1e-5, "T=" + std::to_string(T));
        }
      }
    }
    if (T == 1) {   // alone: attends itself
      for (int64_t e = 0; e < in.D; ++e) EXPECT_FLOAT_EQ(out[e], in.v[e]);
    }
  }
}

TEST(AttentionLshForward, MultiRoundMatchesTheAlgorithmInDoubles) {
  struct Case { int64_t T, n_hashes, n_buckets, chunk; };
  for (const Case c : {Case{53, 3, 8, 8}, Case{130, 2, 4, 16}, Case{67, 4, 6, 16}, Case{12, 3, 8, 16},
                       Case{40, 1, 8, 8}}) {
    const std::string spec = "n_hashes=" + std::to_string(c.n_hashes) + ",n_buckets=" + std::to_string(c.n_buckets) +
                             ",chunk_length=" + std::to_string(c.chunk) + ",seed=5";
    auto attention = make_lsh(spec);
    Inputs in(2, c.T, 2, 16, 7 + c.T);
    in.mask.assign(2 * c.T, 1);
    for (int64_t t = c.T / 4; t < c.T / 3; ++t) in.mask[c.T + t] = 0;   // padding inside sequence 1
    in.mask[2 * c.T - 1] = 0;                                             // and at its end
    for (const kernels::Isa isa : kernels::available_isas()) {   // the tile kernels of every target the CPU has
      SCOPED_TRACE(kernels::isa_name(isa));
      std::vector<float> out;
      {
        const kernels::ScopedIsa scope(isa);
        out = run(*attention, in);
      }
      for (int64_t b = 0; b < in.B; ++b) {
        for (int64_t h = 0; h < in.H; ++h) {
          const auto want = lsh_reference(in, b, h, c.n_hashes, c.n_buckets, c.chunk, 5);
          for (int64_t t = 0; t < c.T; ++t) {
            if (!in.real(b, t)) continue;
            expect_matches(in, out, b, h, t, want[t], 1e-5,
                           spec + " T=" + std::to_string(c.T) + " " + kernels::isa_name(isa));
          }
        }
      }
    }
  }
}

TEST(AttentionLshForward, RoundsCombineConvexly) {
  auto attention = make_lsh("n_hashes=4,n_buckets=8,chunk_length=8");
  Inputs in(1, 100, 2, 16, 21);
  for (size_t r = 0; r < in.v.size(); r += in.D) {   // every value row a point of the simplex
    double sum = 0;
    for (int64_t e = 0; e < in.D; ++e) sum += (in.v[r + e] = std::abs(in.v[r + e]));
    for (int64_t e = 0; e < in.D; ++e) in.v[r + e] = static_cast<float>(in.v[r + e] / sum);
  }
  const std::vector<float> out = run(*attention, in);
  for (size_t r = 0; r < out.size(); r += in.D) {
    double sum = 0;
    for (int64_t e = 0; e < in.D; ++e) {
      ASSERT_GE(out[r + e], 0.0f);
      sum += out[r + e];
    }
    ASSERT_NEAR(sum, 1.0, 1e-5) << r;
  }
  std::fill(in.v.begin(), in.v.end(), 0.25f);   // all values equal: so is every output
  for (float x : run(*attention, in)) ASSERT_NEAR(x, 0.25f, 1e-6);
}

TEST(AttentionLshForward, PaddingIsNeverAttended) {
  auto attention = make_lsh("n_hashes=2,n_buckets=4,chunk_length=16");
  Inputs in(2, 100, 2, 16, 31);
  in.mask.assign(200, 1);
  for (int64_t t = 10; t < 21; ++t) in.mask[100 + t] = 0;
  for (int64_t t = 90; t < 100; ++t) in.mask[100 + t] = 0;
  const std::vector<float> base = run(*attention, in);
  Inputs loud = in;   // huge values and different queries at the padding: nothing may change
  for (int64_t t = 0; t < 100; ++t) {
    if (in.real(1, t)) continue;
    for (int64_t h = 0; h < in.H; ++h) {
      for (int64_t e = 0; e < in.D; ++e) {
        loud.v[((100 + t) * in.H + h) * in.D + e] = 1e6f;
        loud.q[((100 + t) * in.H + h) * in.D + e] *= -3.0f;
      }
    }
  }
  const std::vector<float> out = run(*attention, loud);
  for (int64_t t = 0; t < 100; ++t) {
    for (int64_t i = 0; i < in.H * in.D; ++i) {
      const size_t at = (100 + t) * in.H * in.D + i;
      if (in.real(1, t)) {
        ASSERT_EQ(out[at], base[at]) << t;
        ASSERT_LT(std::abs(out[at]), 10.0f) << t;
      } else {
        ASSERT_EQ(out[at], 0.0f) << "padding rows are zeros " << t;
      }
    }
  }
  // An all-padding sequence: zeros, no NaN.
  in.mask.assign(200, 0);
  for (float x : run(*attention, in)) ASSERT_EQ(x, 0.0f);
}

TEST(AttentionLshForward, SeedDecidesTheHashes) {
  Inputs in(1, 200, 2, 16, 41);
  const auto a = run(*make_lsh("n_buckets=8,chunk_length=16,seed=1"), in);
  EXPECT_EQ(a, run(*make_lsh("n_buckets=8,chunk_length=16,seed=1"), in));
  EXPECT_NE(a, run(*make_lsh("n_buckets=8,chunk_length=16,seed=2"), in));
  // Threads change nothing: each (sequence, head) is one thread's work.
  const int threads = num_threads();
  set_num_threads(1);
  const auto one = run(*make_lsh("n_buckets=8,chunk_length=16,seed=1"), in);
  set_num_threads(threads);
  EXPECT_EQ(a, one);
}

TEST(AttentionLshForward, ScaleReplacesTheDimFactor) {
  // With scale s the key is k / rms(k) * s instead of k / rms(k) / sqrt(d): for a sequence of
  // three (one unhashed chunk), query 0 weighs keys 1 and 2 by softmax(s * q.k_j / rms(k_j)).
  auto attention = make_lsh("");
  Inputs in(1, 3, 1, 4, 51);
  AttentionScratch scratch;
  std::vector<float> out(in.q.size());
  AttentionIO io;
  io.batch = 1;
  io.seq = 3;
  io.heads = 1;
  io.head_dim = 4;
  io.q = io.k = in.q.data();
  io.v = in.v.data();
  io.in_row_stride = io.out_row_stride = 4;
  io.out = out.data();
  io.scale = 0.3f;
  attention->forward(io, scratch);
  double s[2];
  for (int j = 1; j <= 2; ++j) s[j - 1] = score(in, 0, 0, 0, j) * std::sqrt(4.0) * 0.3;
  const double p1 = 1.0 / (1.0 + std::exp(s[1] - s[0]));
  for (int e = 0; e < 4; ++e) EXPECT_NEAR(out[e], p1 * in.v[4 + e] + (1 - p1) * in.v[8 + e], 1e-5);
}

TEST(AttentionLshSpec, DefaultsAndBadValues) {
  EXPECT_EQ(make_lsh("")->describe(), "lsh:n_hashes=1,n_buckets=32,chunk_length=64,seed=0");
  const std::string custom = make_lsh("seed=9,n_hashes=2")->describe();
  EXPECT_EQ(custom, "lsh:n_hashes=2,n_buckets=32,chunk_length=64,seed=9");
  EXPECT_EQ(make_lsh(custom.substr(4))->describe(), custom);
  for (const char* bad : {"n_buckets=3", "n_buckets=1", "n_buckets=0", "n_buckets=-2", "chunk_length=0",
                          "chunk_length=-4", "n_hashes=0", "n_hashes=-1", "n_hashes=x", "seed=-1", "buckets=8"}) {
    EXPECT_THROW(make_lsh(bad), InputError) << bad;
  }
  try {
    make_lsh("n_buckets=7");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("n_buckets=7"), std::string::npos) << e.what();
  }
}

TEST(AttentionLshPattern, ShortSequencesSeeEveryOtherToken) {
  auto attention = make_lsh("chunk_length=64", 64);
  const std::vector<uint8_t> p = attention->pattern(20, 0);
  for (int64_t i = 0; i < 20; ++i) {
    for (int64_t j = 0; j < 20; ++j) ASSERT_EQ(p[i * 20 + j], i != j ? 1 : 0) << i << "," << j;
  }
  EXPECT_EQ(attention->pattern(1, 0), std::vector<uint8_t>{1});
}

TEST(AttentionLshPattern, LongSequencesSeeAtMostTheirWindows) {
  const int64_t n = 300, chunk = 16, rounds = 2;
  auto attention = make_lsh("n_hashes=2,n_buckets=8,chunk_length=16", 32);
  const std::vector<uint8_t> p = attention->pattern(n, 3);
  EXPECT_EQ(p, attention->pattern(n, 3));
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t row = 0;
    for (int64_t j = 0; j < n; ++j) row += p[i * n + j];
    ASSERT_GE(row, 1) << i;
    ASSERT_LE(row, rounds * (2 * chunk - 1)) << i;
    if (row > 1) {
      ASSERT_EQ(p[i * n + i], 0) << i;
    }
    total += row;
  }
  EXPECT_LT(total, n * n / 4);
}

TEST(AttentionLshScratch, GrowsLinearlyWithLength) {
  auto attention = make_lsh("n_hashes=2,n_buckets=8,chunk_length=16");
  size_t bytes[2];
  int i = 0;
  for (int64_t T : {512, 4096}) {
    Inputs in(1, T, 2, 16, 61);
    AttentionScratch scratch;
    run(*attention, in, &scratch);
    bytes[i++] = scratch.bytes();
  }
  EXPECT_GT(bytes[0], 0u);
  EXPECT_LT(bytes[1], 9 * bytes[0]) << bytes[0] << " -> " << bytes[1];   // 8x the tokens; n^2 would be 64x
}

// Time and scratch against length at 12 heads x 64, batch 1, 2 threads (docs/attention/lsh.md).
TEST(AttentionLshScaling, TimeAndScratchAgainstLengthSlow) {
  const int threads = num_threads();
  set_num_threads(2);
  for (const char* spec : {"", "n_hashes=4"}) {
    auto attention = make_lsh(spec, 64);
    std::printf("lsh:%s (%s)\n%8s %12s %14s %16s\n", spec, attention->describe().c_str(), "n", "ms/forward",
                "scratch KiB", "scratch B/token");
    size_t first = 0;
    for (int64_t T = 512; T <= 16384; T *= 2) {
      Inputs in(1, T, 12, 64, 71);
      const std::vector<float> junk(in.q.size(), 0.0f);
      std::vector<float> out(in.q.size());
      const AttentionIO io = views(in, junk, out);
      AttentionScratch scratch;
      attention->forward(io, scratch);   // untimed: scratch and pages
      // The fastest of several runs (more for short inputs): the least disturbed by other work.
      const int runs = static_cast<int>(std::clamp<int64_t>(3 * 16384 / T, 3, 12));
      std::vector<double> ms;
      for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        attention->forward(io, scratch);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      if (T == 512) first = scratch.bytes();
      std::printf("%8lld %12.2f %14.1f %16.1f\n", static_cast<long long>(T), ms[0], scratch.bytes() / 1024.0,
                  double(scratch.bytes()) / T);
      EXPECT_LT(scratch.bytes(), size_t(T / 512 + 1) * first);   // linear in n
    }
  }
  set_num_threads(threads);
}
