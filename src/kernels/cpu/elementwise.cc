// Elementwise kernels: bias add, the activations an encoder uses, and the embedding gather.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/ops.h"

namespace slimformer::kernels {
namespace {
constexpr int64_t kParallelMin = 1 << 15;   // below this, threading costs more than it saves
}

void bias_add(float* x, const float* bias, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
  for (int64_t i = 0; i < rows; ++i) {
    float* r = x + i * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) r[j] += bias[j];
  }
}

void gelu(float* out, const float* in, int64_t n) {
  const float inv_sqrt2 = 0.70710678118654752f;
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = 0.5f * in[i] * (1.0f + std::erf(in[i] * inv_sqrt2));
}

void gelu_tanh(float* out, const float* in, int64_t n) {
  const float c = 0.79788456080286536f;   // sqrt(2 / pi)
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float x = in[i];
    out[i] = 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
  }
}

void relu(float* out, const float* in, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = std::max(in[i], 0.0f);
}

void tanh_inplace(float* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
}

void embedding_gather(float* out, const float* table, const int64_t* ids, int64_t n, int64_t dim) {
#pragma omp parallel for schedule(static) if (n * dim > kParallelMin)
  for (int64_t i = 0; i < n; ++i) std::copy_n(table + ids[i] * dim, dim, out + i * dim);
}

void embedding_gather_q8(float* out, const int8_t* codes, const float* scales, const int64_t* ids, int64_t n,
                         int64_t dim, bool add) {
#pragma omp parallel for schedule(static) if (n * dim > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const int8_t* row = codes + ids[i] * dim;
    const float s = scales[ids[i]];
    float* o = out + i * dim;
    if (add) {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) o[j] += static_cast<float>(row[j]) * s;
    } else {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) o[j] = static_cast<float>(row[j]) * s;
    }
  }
}

void embedding_gather_add(float* out, const float* table, const int64_t* ids, int64_t n, int64_t dim) {
#pragma omp parallel for schedule(static) if (n * dim > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float* row = table + ids[i] * dim;
    float* o = out + i * dim;
#pragma omp simd
    for (int64_t j = 0; j < dim; ++j) o[j] += row[j];
  }
}

}  // namespace slimformer::kernels
