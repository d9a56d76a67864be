// BERT: config keys, Hugging Face BertModel tensor names (with or without the "bert." prefix of
// BertFor* heads) and the BERT tensor layout RoBERTa, Longformer and BigBird share.
#include "model/architecture.h"

namespace slimformer::model {

std::string prefix_for(const Checkpoint& ckpt, const std::string& prefix, const std::string& probe) {
  if (ckpt.contains(probe)) return "";
  if (ckpt.contains(prefix + probe)) return prefix;
  return "";
}

TensorNames bert_layout_names(const Checkpoint& ckpt, const std::string& p) {
  TensorNames n;
  n.word = p + "embeddings.word_embeddings.weight";
  n.position = p + "embeddings.position_embeddings.weight";
  if (ckpt.config().type_vocab_size > 0) n.token_type = p + "embeddings.token_type_embeddings.weight";
  n.emb_ln_g = p + "embeddings.LayerNorm.weight";
  n.emb_ln_b = p + "embeddings.LayerNorm.bias";
  for (int64_t i = 0; i < ckpt.config().num_layers; ++i) {
    const std::string l = p + "encoder.layer." + std::to_string(i) + ".";
    LayerNames ln;
    ln.q_w = l + "attention.self.query.weight";
    ln.q_b = l + "attention.self.query.bias";
    ln.k_w = l + "attention.self.key.weight";
    ln.k_b = l + "attention.self.key.bias";
    ln.v_w = l + "attention.self.value.weight";
    ln.v_b = l + "attention.self.value.bias";
    ln.attn_out_w = l + "attention.output.dense.weight";
    ln.attn_out_b = l + "attention.output.dense.bias";
    ln.attn_ln_g = l + "attention.output.LayerNorm.weight";
    ln.attn_ln_b = l + "attention.output.LayerNorm.bias";
    ln.ffn_in_w = l + "intermediate.dense.weight";
    ln.ffn_in_b = l + "intermediate.dense.bias";
    ln.ffn_out_w = l + "output.dense.weight";
    ln.ffn_out_b = l + "output.dense.bias";
    ln.ffn_ln_g = l + "output.LayerNorm.weight";
    ln.ffn_ln_b = l + "output.LayerNorm.bias";
    n.layers.push_back(ln);
  }
  if (ckpt.contains(p + "pooler.dense.weight")) {
    n.pooler_w = p + "pooler.dense.weight";
    n.pooler_b = p + "pooler.dense.bias";
  }
  return n;
}

namespace {

TensorNames bert_tensor_names(const Checkpoint& ckpt) {
  return bert_layout_names(ckpt, prefix_for(ckpt, "bert.", "embeddings.word_embeddings.weight"));
}

}  // namespace

const ConfigKeys kBertKeys = {"vocab_size",        "hidden_size", "num_hidden_layers", "num_attention_heads",
                              "intermediate_size", "hidden_act",  "type_vocab_size",   "layer_norm_eps"};

const Architecture kBert = {
    .model_type = "bert",
    .keys = kBertKeys,
    .default_pad_token_id = 0,
    .positions_after_padding = false,
    .prunable_heads = true,
    .check = check_absolute_positions,
    .tensor_names = bert_tensor_names,
    .pooler_weight = "pooler.dense.weight",
    .pooler_bias = "pooler.dense.bias",
    .model_class = "BertModel",
};

}  // namespace slimformer::model
