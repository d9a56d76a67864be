// Small AVX-512F helpers shared by the hand-written kernels: a tail mask and e^x for 16 lanes.
// Include only from files whose AVX-512 functions carry SLIM_AVX512 (the library is built for
// baseline x86-64; isa.h picks these functions at run time, see rows_simd.h).
#pragma once

// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_ps in masked intrinsics): a
// false -Wmaybe-uninitialized, silenced for the files that include this one.
#if !defined(__clang__)   // clang has no such warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#define SLIM_AVX512 __attribute__((target("avx512f")))

namespace slimformer::kernels::avx512 {

// The first min(left, 16) lanes.
SLIM_AVX512 inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// e^x for 16 lanes: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor polynomial
// (relative error < 2e-7), then scaled by 2^n. Inputs below -110 (-inf included) give exactly 0
// (expf: 0 below -104).
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

// 2^x for 16 lanes: x = n + f with |f| <= 1/2, 2^f by a degree-5 polynomial fitted for relative
// error (7.5e-8 exact, 2.2e-7 in float arithmetic), then scaled by 2^n. Cheaper than exp16 (five
// multiply-adds, not eight), for kernels that can fold log2(e) into their inputs. Inputs below
// -150 (-inf included) give exactly 0, above 128 give inf.
SLIM_AVX512 inline __m512 exp2_16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-150.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(128.0f));
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(0.00132764573f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.00967554748f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.0555071346f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.240221202f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.693146944f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.00000012f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace slimformer::kernels::avx512
