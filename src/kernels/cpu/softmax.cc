// Row softmax with an additive mask, and the (B,T) 0/1 mask -> additive mask conversion.
#include <cmath>
#include <limits>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/rows_simd.h"

namespace slimformer::kernels {
namespace {

// One row in place. Subtracting the row max keeps exp() in range; a row that is -inf
// everywhere (nothing to attend to) becomes zeros instead of 0/0.
void softmax_row_portable(float* x, const float* add_mask, int64_t cols) {
  if (add_mask) {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) x[j] += add_mask[j];
  }
  float m = -std::numeric_limits<float>::infinity();
  // No `omp simd reduction(max)`: OpenMP may start each lane at the lowest finite float (clang
  // does), so a run of -inf would come out -FLT_MAX instead of -inf.
  for (int64_t j = 0; j < cols; ++j) m = x[j] > m ? x[j] : m;
  if (m == -std::numeric_limits<float>::infinity()) {
    for (int64_t j = 0; j < cols; ++j) x[j] = 0.0f;
    return;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < cols; ++j) {
    x[j] = std::exp(x[j] - m);
    sum += x[j];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) x[j] *= inv;
}

using SoftmaxRow = void (*)(float*, const float*, int64_t);

// Chosen once per call, outside the row loop.
SoftmaxRow softmax_row_for_isa() {
  if (isa_at_least(Isa::Avx512)) return avx512::softmax_row;
  if (isa_at_least(Isa::Avx2)) return avx2::softmax_row;
  return softmax_row_portable;
}

}  // namespace

void softmax_masked(float* x, const float* add_mask, int64_t rows, int64_t cols) {
  const SoftmaxRow softmax_row = softmax_row_for_isa();
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) softmax_row(x + i * cols, add_mask, cols);
}

void additive_mask(float* out, const int64_t* mask, int64_t batch, int64_t seq) {
  for (int64_t i = 0; i < batch * seq; ++i) out[i] = mask[i] != 0 ? 0.0f : kMaskedScore;
}

void softmax_masked_row(float* x, const float* add_mask, int64_t cols) { softmax_row_for_isa()(x, add_mask, cols); }

}  // namespace slimformer::kernels
