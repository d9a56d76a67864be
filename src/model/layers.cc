// Embeddings, the post-LN encoder layer (BERT, RoBERTa and DistilBERT share it) and the pooler.
#include "model/layers.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"

namespace slimformer::model {

namespace k = slimformer::kernels;

Workspace::Workspace(const Dims& d)
    : qkv(Tensor::empty({d.rows(), 3 * d.heads * d.head_dim})),
      ctx(Tensor::empty({d.rows(), d.heads * d.head_dim})),
      mid(Tensor::empty({d.rows(), d.intermediate})) {}

namespace {

// out (n,H) = (add: +=) table[ids].
void gather(float* out, const Embedding& table, const int64_t* ids, int64_t n, int64_t H, bool add) {
  if (table.codes) {
    k::embedding_gather_q8(out, table.codes, table.scales, ids, n, H, add);
  } else if (add) {
    k::embedding_gather_add(out, table.f32, ids, n, H);
  } else {
    k::embedding_gather(out, table.f32, ids, n, H);
  }
}

}  // namespace

void embeddings_forward(float* out, const EncoderWeights& w, const EncoderConfig& c, const Dims& d,
                        const int64_t* ids, const int64_t* positions, const int64_t* types) {
  const int64_t n = d.rows(), H = d.hidden;
  gather(out, w.word, ids, n, H, false);
  if (c.word_embedding_scale != 1.0f) {
    for (int64_t i = 0; i < n * H; ++i) out[i] *= c.word_embedding_scale;
  }
  gather(out, w.position, positions, n, H, true);
  if (w.token_type.defined()) {
    if (types) {
      gather(out, w.token_type, types, n, H, true);
    } else if (w.token_type.f32) {   // all type 0: add row 0 to every token
      k::bias_add(out, w.token_type.f32, n, H);
    } else {
      const std::vector<int64_t> zeros(static_cast<size_t>(n), 0);
      gather(out, w.token_type, zeros.data(), n, H, true);
    }
  }
  k::layernorm(out, out, w.emb_ln.g, w.emb_ln.b, n, H, c.layer_norm_eps);
}

namespace {

bool any_set(const int64_t* flags, int64_t n) {
  if (!flags) return false;
  for (int64_t i = 0; i < n; ++i) {
    if (flags[i] != 0) return true;
  }
  return false;
}

// ctx (B*T, H) = attention(q, k, v) read in place from the stacked projection (B*T, 3, h, d);
// Longformer's global projections are computed only when the batch has global tokens.
void attention_block(const float* x, const LayerWeights& w, const Dims& d, Workspace& ws, const LayerAttention& a) {
  const int64_t A = w.heads * d.head_dim;   // this layer's attention width
  const float* qkv = ws.qkv.data<float>();
  AttentionIO io;
  io.batch = d.batch;
  io.seq = d.seq;
  io.heads = w.heads;
  io.head_dim = d.head_dim;
  io.q = qkv;
  io.k = qkv + A;
  io.v = qkv + 2 * A;
  io.in_row_stride = 3 * A;
  io.out = ws.ctx.data<float>();
  io.out_row_stride = A;
  io.mask = a.mask;
  io.global_mask = a.global_mask;
  io.layer = a.layer;
  if (!w.qkv_global.empty() && (any_set(a.global_mask, d.rows()) || a.mechanism->adds_global_tokens())) {
    if (ws.qkv_global.numel() != ws.qkv.numel()) ws.qkv_global = Tensor::empty(ws.qkv.shape());
    float* g = ws.qkv_global.data<float>();
    w.qkv_global.forward(g, x, d.rows());
    io.q_global = g;
    io.k_global = g + A;
    io.v_global = g + 2 * A;
  }
  a.mechanism->forward(io, ws.attention);
}

}  // namespace

void encoder_layer_forward(float* x, const LayerWeights& w, const EncoderConfig& c, const Dims& d, Workspace& ws,
                           const LayerAttention& attn) {
  const int64_t n = d.rows(), H = d.hidden;
  w.qkv.forward(ws.qkv.data<float>(), x, n);
  attention_block(x, w, d, ws, attn);
  w.attn_out.forward(x, ws.ctx.data<float>(), n, /*accumulate=*/true);   // x += attn
  k::layernorm(x, x, w.attn_ln.g, w.attn_ln.b, n, H, c.layer_norm_eps);
  float* mid = ws.mid.data<float>();
  w.ffn_in.forward(mid, x, n);                                          // act fused
  w.ffn_out.forward(x, mid, n, /*accumulate=*/true);                    // x += ffn
  k::layernorm(x, x, w.ffn_ln.g, w.ffn_ln.b, n, H, c.layer_norm_eps);
}

void pooler_forward(float* out, const float* hidden, const Linear& dense, const Dims& d) {
  Tensor cls = Tensor::empty({d.batch, d.hidden});
  for (int64_t b = 0; b < d.batch; ++b) {
    std::copy_n(hidden + b * d.seq * d.hidden, d.hidden, cls.data<float>() + b * d.hidden);
  }
  dense.forward(out, cls.data<float>(), d.batch);
  k::tanh_inplace(out, d.batch * d.hidden);
}

std::vector<int64_t> position_ids(const std::vector<int64_t>& ids, const EncoderConfig& c, int64_t batch,
                                  int64_t seq) {
  std::vector<int64_t> pos(static_cast<size_t>(batch * seq));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t count = 0;
    for (int64_t t = 0; t < seq; ++t) {
      const int64_t i = b * seq + t;
      if (c.position_offset == 0) {
        pos[i] = t;
      } else if (ids[i] == c.pad_token_id) {   // Hugging Face's create_position_ids_from_input_ids
        pos[i] = c.pad_token_id;
      } else {
        pos[i] = c.pad_token_id + ++count;
      }
    }
  }
  return pos;
}

Tensor head_linear(const float* x, int64_t B, const Tensor& w, const Tensor& b, bool tanh_after) {
  const int64_t O = w.dim(0), K = w.dim(1);
  Tensor out = Tensor::empty({B, O});
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t o = 0; o < O; ++o) {
      double s = b.data<float>()[o];
      const float* wo = w.data<float>() + o * K;
      for (int64_t k = 0; k < K; ++k) s += double(x[r * K + k]) * wo[k];
      out.data<float>()[r * O + o] = static_cast<float>(tanh_after ? std::tanh(s) : s);
    }
  }
  return out;
}

}  // namespace slimformer::model
