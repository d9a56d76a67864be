// Every own kernel with SIMD tiers, run through its dispatcher under each instruction-set target
// the CPU has (for_each_isa) and checked against its scalar reference on odd shapes: vector
// tails of both widths (8 and 16 lanes), masked keys, a large mean, all -inf rows. The attention
// kernels built on them are checked the same way in the attention_*_test.cc files.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "isa_test_util.h"
#include "kernels/cpu/flash_tiles.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/reference.h"
#include "kernels/cpu/simd.h"
#include "test_util.h"

namespace k = slimformer::kernels;

namespace {

using slimtest::for_each_isa;
using slimtest::random_vec;

constexpr float kInf = std::numeric_limits<float>::infinity();

float max_rel_diff(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  float m = 0.0f;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i])) return kInf;
    m = std::max(m, std::fabs(got[i] - want[i]) / std::max(1.0f, std::fabs(want[i])));
  }
  return m;
}

const int64_t kWidths[] = {1, 3, 7, 8, 9, 15, 16, 17, 128, 513, 768};

}  // namespace

TEST(KernelsIsa, LayerNormMatchesReference) {
  for_each_isa([] {
    for (int64_t cols : kWidths) {
      auto x = random_vec(3 * cols, 1, 3.0f);
      for (auto& v : x) v += 10.0f;   // a large mean: the two-pass variance must not cancel
      const auto r = random_vec(3 * cols, 2), g = random_vec(cols, 3), b = random_vec(cols, 4);
      std::vector<float> got(x.size()), want(x.size());
      k::layernorm(got.data(), x.data(), g.data(), b.data(), 3, cols, 1e-12f);
      k::ref::layernorm(want.data(), x.data(), g.data(), b.data(), 3, cols, 1e-12f);
      EXPECT_LT(max_rel_diff(got, want), 1e-5) << cols;
      got = x;   // in place, as the encoder runs it
      k::layernorm(got.data(), got.data(), g.data(), b.data(), 3, cols, 1e-12f);
      EXPECT_LT(max_rel_diff(got, want), 1e-5) << "in place " << cols;
      k::add_layernorm(got.data(), x.data(), r.data(), g.data(), b.data(), 3, cols, 1e-5f);
      k::ref::add_layernorm(want.data(), x.data(), r.data(), g.data(), b.data(), 3, cols, 1e-5f);
      EXPECT_LT(max_rel_diff(got, want), 1e-5) << "add " << cols;
    }
  });
}

TEST(KernelsIsa, SoftmaxMatchesReference) {
  for_each_isa([] {
    for (int64_t cols : kWidths) {
      for (float scale : {0.1f, 4.0f, 30.0f}) {   // 30: exp arguments far below -87
        const auto x = random_vec(3 * cols, 7, scale);
        std::vector<float> mask(static_cast<size_t>(cols), 0.0f);
        for (int64_t j = 1; j < cols; j += 3) mask[j] = k::kMaskedScore;
        for (const float* m : {static_cast<const float*>(nullptr), static_cast<const float*>(mask.data())}) {
          auto got = x, want = x;
          k::softmax_masked(got.data(), m, 3, cols);
          k::ref::softmax_masked(want.data(), m, 3, cols);
          // 3e-6: the portable loops' vectorized expf (the SIMD tiers stay within 1e-6)
          EXPECT_LT(max_rel_diff(got, want), 3e-6) << cols << " scale " << scale;
          if (m) {
            for (int64_t j = 1; j < cols; j += 3) EXPECT_EQ(got[j], 0.0f) << "masked key " << j;
          }
          got = std::vector<float>(x.begin(), x.begin() + cols);
          k::softmax_masked_row(got.data(), m, cols);
          EXPECT_LT(max_rel_diff(got, std::vector<float>(want.begin(), want.begin() + cols)), 3e-6) << "row " << cols;
        }
      }
    }
    for (int64_t cols : {1, 9, 17}) {
      std::vector<float> inf(static_cast<size_t>(cols), -kInf);
      k::softmax_masked(inf.data(), nullptr, 1, cols);
      for (float v : inf) EXPECT_EQ(v, 0.0f) << cols;
    }
  });
}

namespace {

// One (query tile, key tile) pair through a set of tile steps: pack, scores, online softmax (on
// two tiles, so the rescale runs), accumulate. Returns o then m, l appended.
std::vector<float> run_tiles(const k::flash::TileOps& ops, int64_t rows, int64_t n, int64_t d) {
  using k::flash::pad16;
  const auto q = random_vec(rows * d, 21, 1.0f), kv = random_vec(2 * n * d, 22, 1.0f);
  const int64_t kt_stride = pad16(n) + 16, s_stride = pad16(n), o_stride = pad16(d);
  std::vector<float> kt(static_cast<size_t>(d * kt_stride), 7.0f), mask_add(static_cast<size_t>(kt_stride), 0.0f);
  for (int64_t j = 1; j < n; j += 4) mask_add[j] = -kInf;   // masked keys, never the first
  std::vector<float> s(static_cast<size_t>(rows * s_stride)), o(static_cast<size_t>(rows * o_stride), 0.0f);
  std::vector<float> m(static_cast<size_t>(rows), -kInf), l(static_cast<size_t>(rows), 0.0f), alpha(m.size());
  ops.pack_keys(kt.data(), kt_stride, kv.data(), d, n, d, 0.3f);
  for (int64_t e = 0; e < d; ++e)   // the driver's zeros past pad16(n)
    std::fill(kt.begin() + e * kt_stride + pad16(n), kt.begin() + (e + 1) * kt_stride, 0.0f);
  std::vector<float> out;
  for (int tile = 0; tile < 2; ++tile) {
    ops.scores(s.data(), s_stride, q.data(), d, rows, kt.data(), kt_stride, mask_add.data(), n, d);
    if (tile == 1)
      for (auto& x : s) x *= 1.5f;   // a larger maximum on the second tile
    ops.online_softmax(s.data(), s_stride, rows, n, m.data(), l.data(), alpha.data());
    ops.accumulate(o.data(), o_stride, alpha.data(), s.data(), s_stride, rows, kv.data() + n * d, d, n, d);
  }
  for (int64_t r = 0; r < rows; ++r) out.insert(out.end(), o.begin() + r * o_stride, o.begin() + r * o_stride + d);
  for (int64_t e = 0; e < d; ++e) out.insert(out.end(), kt.begin() + e * kt_stride, kt.begin() + e * kt_stride + pad16(n));
  out.insert(out.end(), m.begin(), m.end());
  out.insert(out.end(), l.begin(), l.end());
  return out;
}

}  // namespace

TEST(KernelsIsa, FlashTileStepsMatchPortable) {
  for (int64_t rows : {1, 3, 7, 13})
    for (int64_t n : {1, 3, 9, 17, 40})
      for (int64_t d : {1, 3, 8, 17, 64, 72}) {
        const auto want = run_tiles(k::flash::portable_ops(), rows, n, d);
        for_each_isa([&] {
          EXPECT_LT(max_rel_diff(run_tiles(k::flash::active_ops(), rows, n, d), want), 2e-5)
              << "rows " << rows << " n " << n << " d " << d;
        });
      }
}

namespace {

SLIM_AVX2 void exp_avx2(float* e, float* e2, const float* x) {
  _mm256_storeu_ps(e, k::avx2::exp8(_mm256_loadu_ps(x)));
  _mm256_storeu_ps(e2, k::avx2::exp2_8(_mm256_loadu_ps(x)));
}

}  // namespace

TEST(KernelsIsa, Avx2ExponentialsMatchLibm) {
  if (!k::isa_at_least(k::Isa::Avx2)) GTEST_SKIP() << "no AVX2+FMA on this CPU";
  std::vector<float> xs = {-kInf, -200.0f, -150.0f, -110.0f, -100.0f, -87.0f, -10.5f, -1.0f, -0.3f, 0.0f,
                           1e-8f, 0.5f,  1.0f,   20.0f,   80.0f,   88.0f,   88.7f};
  for (float x = -80.0f; x < 80.0f; x += 0.37f) xs.push_back(x);
  while (xs.size() % 8) xs.push_back(0.0f);
  std::vector<float> e(xs.size()), e2(xs.size());
  for (size_t i = 0; i < xs.size(); i += 8) exp_avx2(e.data() + i, e2.data() + i, xs.data() + i);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::exp(static_cast<double>(xs[i])), want2 = std::exp2(static_cast<double>(xs[i]));
    if (xs[i] < -110.0f) {
      EXPECT_EQ(e[i], 0.0f) << xs[i];
    }
    if (xs[i] <= -150.0f) {
      EXPECT_LE(e2[i], 1.5e-45f) << xs[i];   // 0 or the least denormal, as exp2_16
    }
    if (want > 1e-37) {
      EXPECT_NEAR(e[i] / want, 1.0, 3e-7) << xs[i];
    }
    if (want2 > 1e-37 && xs[i] <= 127.0f) {
      EXPECT_NEAR(e2[i] / want2, 1.0, 3e-7) << xs[i];
    }
  }
}
