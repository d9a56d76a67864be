// AVX-512F tile steps of flash_attention (see flash_tiles.h). The two products run register-
// blocked micro-kernels: MR rows x NR vectors of 16 columns held in zmm accumulators (6 x 4 = 24
// of the 32 registers), one broadcast per row and one load per vector per step of the inner
// dimension, so the loads stay under the two FMA pipes' pace.
#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/flash_tiles.h"

#include <algorithm>
#include <array>
#include <limits>

namespace slimformer::kernels::flash {

namespace {

using avx512::exp2_16;
using avx512::tail_mask;

constexpr int kMR = 6;   // rows per micro-kernel
constexpr int kNR = 4;   // 16-float vectors per micro-kernel

// s rows (MR) x vectors (NR) = q (MR, d) . kt (d, 16 NR) + mask_add
template <int MR, int NR>
SLIM_AVX512 void scores_block(float* s, int64_t s_stride, const float* q, int64_t q_stride, const float* kt,
                              int64_t kt_stride, const float* mask_add, int64_t d) {
  __m512 acc[MR][NR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < NR; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t e = 0; e < d; ++e) {
    __m512 b[NR];
#pragma GCC unroll 8
    for (int c = 0; c < NR; ++c) b[c] = _mm512_loadu_ps(kt + e * kt_stride + 16 * c);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(q[r * q_stride + e]);
#pragma GCC unroll 8
      for (int c = 0; c < NR; ++c) acc[r][c] = _mm512_fmadd_ps(a, b[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < NR; ++c)
      _mm512_storeu_ps(s + r * s_stride + 16 * c, _mm512_add_ps(acc[r][c], _mm512_loadu_ps(mask_add + 16 * c)));
}

// o rows (MR) x vectors (NR) = alpha o + p (MR, cnt) . v (cnt, 16 NR); the last vector of v is
// read through `last` (the head_dim tail), so no float past the head is touched.
template <int MR, int NR>
SLIM_AVX512 void accumulate_block(float* o, int64_t o_stride, const float* alpha, const float* p,
                                  int64_t p_stride, const float* v, int64_t v_stride, int64_t cnt,
                                  __mmask16 last) {
  __m512 acc[MR][NR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m512 a = _mm512_set1_ps(alpha[r]);
#pragma GCC unroll 8
    for (int c = 0; c < NR; ++c) acc[r][c] = _mm512_mul_ps(a, _mm512_loadu_ps(o + r * o_stride + 16 * c));
  }
  for (int64_t j = 0; j < cnt; ++j) {
    __m512 b[NR];
#pragma GCC unroll 8
    for (int c = 0; c < NR - 1; ++c) b[c] = _mm512_loadu_ps(v + j * v_stride + 16 * c);
    b[NR - 1] = _mm512_maskz_loadu_ps(last, v + j * v_stride + 16 * (NR - 1));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(p[r * p_stride + j]);
#pragma GCC unroll 8
      for (int c = 0; c < NR; ++c) acc[r][c] = _mm512_fmadd_ps(a, b[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < NR; ++c) _mm512_storeu_ps(o + r * o_stride + 16 * c, acc[r][c]);
}

// Tables of the instances for every (MR, NR), indexed [MR - 1][NR - 1].
template <int MR, int NR>
constexpr auto scores_fn() { return &scores_block<MR, NR>; }
template <int MR, int NR>
constexpr auto accumulate_fn() { return &accumulate_block<MR, NR>; }

using ScoresFn = decltype(&scores_block<1, 1>);
using AccumulateFn = decltype(&accumulate_block<1, 1>);

template <int MR>
constexpr std::array<ScoresFn, kNR> scores_row() {
  return {scores_fn<MR, 1>(), scores_fn<MR, 2>(), scores_fn<MR, 3>(), scores_fn<MR, 4>()};
}
template <int MR>
constexpr std::array<AccumulateFn, kNR> accumulate_row() {
  return {accumulate_fn<MR, 1>(), accumulate_fn<MR, 2>(), accumulate_fn<MR, 3>(), accumulate_fn<MR, 4>()};
}
constexpr std::array<std::array<ScoresFn, kNR>, kMR> kScores = {
    scores_row<1>(), scores_row<2>(), scores_row<3>(), scores_row<4>(), scores_row<5>(), scores_row<6>()};
constexpr std::array<std::array<AccumulateFn, kNR>, kMR> kAccumulate = {
    accumulate_row<1>(), accumulate_row<2>(), accumulate_row<3>(), accumulate_row<4>(), accumulate_row<5>(),
    accumulate_row<6>()};

// Column groups of up to NR vectors, outer, so a group's kt (or v) columns stay in L1 while every
// row block passes over them.
void scores_avx512(float* s, int64_t s_stride, const float* q, int64_t q_stride, int64_t rows,
                   const float* kt, int64_t kt_stride, const float* mask_add, int64_t cnt, int64_t d) {
  const int64_t vecs = pad16(cnt) / 16;
  for (int64_t c0 = 0; c0 < vecs; c0 += kNR) {
    const int64_t nr = std::min<int64_t>(kNR, vecs - c0);
    for (int64_t r0 = 0; r0 < rows; r0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, rows - r0);
      kScores[mr - 1][nr - 1](s + r0 * s_stride + 16 * c0, s_stride, q + r0 * q_stride, q_stride,
                              kt + 16 * c0, kt_stride, mask_add + 16 * c0, d);
    }
  }
}

void accumulate_avx512(float* o, int64_t o_stride, const float* alpha, const float* p, int64_t p_stride,
                       int64_t rows, const float* v, int64_t v_stride, int64_t cnt, int64_t d) {
  const int64_t vecs = pad16(d) / 16;
  for (int64_t c0 = 0; c0 < vecs; c0 += kNR) {
    const int64_t nr = std::min<int64_t>(kNR, vecs - c0);
    const __mmask16 last = (c0 + nr == vecs) ? tail_mask(d - 16 * (vecs - 1)) : static_cast<__mmask16>(0xFFFF);
    for (int64_t r0 = 0; r0 < rows; r0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, rows - r0);
      kAccumulate[mr - 1][nr - 1](o + r0 * o_stride + 16 * c0, o_stride, alpha + r0, p + r0 * p_stride,
                                  p_stride, v + 16 * c0, v_stride, cnt, last);
    }
  }
}

// r[i] = column i of the 16 x 16 block whose rows were r[0..15]: pairs of rows interleaved,
// then groups of four, then 128-bit lanes exchanged twice.
SLIM_AVX512 inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);       // per lane: a0 b0 a1 b1
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);   //           a2 b2 a3 b3
  }
#pragma GCC unroll 4
  for (int g = 0; g < 16; g += 4) {                  // rows g..g+3 -> per lane columns 0..3
    r[g] = _mm512_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {   // lanes (0, 2) and (1, 3) of row groups 0 with 1, 2 with 3
    t[c] = _mm512_shuffle_f32x4(r[c], r[c + 4], 0x88);
    t[c + 4] = _mm512_shuffle_f32x4(r[c], r[c + 4], 0xdd);
    t[c + 8] = _mm512_shuffle_f32x4(r[c + 8], r[c + 12], 0x88);
    t[c + 12] = _mm512_shuffle_f32x4(r[c + 8], r[c + 12], 0xdd);
  }
#pragma GCC unroll 8
  for (int c = 0; c < 8; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0x88);
    r[c + 8] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0xdd);
  }
}

// 16 keys x 16 features at a time: masked loads (rows past n are zeros), one in-register
// transpose, 16 stores.
SLIM_AVX512 void pack_keys_avx512(float* kt, int64_t kt_stride, const float* k, int64_t k_stride, int64_t n,
                                  int64_t d, float scale) {
  const __m512 vs = _mm512_set1_ps(scale);
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int64_t rows = std::min<int64_t>(16, n - j0);
    for (int64_t e0 = 0; e0 < d; e0 += 16) {
      const __mmask16 cols = tail_mask(d - e0);
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(cols, k + (j0 + i) * k_stride + e0) : _mm512_setzero_ps();
      transpose16(r);
      const int64_t out_rows = std::min<int64_t>(16, d - e0);
      for (int64_t i = 0; i < out_rows; ++i) _mm512_storeu_ps(kt + (e0 + i) * kt_stride + j0, _mm512_mul_ps(r[i], vs));
    }
  }
}

SLIM_AVX512 void online_softmax_avx512(float* s, int64_t s_stride, int64_t rows, int64_t cnt, float* m,
                                       float* l, float* alpha) {
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * s_stride;
    __m512 vmax = neg_inf;
    for (int64_t j = 0; j < cnt; j += 16) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, tail_mask(cnt - j), sr + j));
    const float mx = std::max(m[r], _mm512_reduce_max_ps(vmax));
    const __m512 vm = _mm512_set1_ps(mx);
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < cnt; j += 16) {
      const __mmask16 k = tail_mask(cnt - j);
      const __m512 e = exp2_16(_mm512_sub_ps(_mm512_mask_loadu_ps(neg_inf, k, sr + j), vm));   // 0 past cnt
      _mm512_storeu_ps(sr + j, e);
      sum = _mm512_add_ps(sum, e);
    }
    // alpha = 2^(m - m'): 0 on the first tile, where m = -inf
    const float a = _mm512_cvtss_f32(exp2_16(_mm512_set1_ps(m[r] - mx)));
    alpha[r] = a;
    l[r] = a * l[r] + _mm512_reduce_add_ps(sum);
    m[r] = mx;
  }
}

}  // namespace

const TileOps& avx512_ops() {
  static const TileOps ops{pack_keys_avx512, scores_avx512, online_softmax_avx512, accumulate_avx512};
  return ops;
}

}  // namespace slimformer::kernels::flash
