// Scalar references for the kernels of ops.h: straightforward loops, double accumulation, no
// threads, so an optimized kernel can be checked against them on any shape.
#pragma once
#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace slimformer::kernels::ref {

void layernorm(float* out, const float* in, const float* gamma, const float* beta, int64_t rows,
               int64_t cols, float eps);
void add_layernorm(float* out, const float* x, const float* residual, const float* gamma,
                   const float* beta, int64_t rows, int64_t cols, float eps);
void bias_add(float* x, const float* bias, int64_t rows, int64_t cols);
void gelu(float* out, const float* in, int64_t n);
void gelu_tanh(float* out, const float* in, int64_t n);
void relu(float* out, const float* in, int64_t n);
void softmax_masked(float* x, const float* add_mask, int64_t rows, int64_t cols);
// q, k, v, out (B,h,T,d); add_mask (B,T) or null.
void attention(float* out, const float* q, const float* k, const float* v, const float* add_mask,
               int64_t batch, int64_t heads, int64_t seq, int64_t head_dim);
void embedding_gather(float* out, const float* table, const int64_t* ids, int64_t n, int64_t dim);
// out (M,N) = epilogue(in (M,K) . weight (N,K)^T + bias) [+ out when accumulate]: the contract of
// PackedLinear / SparseLinear / Bf16Linear::forward. bias may be null.
void linear(float* out, const float* in, const float* weight, const float* bias, int64_t M, int64_t N,
            int64_t K, Epilogue epilogue, bool accumulate);

}  // namespace slimformer::kernels::ref
