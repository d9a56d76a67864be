// AVX-512 VNNI int8 Linear kernels. The micro-kernel holds 6 rows x 64 columns of int32 sums in
// 24 zmm registers; each step of 4 k loads the panel's 4 weight vectors once and, per row, one
// broadcast of 4 activation bytes feeds 4 vpdpbusd (u8 x s8, 4 products summed per lane, no
// saturation). The zero point is taken out afterwards with the precomputed column sums.
#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/int8_linear_impl.h"

// GCC 12's _mm512_reduce_{min,max}_ps read _mm256_undefined_pd(): a false -Wuninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cstring>

#define SLIM_VNNI __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))

namespace slimformer::kernels::int8 {
namespace {

using avx512::tail_mask;

constexpr int kMR = 6;
constexpr int kNV = static_cast<int>(kVnniPanel / 16);   // zmm vectors per panel

SLIM_VNNI inline int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Rows [0, MR) x the panel's 64 columns: int32 dot products over Kp (a multiple of 4), then
// the scale, bias, epilogue and accumulation for the ncols columns that exist.
template <int MR>
SLIM_VNNI void block(float* out, const uint8_t* a, int64_t lda, const RowQuant* rq,
                     const int8_t* panel, int64_t Kp, int64_t n0, int64_t ncols, const Params& p) {
  __m512i acc[MR][kNV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < kNV; ++c) acc[r][c] = _mm512_setzero_si512();
  for (int64_t k = 0; k < Kp; k += 4) {
    const int8_t* wk = panel + k * kVnniPanel;
    __m512i w[kNV];
#pragma GCC unroll 4
    for (int c = 0; c < kNV; ++c) w[c] = _mm512_loadu_si512(wk + 64 * c);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512i x = _mm512_set1_epi32(load4(a + r * lda + k));
#pragma GCC unroll 4
      for (int c = 0; c < kNV; ++c) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], x, w[c]);
    }
  }
  const bool plain_store = p.epilogue == Epilogue::None;
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m512i zp = _mm512_set1_epi32(rq[r].zero_point);
    const __m512 sx = _mm512_set1_ps(rq[r].scale);
    float* o = out + r * p.N + n0;
    alignas(64) float v[kVnniPanel];
#pragma GCC unroll 4
    for (int c = 0; c < kNV; ++c) {
      const int64_t j = 16 * c;
      if (j >= ncols) break;
      const __mmask16 m = tail_mask(ncols - j);
      const __m512i cs = _mm512_maskz_loadu_epi32(m, p.colsum + n0 + j);
      const __m512i d = _mm512_sub_epi32(acc[r][c], _mm512_mullo_epi32(zp, cs));
      const __m512 s = _mm512_mul_ps(sx, _mm512_maskz_loadu_ps(m, p.scales + n0 + j));
      __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(d), s);
      if (p.bias) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, p.bias + n0 + j));
      if (plain_store) {
        if (p.accumulate) y = _mm512_add_ps(_mm512_maskz_loadu_ps(m, o + j), y);
        _mm512_mask_storeu_ps(o + j, m, y);
      } else {
        _mm512_store_ps(v + j, y);
      }
    }
    if (!plain_store) store_row(o, v, ncols, p);
  }
}

}  // namespace

SLIM_VNNI RowQuant quantize_row_vnni(uint8_t* dst, const float* x, int64_t K) {
  __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();   // the range always holds 0
  for (int64_t k = 0; k < K; k += 16) {
    const __mmask16 m = tail_mask(K - k);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + k);   // masked lanes read 0: harmless
    lo = _mm512_min_ps(lo, v);
    hi = _mm512_max_ps(hi, v);
  }
  const RowQuant rq = choose_row_quant(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
  const __m512 inv = _mm512_set1_ps(1.0f / rq.scale), zp = _mm512_set1_ps(static_cast<float>(rq.zero_point));
  const __m512 fmin = _mm512_setzero_ps(), fmax = _mm512_set1_ps(255.0f);
  for (int64_t k = 0; k < K; k += 16) {
    const __mmask16 m = tail_mask(K - k);
    __m512 t = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), inv, zp);
    t = _mm512_min_ps(_mm512_max_ps(t, fmin), fmax);
    _mm_mask_storeu_epi8(dst + k, m, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(t)));
  }
  for (int64_t k = K; k < round_up(K, kVnniGroup); ++k) dst[k] = 0;   // meets zero weights
  return rq;
}

SLIM_VNNI void tile_vnni(float* out, const uint8_t* a, int64_t lda, const RowQuant* rq, int64_t rows,
                         const int8_t* panel, int64_t n0, int64_t ncols, const Params& p) {
  const int64_t Kp = round_up(p.K, kVnniGroup);
  int64_t r = 0;
  for (; r + kMR <= rows; r += kMR) block<kMR>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p);
  switch (rows - r) {
    case 5: block<5>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    case 4: block<4>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    case 3: block<3>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    case 2: block<2>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    case 1: block<1>(out + r * p.N, a + r * lda, lda, rq + r, panel, Kp, n0, ncols, p); break;
    default: break;
  }
}

}  // namespace slimformer::kernels::int8
