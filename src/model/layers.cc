// Embeddings, the post-LN encoder layer (BERT, RoBERTa and DistilBERT share it) and the pooler.
#include "model/layers.h"

#include <algorithm>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"

namespace slimformer::model {

namespace k = slimformer::kernels;

Workspace::Workspace(const Dims& d)
    : proj(Tensor::empty({3, d.rows(), d.hidden})),
      heads(Tensor::empty({3, d.batch, d.heads, d.seq, d.head_dim})),
      ctx(Tensor::empty({d.rows(), d.hidden})),
      mid(Tensor::empty({d.rows(), d.intermediate})),
      scores(Tensor::empty({k::attention_workspace_floats(d.seq)})),
      add_mask(Tensor::empty({d.batch, d.seq})) {}

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

void activation_inplace(float* x, int64_t n, Activation a) {
  switch (a) {
    case Activation::Gelu: k::gelu(x, x, n); break;
    case Activation::GeluTanh: k::gelu_tanh(x, x, n); break;
    case Activation::Relu: k::relu(x, x, n); break;
  }
}

void attention_block(float* x, const LayerWeights& w, const Dims& d, Workspace& ws) {
  const int64_t n = d.rows(), H = d.hidden, plane = n * H;
  float* proj = ws.proj.data<float>();
  float* heads = ws.heads.data<float>();
  const Linear* qkv[3] = {&w.q, &w.k, &w.v};
  for (int i = 0; i < 3; ++i) {
    k::linear_f32(proj + i * plane, x, qkv[i]->w, qkv[i]->b, n, H, H);
    k::split_heads(heads + i * plane, proj + i * plane, d.batch, d.seq, d.heads, d.head_dim);
  }
  float* ctx_heads = proj;   // the projections are spent once split
  k::attention(ctx_heads, heads, heads + plane, heads + 2 * plane, ws.add_mask.data<float>(), d.batch, d.heads,
               d.seq, d.head_dim, ws.scores.data<float>());
  k::merge_heads(ws.ctx.data<float>(), ctx_heads, d.batch, d.seq, d.heads, d.head_dim);
  float* attn_out = proj + plane;
  k::linear_f32(attn_out, ws.ctx.data<float>(), w.attn_out.w, w.attn_out.b, n, H, H);
}

}  // namespace

void encoder_layer_forward(float* x, const LayerWeights& w, const EncoderConfig& c, const Dims& d, Workspace& ws) {
  const int64_t n = d.rows(), H = d.hidden, I = d.intermediate;
  attention_block(x, w, d, ws);
  float* attn_out = ws.proj.data<float>() + n * H;
  k::add_layernorm(x, attn_out, x, w.attn_ln.g, w.attn_ln.b, n, H, c.layer_norm_eps);
  float* mid = ws.mid.data<float>();
  k::linear_f32(mid, x, w.ffn_in.w, w.ffn_in.b, n, I, H);
  activation_inplace(mid, n * I, c.activation);
  float* ffn_out = ws.proj.data<float>();
  k::linear_f32(ffn_out, mid, w.ffn_out.w, w.ffn_out.b, n, H, I);
  k::add_layernorm(x, ffn_out, x, w.ffn_ln.g, w.ffn_ln.b, n, H, c.layer_norm_eps);
}

void pooler_forward(float* out, const float* hidden, const Linear& dense, const Dims& d) {
  Tensor cls = Tensor::empty({d.batch, d.hidden});
  for (int64_t b = 0; b < d.batch; ++b) {
    std::copy_n(hidden + b * d.seq * d.hidden, d.hidden, cls.data<float>() + b * d.hidden);
  }
  k::linear_f32(out, cls.data<float>(), dense.w, dense.b, d.batch, d.hidden, d.hidden);
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
