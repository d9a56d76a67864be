#include "kernels/cpu/gemm.h"

#include <dnnl.h>

#include <cstring>

namespace slimformer::kernels {

void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc) {
  if (M == 0 || N == 0) return;
  dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void linear_f32(float* out, const float* in, const float* weight, const float* bias, int64_t M,
                int64_t N, int64_t K) {
  float beta = 0.0f;
  if (bias) {
    for (int64_t i = 0; i < M; ++i) std::memcpy(out + i * N, bias, N * sizeof(float));
    beta = 1.0f;
  }
  gemm_f32(false, true, M, N, K, 1.0f, in, K, weight, K, beta, out, N);
}

void gemm_f32_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      const float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * acc) + prev;
    }
  }
}

}  // namespace slimformer::kernels
