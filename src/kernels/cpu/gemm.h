// Dense f32 matrix products, backed by a maintained BLAS-class library (see docs/gemm.md for
// the measurement behind the choice). Row-major throughout.
#pragma once
#include <cstdint>

namespace slimformer::kernels {

// C (M,N) = alpha * op(A) * op(B) + beta * C; op(X) = X or X^T; lda/ldb/ldc are row strides.
void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc);

// out (M,N) = in (M,K) . weight^T + bias; weight (N,K) as stored by nn.Linear; bias may be null.
void linear_f32(float* out, const float* in, const float* weight, const float* bias, int64_t M,
                int64_t N, int64_t K);

// The scalar reference the library-backed gemm is tested against.
void gemm_f32_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc);

}  // namespace slimformer::kernels
