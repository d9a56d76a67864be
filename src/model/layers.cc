// Embeddings, the post-LN encoder layer (BERT, RoBERTa and DistilBERT share it) and the pooler.
#include "model/layers.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"

namespace slimformer::model {

namespace k = slimformer::kernels;

namespace {
// Scores for at most this many floats at once (32 MiB): all of a batch of 8 x 128 tokens fits,
// long or large batches run attention a few sequences at a time.
constexpr int64_t kMaxScoreFloats = int64_t{8} << 20;

int64_t attention_chunk(const Dims& d) {
  const int64_t per_seq = std::max<int64_t>(1, d.heads * d.seq * d.seq);
  return std::clamp<int64_t>(kMaxScoreFloats / per_seq, 1, std::max<int64_t>(1, d.batch));
}
}  // namespace

Workspace::Workspace(const Dims& d)
    : qkv(Tensor::empty({d.rows(), 3 * d.hidden})),
      ctx(Tensor::empty({d.rows(), d.hidden})),
      mid(Tensor::empty({d.rows(), d.intermediate})),
      scores(Tensor::empty({attention_chunk(d), d.heads, d.seq, d.seq})),
      add_mask(Tensor::empty({d.batch, d.seq})),
      chunk(attention_chunk(d)) {}

void embeddings_forward(float* out, const EncoderWeights& w, const EncoderConfig& c, const Dims& d,
                        const int64_t* ids, const int64_t* positions, const int64_t* types) {
  const int64_t n = d.rows(), H = d.hidden;
  k::embedding_gather(out, w.word, ids, n, H);
  k::embedding_gather_add(out, w.position, positions, n, H);
  if (w.token_type) {
    if (types) {
      k::embedding_gather_add(out, w.token_type, types, n, H);
    } else {   // all type 0: add row 0 to every token
      k::bias_add(out, w.token_type, n, H);
    }
  }
  k::layernorm(out, out, w.emb_ln.g, w.emb_ln.b, n, H, c.layer_norm_eps);
}

namespace {

// ctx (B*T, H) = softmax(q k^T / sqrt(d) + mask) v per (sequence, head), reading q, k, v in place
// from the stacked projection (B*T, 3, h, d) and writing the heads merged: two batched products
// around a row softmax, a few sequences at a time.
void attention_block(const Dims& d, Workspace& ws) {
  const int64_t T = d.seq, H = d.hidden, h = d.heads, hd = d.head_dim, H3 = 3 * H;
  const float* qkv = ws.qkv.data<float>();
  float* ctx = ws.ctx.data<float>();
  float* scores = ws.scores.data<float>();
  const float* mask = ws.add_mask.data<float>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int64_t b0 = 0; b0 < d.batch; b0 += ws.chunk) {
    const int64_t nb = std::min(ws.chunk, d.batch - b0);
    const float* q = qkv + b0 * T * H3;
    // scores (nb, h, T, T) = scale * q . k^T + mask[b] on every row
    k::gemm_batched_f32(true, nb, h, T, T, hd, scale, q, H3, {T * H3, hd}, q + H, H3, {T * H3, hd}, scores, T,
                        {h * T * T, T * T}, mask + b0 * T);
    k::softmax_masked(scores, nullptr, nb * h * T, T);
    // ctx (nb, T, h, d) = p (nb, h, T, T) . v (nb, T, h, d)
    k::gemm_batched_f32(false, nb, h, T, hd, T, 1.0f, scores, T, {h * T * T, T * T}, q + 2 * H, H3,
                        {T * H3, hd}, ctx + b0 * T * H, H, {T * H, hd});
  }
}

}  // namespace

void encoder_layer_forward(float* x, const LayerWeights& w, const EncoderConfig& c, const Dims& d, Workspace& ws) {
  const int64_t n = d.rows(), H = d.hidden;
  w.qkv_packed.forward(ws.qkv.data<float>(), x, n);
  attention_block(d, ws);
  w.attn_out_packed.forward(x, ws.ctx.data<float>(), n, /*accumulate=*/true);   // x += attn
  k::layernorm(x, x, w.attn_ln.g, w.attn_ln.b, n, H, c.layer_norm_eps);
  float* mid = ws.mid.data<float>();
  w.ffn_in_packed.forward(mid, x, n);                                          // act fused
  w.ffn_out_packed.forward(x, mid, n, /*accumulate=*/true);                    // x += ffn
  k::layernorm(x, x, w.ffn_ln.g, w.ffn_ln.b, n, H, c.layer_norm_eps);
}

void pooler_forward(float* out, const float* hidden, const k::PackedLinear& dense, const Dims& d) {
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

}  // namespace slimformer::model
