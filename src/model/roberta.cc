// RoBERTa (and XLM-R): BERT's tensor layout under the "roberta." prefix of RobertaFor* heads.
// What differs from BERT is in the config (positions start at pad_token_id + 1), not in names.
#include "model/weights.h"

namespace slimformer::model {

TensorNames roberta_tensor_names(const Checkpoint& ckpt) {
  return bert_layout_names(ckpt, prefix_for(ckpt, "roberta.", "embeddings.word_embeddings.weight"));
}

}  // namespace slimformer::model
