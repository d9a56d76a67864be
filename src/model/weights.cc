// Resolving tensor names into weight slots: presence, shape and dtype checks, zero-copy for F32.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>

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

kernels::Epilogue epilogue_for(Activation a) {
  switch (a) {
    case Activation::Gelu: return kernels::Epilogue::Gelu;
    case Activation::GeluTanh: return kernels::Epilogue::GeluTanh;
    case Activation::Relu: return kernels::Epilogue::Relu;
  }
  return kernels::Epilogue::None;
}

kernels::PackedLinear pack(const Linear& l, kernels::Epilogue e = kernels::Epilogue::None) {
  return kernels::PackedLinear(l.w, l.b, l.out, l.in, e);
}

// Once packed, a checkpoint weight is never read again: its pages go back to the kernel right
// away (so loading never holds a layer twice) and the slot forgets it.
void spend(EncoderWeights& w, std::set<const void*>& spent, Linear& l) {
  w.released_bytes += release_pages(l.w, static_cast<size_t>(l.out * l.in) * sizeof(float));
  spent.insert(l.w);
  l.w = nullptr;
}

void pack_layer(EncoderWeights& w, std::set<const void*>& spent, LayerWeights& l, Activation act) {
  l.qkv_packed = kernels::PackedLinear::stacked({l.q.w, l.k.w, l.v.w}, {l.q.b, l.k.b, l.v.b},
                                                {l.q.out, l.k.out, l.v.out}, l.q.in);
  l.attn_out_packed = pack(l.attn_out);
  l.ffn_in_packed = pack(l.ffn_in, epilogue_for(act));
  l.ffn_out_packed = pack(l.ffn_out);
  for (Linear* x : {&l.q, &l.k, &l.v, &l.attn_out, &l.ffn_in, &l.ffn_out}) spend(w, spent, *x);
  if (l.q_global.w) {
    l.qkv_global_packed = kernels::PackedLinear::stacked({l.q_global.w, l.k_global.w, l.v_global.w},
                                                         {l.q_global.b, l.k_global.b, l.v_global.b},
                                                         {l.q_global.out, l.k_global.out, l.v_global.out}, l.q_global.in);
    for (Linear* x : {&l.q_global, &l.k_global, &l.v_global}) spend(w, spent, *x);
  }
}

// Packs every Linear, then stops holding the spent tensors (a converted F16/BF16 copy is freed).
void pack_all(EncoderWeights& w, Activation act) {
  std::set<const void*> spent;
  for (LayerWeights& l : w.layers) pack_layer(w, spent, l, act);
  if (w.has_pooler) {
    w.pooler_packed = pack(w.pooler);
    spend(w, spent, w.pooler);
  }
  std::vector<Tensor> kept;
  for (Tensor& t : w.held)
    if (t.nbytes() == 0 || spent.count(t.raw()) == 0) kept.push_back(t);
  w.held = std::move(kept);
}

}  // namespace

size_t release_pages(const void* p, size_t bytes) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  if (end <= begin) return 0;
#ifdef MADV_PAGEOUT
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT) == 0) return end - begin;
#endif
  return 0;
}

TensorNames tensor_names_for(const Checkpoint& ckpt) {
  const std::string& type = ckpt.config().model_type;
  if (type == "bert") return bert_tensor_names(ckpt);
  if (type == "roberta" || type == "xlm-roberta") return roberta_tensor_names(ckpt);
  if (type == "distilbert") return distilbert_tensor_names(ckpt);
  if (type == "big_bird") return bigbird_tensor_names(ckpt);
  if (type == "longformer") return longformer_tensor_names(ckpt);
  throw ModelError("model_type '" + type +
                   "' has no encoder mapping (supported: bert, roberta, xlm-roberta, distilbert, big_bird, longformer)");
}

EncoderWeights load_weights(const Checkpoint& ckpt, const TensorNames& names, Activation act) {
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
    if (!n.q_global_w.empty()) {
      l.q_global = ld.linear(n.q_global_w, n.q_global_b, H, H);
      l.k_global = ld.linear(n.k_global_w, n.k_global_b, H, H);
      l.v_global = ld.linear(n.v_global_w, n.v_global_b, H, H);
    }
    w.layers.push_back(l);
  }
  if (!names.pooler_w.empty()) {
    w.has_pooler = true;
    w.pooler = ld.linear(names.pooler_w, names.pooler_b, H, H);
  }
  pack_all(w, act);
  return w;
}

}  // namespace slimformer::model
