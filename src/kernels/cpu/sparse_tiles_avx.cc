// AVX2 and AVX-512 versions of the sparse tile loops (sparse_tiles.h). The library is built for
// baseline x86-64, so each function carries its own target attribute and sparse_linear.cc picks
// one through isa.h. Every row keeps several independent accumulator chains (alternate nonzeros
// go to different registers) so FMA latency does not bound the loop; the chains are summed into
// acc once per row and column block.
#if !defined(__clang__)   // GCC 12's false warning in its AVX-512 headers; clang has no such warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernels/cpu/sparse_tiles.h"

#define SLIM_TILE_AVX2 __attribute__((target("avx2,fma")))
#define SLIM_TILE_AVX512 __attribute__((target("avx512f")))

namespace slimformer::kernels::sparse {
namespace {

// MB = 8 (one ymm a nonzero), four chains.
template <class Idx>
SLIM_TILE_AVX2 void t8_avx2(float* acc, const float* T, const int64_t* seg, int64_t nkb, int64_t kb, const Idx* col,
                            const float* val, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    float* o = acc + (n - n0) * 8;
    __m256 a = _mm256_loadu_ps(o), b = _mm256_setzero_ps(), c = b, d = b;
    int64_t p = seg[n * nkb + kb];
    const int64_t e = seg[n * nkb + kb + 1];
    for (; p + 4 <= e; p += 4) {
      a = _mm256_fmadd_ps(_mm256_set1_ps(val[p]), _mm256_loadu_ps(T + int64_t(col[p]) * 8), a);
      b = _mm256_fmadd_ps(_mm256_set1_ps(val[p + 1]), _mm256_loadu_ps(T + int64_t(col[p + 1]) * 8), b);
      c = _mm256_fmadd_ps(_mm256_set1_ps(val[p + 2]), _mm256_loadu_ps(T + int64_t(col[p + 2]) * 8), c);
      d = _mm256_fmadd_ps(_mm256_set1_ps(val[p + 3]), _mm256_loadu_ps(T + int64_t(col[p + 3]) * 8), d);
    }
    for (; p < e; ++p)
      a = _mm256_fmadd_ps(_mm256_set1_ps(val[p]), _mm256_loadu_ps(T + int64_t(col[p]) * 8), a);
    _mm256_storeu_ps(o, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
  }
}

// MB = 16 (two ymm a nonzero, sharing one broadcast), two nonzeros at a time: four chains.
template <class Idx>
SLIM_TILE_AVX2 void t16_avx2(float* acc, const float* T, const int64_t* seg, int64_t nkb, int64_t kb, const Idx* col,
                             const float* val, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    float* o = acc + (n - n0) * 16;
    __m256 a0 = _mm256_loadu_ps(o), a1 = _mm256_loadu_ps(o + 8), b0 = _mm256_setzero_ps(), b1 = b0;
    int64_t p = seg[n * nkb + kb];
    const int64_t e = seg[n * nkb + kb + 1];
    for (; p + 2 <= e; p += 2) {
      const float* t0 = T + int64_t(col[p]) * 16;
      const float* t1 = T + int64_t(col[p + 1]) * 16;
      const __m256 w0 = _mm256_set1_ps(val[p]), w1 = _mm256_set1_ps(val[p + 1]);
      a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(t0), a0);
      a1 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(t0 + 8), a1);
      b0 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(t1), b0);
      b1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(t1 + 8), b1);
    }
    if (p < e) {
      const float* t0 = T + int64_t(col[p]) * 16;
      const __m256 w0 = _mm256_set1_ps(val[p]);
      a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(t0), a0);
      a1 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(t0 + 8), a1);
    }
    _mm256_storeu_ps(o, _mm256_add_ps(a0, b0));
    _mm256_storeu_ps(o + 8, _mm256_add_ps(a1, b1));
  }
}

// MB = 16 (one zmm a nonzero), four chains.
template <class Idx>
SLIM_TILE_AVX512 void t16_avx512(float* acc, const float* T, const int64_t* seg, int64_t nkb, int64_t kb, const Idx* col,
                                 const float* val, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    float* o = acc + (n - n0) * 16;
    __m512 a = _mm512_loadu_ps(o), b = _mm512_setzero_ps(), c = b, d = b;
    int64_t p = seg[n * nkb + kb];
    const int64_t e = seg[n * nkb + kb + 1];
    for (; p + 4 <= e; p += 4) {
      a = _mm512_fmadd_ps(_mm512_set1_ps(val[p]), _mm512_loadu_ps(T + int64_t(col[p]) * 16), a);
      b = _mm512_fmadd_ps(_mm512_set1_ps(val[p + 1]), _mm512_loadu_ps(T + int64_t(col[p + 1]) * 16), b);
      c = _mm512_fmadd_ps(_mm512_set1_ps(val[p + 2]), _mm512_loadu_ps(T + int64_t(col[p + 2]) * 16), c);
      d = _mm512_fmadd_ps(_mm512_set1_ps(val[p + 3]), _mm512_loadu_ps(T + int64_t(col[p + 3]) * 16), d);
    }
    for (; p < e; ++p)
      a = _mm512_fmadd_ps(_mm512_set1_ps(val[p]), _mm512_loadu_ps(T + int64_t(col[p]) * 16), a);
    _mm512_storeu_ps(o, _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
  }
}

// MB = 32 (two zmm a nonzero, sharing one broadcast), two nonzeros at a time: four chains.
template <class Idx>
SLIM_TILE_AVX512 void t32_avx512(float* acc, const float* T, const int64_t* seg, int64_t nkb, int64_t kb, const Idx* col,
                                 const float* val, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    float* o = acc + (n - n0) * 32;
    __m512 a0 = _mm512_loadu_ps(o), a1 = _mm512_loadu_ps(o + 16), b0 = _mm512_setzero_ps(), b1 = b0;
    int64_t p = seg[n * nkb + kb];
    const int64_t e = seg[n * nkb + kb + 1];
    for (; p + 2 <= e; p += 2) {
      const float* t0 = T + int64_t(col[p]) * 32;
      const float* t1 = T + int64_t(col[p + 1]) * 32;
      const __m512 w0 = _mm512_set1_ps(val[p]), w1 = _mm512_set1_ps(val[p + 1]);
      a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(t0), a0);
      a1 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(t0 + 16), a1);
      b0 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(t1), b0);
      b1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(t1 + 16), b1);
    }
    if (p < e) {
      const float* t0 = T + int64_t(col[p]) * 32;
      const __m512 w0 = _mm512_set1_ps(val[p]);
      a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(t0), a0);
      a1 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(t0 + 16), a1);
    }
    _mm512_storeu_ps(o, _mm512_add_ps(a0, b0));
    _mm512_storeu_ps(o + 16, _mm512_add_ps(a1, b1));
  }
}

}  // namespace

#define SLIM_SPARSE_DISPATCH(name, impl)                                                    \
  void name(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t b) { \
    if (w.col16) impl(acc, T, w.seg, w.nkb, b, w.col16, w.val, n0, n1);                     \
    else impl(acc, T, w.seg, w.nkb, b, w.col32, w.val, n0, n1);                             \
  }
SLIM_SPARSE_DISPATCH(tile8_avx2, t8_avx2)
SLIM_SPARSE_DISPATCH(tile16_avx2, t16_avx2)
SLIM_SPARSE_DISPATCH(tile16_avx512, t16_avx512)
SLIM_SPARSE_DISPATCH(tile32_avx512, t32_avx512)
#undef SLIM_SPARSE_DISPATCH

}  // namespace slimformer::kernels::sparse
