// Small AVX2+FMA helpers shared by the hand-written kernels: tail masks, horizontal reductions
// and e^x / 2^x for 8 lanes, matching the AVX-512 versions (avx512_math.h) in accuracy and in
// what they return for -inf. Include only from functions that carry SLIM_AVX2 (the library is
// built for baseline x86-64; isa.h picks these functions at run time).
#pragma once
#include <immintrin.h>

#include <cstdint>

#define SLIM_AVX2 __attribute__((target("avx2,fma")))

namespace slimformer::kernels::avx2 {

// All-ones in the first min(left, 8) lanes, for _mm256_maskload_ps / _mm256_maskstore_ps (which
// never touch memory in the other lanes, so tails need no scalar epilogue).
SLIM_AVX2 inline __m256i tail_mask(int64_t left) {
  const int n = left >= 8 ? 8 : static_cast<int>(left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The masked lanes of p, `fill` elsewhere.
SLIM_AVX2 inline __m256 load_or(const float* p, __m256i mask, __m256 fill) {
  return _mm256_blendv_ps(fill, _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
}

SLIM_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SLIM_AVX2 inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// p 2^n for integral n in [-160, 128], as AVX-512's scalef does: AVX2 has no scalef, and one
// exponent field holds only [-126, 127], so 2^n is applied as two halves that each fit.
SLIM_AVX2 inline __m256 scale_pow2(__m256 p, __m256 n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h1 = _mm256_srai_epi32(ni, 1);
  const __m256i h2 = _mm256_sub_epi32(ni, h1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h1, bias), 23));
  const __m256 f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, f1), f2);
}

// e^x for 8 lanes, exp16's method: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor
// polynomial (relative error < 2e-7), then scaled by 2^n. Inputs below -110 (-inf included)
// give exactly 0.
SLIM_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-110.0f));
  x = _mm256_min_ps(x, _mm256_set1_ps(88.7f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);   // ln2 high bits
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860682030941723e-6f), r);     // ln2 low bits
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  // -110 maps to 2^-159 times ~1, which underflows past the denormals to 0 as with scalef
  return scale_pow2(p, n);
}

// 2^x for 8 lanes, exp2_16's method and polynomial (relative error 2.2e-7 in float). Inputs
// below -150 (-inf included) give exactly 0, above 128 give inf.
SLIM_AVX2 inline __m256 exp2_8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-150.0f));
  x = _mm256_min_ps(x, _mm256_set1_ps(128.0f));
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(x, n);
  __m256 p = _mm256_set1_ps(0.00132764573f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.00967554748f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.0555071346f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.240221202f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.693146944f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.00000012f));
  return scale_pow2(p, n);
}

}  // namespace slimformer::kernels::avx2
