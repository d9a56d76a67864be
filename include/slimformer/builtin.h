// Built-in model configurations with seeded random weights: benchmark well-known shapes without
// downloading a checkpoint. Weights follow Hugging Face's init (normal, std 0.02; LayerNorm weight
// 1, bias 0) under the tensor names the architecture's checkpoints use, so the Encoder loads them
// exactly as it loads a model folder.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"

namespace slimformer {

// "bert-base", "distilbert-base", "minilm-l6", "roberta-base".
const std::vector<std::string>& builtin_config_names();

// The EncoderConfig of a built-in configuration; InputError listing the known names otherwise.
EncoderConfig builtin_config(const std::string& name);

// An in-memory checkpoint for `config` (model_type bert, roberta, xlm-roberta or distilbert)
// with weights drawn from `seed`: the same seed gives the same bytes whatever the thread count.
// BERT and RoBERTa get a pooler, as BertModel and RobertaModel have.
std::shared_ptr<const Checkpoint> random_checkpoint(const EncoderConfig& config, uint64_t seed = 0);

// builtin_config(name) filled by random_checkpoint.
std::shared_ptr<const Checkpoint> builtin_checkpoint(const std::string& name, uint64_t seed = 0);

}  // namespace slimformer
