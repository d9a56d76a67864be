#include "kernels/cpu/online_softmax.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/rows_avx512.h"

namespace slimformer::kernels {

namespace avx512 {
float online_softmax_step(float* s, int64_t cnt, float& m, float& l);   // online_softmax_avx512.cc
}

namespace ref {

float online_softmax_step(float* s, int64_t cnt, float& m, float& l) {
  float mx = m;
#pragma omp simd reduction(max : mx)
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
  return avx512::has_avx512() ? avx512::online_softmax_step(s, cnt, m, l) : ref::online_softmax_step(s, cnt, m, l);
}

}  // namespace slimformer::kernels
