// AVX2+FMA row kernels and online softmax step (see rows_simd.h), the AVX-512 ones' structure
// with 8 lanes: full vectors in the loop, then one masked load/store for the tail, so any
// column count works without a scalar epilogue.
#include <cmath>
#include <limits>

#include "kernels/cpu/rows_simd.h"
#include "kernels/cpu/simd.h"

namespace slimformer::kernels::avx2 {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

SLIM_AVX2 inline float row_sum(const float* x, int64_t cols) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t j = 0; j < cols; j += 8) acc = _mm256_add_ps(acc, _mm256_maskload_ps(x + j, tail_mask(cols - j)));
  return hsum(acc);
}

// The row's maximum, -inf lanes past cols.
SLIM_AVX2 inline float row_max(const float* x, int64_t cols, float start) {
  const __m256 neg_inf = _mm256_set1_ps(-kInf);
  __m256 vmax = _mm256_set1_ps(start);
  for (int64_t j = 0; j < cols; j += 8) vmax = _mm256_max_ps(vmax, load_or(x + j, tail_mask(cols - j), neg_inf));
  return hmax(vmax);
}

// x (cols) = e^(x - mx), returning the sum; lanes past cols are neither read nor written.
SLIM_AVX2 inline float exp_shifted_sum(float* x, int64_t cols, float mx) {
  const __m256 vm = _mm256_set1_ps(mx);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t j = 0; j < cols; j += 8) {
    const __m256i m = tail_mask(cols - j);
    const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + j, m), vm)), _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(x + j, m, e);
    acc = _mm256_add_ps(acc, e);
  }
  return hsum(acc);
}

SLIM_AVX2 inline void fill_zero(float* x, int64_t cols) {
  for (int64_t j = 0; j < cols; j += 8) _mm256_maskstore_ps(x + j, tail_mask(cols - j), _mm256_setzero_ps());
}

}  // namespace

SLIM_AVX2 void normalize_row(float* x, const float* gamma, const float* beta, int64_t cols, float eps) {
  if (cols <= 0) return;
  const __m256 mean = _mm256_set1_ps(row_sum(x, cols) / static_cast<float>(cols));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t j = 0; j < cols; j += 8) {
    const __m256i m = tail_mask(cols - j);
    const __m256 dv = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, m), mean), _mm256_castsi256_ps(m));
    acc = _mm256_fmadd_ps(dv, dv, acc);
  }
  const __m256 vinv = _mm256_set1_ps(1.0f / std::sqrt(hsum(acc) / static_cast<float>(cols) + eps));
  for (int64_t j = 0; j < cols; j += 8) {
    const __m256i m = tail_mask(cols - j);
    const __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, m), mean), vinv);
    const __m256 y = _mm256_fmadd_ps(v, _mm256_maskload_ps(gamma + j, m), _mm256_maskload_ps(beta + j, m));
    _mm256_maskstore_ps(x + j, m, y);
  }
}

SLIM_AVX2 void add_normalize_row(float* o, const float* a, const float* b, const float* gamma, const float* beta,
                                 int64_t cols, float eps) {
  for (int64_t j = 0; j < cols; j += 8) {
    const __m256i m = tail_mask(cols - j);
    _mm256_maskstore_ps(o + j, m, _mm256_add_ps(_mm256_maskload_ps(a + j, m), _mm256_maskload_ps(b + j, m)));
  }
  normalize_row(o, gamma, beta, cols, eps);
}

SLIM_AVX2 void softmax_row(float* x, const float* add_mask, int64_t cols) {
  if (cols <= 0) return;
  if (add_mask) {
    for (int64_t j = 0; j < cols; j += 8) {
      const __m256i m = tail_mask(cols - j);
      _mm256_maskstore_ps(x + j, m, _mm256_add_ps(_mm256_maskload_ps(x + j, m), _mm256_maskload_ps(add_mask + j, m)));
    }
  }
  const float mx = row_max(x, cols, -kInf);
  if (mx == -kInf) {
    fill_zero(x, cols);
    return;
  }
  const __m256 inv = _mm256_set1_ps(1.0f / exp_shifted_sum(x, cols, mx));
  for (int64_t j = 0; j < cols; j += 8) {
    const __m256i m = tail_mask(cols - j);
    _mm256_maskstore_ps(x + j, m, _mm256_mul_ps(_mm256_maskload_ps(x + j, m), inv));
  }
}

SLIM_AVX2 float online_softmax_step(float* s, int64_t cnt, float& m, float& l) {
  const float mx = row_max(s, cnt, m);
  if (mx == -kInf) {
    fill_zero(s, cnt);
    return 1.0f;
  }
  const float sum = exp_shifted_sum(s, cnt, mx);
  const float alpha = m == -kInf ? 0.0f : _mm256_cvtss_f32(exp8(_mm256_set1_ps(m - mx)));
  l = alpha * l + sum;
  m = mx;
  return alpha;
}

}  // namespace slimformer::kernels::avx2
