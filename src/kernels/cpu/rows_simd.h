// SIMD versions of the per-row work inside layernorm and softmax, of the online softmax step and
// of the activations own GEMM kernels apply after the product:
// AVX2+FMA (rows_avx2.cc) and AVX-512F (rows_avx512.cc, online_softmax_avx512.cc). The library
// is built for baseline x86-64, so each is compiled for its target alone (function target
// attributes) and picked at run time through isa.h, the one dispatch point; the portable loops
// in layernorm.cc / softmax.cc / online_softmax.cc are the fallback, and the scalar references
// (reference.h, ref::online_softmax_step) check all three.
#pragma once
#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace slimformer::kernels {

namespace avx2 {
// x (C) = (x - mean) / sqrt(var + eps) * gamma + beta, two passes as PyTorch does.
void normalize_row(float* x, const float* gamma, const float* beta, int64_t cols, float eps);
// o (C) = a + b, then normalize_row(o); o may alias a or b.
void add_normalize_row(float* o, const float* a, const float* b, const float* gamma, const float* beta,
                       int64_t cols, float eps);
// x (C) = softmax(x + add_mask) in place (add_mask may be null); an all -inf row becomes zeros.
void softmax_row(float* x, const float* add_mask, int64_t cols);
// online_softmax.h's step
float online_softmax_step(float* s, int64_t cnt, float& m, float& l);
// gemm.h's apply_epilogue_row (epilogue_avx2.cc)
void epilogue_row(Epilogue e, float* out, const float* v, int64_t n, bool accumulate);
}  // namespace avx2

namespace avx512 {   // the same four, 16 lanes at a time
void normalize_row(float* x, const float* gamma, const float* beta, int64_t cols, float eps);
void add_normalize_row(float* o, const float* a, const float* b, const float* gamma, const float* beta,
                       int64_t cols, float eps);
void softmax_row(float* x, const float* add_mask, int64_t cols);
float online_softmax_step(float* s, int64_t cnt, float& m, float& l);
void epilogue_row(Epilogue e, float* out, const float* v, int64_t n, bool accumulate);
}  // namespace avx512

}  // namespace slimformer::kernels
