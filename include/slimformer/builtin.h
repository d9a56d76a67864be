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

// "bert-base", "distilbert-base", "minilm-l6", "roberta-base", "longformer-base-4096",
// "bigbird-roberta-base", "reformer-shaped".
const std::vector<std::string>& builtin_config_names();
bool is_builtin_config(const std::string& name);

// A built-in configuration as the config.json its checkpoint would carry (sizes and attention
// settings), which read_encoder_config's rules turn into its EncoderConfig; InputError listing
// the known names for an unknown one (as the functions below).
std::string builtin_config_json(const std::string& name);
// The mechanism it runs unless told otherwise, as spec text; "" means its config's own
// (default_attention). reformer-shaped: LSH.
std::string builtin_default_attention(const std::string& name);
// One line saying what the configuration is modelled on.
std::string builtin_config_about(const std::string& name);

// The EncoderConfig of a built-in configuration.
EncoderConfig builtin_config(const std::string& name);

// An in-memory checkpoint for `config` (any supported model_type) with weights drawn from `seed`:
// the same seed gives the same bytes whatever the thread count. All but DistilBERT get a pooler,
// as BertModel, RobertaModel, LongformerModel and BigBirdModel have.
std::shared_ptr<const Checkpoint> random_checkpoint(const EncoderConfig& config, uint64_t seed = 0);

// builtin_config(name) filled by random_checkpoint.
std::shared_ptr<const Checkpoint> builtin_checkpoint(const std::string& name, uint64_t seed = 0);

}  // namespace slimformer
