// The encoder's non-GEMM kernels (fp32, CPU): free functions, outputs first, row-major, threaded
// with OpenMP over rows (or batch x heads) and written so -O3 vectorizes the inner loops.
// Each has a scalar twin in reference.h that the tests compare it with.
#pragma once
#include <cstdint>

namespace slimformer::kernels {

// The additive mask value for a padded key, as Hugging Face uses it (torch.finfo(float32).min).
constexpr float kMaskedScore = -3.4028234663852886e38f;

// out (R,C) = LayerNorm(in (R,C)) * gamma (C) + beta (C); out may alias in.
void layernorm(float* out, const float* in, const float* gamma, const float* beta, int64_t rows,
               int64_t cols, float eps);
// out (R,C) = LayerNorm(x (R,C) + residual (R,C)) * gamma + beta; out may alias x or residual.
void add_layernorm(float* out, const float* x, const float* residual, const float* gamma,
                   const float* beta, int64_t rows, int64_t cols, float eps);

// x (R,C) += bias (C)
void bias_add(float* x, const float* bias, int64_t rows, int64_t cols);
// out (n) = act(in (n)); out may alias in.
void gelu(float* out, const float* in, int64_t n);        // 0.5 x (1 + erf(x / sqrt 2))
void gelu_tanh(float* out, const float* in, int64_t n);   // 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))
void relu(float* out, const float* in, int64_t n);
void tanh_inplace(float* x, int64_t n);

// x (R,C) = softmax(x + add_mask) over each row; add_mask (C) is shared by all rows (null: none).
// A row whose every entry is -inf becomes all zeros rather than NaN.
void softmax_masked(float* x, const float* add_mask, int64_t rows, int64_t cols);
// The same for one row, on the calling thread (for use inside other parallel kernels).
void softmax_masked_row(float* x, const float* add_mask, int64_t cols);

// (B,T) 0/1 attention mask -> (B,T) additive mask: 0 for tokens, kMaskedScore for padding.
void additive_mask(float* out, const int64_t* mask, int64_t batch, int64_t seq);

// out (B,h,T,d) = softmax(q k^T / sqrt(d) + add_mask[b]) v for q, k, v (B,h,T,d);
// add_mask (B,T) masks keys (null: no mask). workspace: at least attention_workspace_floats().
void attention(float* out, const float* q, const float* k, const float* v, const float* add_mask,
               int64_t batch, int64_t heads, int64_t seq, int64_t head_dim, float* workspace);
int64_t attention_workspace_floats(int64_t seq);

// out (n,D) = table[ids[i]] (V,D); ids must be in [0, V) (callers validate).
void embedding_gather(float* out, const float* table, const int64_t* ids, int64_t n, int64_t dim);
// out (n,D) += table[ids[i]]
void embedding_gather_add(float* out, const float* table, const int64_t* ids, int64_t n, int64_t dim);
// The same from an int8 table: row r of the table is codes[r] (D) * scales[r]; add: out +=.
void embedding_gather_q8(float* out, const int8_t* codes, const float* scales, const int64_t* ids, int64_t n,
                         int64_t dim, bool add);

}  // namespace slimformer::kernels
