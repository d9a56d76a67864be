// Longformer: BERT's config keys and RoBERTa's tensor layout (under the "longformer." prefix of
// LongformerFor* heads) plus each layer's separate projections for global attention
// (query_global, key_global, value_global). attention_window (full width per layer, or one
// number for all) becomes sliding:window=[...] + global (docs/attention/global.md).
#include <climits>

#include "model/architecture.h"
#include "slimformer/error.h"

namespace slimformer::model {
namespace {

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

void read_longformer(const io::Json& j, const std::string& path, EncoderConfig& c) {
  if (!j.contains("attention_window")) {
    c.attention_window.assign(static_cast<size_t>(c.num_layers), 512);   // LongformerConfig's default
    return;
  }
  const io::Json& w = j["attention_window"];
  if (w.is_number_integer()) {
    c.attention_window.assign(static_cast<size_t>(c.num_layers), w.get<int64_t>());
  } else if (w.is_array()) {
    for (const io::Json& x : w) {
      if (!x.is_number_integer()) {
        throw FormatError("key 'attention_window' in '" + path + "' must hold integers, got " + io::json_type_name(x));
      }
      c.attention_window.push_back(x.get<int64_t>());
    }
    if (static_cast<int64_t>(c.attention_window.size()) != c.num_layers) {
      throw FormatError("key 'attention_window' in '" + path + "' has " + std::to_string(c.attention_window.size()) +
                        " values for " + std::to_string(c.num_layers) + " layers (expected one per layer)");
    }
  } else {
    throw FormatError("key 'attention_window' in '" + path + "' must be an integer or a list of integers, got " +
                      io::json_type_name(w));
  }
  for (int64_t x : c.attention_window) {
    if (x <= 0 || x > INT32_MAX) {
      throw FormatError("key 'attention_window' in '" + path + "' must be positive and at most " +
                        std::to_string(INT32_MAX) + ", got " + std::to_string(x));
    }
  }
}

void write_longformer(const EncoderConfig& c, io::Json& j) { j["attention_window"] = c.attention_window; }

// Global tokens only where the input marks them, as LongformerModel does (no first token).
AttentionSpec longformer_attention(const EncoderConfig& c) {
  AttentionSpec spec;
  if (c.attention_window.empty()) {
    spec.parts.push_back(AttentionPart{"exact", {}});
    return spec;
  }
  AttentionPart sliding{"sliding", {}};
  std::string list;
  for (int64_t w : c.attention_window) list += (list.empty() ? "" : ",") + std::to_string(w);
  sliding.params.emplace_back("window", "[" + list + "]");
  spec.parts.push_back(sliding);
  spec.parts.push_back(AttentionPart{"global", {{"first", "0"}}});
  return spec;
}

}  // namespace

const Architecture kLongformer = {
    .model_type = "longformer",
    .keys = kBertKeys,
    .default_pad_token_id = 1,
    .positions_after_padding = true,
    .prunable_heads = false,
    .check = check_absolute_positions,
    .read_extra = read_longformer,
    .write_extra = write_longformer,
    .extra_keys = {"attention_window"},
    .tensor_names = longformer_tensor_names,
    .default_attention = longformer_attention,
    .pooler_weight = "pooler.dense.weight",
    .pooler_bias = "pooler.dense.bias",
    .model_class = "LongformerModel",
};

}  // namespace slimformer::model
