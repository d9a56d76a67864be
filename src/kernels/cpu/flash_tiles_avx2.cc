// AVX2+FMA tile steps of flash_attention (see flash_tiles.h), flash_tiles_avx512.cc's blocking
// scaled to 16 ymm registers: MR rows x NR vectors of 8 columns held in accumulators (4 x 3 =
// 12), NR loads and one broadcast per step of the inner dimension, 16 registers in all.
#include <algorithm>
#include <array>
#include <limits>

#include "kernels/cpu/flash_tiles.h"
#include "kernels/cpu/simd.h"

namespace slimformer::kernels::flash {

namespace {

using avx2::exp2_8;
using avx2::hmax;
using avx2::hsum;
using avx2::load_or;
using avx2::tail_mask;

constexpr int kMR = 4;   // rows per micro-kernel
constexpr int kNR = 3;   // 8-float vectors per micro-kernel

// s rows (MR) x vectors (NR) = q (MR, d) . kt (d, 8 NR) + mask_add
template <int MR, int NR>
SLIM_AVX2 void scores_block(float* s, int64_t s_stride, const float* q, int64_t q_stride, const float* kt,
                            int64_t kt_stride, const float* mask_add, int64_t d) {
  __m256 acc[MR][NR];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NR; ++c) acc[r][c] = _mm256_setzero_ps();
  for (int64_t e = 0; e < d; ++e) {
    __m256 b[NR];
#pragma GCC unroll 4
    for (int c = 0; c < NR; ++c) b[c] = _mm256_loadu_ps(kt + e * kt_stride + 8 * c);
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(q + r * q_stride + e);
#pragma GCC unroll 4
      for (int c = 0; c < NR; ++c) acc[r][c] = _mm256_fmadd_ps(a, b[c], acc[r][c]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NR; ++c)
      _mm256_storeu_ps(s + r * s_stride + 8 * c, _mm256_add_ps(acc[r][c], _mm256_loadu_ps(mask_add + 8 * c)));
}

// o rows (MR) x vectors (NR) = alpha o + p (MR, cnt) . v (cnt, 8 NR); the last vector of v is
// read through a mask of its first last_lanes lanes (the head_dim tail), so no float past the head is touched.
template <int MR, int NR>
SLIM_AVX2 void accumulate_block(float* o, int64_t o_stride, const float* alpha, const float* p, int64_t p_stride,
                                const float* v, int64_t v_stride, int64_t cnt, int64_t last_lanes) {
  const __m256i last = tail_mask(last_lanes);
  __m256 acc[MR][NR];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) {
    const __m256 a = _mm256_set1_ps(alpha[r]);
#pragma GCC unroll 4
    for (int c = 0; c < NR; ++c) acc[r][c] = _mm256_mul_ps(a, _mm256_loadu_ps(o + r * o_stride + 8 * c));
  }
  for (int64_t j = 0; j < cnt; ++j) {
    __m256 b[NR];
#pragma GCC unroll 4
    for (int c = 0; c < NR - 1; ++c) b[c] = _mm256_loadu_ps(v + j * v_stride + 8 * c);
    b[NR - 1] = _mm256_maskload_ps(v + j * v_stride + 8 * (NR - 1), last);
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(p + r * p_stride + j);
#pragma GCC unroll 4
      for (int c = 0; c < NR; ++c) acc[r][c] = _mm256_fmadd_ps(a, b[c], acc[r][c]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NR; ++c) _mm256_storeu_ps(o + r * o_stride + 8 * c, acc[r][c]);
}

using ScoresFn = decltype(&scores_block<1, 1>);
using AccumulateFn = decltype(&accumulate_block<1, 1>);

// Tables of the instances for every (MR, NR), indexed [MR - 1][NR - 1].
template <int MR>
constexpr std::array<ScoresFn, kNR> scores_row() {
  return {&scores_block<MR, 1>, &scores_block<MR, 2>, &scores_block<MR, 3>};
}
template <int MR>
constexpr std::array<AccumulateFn, kNR> accumulate_row() {
  return {&accumulate_block<MR, 1>, &accumulate_block<MR, 2>, &accumulate_block<MR, 3>};
}
constexpr std::array<std::array<ScoresFn, kNR>, kMR> kScores = {scores_row<1>(), scores_row<2>(), scores_row<3>(),
                                                                scores_row<4>()};
constexpr std::array<std::array<AccumulateFn, kNR>, kMR> kAccumulate = {accumulate_row<1>(), accumulate_row<2>(),
                                                                        accumulate_row<3>(), accumulate_row<4>()};

// Column groups of up to NR vectors, outer, so a group's kt (or v) columns stay in L1 while every
// row block passes over them. pad16(cnt) columns are readable and writable (flash_tiles.h).
void scores_avx2(float* s, int64_t s_stride, const float* q, int64_t q_stride, int64_t rows, const float* kt,
                 int64_t kt_stride, const float* mask_add, int64_t cnt, int64_t d) {
  const int64_t vecs = (cnt + 7) / 8;
  for (int64_t c0 = 0; c0 < vecs; c0 += kNR) {
    const int64_t nr = std::min<int64_t>(kNR, vecs - c0);
    for (int64_t r0 = 0; r0 < rows; r0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, rows - r0);
      kScores[mr - 1][nr - 1](s + r0 * s_stride + 8 * c0, s_stride, q + r0 * q_stride, q_stride, kt + 8 * c0,
                              kt_stride, mask_add + 8 * c0, d);
    }
  }
}

void accumulate_avx2(float* o, int64_t o_stride, const float* alpha, const float* p, int64_t p_stride,
                               int64_t rows, const float* v, int64_t v_stride, int64_t cnt, int64_t d) {
  const int64_t vecs = (d + 7) / 8;
  for (int64_t c0 = 0; c0 < vecs; c0 += kNR) {
    const int64_t nr = std::min<int64_t>(kNR, vecs - c0);
    const int64_t last = (c0 + nr == vecs) ? d - 8 * (vecs - 1) : 8;
    for (int64_t r0 = 0; r0 < rows; r0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, rows - r0);
      kAccumulate[mr - 1][nr - 1](o + r0 * o_stride + 8 * c0, o_stride, alpha + r0, p + r0 * p_stride, p_stride,
                                  v + 8 * c0, v_stride, cnt, last);
    }
  }
}

// r[i] = column i of the 8 x 8 block whose rows were r[0..7]: pairs interleaved, then groups of
// four, then 128-bit halves exchanged.
SLIM_AVX2 inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int g = 0; g < 8; g += 4) {
    u[g] = _mm256_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[c + 4], 0x20);
    r[c + 4] = _mm256_permute2f128_ps(u[c], u[c + 4], 0x31);
  }
}

// 8 keys x 8 features at a time: masked loads (keys past n are zeros, which also writes the
// zero columns up to pad16(n)), one in-register transpose, up to 8 stores.
SLIM_AVX2 void pack_keys_avx2(float* kt, int64_t kt_stride, const float* k, int64_t k_stride, int64_t n, int64_t d,
                              float scale) {
  const __m256 vs = _mm256_set1_ps(scale);
  for (int64_t j0 = 0; j0 < pad16(n); j0 += 8) {
    const int64_t rows = std::clamp<int64_t>(n - j0, 0, 8);
    for (int64_t e0 = 0; e0 < d; e0 += 8) {
      const __m256i cols = tail_mask(d - e0);
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_maskload_ps(k + (j0 + i) * k_stride + e0, cols) : _mm256_setzero_ps();
      transpose8(r);
      const int64_t out_rows = std::min<int64_t>(8, d - e0);
      for (int64_t i = 0; i < out_rows; ++i) _mm256_storeu_ps(kt + (e0 + i) * kt_stride + j0, _mm256_mul_ps(r[i], vs));
    }
  }
}

SLIM_AVX2 void online_softmax_avx2(float* s, int64_t s_stride, int64_t rows, int64_t cnt, float* m, float* l,
                                   float* alpha) {
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * s_stride;
    __m256 vmax = neg_inf;
    for (int64_t j = 0; j < cnt; j += 8) vmax = _mm256_max_ps(vmax, load_or(sr + j, tail_mask(cnt - j), neg_inf));
    const float mx = std::max(m[r], hmax(vmax));
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 sum = _mm256_setzero_ps();
    for (int64_t j = 0; j < cnt; j += 8) {
      const __m256 e = exp2_8(_mm256_sub_ps(load_or(sr + j, tail_mask(cnt - j), neg_inf), vm));   // 0 past cnt
      _mm256_storeu_ps(sr + j, e);
      sum = _mm256_add_ps(sum, e);
    }
    // alpha = 2^(m - m'): 0 on the first tile, where m = -inf
    const float a = _mm256_cvtss_f32(exp2_8(_mm256_set1_ps(m[r] - mx)));
    alpha[r] = a;
    l[r] = a * l[r] + hsum(sum);
    m[r] = mx;
  }
}

}  // namespace

const TileOps& avx2_ops() {
  static const TileOps ops{pack_keys_avx2, scores_avx2, online_softmax_avx2, accumulate_avx2};
  return ops;
}

}  // namespace slimformer::kernels::flash
