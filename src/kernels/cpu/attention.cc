// Full scaled-dot-product attention with a key padding mask, one (batch, head) per task: the
// straightforward form, kept as the reference for the batched path the encoder runs.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/ops.h"

namespace slimformer::kernels {

int64_t attention_workspace_floats(int64_t seq) {
  return static_cast<int64_t>(omp_get_max_threads()) * seq;
}

void attention(float* out, const float* q, const float* k, const float* v, const float* add_mask,
               int64_t batch, int64_t heads, int64_t seq, int64_t head_dim, float* workspace) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t plane = seq * head_dim;
#pragma omp parallel
  {
    float* scores = workspace + static_cast<int64_t>(omp_get_thread_num()) * seq;   // (T) per thread
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t base = (b * heads + h) * plane;
        const float* qp = q + base;
        const float* kp = k + base;
        const float* vp = v + base;
        float* op = out + base;
        const float* mask = add_mask ? add_mask + b * seq : nullptr;
        for (int64_t i = 0; i < seq; ++i) {
          const float* qi = qp + i * head_dim;
          for (int64_t j = 0; j < seq; ++j) {
            const float* kj = kp + j * head_dim;
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int64_t c = 0; c < head_dim; ++c) dot += qi[c] * kj[c];
            scores[j] = dot * scale;
          }
          softmax_masked_row(scores, mask, seq);
          float* oi = op + i * head_dim;
          std::fill_n(oi, head_dim, 0.0f);
          for (int64_t j = 0; j < seq; ++j) {
            const float p = scores[j];
            const float* vj = vp + j * head_dim;
#pragma omp simd
            for (int64_t c = 0; c < head_dim; ++c) oi[c] += p * vj[c];
          }
        }
      }
    }
  }
}

}  // namespace slimformer::kernels
