// AVX-512F row kernels (see rows_avx512.h). Tails run through masked loads and stores, so any
// column count works without a scalar epilogue.
#include "kernels/cpu/rows_avx512.h"

// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_ps in masked intrinsics): a
// false -Wmaybe-uninitialized, silenced for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <limits>

#define SLIM_AVX512 __attribute__((target("avx512f")))

namespace slimformer::kernels::avx512 {

namespace {
bool g_force_portable = false;
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes && !g_force_portable;
}

void force_portable(bool on) { g_force_portable = on; }

namespace {

SLIM_AVX512 inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// e^x for 16 lanes: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor polynomial
// (relative error < 2e-7), then scaled by 2^n. Inputs below -110 give exactly 0 (expf: 0 below -104).
SLIM_AVX512 inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-110.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);   // ln2 high bits
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723e-6f), r);     // ln2 low bits
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

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
