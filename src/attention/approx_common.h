// What the dense approximations (linformer, performer, linear) share: one (batch, head) of an
// AttentionIO as row pointers, a seeded normal generator whose stream is fixed by its seed, an
// e^x that vectorizes inside `omp simd` loops, and the AVX-512 / AVX2 / portable versions each
// per-head kernel is compiled into (chosen once per forward by pick(), through isa.h).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/isa.h"
#include "slimformer/attention.h"

// Kernel bodies are written once as SLIM_APPROX_INLINE functions with `omp simd` loops and
// inlined into three callers: one compiled for AVX-512F (SLIM_APPROX_AVX512), one for AVX2+FMA
// (SLIM_APPROX_AVX2), one for the baseline the library is built for. Functions called from a
// body must be SLIM_APPROX_INLINE too, so that they are compiled for the caller's instruction set.
#define SLIM_APPROX_INLINE inline __attribute__((always_inline))
#define SLIM_APPROX_AVX512 __attribute__((target("avx512f")))
#define SLIM_APPROX_AVX2 __attribute__((target("avx2,fma")))

namespace slimformer::attention::approx {

// The rows of one (batch, head): row t of q at q + t * in_stride (likewise k, v), of out at
// out + t * out_stride; mask (n) is 1 for a token, 0 for padding, or null (no padding).
struct Head {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  float* out = nullptr;
  int64_t in_stride = 0, out_stride = 0;
  const int64_t* mask = nullptr;
  int64_t n = 0, d = 0;

  bool token(int64_t t) const { return mask == nullptr || mask[t] != 0; }

  // Positions of the next tokens (padding skipped) from *from on, at most `cap` of them, written
  // to pos; *from moves past them. Returns how many were found (0: no tokens left).
  int64_t next_tokens(int64_t* from, int64_t cap, int64_t* pos) const {
    int64_t count = 0;
    for (; *from < n && count < cap; ++*from) {
      if (token(*from)) pos[count++] = *from;
    }
    return count;
  }
};

// The version of a per-head kernel isa.h allows, from its three compilations.
template <typename Fn>
Fn pick(Fn avx512, Fn avx2, Fn portable) {
  if (kernels::isa_at_least(kernels::Isa::Avx512)) return avx512;
  if (kernels::isa_at_least(kernels::Isa::Avx2)) return avx2;
  return portable;
}

// Rows processed together (keys folded into a state, queries sharing a pass over it): small
// enough that a block of rows stays in L1 next to what it is folded with.
constexpr int64_t kRowBlock = 16;

Head head_of(const AttentionIO& io, int64_t b, int64_t h);

// The score scale the io asks for: io.scale, or 1/sqrt(head_dim) when it is 0.
float score_scale(const AttentionIO& io);

// Floats per thread rounded up to whole 64-byte lines, so threads never share a cache line.
inline int64_t padded_floats(int64_t n) { return (n + 15) / 16 * 16; }

// A stream of normally distributed numbers fixed by its seed (splitmix64 + Box-Muller in double),
// the same on every platform with an IEEE libm, independent of std:: distribution internals.
class NormalStream {
 public:
  explicit NormalStream(uint64_t seed) : state_(seed) {}
  double next();

 private:
  uint64_t bits();
  uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// One seed from a user seed and the coordinates of what is drawn (layer, matrix, draw number):
// distinct coordinates give unrelated streams.
uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0);

// e^x within 2e-7 relative for x in [-87, 88] (exactly 0 below -87, 88's value above 88), in
// plain arithmetic so `omp simd` loops vectorize it on any instruction set: x = n ln2 + r with
// |r| <= ln2/2, e^r by its degree-6 Taylor polynomial, 2^n built in the exponent bits.
SLIM_APPROX_INLINE float exp_approx(float x) {
  const float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float t = xc * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;   // round to nearest: 1.5 * 2^23 drops the fraction
  float r = xc - n * 0.693145751953125f;              // ln2, high bits (exact product)
  r = r - n * 1.42860682030941723e-6f;                // ln2, low bits
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float two_n = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  return x < -87.0f ? 0.0f : p * two_n;
}

// y (n) += a0 x0 + a1 x1 + a2 x2 + a3 x3: four rows folded per pass over y, so y is loaded and
// stored once per four multiply-adds.
SLIM_APPROX_INLINE void axpy4(float* y, float a0, const float* x0, float a1, const float* x1, float a2,
                              const float* x2, float a3, const float* x3, int64_t n) {
#pragma omp simd
  for (int64_t e = 0; e < n; ++e) y[e] += (a0 * x0[e] + a1 * x1[e]) + (a2 * x2[e] + a3 * x3[e]);
}

// y (n) += a x
SLIM_APPROX_INLINE void axpy(float* y, float a, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t e = 0; e < n; ++e) y[e] += a * x[e];
}

// y (n) += sum_c a[c * a_stride] x[c * x_stride] over c < count: the rows of x weighted by a
// strided column of coefficients, four rows per pass.
SLIM_APPROX_INLINE void fold_rows(float* y, const float* a, int64_t a_stride, const float* x, int64_t x_stride,
                                  int64_t count, int64_t n) {
  int64_t c = 0;
  for (; c + 4 <= count; c += 4) {
    axpy4(y, a[c * a_stride], x + c * x_stride, a[(c + 1) * a_stride], x + (c + 1) * x_stride,
          a[(c + 2) * a_stride], x + (c + 2) * x_stride, a[(c + 3) * a_stride], x + (c + 3) * x_stride, n);
  }
  for (; c < count; ++c) axpy(y, a[c * a_stride], x + c * x_stride, n);
}

}  // namespace slimformer::attention::approx
