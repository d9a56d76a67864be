// Backward passes of the encoder's layers (fp32, CPU), beside the forwards training needs, as free
// functions in the llm.c style: outputs first, shapes in a comment, row-major f32 buffers.
//
// The gradient convention, the same for every function here:
//   - gradients of PARAMETERS (weights, biases, gamma/beta, embedding tables) are ACCUMULATED
//     (+=), so a parameter used several times (or over several micro-batches) sums its gradients;
//     zero them once per optimizer step;
//   - gradients of INPUTS (activations) are WRITTEN (=): the caller adds them where a tensor feeds
//     several consumers (the residual stream).
// A null gradient pointer skips that gradient. Semantics follow PyTorch / Hugging Face BERT
// exactly (the tests check each against central differences of a double-precision forward).
#pragma once
#include <cstdint>

#include "train/dropout.h"

namespace slimformer::train {

// ---- Linear: y (M,N) = x (M,K) . W^T + b, W (N,K) as nn.Linear stores it -----------------------
// dx (M,K) = dy . W              written
// dW (N,K) += dy^T . x           accumulated
// db (N)   += sum over rows dy   accumulated
void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const float* weight, int64_t M, int64_t N, int64_t K);

// ---- LayerNorm over the last dimension ---------------------------------------------------------
// out (R,C) = (in - mean) * rstd * gamma + beta, keeping mean (R) and rstd (R) = 1/sqrt(var + eps)
// (biased variance, as nn.LayerNorm) for the backward. out may alias in.
void layernorm_forward(float* out, float* mean, float* rstd, const float* in, const float* gamma,
                       const float* beta, int64_t rows, int64_t cols, float eps);
// dx (R,C) written; dgamma, dbeta (C) accumulated; from dout (R,C) and the forward's input
// in (R,C). mean and rstd (R) are layernorm_forward's, or both null to recompute them with eps.
// dx may alias dout.
void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dout, const float* in,
                        const float* gamma, const float* mean, const float* rstd, int64_t rows,
                        int64_t cols, float eps);

// ---- Activations: dx (n) = dy (n) * f'(.) ; dx may alias dy -------------------------------------
// x is the activation's INPUT for gelu/gelu_tanh/relu, its OUTPUT y for tanh (1 - y^2 needs no x).
void gelu_backward(float* dx, const float* dy, const float* x, int64_t n);        // erf form ("gelu")
void gelu_tanh_backward(float* dx, const float* dy, const float* x, int64_t n);   // gelu_new / gelu_pytorch_tanh
void relu_backward(float* dx, const float* dy, const float* x, int64_t n);        // 0 at x == 0, as torch
void tanh_backward(float* dx, const float* dy, const float* y, int64_t n);        // the pooler's tanh

// ---- Softmax over rows -------------------------------------------------------------------------
// ds (R,C) = p * (dp - rowsum(dp * p)) for p = softmax(s) (R,C); ds may alias dp.
void softmax_backward(float* ds, const float* dp, const float* p, int64_t rows, int64_t cols);

// ---- Multi-head self-attention (full, dense) ---------------------------------------------------
// The model's layout: q, k, v are (B,T,heads,d) with rows (one token, all heads) `ld` floats apart,
// so the fused QKV projection's (B,T,3,heads,d) output is read in place with ld = 3*heads*d; out is
// (B,T,heads,d) with rows `ldo` apart. mask (B,T) is 1 for tokens and 0 for padding (null: none);
// padded keys get finfo(float).min added to their scores, as Hugging Face does.
//
// out = softmax(q k^T / sqrt(d) + mask) v, keeping the probabilities probs (B,heads,T,T).
//
// Dropout on the probabilities (BERT's attention_probs_dropout_prob): with `dropout` given and
// p > 0, out = (P * keep / (1 - p)) v, the keep mask (B,heads,T,T) written under dropout->key;
// probs still holds P itself (softmax's backward needs it) and backward takes the same mask.
struct AttentionDropout {
  double p = 0.0;
  DropoutKey key;
  uint8_t* keep = nullptr;   // (B,heads,T,T)
};
void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       const int64_t* mask, int64_t B, int64_t T, int64_t heads, int64_t d,
                       int64_t ld, int64_t ldo, const AttentionDropout* dropout = nullptr);
// dq, dk, dv (B,T,heads,d), rows `ld` apart (so one fused (B,T,3,heads,d) buffer works), written;
// from dout (B,T,heads,d) rows `ldo` apart, the forward's q, k, v and probs (B,heads,T,T).
// Masked keys have probability 0, so they get exactly zero dk and dv. workspace: at least
// attention_backward_workspace_floats(B, T, heads) floats.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int64_t B, int64_t T,
                        int64_t heads, int64_t d, int64_t ld, int64_t ldo, float* workspace,
                        const AttentionDropout* dropout = nullptr);
int64_t attention_backward_workspace_floats(int64_t B, int64_t T, int64_t heads);

// ---- Embeddings --------------------------------------------------------------------------------
// dtable (V,D) += dx rows scattered by ids: dtable[ids[i]] += dx[i] (D) for i < n, summed in the
// order of i (deterministic, whatever the thread count). Rows whose id equals padding_idx are
// skipped, as nn.Embedding(padding_idx=...) never updates that row (BERT's word embeddings use
// pad_token_id; -1: none). Call it once per table (word ids, position ids, token type ids) with
// the gradient of the summed embeddings. ids must be in [0, V).
void embedding_backward(float* dtable, const float* dx, const int64_t* ids, int64_t n, int64_t dim,
                        int64_t padding_idx = -1);

// ---- Pooling: token states h (B,T,H) -> sentence vectors (B,H) ---------------------------------
// Mean over the mask as sentence-transformers: sum_t mask h / max(sum_t mask, 1e-9).
// dh (B,T,H) written: dout[b] / count on kept tokens, 0 on padding.
void mean_pool_backward(float* dh, const float* dout, const int64_t* mask, int64_t B, int64_t T,
                        int64_t H);
// The first ([CLS]) token: dh (B,T,H) written, dout[b] at t = 0 and 0 elsewhere.
void cls_pool_backward(float* dh, const float* dout, int64_t B, int64_t T, int64_t H);

}  // namespace slimformer::train
