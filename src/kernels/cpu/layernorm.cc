// LayerNorm, plain and fused with the residual add that precedes it in a post-LN encoder.
#include <cmath>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/rows_simd.h"

namespace slimformer::kernels {
namespace {

// Normalizes one row in place. Two passes (mean, then centred variance) as PyTorch does, so
// large means do not cancel the variance.
void normalize_row_portable(float* x, const float* gamma, const float* beta, int64_t cols, float eps) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < cols; ++j) sum += x[j];
  const float mean = sum / static_cast<float>(cols);
  float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < cols; ++j) {
    const float d = x[j] - mean;
    sq += d * d;
  }
  const float inv = 1.0f / std::sqrt(sq / static_cast<float>(cols) + eps);
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) x[j] = (x[j] - mean) * inv * gamma[j] + beta[j];
}

using NormalizeRow = void (*)(float*, const float*, const float*, int64_t, float);

// Chosen once per call, outside the row loop.
NormalizeRow normalize_row_for_isa() {
  if (isa_at_least(Isa::Avx512)) return avx512::normalize_row;
  if (isa_at_least(Isa::Avx2)) return avx2::normalize_row;
  return normalize_row_portable;
}

}  // namespace

void layernorm(float* out, const float* in, const float* gamma, const float* beta, int64_t rows,
               int64_t cols, float eps) {
  const NormalizeRow normalize_row = normalize_row_for_isa();
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    float* o = out + i * cols;
    const float* x = in + i * cols;
    if (o != x) {
      for (int64_t j = 0; j < cols; ++j) o[j] = x[j];
    }
    normalize_row(o, gamma, beta, cols, eps);
  }
}

void add_layernorm(float* out, const float* x, const float* residual, const float* gamma,
                   const float* beta, int64_t rows, int64_t cols, float eps) {
  const NormalizeRow normalize_row = normalize_row_for_isa();
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    float* o = out + i * cols;
    const float* a = x + i * cols;
    const float* r = residual + i * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) o[j] = a[j] + r[j];
    normalize_row(o, gamma, beta, cols, eps);
  }
}

}  // namespace slimformer::kernels
