// Longformer: RoBERTa's tensor layout (under the "longformer." prefix of LongformerFor* heads)
// plus each layer's separate projections for global attention (query_global, key_global,
// value_global). Its attention (attention_window per layer, global tokens) is in the config,
// which default_attention() turns into sliding + global (docs/attention/global.md).
#include "model/weights.h"

namespace slimformer::model {

TensorNames longformer_tensor_names(const Checkpoint& ckpt) {
  const std::string p = prefix_for(ckpt, "longformer.", "embeddings.word_embeddings.weight");
  TensorNames n = bert_layout_names(ckpt, p);
  for (size_t i = 0; i < n.layers.size(); ++i) {
    const std::string s = p + "encoder.layer." + std::to_string(i) + ".attention.self.";
    LayerNames& l = n.layers[i];
    l.q_global_w = s + "query_global.weight";
    l.q_global_b = s + "query_global.bias";
    l.k_global_w = s + "key_global.weight";
    l.k_global_b = s + "key_global.bias";
    l.v_global_w = s + "value_global.weight";
    l.v_global_b = s + "value_global.bias";
  }
  return n;
}

}  // namespace slimformer::model
