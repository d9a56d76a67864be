#include "kernels/cpu/online_softmax.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/rows_simd.h"

namespace slimformer::kernels {

namespace ref {

float online_softmax_step(float* s, int64_t cnt, float& m, float& l) {
  float mx = m;
  // No `omp simd reduction(max)`: OpenMP may start each lane at the lowest finite float (clang
  // does), so a run of -inf would come out -FLT_MAX instead of -inf.
  for (int64_t j = 0; j < cnt; ++j) mx = s[j] > mx ? s[j] : mx;
  if (mx == -std::numeric_limits<float>::infinity()) {
    for (int64_t j = 0; j < cnt; ++j) s[j] = 0.0f;
    return 1.0f;
  }
  float sum = 0.0f;
  for (int64_t j = 0; j < cnt; ++j) {
    s[j] = std::exp(s[j] - mx);
    sum += s[j];
  }
  const float alpha = std::exp(m - mx);
  l = alpha * l + sum;
  m = mx;
  return alpha;
}

}  // namespace ref

float online_softmax_step(float* s, int64_t cnt, float& m, float& l) {
  if (isa_at_least(Isa::Avx512)) return avx512::online_softmax_step(s, cnt, m, l);
  if (isa_at_least(Isa::Avx2)) return avx2::online_softmax_step(s, cnt, m, l);
  return ref::online_softmax_step(s, cnt, m, l);
}

}  // namespace slimformer::kernels
