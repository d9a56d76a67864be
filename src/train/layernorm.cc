// LayerNorm forward (keeping mean and rstd) and backward, as nn.LayerNorm over the last dimension.
#include <algorithm>
#include <cmath>
#include <vector>

#include "train/ops.h"

namespace slimformer::train {
namespace {

// Two passes (mean, then centred variance) as PyTorch does, so a large mean does not cancel the
// variance; accumulated in double because training sums many rows of these.
void row_stats(float& mean, float& rstd, const float* x, int64_t cols, float eps) {
  double sum = 0.0;
  for (int64_t j = 0; j < cols; ++j) sum += x[j];
  const double m = cols > 0 ? sum / static_cast<double>(cols) : 0.0;
  double sq = 0.0;
  for (int64_t j = 0; j < cols; ++j) {
    const double d = x[j] - m;
    sq += d * d;
  }
  const double var = cols > 0 ? sq / static_cast<double>(cols) : 0.0;
  mean = static_cast<float>(m);
  rstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
}

constexpr int64_t kParallelFloats = 16384;   // below this a thread team costs more than it saves

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* in, const float* gamma,
                       const float* beta, int64_t rows, int64_t cols, float eps) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelFloats)
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = in + i * cols;
    float* o = out + i * cols;
    float m, r;
    row_stats(m, r, x, cols, eps);
    mean[i] = m;
    rstd[i] = r;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) o[j] = (x[j] - m) * r * gamma[j] + beta[j];
  }
}

void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dout, const float* in,
                        const float* gamma, const float* mean, const float* rstd, int64_t rows,
                        int64_t cols, float eps) {
  // Without saved statistics, recompute them once (both passes below need them).
  std::vector<float> stats;
  if (!mean || !rstd) {
    stats.resize(static_cast<size_t>(2 * rows));
    for (int64_t i = 0; i < rows; ++i) row_stats(stats[i], stats[rows + i], in + i * cols, cols, eps);
    mean = stats.data();
    rstd = stats.data() + rows;
  }
  // Parameter gradients first (dx may alias dout): dgamma += sum_rows dout * xhat,
  // dbeta += sum_rows dout. Threads own blocks of columns and walk every row, so the sums are
  // deterministic whatever the thread count.
  if (dgamma || dbeta) {
    constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static) if (rows * cols > kParallelFloats)
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
      const int64_t j1 = std::min(cols, j0 + kBlock);
      for (int64_t i = 0; i < rows; ++i) {
        const float* g = dout + i * cols;
        const float* x = in + i * cols;
        const float m = mean[i], r = rstd[i];
        if (dgamma) {
          for (int64_t j = j0; j < j1; ++j) dgamma[j] += g[j] * (x[j] - m) * r;
        }
        if (dbeta) {
          for (int64_t j = j0; j < j1; ++j) dbeta[j] += g[j];
        }
      }
    }
  }
  if (!dx) return;
  // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * gamma: the
  // normalization's Jacobian removes the components along 1 and along xhat.
#pragma omp parallel for schedule(static) if (rows * cols > kParallelFloats)
  for (int64_t i = 0; i < rows; ++i) {
    const float* g = dout + i * cols;
    const float* x = in + i * cols;
    float* o = dx + i * cols;
    const float m = mean[i], r = rstd[i];
    float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
#pragma omp simd reduction(+ : sum_dxhat, sum_dxhat_xhat)
    for (int64_t j = 0; j < cols; ++j) {
      const float dxhat = g[j] * gamma[j];
      sum_dxhat += dxhat;
      sum_dxhat_xhat += dxhat * (x[j] - m) * r;
    }
    const float inv_c = 1.0f / static_cast<float>(cols);
    const float a = sum_dxhat * inv_c, b = sum_dxhat_xhat * inv_c;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float xhat = (x[j] - m) * r;
      o[j] = r * (g[j] * gamma[j] - a - xhat * b);
    }
  }
}

}  // namespace slimformer::train
