// The AVX-512F online softmax step (online_softmax.h), chosen at run time through isa.h.
#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/rows_simd.h"

#include <limits>

namespace slimformer::kernels::avx512 {

SLIM_AVX512 float online_softmax_step(float* s, int64_t cnt, float& m, float& l) {
  const float inf = std::numeric_limits<float>::infinity();
  __m512 vmax = _mm512_set1_ps(m);
  for (int64_t j = 0; j < cnt; j += 16) {
    vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(_mm512_set1_ps(-inf), tail_mask(cnt - j), s + j));
  }
  const float mx = _mm512_reduce_max_ps(vmax);
  if (mx == -inf) {
    for (int64_t j = 0; j < cnt; j += 16) _mm512_mask_storeu_ps(s + j, tail_mask(cnt - j), _mm512_setzero_ps());
    return 1.0f;
  }
  const __m512 vm = _mm512_set1_ps(mx);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < cnt; j += 16) {
    const __mmask16 k = tail_mask(cnt - j);
    const __m512 e = _mm512_maskz_mov_ps(k, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), vm)));
    _mm512_mask_storeu_ps(s + j, k, e);
    acc = _mm512_add_ps(acc, e);
  }
  const float alpha = m == -inf ? 0.0f : _mm512_cvtss_f32(exp16(_mm512_set1_ps(m - mx)));
  l = alpha * l + _mm512_reduce_add_ps(acc);
  m = mx;
  return alpha;
}

}  // namespace slimformer::kernels::avx512
