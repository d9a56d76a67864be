// Backward of the embedding lookups (a scatter-add into the tables) and of sentence pooling.
#include <algorithm>

#include "train/ops.h"

namespace slimformer::train {

void embedding_backward(float* dtable, const float* dx, const int64_t* ids, int64_t n, int64_t dim,
                        int64_t padding_idx) {
  // Several tokens share an id, so rows cannot be split across threads without races or atomics
  // (whose order, and so rounding, would vary). Threads split the columns instead: each walks
  // every token in order, and the sums come out the same for any thread count.
  constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static) if (n * dim > 32768)
  for (int64_t j0 = 0; j0 < dim; j0 += kBlock) {
    const int64_t j1 = std::min(dim, j0 + kBlock);
    for (int64_t i = 0; i < n; ++i) {
      if (ids[i] == padding_idx) continue;
      float* row = dtable + ids[i] * dim;
      const float* g = dx + i * dim;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) row[j] += g[j];
    }
  }
}

void mean_pool_backward(float* dh, const float* dout, const int64_t* mask, int64_t B, int64_t T,
                        int64_t H) {
#pragma omp parallel for schedule(static) if (B * T * H > 32768)
  for (int64_t b = 0; b < B; ++b) {
    const int64_t* m = mask + b * T;
    float count = 0.0f;
    for (int64_t t = 0; t < T; ++t) count += m[t] != 0 ? 1.0f : 0.0f;
    // The forward divides by max(count, 1e-9), so an all-padding row pools to 0 with no gradient.
    const float inv = 1.0f / std::max(count, 1e-9f);
    const float* g = dout + b * H;
    for (int64_t t = 0; t < T; ++t) {
      float* o = dh + (b * T + t) * H;
      if (m[t] != 0) {
        for (int64_t j = 0; j < H; ++j) o[j] = g[j] * inv;
      } else {
        std::fill_n(o, H, 0.0f);
      }
    }
  }
}

void cls_pool_backward(float* dh, const float* dout, int64_t B, int64_t T, int64_t H) {
  std::fill_n(dh, B * T * H, 0.0f);
  for (int64_t b = 0; b < B; ++b) std::copy_n(dout + b * H, H, dh + b * T * H);
}

}  // namespace slimformer::train
