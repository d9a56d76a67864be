// TrainableEncoder: forward keeping activations, backward through them (train/ops.h). Shapes:
// n = B*T token rows, H hidden, per layer heads x d = A attention width and I FFN width.
#include "train/trainable_encoder.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm.h"
#include "model/layers.h"
#include "model/weights.h"
#include "slimformer/error.h"
#include "train/ops.h"

namespace slimformer::train {

// What one layer's backward reads: its input, q/k/v, attention probabilities and context, the
// residual sums before each LayerNorm (with their statistics), the FFN input and GELU input, and
// the dropout masks (empty without dropout) of the probabilities and the two sublayer outputs.
struct LayerActivations {
  Tensor x, q, k, v, probs, ctx, r1, mean1, rstd1, x1, f, g, r2, mean2, rstd2;
  Tensor out;   // the layer's output, the next layer's x
  std::vector<uint8_t> keep_probs, keep_attn_out, keep_ffn_out;
};

struct TrainableEncoder::Tape {
  Batch batch;
  PoolingMode pooling = PoolingMode::Mean;
  uint64_t step = 0;                 // the dropout masks' step
  std::vector<uint8_t> keep_emb;     // the embeddings' dropout mask (empty: none)
  std::vector<int64_t> positions;
  Tensor e, emb_mean, emb_rstd;      // summed embeddings (n,H) and their LayerNorm statistics
  std::vector<LayerActivations> layers;
};

namespace {

Tensor zeros_like(const Tensor& t) { return Tensor::zeros(t.shape()); }

void add_into(float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}

void activation_backward(Activation act, float* dx, const float* dy, const float* x, int64_t n) {
  switch (act) {
    case Activation::Gelu: return gelu_backward(dx, dy, x, n);
    case Activation::GeluTanh: return gelu_tanh_backward(dx, dy, x, n);
    case Activation::Relu: return relu_backward(dx, dy, x, n);
  }
}

// Dropout sites, numbered once: the embeddings, then three per layer.
constexpr uint64_t kEmbeddingSite = 0;
uint64_t site(size_t layer, uint64_t k) { return 1 + 3 * static_cast<uint64_t>(layer) + k; }   // k < 3

// y (n) = dropout(y) in place under (seed, step, site), the mask into keep; nothing when p = 0.
void drop_in_place(float* y, std::vector<uint8_t>& keep, int64_t n, double p, uint64_t seed, uint64_t step,
                   uint64_t site_id) {
  if (p <= 0.0) return;
  keep.resize(static_cast<size_t>(n));
  dropout_forward(y, keep.data(), y, n, p, DropoutKey{seed, step, site_id});
}

// dy (n) = dropout'(dy) in place with the forward's mask; nothing without one.
void undrop_in_place(float* dy, const std::vector<uint8_t>& keep, int64_t n, double p) {
  if (!keep.empty()) dropout_backward(dy, dy, keep.data(), n, p);
}

}  // namespace

void TrainableEncoder::set_dropout(const Dropout& d) {
  for (double p : {d.hidden, d.attention}) {
    if (!(p >= 0.0 && p < 1.0)) throw InputError("dropout probability must be in [0, 1), got " + std::to_string(p));
  }
  dropout_ = d;
}

size_t TrainableEncoder::add(const std::string& name, const Checkpoint& ckpt) {
  const Tensor t = ckpt.get(name);
  if (t.dtype() == DType::I8) {
    throw ModelError("tensor '" + name + "' is int8: training needs float weights (slimformer export --dtype f32 first)");
  }
  Parameter p{name, t.to_f32(), Tensor()};
  p.grad = zeros_like(p.value);
  index_[name] = params_.size();
  params_.push_back(std::move(p));
  return params_.size() - 1;
}

TrainableEncoder::TrainableEncoder(const Checkpoint& ckpt) : config_(ckpt.config()) {
  const EncoderConfig& c = config_;
  if (!c.attention_type.empty() && c.attention_type != "original_full") {
    throw ModelError("training runs full attention only; the checkpoint's attention_type is '" + c.attention_type + "'");
  }
  if (!c.attention_window.empty()) throw ModelError("training runs full attention only; the checkpoint is a Longformer");
  const model::TensorNames n = model::tensor_names_for(ckpt);
  word_ = add(n.word, ckpt);
  position_ = add(n.position, ckpt);
  has_token_type_ = !n.token_type.empty();
  if (has_token_type_) token_type_ = add(n.token_type, ckpt);
  emb_ln_g_ = add(n.emb_ln_g, ckpt);
  emb_ln_b_ = add(n.emb_ln_b, ckpt);
  for (size_t l = 0; l < n.layers.size(); ++l) {
    const model::LayerNames& ln = n.layers[l];
    Layer L{};
    L.q_w = add(ln.q_w, ckpt), L.q_b = add(ln.q_b, ckpt), L.k_w = add(ln.k_w, ckpt), L.k_b = add(ln.k_b, ckpt);
    L.v_w = add(ln.v_w, ckpt), L.v_b = add(ln.v_b, ckpt), L.o_w = add(ln.attn_out_w, ckpt);
    L.o_b = add(ln.attn_out_b, ckpt), L.ln1_g = add(ln.attn_ln_g, ckpt), L.ln1_b = add(ln.attn_ln_b, ckpt);
    L.i_w = add(ln.ffn_in_w, ckpt), L.i_b = add(ln.ffn_in_b, ckpt), L.out_w = add(ln.ffn_out_w, ckpt);
    L.out_b = add(ln.ffn_out_b, ckpt), L.ln2_g = add(ln.ffn_ln_g, ckpt), L.ln2_b = add(ln.ffn_ln_b, ckpt);
    const LayerShape shape = layer_shape(c, static_cast<int64_t>(l));
    L.heads = shape.heads;
    L.intermediate = shape.intermediate;
    const int64_t A = L.heads * (c.hidden_size / c.num_heads);
    if (params_[L.q_w].value.shape() != Shape{A, c.hidden_size} ||
        params_[L.i_w].value.shape() != Shape{L.intermediate, c.hidden_size}) {
      throw ModelError("layer " + std::to_string(l) + ": tensor shapes do not match the config's per-layer sizes");
    }
    layers_.push_back(L);
  }
}

LayerActivations TrainableEncoder::layer_forward(size_t index, const Tensor& x, const Batch& batch, uint64_t step) {
  const EncoderConfig& c = config_;
  const Layer& L = layers_[index];
  const int64_t B = batch.batch, T = batch.seq, n = B * T, H = c.hidden_size, d = H / c.num_heads;
  const int64_t A = L.heads * d, I = L.intermediate;
  LayerActivations a;
  a.x = x;
  a.q = Tensor::empty({n, A});
  a.k = Tensor::empty({n, A});
  a.v = Tensor::empty({n, A});
  kernels::linear_f32(a.q.data<float>(), x.data<float>(), value(L.q_w), value(L.q_b), n, A, H);
  kernels::linear_f32(a.k.data<float>(), x.data<float>(), value(L.k_w), value(L.k_b), n, A, H);
  kernels::linear_f32(a.v.data<float>(), x.data<float>(), value(L.v_w), value(L.v_b), n, A, H);
  a.probs = Tensor::empty({B, L.heads, T, T});
  a.ctx = Tensor::empty({n, A});
  AttentionDropout drop_probs;
  if (dropout_.attention > 0) {
    a.keep_probs.resize(static_cast<size_t>(B * L.heads * T * T));
    drop_probs = {dropout_.attention, {dropout_.seed, step, site(index, 0)}, a.keep_probs.data()};
  }
  attention_forward(a.ctx.data<float>(), a.probs.data<float>(), a.q.data<float>(), a.k.data<float>(), a.v.data<float>(),
                    batch.mask.data(), B, T, L.heads, d, A, A, dropout_.attention > 0 ? &drop_probs : nullptr);
  a.r1 = Tensor::empty({n, H});
  kernels::linear_f32(a.r1.data<float>(), a.ctx.data<float>(), value(L.o_w), value(L.o_b), n, H, A);
  drop_in_place(a.r1.data<float>(), a.keep_attn_out, n * H, dropout_.hidden, dropout_.seed, step, site(index, 1));
  add_into(a.r1.data<float>(), x.data<float>(), n * H);
  a.mean1 = Tensor::empty({n});
  a.rstd1 = Tensor::empty({n});
  a.x1 = Tensor::empty({n, H});
  layernorm_forward(a.x1.data<float>(), a.mean1.data<float>(), a.rstd1.data<float>(), a.r1.data<float>(), value(L.ln1_g),
                    value(L.ln1_b), n, H, c.layer_norm_eps);
  a.f = Tensor::empty({n, I});
  kernels::linear_f32(a.f.data<float>(), a.x1.data<float>(), value(L.i_w), value(L.i_b), n, I, H);
  a.g = Tensor::empty({n, I});
  kernels::apply_epilogue_row(model::epilogue_for(c.activation), a.g.data<float>(), a.f.data<float>(), n * I, false);
  a.r2 = Tensor::empty({n, H});
  kernels::linear_f32(a.r2.data<float>(), a.g.data<float>(), value(L.out_w), value(L.out_b), n, H, I);
  drop_in_place(a.r2.data<float>(), a.keep_ffn_out, n * H, dropout_.hidden, dropout_.seed, step, site(index, 2));
  add_into(a.r2.data<float>(), a.x1.data<float>(), n * H);
  a.mean2 = Tensor::empty({n});
  a.rstd2 = Tensor::empty({n});
  a.out = Tensor::empty({n, H});
  layernorm_forward(a.out.data<float>(), a.mean2.data<float>(), a.rstd2.data<float>(), a.r2.data<float>(),
                    value(L.ln2_g), value(L.ln2_b), n, H, c.layer_norm_eps);
  return a;
}

Tensor TrainableEncoder::forward(const Batch& batch, PoolingMode pooling, uint64_t step) {
  const EncoderConfig& c = config_;
  model::check_batch(batch, c);
  tape_.reset();   // the last step's activations go before this step's are made, not after
  const int64_t B = batch.batch, T = batch.seq, n = B * T, H = c.hidden_size;
  auto tape = std::make_shared<Tape>();
  tape->batch = batch;
  tape->pooling = pooling;
  tape->step = step;
  tape->positions = model::position_ids(batch.ids, c, B, T);

  // Embeddings: word (scaled, BigBird) + position + token type, then LayerNorm.
  tape->e = Tensor::empty({n, H});
  float* e = tape->e.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* w = value(word_) + batch.ids[i] * H;
    const float* p = value(position_) + tape->positions[i] * H;
    const int64_t type = batch.type_ids.empty() ? 0 : batch.type_ids[i];
    const float* t = has_token_type_ ? value(token_type_) + type * H : nullptr;
    for (int64_t j = 0; j < H; ++j) e[i * H + j] = w[j] * c.word_embedding_scale + p[j] + (t ? t[j] : 0.0f);
  }
  tape->emb_mean = Tensor::empty({n});
  tape->emb_rstd = Tensor::empty({n});
  Tensor x = Tensor::empty({n, H});
  layernorm_forward(x.data<float>(), tape->emb_mean.data<float>(), tape->emb_rstd.data<float>(), e, value(emb_ln_g_),
                    value(emb_ln_b_), n, H, c.layer_norm_eps);
  drop_in_place(x.data<float>(), tape->keep_emb, n * H, dropout_.hidden, dropout_.seed, step, kEmbeddingSite);

  for (size_t li = 0; li < layers_.size(); ++li) {
    LayerActivations a = layer_forward(li, x, batch, step);
    x = a.out;
    // With checkpointing only the layer's input is kept; backward() runs the layer again.
    if (checkpoint_activations_) {
      LayerActivations input_only;
      input_only.x = a.x;
      a = input_only;
    }
    tape->layers.push_back(std::move(a));
  }
  tape_ = tape;
  return pool(x.reshaped({B, T, H}), batch.mask, pooling);
}

void TrainableEncoder::backward(const Tensor& dpooled) {
  if (!tape_) throw InputError("TrainableEncoder::backward: no forward to go back through");
  const EncoderConfig& c = config_;
  const Tape& tp = *tape_;
  const int64_t B = tp.batch.batch, T = tp.batch.seq, n = B * T, H = c.hidden_size, d = H / c.num_heads;
  if (dpooled.shape() != Shape{B, H}) {
    throw InputError("TrainableEncoder::backward: gradient of shape " + shape_str(dpooled.shape()) + ", expected [" +
                     std::to_string(B) + "," + std::to_string(H) + "]");
  }
  Tensor dx = Tensor::empty({n, H});
  if (tp.pooling == PoolingMode::Mean) {
    mean_pool_backward(dx.data<float>(), dpooled.data<float>(), tp.batch.mask.data(), B, T, H);
  } else if (tp.pooling == PoolingMode::Cls) {
    cls_pool_backward(dx.data<float>(), dpooled.data<float>(), B, T, H);
  } else {
    throw InputError("TrainableEncoder::backward: only mean and cls pooling train");
  }

  for (size_t li = layers_.size(); li-- > 0;) {
    const Layer& L = layers_[li];
    const LayerActivations a =
        checkpoint_activations_ ? layer_forward(li, tp.layers[li].x, tp.batch, tp.step) : tp.layers[li];
    const int64_t A = L.heads * d, I = L.intermediate;
    // x2 = LN2(r2), r2 = x1 + FFN(x1)
    Tensor dr2 = Tensor::empty({n, H});
    layernorm_backward(dr2.data<float>(), grad(L.ln2_g), grad(L.ln2_b), dx.data<float>(), a.r2.data<float>(),
                       value(L.ln2_g), a.mean2.data<float>(), a.rstd2.data<float>(), n, H, c.layer_norm_eps);
    Tensor dg = Tensor::empty({n, I});
    Tensor dffn_out = dr2;   // the FFN's output gradient, through its dropout (dr2 stays the residual's)
    if (!a.keep_ffn_out.empty()) {
      dffn_out = Tensor::empty({n, H});
      dropout_backward(dffn_out.data<float>(), dr2.data<float>(), a.keep_ffn_out.data(), n * H, dropout_.hidden);
    }
    linear_backward(dg.data<float>(), grad(L.out_w), grad(L.out_b), dffn_out.data<float>(), a.g.data<float>(),
                    value(L.out_w), n, H, I);
    activation_backward(c.activation, dg.data<float>(), dg.data<float>(), a.f.data<float>(), n * I);
    Tensor dx1 = Tensor::empty({n, H});
    linear_backward(dx1.data<float>(), grad(L.i_w), grad(L.i_b), dg.data<float>(), a.x1.data<float>(), value(L.i_w), n,
                    I, H);
    add_into(dx1.data<float>(), dr2.data<float>(), n * H);   // the residual
    // x1 = LN1(r1), r1 = x + O(attention(x))
    Tensor dr1 = Tensor::empty({n, H});
    layernorm_backward(dr1.data<float>(), grad(L.ln1_g), grad(L.ln1_b), dx1.data<float>(), a.r1.data<float>(),
                       value(L.ln1_g), a.mean1.data<float>(), a.rstd1.data<float>(), n, H, c.layer_norm_eps);
    Tensor dctx = Tensor::empty({n, A});
    Tensor dattn_out = dr1;   // the same for the attention output's dropout
    if (!a.keep_attn_out.empty()) {
      dattn_out = Tensor::empty({n, H});
      dropout_backward(dattn_out.data<float>(), dr1.data<float>(), a.keep_attn_out.data(), n * H, dropout_.hidden);
    }
    linear_backward(dctx.data<float>(), grad(L.o_w), grad(L.o_b), dattn_out.data<float>(), a.ctx.data<float>(),
                    value(L.o_w), n, H, A);
    Tensor dq = Tensor::empty({n, A}), dk = Tensor::empty({n, A}), dv = Tensor::empty({n, A});
    Tensor work = Tensor::empty({attention_backward_workspace_floats(B, T, L.heads)});
    AttentionDropout drop_probs;
    if (!a.keep_probs.empty()) {
      drop_probs = {dropout_.attention, {}, const_cast<uint8_t*>(a.keep_probs.data())};   // read only here
    }
    attention_backward(dq.data<float>(), dk.data<float>(), dv.data<float>(), dctx.data<float>(), a.q.data<float>(),
                       a.k.data<float>(), a.v.data<float>(), a.probs.data<float>(), B, T, L.heads, d, A, A,
                       work.data<float>(), a.keep_probs.empty() ? nullptr : &drop_probs);
    Tensor part = Tensor::empty({n, H});
    dx = dr1;   // the residual; then the three projections' input gradients
    const size_t weights[3] = {L.q_w, L.k_w, L.v_w}, biases[3] = {L.q_b, L.k_b, L.v_b};
    const Tensor* grads[3] = {&dq, &dk, &dv};
    for (int i = 0; i < 3; ++i) {
      linear_backward(part.data<float>(), grad(weights[i]), grad(biases[i]), grads[i]->data<float>(), a.x.data<float>(),
                      value(weights[i]), n, A, H);
      add_into(dx.data<float>(), part.data<float>(), n * H);
    }
  }

  // Embeddings: their dropout, LayerNorm, then each table's rows.
  undrop_in_place(dx.data<float>(), tp.keep_emb, n * H, dropout_.hidden);
  Tensor de = Tensor::empty({n, H});
  layernorm_backward(de.data<float>(), grad(emb_ln_g_), grad(emb_ln_b_), dx.data<float>(), tp.e.data<float>(),
                     value(emb_ln_g_), tp.emb_mean.data<float>(), tp.emb_rstd.data<float>(), n, H, c.layer_norm_eps);
  if (has_token_type_) {
    std::vector<int64_t> types = tp.batch.type_ids.empty() ? std::vector<int64_t>(n, 0) : tp.batch.type_ids;
    embedding_backward(grad(token_type_), de.data<float>(), types.data(), n, H);
  }
  // RoBERTa's position table has padding_idx = pad_token_id, as its word table; BERT's has none.
  embedding_backward(grad(position_), de.data<float>(), tp.positions.data(), n, H,
                     c.position_offset > 0 ? c.pad_token_id : -1);
  if (c.word_embedding_scale != 1.0f) {
    for (int64_t i = 0; i < n * H; ++i) de.data<float>()[i] *= c.word_embedding_scale;
  }
  embedding_backward(grad(word_), de.data<float>(), tp.batch.ids.data(), n, H, c.pad_token_id);
}

void TrainableEncoder::zero_grad() {
  for (Parameter& p : params_) std::fill_n(p.grad.data<float>(), p.grad.numel(), 0.0f);
}

const Parameter& TrainableEncoder::parameter(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw ModelError("no parameter named '" + name + "'");
  return params_[it->second];
}

std::map<std::string, Tensor> TrainableEncoder::state() const {
  std::map<std::string, Tensor> out;
  for (const Parameter& p : params_) out.emplace(p.name, p.value);
  return out;
}

}  // namespace slimformer::train
