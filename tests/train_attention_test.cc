// Multi-head self-attention forward (keeping the probabilities) and backward against a
// double-precision forward and its central differences, on the model's fused QKV layout with
// padded keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"
#include "kernels/cpu/ops.h"
#include "train/ops.h"
#include "train/reference.h"

namespace tr = slimformer::train;
namespace ref = slimformer::train::ref;
using ref::Vec;
using slimtest::random_vec;

namespace {

struct Shape {
  int64_t B, T, H, d;
};

// Runs forward and backward on a fused (B,T,3,H,d) QKV buffer and an output with rows `ldo` apart
// (wider than H*d, so strides are exercised), and holds them to the double reference.
// p > 0: dropout on the probabilities, its mask held fixed for the reference and its differences.
void check_attention(Shape s, const std::vector<int64_t>* mask, int64_t ldo, unsigned seed, double p = 0.0) {
  const int64_t B = s.B, T = s.T, H = s.H, d = s.d;   // plain names: lambdas below capture them
  const int64_t hd = H * d, ld = 3 * hd;
  const auto qkv = random_vec(B * T * ld, seed);
  // The contiguous (B,T,H,d) q, k, v the reference reads.
  Vec q(B * T * hd), k(B * T * hd), v(B * T * hd);
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t c = 0; c < hd; ++c) {
      q[r * hd + c] = qkv[r * ld + c];
      k[r * hd + c] = qkv[r * ld + hd + c];
      v[r * hd + c] = qkv[r * ld + 2 * hd + c];
    }
  const int64_t* m = mask ? mask->data() : nullptr;

  std::vector<float> out(B * T * ldo, 0.0f), probs(B * H * T * T);
  std::vector<uint8_t> keep(B * H * T * T, 7);
  const tr::AttentionDropout dropout{p, {seed, 3, 1}, keep.data()};
  const tr::AttentionDropout* drop = p > 0 ? &dropout : nullptr;
  const uint8_t* kept = p > 0 ? keep.data() : nullptr;
  tr::attention_forward(out.data(), probs.data(), qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, m, B, T, H, d,
                        ld, ldo, drop);
  if (p > 0) {   // the mask was written, and drops some but not all
    const auto dropped = std::count(keep.begin(), keep.end(), 0), retained = std::count(keep.begin(), keep.end(), 1);
    EXPECT_EQ(dropped + retained, static_cast<long>(keep.size()));
    EXPECT_GT(dropped, 0);
    EXPECT_GT(retained, 0);
  }
  const Vec want = ref::attention(q, k, v, m, B, T, H, d, kept, p);
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t c = 0; c < hd; ++c) EXPECT_NEAR(out[r * ldo + c], want[r * hd + c], 1e-5) << r << "," << c;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < H * T; ++i) {
      const float* p = probs.data() + (b * H * T + i) * T;
      double sum = 0.0;
      for (int64_t j = 0; j < T; ++j) {
        sum += p[j];
        if (m && m[b * T + j] == 0) {
          EXPECT_EQ(p[j], 0.0f) << "masked key " << j;
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }

  // Upstream gradient on every output position (padded queries included: HF computes them too).
  const auto dout = random_vec(B * T * ldo, seed + 1);
  Vec w(B * T * hd);
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t c = 0; c < hd; ++c) w[r * hd + c] = dout[r * ldo + c];
  auto f = [&](const Vec& qq, const Vec& kk, const Vec& vv) {
    return ref::weighted_sum(w, ref::attention(qq, kk, vv, m, B, T, H, d, kept, p));
  };
  const Vec gq = ref::numeric_gradient([&](const Vec& x) { return f(x, k, v); }, q);
  const Vec gk = ref::numeric_gradient([&](const Vec& x) { return f(q, x, v); }, k);
  const Vec gv = ref::numeric_gradient([&](const Vec& x) { return f(q, k, x); }, v);

  std::vector<float> dqkv(B * T * ld, std::numeric_limits<float>::quiet_NaN());   // every entry written
  std::vector<float> ws(tr::attention_backward_workspace_floats(B, T, H));
  tr::attention_backward(dqkv.data(), dqkv.data() + hd, dqkv.data() + 2 * hd, dout.data(), qkv.data(),
                         qkv.data() + hd, qkv.data() + 2 * hd, probs.data(), B, T, H, d, ld, ldo, ws.data(), drop);
  std::vector<float> dq(B * T * hd), dk(B * T * hd), dv(B * T * hd);
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t c = 0; c < hd; ++c) {
      dq[r * hd + c] = dqkv[r * ld + c];
      dk[r * hd + c] = dqkv[r * ld + hd + c];
      dv[r * hd + c] = dqkv[r * ld + 2 * hd + c];
    }
  EXPECT_LT(ref::max_rel_error(dq.data(), gq), 1e-3);
  EXPECT_LT(ref::max_rel_error(dk.data(), gk), 1e-3);
  EXPECT_LT(ref::max_rel_error(dv.data(), gv), 1e-3);
  // A padded key gets exactly zero gradient.
  for (int64_t r = 0; m && r < B * T; ++r) {
    if (m[r] != 0) continue;
    for (int64_t c = 0; c < hd; ++c) {
      EXPECT_EQ(dk[r * hd + c], 0.0f) << "row " << r;
      EXPECT_EQ(dv[r * hd + c], 0.0f) << "row " << r;
    }
  }
}

}  // namespace

TEST(TrainAttention, BackwardWithOnePaddedPosition) {
  // Sequence 0 is full, sequence 1 has its last position padded.
  const std::vector<int64_t> mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
  check_attention({2, 5, 3, 4}, &mask, 3 * 4 + 2, 61);
}

TEST(TrainAttention, BackwardWithoutMask) { check_attention({1, 3, 2, 5}, nullptr, 2 * 5, 62); }

TEST(TrainAttention, BackwardLongerSequenceWithPaddingInside) {
  // Longer rows, and padding that is not only at the end.
  std::vector<int64_t> mask(2 * 17, 1);
  mask[17 + 14] = mask[17 + 15] = mask[17 + 16] = 0;
  mask[5] = 0;
  check_attention({2, 17, 2, 8}, &mask, 2 * 8, 63);
}

TEST(TrainAttention, BackwardWithDropoutOnTheProbabilities) {
  std::vector<int64_t> mask(2 * 6, 1);
  mask[6 + 5] = 0;
  check_attention({2, 6, 2, 3}, &mask, 2 * 3, 69, 0.3);
}

TEST(TrainAttention, ForwardMatchesTheInferenceKernel) {
  // The same result as the model's per-head attention kernel, which reads (B,H,T,d) planes.
  const int64_t B = 2, T = 5, H = 3, d = 4, hd = H * d;
  const auto q = random_vec(B * T * hd, 64), k = random_vec(B * T * hd, 65), v = random_vec(B * T * hd, 66);
  const std::vector<int64_t> mask = {1, 1, 1, 1, 1, 1, 1, 0, 1, 0};
  std::vector<float> out(B * T * hd), probs(B * H * T * T);
  tr::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, H, d, hd, hd);

  auto planes = [&](const std::vector<float>& x) {   // (B,T,H,d) -> (B,H,T,d)
    std::vector<float> y(x.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t c = 0; c < d; ++c) y[((b * H + h) * T + t) * d + c] = x[((b * T + t) * H + h) * d + c];
    return y;
  };
  std::vector<float> add_mask(B * T), kout(B * T * hd);
  std::vector<float> ws(static_cast<size_t>(slimformer::kernels::attention_workspace_floats(T)));
  slimformer::kernels::additive_mask(add_mask.data(), mask.data(), B, T);
  slimformer::kernels::attention(kout.data(), planes(q).data(), planes(k).data(), planes(v).data(), add_mask.data(), B,
                                 H, T, d, ws.data());
  const auto got = planes(out);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], kout[i], 1e-5) << i;
}

TEST(TrainAttention, BackwardOfABatchEqualsEachSequenceAlone) {
  // A batch large enough for the threaded transposes and softmax backward, against one sequence
  // at a time (each sequence's gradients depend on that sequence only).
  const int64_t B = 3, T = 65, H = 4, d = 16, hd = H * d, ld = 3 * hd;
  const auto qkv = random_vec(B * T * ld, 67), dout = random_vec(B * T * hd, 68);
  std::vector<int64_t> mask(B * T, 1);
  for (int64_t t = 50; t < T; ++t) mask[T + t] = 0;
  std::vector<float> out(B * T * hd), probs(B * H * T * T), dqkv(B * T * ld);
  std::vector<float> ws(tr::attention_backward_workspace_floats(B, T, H));
  tr::attention_forward(out.data(), probs.data(), qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, mask.data(), B, T,
                        H, d, ld, hd);
  tr::attention_backward(dqkv.data(), dqkv.data() + hd, dqkv.data() + 2 * hd, dout.data(), qkv.data(), qkv.data() + hd,
                         qkv.data() + 2 * hd, probs.data(), B, T, H, d, ld, hd, ws.data());
  for (int64_t b = 0; b < B; ++b) {
    const float* x = qkv.data() + b * T * ld;
    std::vector<float> o1(T * hd), p1(H * T * T), g1(T * ld);
    std::vector<float> ws1(tr::attention_backward_workspace_floats(1, T, H));
    tr::attention_forward(o1.data(), p1.data(), x, x + hd, x + 2 * hd, mask.data() + b * T, 1, T, H, d, ld, hd);
    tr::attention_backward(g1.data(), g1.data() + hd, g1.data() + 2 * hd, dout.data() + b * T * hd, x, x + hd, x + 2 * hd,
                           p1.data(), 1, T, H, d, ld, hd, ws1.data());
    for (int64_t i = 0; i < T * ld; ++i) EXPECT_NEAR(dqkv[b * T * ld + i], g1[i], 1e-5) << "b=" << b << " i=" << i;
  }
}
