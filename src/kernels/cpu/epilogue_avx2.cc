// AVX2+FMA activations after a product (gemm.h's apply_epilogue_row), the AVX-512 version's
// method with 8 lanes.
#include "kernels/cpu/epilogue_simd.h"
#include "kernels/cpu/rows_simd.h"
#include "kernels/cpu/simd.h"

namespace slimformer::kernels::avx2 {

namespace {

namespace c = epilogue_constants;

SLIM_AVX2 inline __m256 sign_of(__m256 x) { return _mm256_and_ps(x, _mm256_set1_ps(-0.0f)); }
SLIM_AVX2 inline __m256 abs_of(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

SLIM_AVX2 inline __m256 erf8(__m256 z) {
  const __m256 a = abs_of(z), one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(c::kP), a, one));
  __m256 poly = _mm256_fmadd_ps(_mm256_set1_ps(c::kA5), t, _mm256_set1_ps(c::kA4));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c::kA3));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c::kA2));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c::kA1));
  poly = _mm256_mul_ps(poly, t);
  const __m256 e = exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a));
  return _mm256_or_ps(_mm256_fnmadd_ps(poly, e, one), sign_of(z));
}

SLIM_AVX2 inline __m256 tanh8(__m256 y) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), abs_of(y)));
  return _mm256_or_ps(_mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e)), sign_of(y));
}

SLIM_AVX2 inline __m256 activation(Epilogue e, __m256 x) {
  const __m256 half_x = _mm256_mul_ps(_mm256_set1_ps(0.5f), x);
  switch (e) {
    case Epilogue::Gelu:
      return _mm256_fmadd_ps(half_x, erf8(_mm256_mul_ps(x, _mm256_set1_ps(c::kInvSqrt2))), half_x);
    case Epilogue::GeluTanh: {
      const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
      const __m256 inner = _mm256_mul_ps(_mm256_set1_ps(c::kSqrt2OverPi), _mm256_fmadd_ps(_mm256_set1_ps(c::kCubic), x3, x));
      return _mm256_fmadd_ps(half_x, tanh8(inner), half_x);
    }
    case Epilogue::Relu: return _mm256_max_ps(x, _mm256_setzero_ps());
    case Epilogue::None: break;
  }
  return x;
}

}  // namespace

SLIM_AVX2 void epilogue_row(Epilogue e, float* out, const float* v, int64_t n, bool accumulate) {
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i m = tail_mask(n - j);
    __m256 y = activation(e, _mm256_maskload_ps(v + j, m));
    if (accumulate) y = _mm256_add_ps(y, _mm256_maskload_ps(out + j, m));
    _mm256_maskstore_ps(out + j, m, y);
  }
}

}  // namespace slimformer::kernels::avx2
