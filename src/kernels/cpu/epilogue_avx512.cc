// AVX-512F activations after a product (gemm.h's apply_epilogue_row; see epilogue_rows.cc).
#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/epilogue_simd.h"
#include "kernels/cpu/rows_simd.h"

namespace slimformer::kernels::avx512 {

namespace {

namespace c = epilogue_constants;

// erf(z) for 16 lanes, A&S 7.1.26 on |z| with the sign put back.
SLIM_AVX512 inline __m512 erf16(__m512 z) {
  const __m512 a = _mm512_abs_ps(z);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(c::kP), a, _mm512_set1_ps(1.0f)));
  __m512 poly = _mm512_fmadd_ps(_mm512_set1_ps(c::kA5), t, _mm512_set1_ps(c::kA4));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(c::kA3));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(c::kA2));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(c::kA1));
  poly = _mm512_mul_ps(poly, t);
  const __m512 e = exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));
  const __m512 r = _mm512_fnmadd_ps(poly, e, _mm512_set1_ps(1.0f));   // 1 - poly e
  // copy z's sign bit onto r (>= 0)
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(z), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r), sign));
}

// tanh(y) for 16 lanes: sign(y) (1 - e) / (1 + e), e = e^(-2|y|) in (0, 1].
SLIM_AVX512 inline __m512 tanh16(__m512 y) {
  const __m512 a = _mm512_abs_ps(y);
  const __m512 e = exp16(_mm512_mul_ps(_mm512_set1_ps(-2.0f), a));
  const __m512 r = _mm512_div_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), e), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r), sign));
}

SLIM_AVX512 inline __m512 activation(Epilogue e, __m512 x) {
  const __m512 half_x = _mm512_mul_ps(_mm512_set1_ps(0.5f), x);
  switch (e) {
    case Epilogue::Gelu:
      return _mm512_fmadd_ps(half_x, erf16(_mm512_mul_ps(x, _mm512_set1_ps(c::kInvSqrt2))), half_x);
    case Epilogue::GeluTanh: {
      const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
      const __m512 inner = _mm512_mul_ps(_mm512_set1_ps(c::kSqrt2OverPi), _mm512_fmadd_ps(_mm512_set1_ps(c::kCubic), x3, x));
      return _mm512_fmadd_ps(half_x, tanh16(inner), half_x);
    }
    case Epilogue::Relu: return _mm512_max_ps(x, _mm512_setzero_ps());
    case Epilogue::None: break;
  }
  return x;
}

}  // namespace

SLIM_AVX512 void epilogue_row(Epilogue e, float* out, const float* v, int64_t n, bool accumulate) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    __m512 y = activation(e, _mm512_maskz_loadu_ps(m, v + j));
    if (accumulate) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, out + j));
    _mm512_mask_storeu_ps(out + j, m, y);
  }
}

}  // namespace slimformer::kernels::avx512
