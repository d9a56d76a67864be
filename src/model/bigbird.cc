// BigBird: BERT's tensor layout (under the "bert." prefix of BigBirdFor* heads), except the
// pooler, which is a bare Linear ("pooler.weight", not "pooler.dense.weight"). What differs in
// attention is in the config (attention_type, block_size, num_random_blocks), which
// default_attention() turns into the bigbird mechanism.
#include "model/weights.h"

namespace slimformer::model {

TensorNames bigbird_tensor_names(const Checkpoint& ckpt) {
  const std::string p = prefix_for(ckpt, "bert.", "embeddings.word_embeddings.weight");
  TensorNames n = bert_layout_names(ckpt, p);
  if (ckpt.contains(p + "pooler.weight")) {
    n.pooler_w = p + "pooler.weight";
    n.pooler_b = p + "pooler.bias";
  }
  return n;
}

}  // namespace slimformer::model
