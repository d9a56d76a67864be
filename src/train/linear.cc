// Backward of nn.Linear through the library GEMM: two products and a column sum.
#include <algorithm>

#include "kernels/cpu/gemm.h"
#include "train/ops.h"

namespace slimformer::train {

void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const float* weight, int64_t M, int64_t N, int64_t K) {
  if (dx) {
    // dx (M,K) = dy (M,N) . W (N,K); an empty product (N == 0) is all zeros.
    if (N == 0) {
      std::fill_n(dx, M * K, 0.0f);
    } else {
      kernels::gemm_f32(false, false, M, K, N, 1.0f, dy, N, weight, K, 0.0f, dx, K);
    }
  }
  if (dweight && M > 0) {
    // dW (N,K) += dy^T (N,M) . x (M,K): beta = 1 accumulates.
    kernels::gemm_f32(true, false, N, K, M, 1.0f, dy, N, x, K, 1.0f, dweight, K);
  }
  if (dbias) {
    // Column sums; each thread owns a block of columns and walks every row, so the sum order (and
    // the result) does not depend on the thread count.
    constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static) if (M * N > 32768)
    for (int64_t j0 = 0; j0 < N; j0 += kBlock) {
      const int64_t j1 = std::min(N, j0 + kBlock);
      for (int64_t i = 0; i < M; ++i) {
        const float* row = dy + i * N;
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) dbias[j] += row[j];
      }
    }
  }
}

}  // namespace slimformer::train
