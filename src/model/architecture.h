// One record per model family: everything slimformer knows about an architecture (its
// config.json keys, tensor names, default attention, pooler) in the family's own file, so adding
// a family touches that file and the list in architecture.cc.
#pragma once
#include <string>
#include <vector>

#include "io/json_file.h"
#include "model/weights.h"
#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"

namespace slimformer::model {

// The config.json keys holding the shared sizes, in the family's own spelling (DistilBERT's
// "dim", "n_layers", ...). nullptr: the family has no such key.
struct ConfigKeys {
  const char* vocab_size;
  const char* hidden_size;
  const char* num_layers;
  const char* num_heads;
  const char* intermediate_size;
  const char* activation;
  const char* type_vocab_size;   // nullptr: no token_type embeddings
  const char* layer_norm_eps;    // nullptr: fixed at 1e-12
};

struct Architecture {
  const char* model_type;
  ConfigKeys keys;
  int64_t default_pad_token_id;   // Hugging Face's default when config.json omits it
  bool positions_after_padding;   // RoBERTa: position ids start at pad_token_id + 1
  // Whether Hugging Face can load a config with pruned_heads for this family (its attention
  // implements prune_heads); slimformer refuses pruned_heads elsewhere.
  bool prunable_heads;
  // Refusals of settings the shared encoder does not implement (null: none).
  void (*check)(const io::Json& j, const std::string& path) = nullptr;
  // Family-specific fields (how attention was trained) read from / written to config.json.
  void (*read_extra)(const io::Json& j, const std::string& path, EncoderConfig& c) = nullptr;
  void (*write_extra)(const EncoderConfig& c, io::Json& j) = nullptr;
  std::vector<std::string> extra_keys = {};   // the keys read_extra reads
  // Hugging Face names of the checkpoint's tensors (with a head's prefix when saved with one).
  TensorNames (*tensor_names)(const Checkpoint& ckpt) = nullptr;
  // The attention the checkpoint was trained with (null: exact, dense).
  AttentionSpec (*default_attention)(const EncoderConfig& c) = nullptr;
  // The pooler a freshly initialised model of this family has (empty: none).
  const char* pooler_weight = "";
  const char* pooler_bias = "";
  const char* model_class;   // config.json "architectures" for a bare encoder (BertModel, ...)
};

// Every supported family, in the order messages list them.
const std::vector<const Architecture*>& architectures();
// The record for `model_type`, or nullptr.
const Architecture* find_architecture(const std::string& model_type);
// The record for a config's model_type; ModelError listing the supported ones when there is none.
const Architecture& architecture_of(const EncoderConfig& c);
// "bert, roberta, ..." for messages.
std::string supported_list();

// The records (one per family file), and BERT's keys that RoBERTa, BigBird and Longformer share.
extern const ConfigKeys kBertKeys;
extern const Architecture kBert;
extern const Architecture kRoberta;
extern const Architecture kXlmRoberta;
extern const Architecture kDistilBert;
extern const Architecture kBigBird;
extern const Architecture kLongformer;

// Shared config checks, for the records that use them.
void check_absolute_positions(const io::Json& j, const std::string& path);

}  // namespace slimformer::model
