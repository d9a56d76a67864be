// Resolving tensor names into weight slots: presence, shape and dtype checks, zero-copy for F32,
// and the Linears built from the checkpoint's weights.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "model/non_finite.h"
#include "model/weights.h"
#include "slimformer/error.h"

namespace slimformer::model {

kernels::Epilogue epilogue_for(Activation a) {
  switch (a) {
    case Activation::Gelu: return kernels::Epilogue::Gelu;
    case Activation::GeluTanh: return kernels::Epilogue::GeluTanh;
    case Activation::Relu: return kernels::Epilogue::Relu;
  }
  return kernels::Epilogue::None;
}

namespace {

std::string where(const Checkpoint& ckpt) {
  return ckpt.dir().empty() ? std::string("the in-memory checkpoint") : "model folder '" + ckpt.dir() + "'";
}

class Loader {
 public:
  Loader(const Checkpoint& ckpt, EncoderWeights* w) : ckpt_(ckpt), w_(w) {}

  // The tensor `name`, checked for presence, shape and a floating dtype (or int8 codes where
  // allowed: Linear weights and embeddings).
  Tensor tensor(const std::string& name, const Shape& expected, bool int8_allowed = false) const {
    if (!ckpt_.contains(name)) {
      throw ModelError("tensor '" + name + "' (expected shape " + shape_str(expected) + ") is missing from " +
                       where(ckpt_));
    }
    Tensor t = ckpt_.get(name);
    if (t.shape() != expected) {
      throw ModelError("tensor '" + name + "' in " + where(ckpt_) + " has shape " + shape_str(t.shape()) +
                       ", expected " + shape_str(expected));
    }
    const bool int8 = int8_allowed && t.dtype() == DType::I8;
    if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16 && !int8) {
      throw ModelError("tensor '" + name + "' in " + where(ckpt_) + " has dtype " + dtype_name(t.dtype()) +
                       (int8_allowed ? ", expected F32, F16, BF16 or I8" : ", expected F32, F16 or BF16"));
    }
    refuse_non_finite(name, t);
    return t;
  }

  // NaN or Inf in a weight would make every output NaN (and every embedding null) without an error.
  void refuse_non_finite(const std::string& name, const Tensor& t) const {
    const int64_t at = first_non_finite(t);
    if (at >= 0) {
      throw ModelError("tensor '" + name + "' in " + where(ckpt_) + " holds a non-finite value (NaN or Inf) at element " +
                       std::to_string(at) + " of " + std::to_string(t.numel()) + "; expected finite weights");
    }
  }

  // The f32 row scales of the int8 tensor `name` (rows).
  Tensor scales(const std::string& name, int64_t rows) const {
    const std::string s = name + kInt8ScaleSuffix;
    if (!ckpt_.contains(s)) {
      throw ModelError("tensor '" + name + "' holds int8 codes but its scales '" + s + "' (shape [" +
                       std::to_string(rows) + "], F32) are missing from " + where(ckpt_));
    }
    Tensor t = ckpt_.get(s);
    if (t.shape() != Shape{rows} || t.dtype() != DType::F32) {
      throw ModelError("tensor '" + s + "' in " + where(ckpt_) + " has shape " + shape_str(t.shape()) + " and dtype " +
                       dtype_name(t.dtype()) + ", expected [" + std::to_string(rows) + "] F32");
    }
    refuse_non_finite(s, t);
    if (reinterpret_cast<uintptr_t>(t.raw()) % alignof(float) != 0) t = t.to_f32();
    return t;
  }

  // An embedding table: f32 (converted once from F16/BF16) or int8 codes with row scales.
  Embedding embedding(const std::string& name, const Shape& expected) {
    const Tensor t = tensor(name, expected, /*int8_allowed=*/true);
    if (t.dtype() != DType::I8) return {floats(name, expected), nullptr, nullptr};
    const Tensor s = scales(name, expected[0]);
    w_->parameter_count += t.numel();
    w_->bytes += t.nbytes() + s.nbytes();
    w_->held.push_back(t);
    w_->held.push_back(s);
    return {nullptr, t.data<int8_t>(), s.data<float>()};
  }

  // A tensor the forward reads as f32 (embeddings, norms): used in place or converted once.
  const float* floats(const std::string& name, const Shape& expected) {
    Tensor t = tensor(name, expected);
    const bool aligned = reinterpret_cast<uintptr_t>(t.raw()) % alignof(float) == 0;
    if (t.dtype() != DType::F32 || !aligned) t = t.to_f32();
    w_->parameter_count += t.numel();
    w_->bytes += t.nbytes();
    w_->held.push_back(t);
    return t.data<float>();
  }

  Norm norm(const std::string& g, const std::string& b, int64_t n) { return {floats(g, {n}), floats(b, {n})}; }

  // Linears sharing an input, stacked: weights[i] (outs[i], in) with biases[i] (outs[i]).
  Linear linear(const std::vector<std::pair<std::string, std::string>>& names, const std::vector<int64_t>& outs,
                int64_t in, kernels::Epilogue epilogue = kernels::Epilogue::None) {
    std::vector<StoredWeight> parts;
    std::vector<Tensor> biases;
    for (size_t i = 0; i < names.size(); ++i) {
      StoredWeight part{names[i].first, tensor(names[i].first, {outs[i], in}, /*int8_allowed=*/true), outs[i], in, {}};
      if (part.values.dtype() == DType::I8) part.scales = scales(part.name, outs[i]);
      parts.push_back(part);
      biases.push_back(tensor(names[i].second, {outs[i]}));
      w_->parameter_count += outs[i] * in + outs[i];
    }
    Linear l = Linear::build(parts, biases, epilogue);
    w_->bytes += l.bytes();
    // Built: the checkpoint's copy is never read again, so its pages go back to the kernel now
    // (loading never holds a layer twice).
    // (A sparse-stored weight was decoded into memory of its own, freed with `parts`.)
    for (const StoredWeight& p : parts) {
      if (!ckpt_.is_decoded(p.name)) w_->released_bytes += release_pages(p.values.raw(), p.values.nbytes());
    }
    return l;
  }

 private:
  const Checkpoint& ckpt_;
  EncoderWeights* w_;
};

void check_config(const EncoderConfig& c, const TensorNames& names) {
  if (c.hidden_size <= 0 || c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
    throw ModelError("config: hidden_size " + std::to_string(c.hidden_size) + " must be a positive multiple of num_heads " +
                     std::to_string(c.num_heads));
  }
  if (static_cast<int64_t>(names.layers.size()) != c.num_layers) {
    throw ModelError("config: num_layers " + std::to_string(c.num_layers) + " but " +
                     std::to_string(names.layers.size()) + " layers mapped");
  }
  if (!c.intermediate_sizes.empty() && static_cast<int64_t>(c.intermediate_sizes.size()) != c.num_layers) {
    throw ModelError("config: intermediate_sizes lists " + std::to_string(c.intermediate_sizes.size()) +
                     " widths for " + std::to_string(c.num_layers) + " layers");
  }
  for (const auto& [layer, heads] : c.pruned_heads) {
    if (layer < 0 || layer >= c.num_layers || static_cast<int64_t>(heads.size()) >= c.num_heads) {
      throw ModelError("config: pruned_heads of layer " + std::to_string(layer) +
                       " must name a layer in range and leave at least one of its " + std::to_string(c.num_heads) + " heads");
    }
  }
}

LayerWeights load_layer(Loader& ld, const EncoderConfig& c, const LayerNames& n, int64_t index, Activation act) {
  const int64_t H = c.hidden_size, head_dim = c.hidden_size / c.num_heads;
  const LayerShape shape = layer_shape(c, index);
  const int64_t A = shape.heads * head_dim, I = shape.intermediate;
  LayerWeights l;
  l.heads = shape.heads;
  l.intermediate = I;
  l.qkv = ld.linear({{n.q_w, n.q_b}, {n.k_w, n.k_b}, {n.v_w, n.v_b}}, {A, A, A}, H);
  l.attn_out = ld.linear({{n.attn_out_w, n.attn_out_b}}, {H}, A);
  l.attn_ln = ld.norm(n.attn_ln_g, n.attn_ln_b, H);
  l.ffn_in = ld.linear({{n.ffn_in_w, n.ffn_in_b}}, {I}, H, epilogue_for(act));
  l.ffn_out = ld.linear({{n.ffn_out_w, n.ffn_out_b}}, {H}, I);
  l.ffn_ln = ld.norm(n.ffn_ln_g, n.ffn_ln_b, H);
  if (!n.q_global_w.empty()) {
    l.qkv_global = ld.linear({{n.q_global_w, n.q_global_b}, {n.k_global_w, n.k_global_b}, {n.v_global_w, n.v_global_b}},
                             {A, A, A}, H);
  }
  return l;
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

EncoderWeights load_weights(const Checkpoint& ckpt, const TensorNames& names, Activation act) {
  const EncoderConfig& c = ckpt.config();
  check_config(c, names);
  const int64_t H = c.hidden_size;
  EncoderWeights w;
  Loader ld(ckpt, &w);
  w.word = ld.embedding(names.word, {c.vocab_size, H});
  w.position = ld.embedding(names.position, {c.max_position_embeddings, H});
  if (!names.token_type.empty()) w.token_type = ld.embedding(names.token_type, {c.type_vocab_size, H});
  w.emb_ln = ld.norm(names.emb_ln_g, names.emb_ln_b, H);
  for (size_t i = 0; i < names.layers.size(); ++i) {
    w.layers.push_back(load_layer(ld, c, names.layers[i], static_cast<int64_t>(i), act));
    w.max_heads = std::max(w.max_heads, w.layers.back().heads);
    w.max_intermediate = std::max(w.max_intermediate, w.layers.back().intermediate);
  }
  if (!names.pooler_w.empty()) {
    w.has_pooler = true;
    w.pooler = ld.linear({{names.pooler_w, names.pooler_b}}, {H}, H);
  }
  return w;
}

}  // namespace slimformer::model
