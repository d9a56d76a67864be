// DistilBERT: its own config keys ("dim", "n_layers", ...) and tensor names (q_lin,
// sa_layer_norm, ffn.lin1, ...), with or without the "distilbert." prefix of DistilBertFor*
// heads; no token types, no pooler.
#include "model/architecture.h"
#include "slimformer/error.h"

namespace slimformer::model {
namespace {

TensorNames distilbert_tensor_names(const Checkpoint& ckpt) {
  const std::string p = prefix_for(ckpt, "distilbert.", "embeddings.word_embeddings.weight");
  TensorNames n;
  n.word = p + "embeddings.word_embeddings.weight";
  n.position = p + "embeddings.position_embeddings.weight";
  n.emb_ln_g = p + "embeddings.LayerNorm.weight";
  n.emb_ln_b = p + "embeddings.LayerNorm.bias";
  for (int64_t i = 0; i < ckpt.config().num_layers; ++i) {
    const std::string l = p + "transformer.layer." + std::to_string(i) + ".";
    LayerNames ln;
    ln.q_w = l + "attention.q_lin.weight";
    ln.q_b = l + "attention.q_lin.bias";
    ln.k_w = l + "attention.k_lin.weight";
    ln.k_b = l + "attention.k_lin.bias";
    ln.v_w = l + "attention.v_lin.weight";
    ln.v_b = l + "attention.v_lin.bias";
    ln.attn_out_w = l + "attention.out_lin.weight";
    ln.attn_out_b = l + "attention.out_lin.bias";
    ln.attn_ln_g = l + "sa_layer_norm.weight";
    ln.attn_ln_b = l + "sa_layer_norm.bias";
    ln.ffn_in_w = l + "ffn.lin1.weight";
    ln.ffn_in_b = l + "ffn.lin1.bias";
    ln.ffn_out_w = l + "ffn.lin2.weight";
    ln.ffn_out_b = l + "ffn.lin2.bias";
    ln.ffn_ln_g = l + "output_layer_norm.weight";
    ln.ffn_ln_b = l + "output_layer_norm.bias";
    n.layers.push_back(ln);
  }
  return n;
}

void check_distilbert(const io::Json& j, const std::string& path) {
  if (io::optional_bool(j, "sinusoidal_pos_embds", path, false)) {
    throw ModelError("'" + path + "': sinusoidal_pos_embds true is not supported (only learned position embeddings)");
  }
}

}  // namespace

const Architecture kDistilBert = {
    .model_type = "distilbert",
    .keys = {"vocab_size", "dim", "n_layers", "n_heads", "hidden_dim", "activation", nullptr, nullptr},
    .default_pad_token_id = 0,
    .positions_after_padding = false,
    .prunable_heads = true,
    .check = check_distilbert,
    .tensor_names = distilbert_tensor_names,
    .model_class = "DistilBertModel",
};

}  // namespace slimformer::model
