// AVX-512F row kernels (see rows_simd.h). Tails run through masked loads and stores, so any
// column count works without a scalar epilogue.
#include "kernels/cpu/rows_simd.h"

#include "kernels/cpu/avx512_math.h"

#include <cmath>
#include <limits>

namespace slimformer::kernels::avx512 {

namespace {

SLIM_AVX512 inline float row_sum(const float* x, int64_t cols) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < cols; j += 16) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(tail_mask(cols - j), x + j));
  return _mm512_reduce_add_ps(acc);
}

}  // namespace

SLIM_AVX512 void normalize_row(float* x, const float* gamma, const float* beta, int64_t cols, float eps) {
  if (cols <= 0) return;
  const __m512 mean = _mm512_set1_ps(row_sum(x, cols) / static_cast<float>(cols));
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = tail_mask(cols - j);
    const __m512 dv = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + j), mean);
    acc = _mm512_fmadd_ps(dv, dv, acc);
  }
  const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(acc) / static_cast<float>(cols) + eps);
  const __m512 vinv = _mm512_set1_ps(inv);
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = tail_mask(cols - j);
    const __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), mean), vinv);
    const __m512 y = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, gamma + j), _mm512_maskz_loadu_ps(m, beta + j));
    _mm512_mask_storeu_ps(x + j, m, y);
  }
}

SLIM_AVX512 void add_normalize_row(float* o, const float* a, const float* b, const float* gamma,
                                   const float* beta, int64_t cols, float eps) {
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = tail_mask(cols - j);
    _mm512_mask_storeu_ps(o + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, b + j)));
  }
  normalize_row(o, gamma, beta, cols, eps);
}

SLIM_AVX512 void softmax_row(float* x, const float* add_mask, int64_t cols) {
  if (cols <= 0) return;
  const float inf = std::numeric_limits<float>::infinity();
  __m512 vmax = _mm512_set1_ps(-inf);
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = tail_mask(cols - j);
    __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-inf), m, x + j);
    if (add_mask) {
      v = _mm512_mask_add_ps(v, m, v, _mm512_maskz_loadu_ps(m, add_mask + j));
      _mm512_mask_storeu_ps(x + j, m, v);
    }
    vmax = _mm512_max_ps(vmax, v);
  }
  const float mx = _mm512_reduce_max_ps(vmax);
  if (mx == -inf) {
    for (int64_t j = 0; j < cols; j += 16) _mm512_mask_storeu_ps(x + j, tail_mask(cols - j), _mm512_setzero_ps());
    return;
  }
  const __m512 vm = _mm512_set1_ps(mx);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = tail_mask(cols - j);
    const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vm)));
    _mm512_mask_storeu_ps(x + j, m, e);
    acc = _mm512_add_ps(acc, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(acc));
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = tail_mask(cols - j);
    _mm512_mask_storeu_ps(x + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + j), inv));
  }
}

}  // namespace slimformer::kernels::avx512
