// AVX-512 versions of the per-row work inside layernorm and softmax. The library is built for
// baseline x86-64, so these are compiled for AVX-512F alone (function target attributes) and
// chosen once at run time by has_avx512() (the one dispatch point); the portable loops in
// layernorm.cc / softmax.cc are the fallback and the scalar references in reference.h check both.
#pragma once
#include <cstdint>

namespace slimformer::kernels::avx512 {

// True when the CPU runs AVX-512F (evaluated once) and the portable loops are not forced.
bool has_avx512();
// Forces the dispatched kernels onto their portable loops (true) or back (false), so tests on an
// AVX-512 machine check the fallback too. Not for use while kernels run on other threads.
void force_portable(bool on);

// x (C) = (x - mean) / sqrt(var + eps) * gamma + beta, two passes as PyTorch does.
void normalize_row(float* x, const float* gamma, const float* beta, int64_t cols, float eps);
// o (C) = a + b, then normalize_row(o); o may alias a or b.
void add_normalize_row(float* o, const float* a, const float* b, const float* gamma, const float* beta,
                       int64_t cols, float eps);
// x (C) = softmax(x + add_mask) in place (add_mask may be null); an all -inf row becomes zeros.
void softmax_row(float* x, const float* add_mask, int64_t cols);

}  // namespace slimformer::kernels::avx512
