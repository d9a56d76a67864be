// The encoder's weight slots, the checkpoint tensor names that fill them (one mapping per
// architecture: bert.cc, roberta.cc, distilbert.cc) and the loader that checks every shape.
#pragma once
#include <string>
#include <vector>

#include "model/linear.h"
#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"

namespace slimformer::model {

// Names of one layer's tensors in the checkpoint; weights are (out, in) as nn.Linear stores them.
struct LayerNames {
  std::string q_w, q_b, k_w, k_b, v_w, v_b, attn_out_w, attn_out_b, attn_ln_g, attn_ln_b;
  std::string ffn_in_w, ffn_in_b, ffn_out_w, ffn_out_b, ffn_ln_g, ffn_ln_b;
  // Longformer's separate projections for global attention; empty when the model has none.
  std::string q_global_w, q_global_b, k_global_w, k_global_b, v_global_w, v_global_b;
};

struct TensorNames {
  std::string word, position, token_type;   // token_type empty: the model has none
  std::string emb_ln_g, emb_ln_b;
  std::vector<LayerNames> layers;
  std::string pooler_w, pooler_b;           // empty: no pooler in the checkpoint
};

// The kernel epilogue that applies the config's FFN activation.
kernels::Epilogue epilogue_for(Activation a);

// The mapping of config().model_type's record (model/architecture.h); ModelError for a type
// without one.
TensorNames tensor_names_for(const Checkpoint& ckpt);

// "" if the checkpoint holds `probe` as is, else `prefix` if it holds prefix + probe, else ""
// (so a missing tensor is reported under its plain name).
std::string prefix_for(const Checkpoint& ckpt, const std::string& prefix, const std::string& probe);
// BERT-layout layers and pooler (shared by BERT and RoBERTa).
TensorNames bert_layout_names(const Checkpoint& ckpt, const std::string& prefix);

struct Norm {
  const float* g = nullptr;
  const float* b = nullptr;
};
// One encoder layer as the forward runs it: Q, K and V stacked into one product with rows
// [q | k | v] (heads x head_dim each: fewer than the config's heads when some were pruned), the
// activation fused into ffn_in, the residual adds into attn_out and ffn_out (forward with
// accumulate = true).
struct LayerWeights {
  int64_t heads = 0;          // attention heads this layer keeps
  int64_t intermediate = 0;   // its FFN width
  Linear qkv, attn_out, ffn_in, ffn_out;
  Norm attn_ln, ffn_ln;
  Linear qkv_global;          // Longformer's projections for global tokens; empty otherwise
};

// An embedding table (rows, H) as the forward reads it: f32 values, or int8 codes with one
// scale per row (rows dequantized as they are gathered).
struct Embedding {
  const float* f32 = nullptr;
  const int8_t* codes = nullptr;
  const float* scales = nullptr;
  bool defined() const { return f32 != nullptr || codes != nullptr; }
};

struct EncoderWeights {
  Embedding word;                      // (vocab, H)
  Embedding position;                  // (max_position_embeddings, H)
  Embedding token_type;                // (type_vocab_size, H) or undefined
  Norm emb_ln;
  std::vector<LayerWeights> layers;
  int64_t max_heads = 0;               // the widest layer's heads and FFN width (workspace sizes)
  int64_t max_intermediate = 0;
  bool has_pooler = false;
  Linear pooler;
  int64_t parameter_count = 0;
  size_t bytes = 0;                    // bytes the forward holds: the Linears' own, the rest's as f32
  size_t released_bytes = 0;           // mapped weight bytes handed back to the kernel once packed
  std::vector<Tensor> held;            // mmapped views and converted copies the pointers refer to
};

// Resolves every name against the checkpoint: ModelError naming the tensor and the expected
// shape when one is missing or misshapen; each layer's shapes come from layer_shape() (pruned
// heads, per-layer FFN width). Norms and embeddings: F32 used in place, F16/BF16 converted once.
// Every Linear is built (see LayerWeights) and the checkpoint pages it was built from are
// released (release_pages), so a loaded model holds its linear weights once, not twice.
EncoderWeights load_weights(const Checkpoint& ckpt, const TensorNames& names, Activation act);

// Asks the kernel to drop the resident pages wholly inside [p, p + bytes) (MADV_PAGEOUT): a clean
// file-backed page is simply discarded and re-read from the file if ever touched again, an
// anonymous one is kept (or swapped), so this never changes what the memory holds. Returns the
// bytes covered by whole pages (0 where the kernel refuses).
size_t release_pages(const void* p, size_t bytes);

}  // namespace slimformer::model
