// The encoder's weight slots, the checkpoint tensor names that fill them (one mapping per
// architecture: bert.cc, roberta.cc, distilbert.cc) and the loader that checks every shape.
#pragma once
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
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

// Architecture mappings. `prefix` is chosen by prefix_for(): "" or e.g. "bert." when the
// checkpoint was saved from a model with a head (BertForSequenceClassification, ...).
TensorNames bert_tensor_names(const Checkpoint& ckpt);
TensorNames roberta_tensor_names(const Checkpoint& ckpt);
TensorNames distilbert_tensor_names(const Checkpoint& ckpt);
TensorNames bigbird_tensor_names(const Checkpoint& ckpt);
TensorNames longformer_tensor_names(const Checkpoint& ckpt);
// Picks the mapping from config().model_type; ModelError for a type without one.
TensorNames tensor_names_for(const Checkpoint& ckpt);

// "" if the checkpoint holds `probe` as is, else `prefix` if it holds prefix + probe, else ""
// (so a missing tensor is reported under its plain name).
std::string prefix_for(const Checkpoint& ckpt, const std::string& prefix, const std::string& probe);
// BERT-layout layers and pooler (shared by BERT and RoBERTa).
TensorNames bert_layout_names(const Checkpoint& ckpt, const std::string& prefix);

struct Linear {
  const float* w = nullptr;   // (out, in)
  const float* b = nullptr;   // (out)
  int64_t out = 0, in = 0;
};
struct Norm {
  const float* g = nullptr;
  const float* b = nullptr;
};
// The checkpoint's tensors (Linear: checked shapes, pointers into the mapping) and the packed
// products the forward runs: Q, K, V stacked into one (3H, H) product, the activation fused into
// ffn_in, the residual adds into attn_out and ffn_out (forward with accumulate = true).
struct LayerWeights {
  Linear q, k, v, attn_out;
  Norm attn_ln;
  Linear ffn_in, ffn_out;
  Norm ffn_ln;
  Linear q_global, k_global, v_global;   // Longformer only (w null otherwise)
  kernels::PackedLinear qkv_packed, attn_out_packed, ffn_in_packed, ffn_out_packed;
  kernels::PackedLinear qkv_global_packed;   // empty unless the layer has global projections
};

struct EncoderWeights {
  const float* word = nullptr;         // (vocab, H)
  const float* position = nullptr;     // (max_position_embeddings, H)
  const float* token_type = nullptr;   // (type_vocab_size, H) or null
  Norm emb_ln;
  std::vector<LayerWeights> layers;
  bool has_pooler = false;
  Linear pooler;
  kernels::PackedLinear pooler_packed;
  int64_t parameter_count = 0;
  size_t bytes = 0;                    // f32 bytes the slots point at
  size_t released_bytes = 0;           // mapped weight bytes handed back to the kernel once packed
  std::vector<Tensor> held;            // mmapped views and converted copies the pointers refer to
};

// Resolves every name against the checkpoint: ModelError naming the tensor and the expected
// shape when one is missing or misshapen. F32 tensors are used in place, F16/BF16 converted once.
// Every Linear is then packed (see LayerWeights) and the checkpoint pages it was packed from are
// released (release_pages), so a loaded model holds its linear weights once, not twice.
EncoderWeights load_weights(const Checkpoint& ckpt, const TensorNames& names, Activation act);

// Asks the kernel to drop the resident pages wholly inside [p, p + bytes) (MADV_PAGEOUT): a clean
// file-backed page is simply discarded and re-read from the file if ever touched again, an
// anonymous one is kept (or swapped), so this never changes what the memory holds. Returns the
// bytes covered by whole pages (0 where the kernel refuses).
size_t release_pages(const void* p, size_t bytes);

}  // namespace slimformer::model
