// Full multi-head self-attention, forward (keeping the probabilities) and backward, on the
// model's (B,T,heads,d) layout. Every product is one batched library call over (batch, heads),
// as the inference path (attention/full.cc) runs them.
//
//   S = scale q k^T + mask,  P = softmax(S),  D = dropout(P),  out = D v
//   dv = D^T dout,  dD = dout v^T,  dP = dropout'(dD),  dS = P * (dP - rowsum(dP * P)),
//   dq = scale dS k,  dk = scale dS^T q
// (without dropout D = P and dP = dD).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"
#include "train/ops.h"

namespace slimformer::train {
namespace {

// dst (B*heads, T, T) = src^T per (batch, head): the batched GEMM transposes only its second
// operand, and P^T / dS^T are the first operands of dv and dk. O(T^2) against the O(T^2 d) products.
void transpose_planes(float* dst, const float* src, int64_t planes, int64_t T) {
#pragma omp parallel for schedule(static) if (planes * T * T > 32768)
  for (int64_t p = 0; p < planes; ++p) {
    const float* s = src + p * T * T;
    float* o = dst + p * T * T;
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) o[j * T + i] = s[i * T + j];
  }
}

bool dropping(const AttentionDropout* dropout) { return dropout && dropout->p > 0.0; }

}  // namespace

void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       const int64_t* mask, int64_t B, int64_t T, int64_t heads, int64_t d,
                       int64_t ld, int64_t ldo, const AttentionDropout* dropout) {
  if (B == 0 || T == 0 || heads == 0) return;
  std::vector<float> add_mask(static_cast<size_t>(B * T), 0.0f);   // 0 or finfo(float).min per key
  if (mask) kernels::additive_mask(add_mask.data(), mask, B, T);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const kernels::BatchStride tok{T * ld, d}, plane{heads * T * T, T * T};
  // probs (B,heads,T,T) = scale q . k^T + mask[b] on every row, then softmax over each row
  kernels::gemm_batched_f32(true, B, heads, T, T, d, scale, q, ld, tok, k, ld, tok, probs, T, plane,
                            add_mask.data());
  kernels::softmax_masked(probs, nullptr, B * heads * T, T);
  // out (B,T,heads,d) = D . v, D = probs or their dropout
  std::vector<float> dropped;
  const float* D = probs;
  if (dropping(dropout)) {
    dropped.resize(static_cast<size_t>(B * heads * T * T));
    dropout_forward(dropped.data(), dropout->keep, probs, B * heads * T * T, dropout->p, dropout->key);
    D = dropped.data();
  }
  kernels::gemm_batched_f32(false, B, heads, T, d, T, 1.0f, D, T, plane, v, ld, tok, out, ldo, {T * ldo, d});
}

int64_t attention_backward_workspace_floats(int64_t B, int64_t T, int64_t heads) {
  return 2 * B * heads * T * T;
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int64_t B, int64_t T,
                        int64_t heads, int64_t d, int64_t ld, int64_t ldo, float* workspace,
                        const AttentionDropout* dropout) {
  if (B == 0 || T == 0 || heads == 0) return;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const int64_t planes = B * heads;
  const kernels::BatchStride tok{T * ld, d}, tok_out{T * ldo, d}, plane{heads * T * T, T * T};
  float* ds = workspace;                    // (B,heads,T,T): dP, then dS in place
  float* trans = workspace + planes * T * T;   // (B,heads,T,T): P^T, then dS^T

  // dv (B,T,heads,d) = D^T . dout, D rebuilt from P and the mask (in ds, free until dD)
  if (dropping(dropout)) {
    const uint8_t* keep = dropout->keep;
    const float scale = dropout->p < 1.0 ? 1.0f / static_cast<float>(1.0 - dropout->p) : 0.0f;
#pragma omp parallel for schedule(static) if (planes * T * T > 32768)
    for (int64_t i = 0; i < planes * T * T; ++i) ds[i] = keep[i] ? probs[i] * scale : 0.0f;
    transpose_planes(trans, ds, planes, T);
  } else {
    transpose_planes(trans, probs, planes, T);
  }
  if (dv)
    kernels::gemm_batched_f32(false, B, heads, T, d, T, 1.0f, trans, T, plane, dout, ldo, tok_out, dv, ld, tok);
  // dP (B,heads,T,T) = dout . v^T, then dS = P * (dP - rowsum(dP * P)). A masked key has P = 0,
  // so its dS column is exactly 0 and it receives no gradient.
  kernels::gemm_batched_f32(true, B, heads, T, T, d, 1.0f, dout, ldo, tok_out, v, ld, tok, ds, T, plane);
  if (dropping(dropout)) dropout_backward(ds, ds, dropout->keep, planes * T * T, dropout->p);
  softmax_backward(ds, ds, probs, planes * T, T);
  // dq = scale dS . k ; dk = scale dS^T . q (the mask is a constant: no gradient)
  if (dq) kernels::gemm_batched_f32(false, B, heads, T, d, T, scale, ds, T, plane, k, ld, tok, dq, ld, tok);
  if (dk) {
    transpose_planes(trans, ds, planes, T);
    kernels::gemm_batched_f32(false, B, heads, T, d, T, scale, trans, T, plane, q, ld, tok, dk, ld, tok);
  }
}

}  // namespace slimformer::train
