// The scalar reference for flash_attention (see flash_attention.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/flash_attention.h"

namespace slimformer::kernels::ref {

void attention_strided(const StridedAttention& a) {
  const int64_t T = a.seq, d = a.head_dim;
  const double scale = a.scale != 0.0f ? a.scale : 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> scores(static_cast<size_t>(T)), acc(static_cast<size_t>(d));
  for (int64_t b = 0; b < a.batch; ++b) {
    const int64_t* mask = a.mask ? a.mask + b * T : nullptr;
    for (int64_t h = 0; h < a.heads; ++h) {
      auto in = [&](const float* base, int64_t t) { return base + (b * T + t) * a.in_stride + h * d; };
      for (int64_t i = 0; i < T; ++i) {
        const float* qi = in(a.q, i);
        double mx = -INFINITY;
        for (int64_t j = 0; j < T; ++j) {
          if (mask && mask[j] == 0) continue;
          const float* kj = in(a.k, j);
          double dot = 0.0;
          for (int64_t e = 0; e < d; ++e) dot += static_cast<double>(qi[e]) * kj[e];
          scores[j] = dot * scale;
          mx = std::max(mx, scores[j]);
        }
        double sum = 0.0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < T; ++j) {
          if (mask && mask[j] == 0) continue;
          const double p = std::exp(scores[j] - mx);
          sum += p;
          const float* vj = in(a.v, j);
          for (int64_t e = 0; e < d; ++e) acc[e] += p * vj[e];
        }
        float* oi = a.out + (b * T + i) * a.out_stride + h * d;
        for (int64_t e = 0; e < d; ++e) oi[e] = sum > 0.0 ? static_cast<float>(acc[e] / sum) : 0.0f;
      }
    }
  }
}

}  // namespace slimformer::kernels::ref
