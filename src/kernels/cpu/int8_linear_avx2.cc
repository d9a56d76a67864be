// AVX2 int8 Linear kernels. vpmaddubsw (u8 x s8) saturates at int16 when two products add up
// past 32767 (255 * 127 * 2 does), so activations are stored widened to int16 and weights are
// sign-extended on load: vpmaddwd then sums each pair of int16 products into int32 exactly.
// The micro-kernel holds 4 rows x 16 columns (8 ymm) of int32 sums.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/int8_linear_impl.h"

#define SLIM_AVX2 __attribute__((target("avx2,fma")))

namespace slimformer::kernels::int8 {
namespace {

constexpr int kMR = 3;

SLIM_AVX2 inline int32_t load_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Rows [0, MR) x the panel's 16 columns over Kp (even), then scale, bias, epilogue, accumulate.
template <int MR>
SLIM_AVX2 void block(float* out, const int16_t* a, int64_t lda, const RowQuant* rq,
                     const int8_t* panel, int64_t Kp, int64_t n0, int64_t ncols, const Params& p) {
  __m256i acc[MR][2];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int64_t k = 0; k < Kp; k += 2) {
    const int8_t* wk = panel + k * kAvx2Panel;
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wk)));
    const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wk + 16)));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256i x = _mm256_set1_epi32(load_pair(a + r * lda + k));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x, w0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x, w1));
    }
  }
  const bool vector_store = ncols == kAvx2Panel && p.epilogue == Epilogue::None;
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) {
    float* o = out + r * p.N + n0;
    if (vector_store) {
      const __m256i zp = _mm256_set1_epi32(rq[r].zero_point);
      const __m256 sx = _mm256_set1_ps(rq[r].scale);
      for (int c = 0; c < 2; ++c) {
        const int64_t j = 8 * c;
        const __m256i cs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.colsum + n0 + j));
        const __m256i d = _mm256_sub_epi32(acc[r][c], _mm256_mullo_epi32(zp, cs));
        const __m256 s = _mm256_mul_ps(sx, _mm256_loadu_ps(p.scales + n0 + j));
        __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(d), s);
        if (p.bias) y = _mm256_add_ps(y, _mm256_loadu_ps(p.bias + n0 + j));
        if (p.accumulate) y = _mm256_add_ps(_mm256_loadu_ps(o + j), y);
        _mm256_storeu_ps(o + j, y);
      }
    } else {   // a narrow last panel or an epilogue: finish lane by lane
      alignas(32) int32_t s[kAvx2Panel];
      float v[kAvx2Panel] = {};
      _mm256_store_si256(reinterpret_cast<__m256i*>(s), acc[r][0]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(s + 8), acc[r][1]);
      for (int64_t j = 0; j < ncols; ++j) v[j] = finish(s[j], n0 + j, rq[r], p);
      store_row(o, v, ncols, p);
    }
  }
}

}  // namespace

SLIM_AVX2 RowQuant quantize_row_avx2(int16_t* dst, const float* x, int64_t K) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();   // the range always holds 0
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    const __m256 v = _mm256_loadu_ps(x + k);
    lo = _mm256_min_ps(lo, v);
    hi = _mm256_max_ps(hi, v);
  }
  alignas(32) float l8[8], h8[8];
  _mm256_store_ps(l8, lo);
  _mm256_store_ps(h8, hi);
  float l = 0.0f, h = 0.0f;
  for (int i = 0; i < 8; ++i) {
    l = std::min(l, l8[i]);
    h = std::max(h, h8[i]);
  }
  for (; k < K; ++k) {
    l = std::min(l, x[k]);
    h = std::max(h, x[k]);
  }
  const RowQuant rq = choose_row_quant(l, h);
  const float inv_s = 1.0f / rq.scale;
  const __m256 inv = _mm256_set1_ps(inv_s), zp = _mm256_set1_ps(static_cast<float>(rq.zero_point));
  const __m256 fmin = _mm256_setzero_ps(), fmax = _mm256_set1_ps(255.0f);
  for (k = 0; k + 8 <= K; k += 8) {
    __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), inv, zp);
    t = _mm256_min_ps(_mm256_max_ps(t, fmin), fmax);
    const __m256i q = _mm256_cvtps_epi32(t);
    const __m128i q16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k), q16);
  }
  for (; k < K; ++k) dst[k] = quantize_u8(x[k], inv_s, rq.zero_point);
  if (K % 2) dst[K] = 0;   // meets a zero weight
  return rq;
}

SLIM_AVX2 void tile_avx2(float* out, const int16_t* a, int64_t lda, const RowQuant* rq, int64_t rows,
                         const int8_t* panel, int64_t n0, int64_t ncols, const Params& p) {
  const int64_t Kp = round_up(p.K, kAvx2Group);
  int64_t r = 0;
  for (; r + kMR <= rows; r += kMR) block<kMR>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p);
  switch (rows - r) {
    case 2: block<2>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    case 1: block<1>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    default: break;
  }
}

}  // namespace slimformer::kernels::int8
