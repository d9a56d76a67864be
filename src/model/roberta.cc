// RoBERTa and XLM-R: BERT's config keys and tensor layout under the "roberta." prefix of
// RobertaFor* heads; what differs is in the config (positions start at pad_token_id + 1).
#include "model/architecture.h"

namespace slimformer::model {
namespace {

TensorNames roberta_tensor_names(const Checkpoint& ckpt) {
  return bert_layout_names(ckpt, prefix_for(ckpt, "roberta.", "embeddings.word_embeddings.weight"));
}

}  // namespace

const Architecture kRoberta = {
    .model_type = "roberta",
    .keys = kBertKeys,
    .default_pad_token_id = 1,
    .positions_after_padding = true,
    .prunable_heads = true,
    .check = check_absolute_positions,
    .tensor_names = roberta_tensor_names,
    .pooler_weight = "pooler.dense.weight",
    .pooler_bias = "pooler.dense.bias",
    .model_class = "RobertaModel",
};

const Architecture kXlmRoberta = {
    .model_type = "xlm-roberta",
    .keys = kBertKeys,
    .default_pad_token_id = 1,
    .positions_after_padding = true,
    .prunable_heads = true,
    .check = check_absolute_positions,
    .tensor_names = roberta_tensor_names,
    .pooler_weight = "pooler.dense.weight",
    .pooler_bias = "pooler.dense.bias",
    .model_class = "XLMRobertaModel",
};

}  // namespace slimformer::model
