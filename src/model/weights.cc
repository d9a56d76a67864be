// Resolving tensor names into weight slots: presence, shape and dtype checks, zero-copy for F32.
#include <cstdint>

#include "model/weights.h"
#include "slimformer/error.h"

namespace slimformer::model {
namespace {

std::string where(const Checkpoint& ckpt) {
  return ckpt.dir().empty() ? std::string("the in-memory checkpoint") : "model folder '" + ckpt.dir() + "'";
}

class Loader {
 public:
  Loader(const Checkpoint& ckpt, EncoderWeights* w) : ckpt_(ckpt), w_(w) {}

  const float* take(const std::string& name, const Shape& expected) {
    if (!ckpt_.contains(name)) {
      throw ModelError("tensor '" + name + "' (expected shape " + shape_str(expected) + ") is missing from " +
                       where(ckpt_));
    }
    Tensor t = ckpt_.get(name);
    if (t.shape() != expected) {
      throw ModelError("tensor '" + name + "' in " + where(ckpt_) + " has shape " + shape_str(t.shape()) +
                       ", expected " + shape_str(expected));
    }
    const bool aligned = reinterpret_cast<uintptr_t>(t.raw()) % alignof(float) == 0;
    if (t.dtype() == DType::F16 || t.dtype() == DType::BF16 || (t.dtype() == DType::F32 && !aligned)) {
      t = t.to_f32();   // converted once, at load
    } else if (t.dtype() != DType::F32) {
      throw ModelError("tensor '" + name + "' in " + where(ckpt_) + " has dtype " + dtype_name(t.dtype()) +
                       ", expected F32, F16 or BF16");
    }
    w_->parameter_count += t.numel();
    w_->bytes += t.nbytes();
    w_->held.push_back(t);
    return t.data<float>();
  }

  Linear linear(const std::string& w, const std::string& b, int64_t out, int64_t in) {
    Linear l;
    l.w = take(w, {out, in});
    l.b = take(b, {out});
    l.out = out;
    l.in = in;
    return l;
  }

  Norm norm(const std::string& g, const std::string& b, int64_t n) { return {take(g, {n}), take(b, {n})}; }

 private:
  const Checkpoint& ckpt_;
  EncoderWeights* w_;
};

}  // namespace

TensorNames tensor_names_for(const Checkpoint& ckpt) {
  const std::string& type = ckpt.config().model_type;
  if (type == "bert") return bert_tensor_names(ckpt);
  if (type == "roberta" || type == "xlm-roberta") return roberta_tensor_names(ckpt);
  if (type == "distilbert") return distilbert_tensor_names(ckpt);
  throw ModelError("model_type '" + type + "' has no encoder mapping (supported: bert, roberta, xlm-roberta, distilbert)");
}

EncoderWeights load_weights(const Checkpoint& ckpt, const TensorNames& names) {
  const EncoderConfig& c = ckpt.config();
  if (c.hidden_size <= 0 || c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
    throw ModelError("config: hidden_size " + std::to_string(c.hidden_size) + " must be a positive multiple of num_heads " +
                     std::to_string(c.num_heads));
  }
  if (static_cast<int64_t>(names.layers.size()) != c.num_layers) {
    throw ModelError("config: num_layers " + std::to_string(c.num_layers) + " but " +
                     std::to_string(names.layers.size()) + " layers mapped");
  }
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  EncoderWeights w;
  Loader ld(ckpt, &w);
  w.word = ld.take(names.word, {c.vocab_size, H});
  w.position = ld.take(names.position, {c.max_position_embeddings, H});
  if (!names.token_type.empty()) w.token_type = ld.take(names.token_type, {c.type_vocab_size, H});
  w.emb_ln = ld.norm(names.emb_ln_g, names.emb_ln_b, H);
  for (const LayerNames& n : names.layers) {
    LayerWeights l;
    l.q = ld.linear(n.q_w, n.q_b, H, H);
    l.k = ld.linear(n.k_w, n.k_b, H, H);
    l.v = ld.linear(n.v_w, n.v_b, H, H);
    l.attn_out = ld.linear(n.attn_out_w, n.attn_out_b, H, H);
    l.attn_ln = ld.norm(n.attn_ln_g, n.attn_ln_b, H);
    l.ffn_in = ld.linear(n.ffn_in_w, n.ffn_in_b, I, H);
    l.ffn_out = ld.linear(n.ffn_out_w, n.ffn_out_b, H, I);
    l.ffn_ln = ld.norm(n.ffn_ln_g, n.ffn_ln_b, H);
    w.layers.push_back(l);
  }
  if (!names.pooler_w.empty()) {
    w.has_pooler = true;
    w.pooler = ld.linear(names.pooler_w, names.pooler_b, H, H);
  }
  return w;
}

}  // namespace slimformer::model
