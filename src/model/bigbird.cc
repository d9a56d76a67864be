// BigBird: BERT's config keys and tensor layout (under the "bert." prefix of BigBirdFor* heads),
// except the pooler, a bare Linear ("pooler.weight", not "pooler.dense.weight"). Its attention
// (attention_type, block_size, num_random_blocks) is in the config and picks the default
// mechanism: block_sparse -> bigbird.
#include <cmath>

#include "model/architecture.h"
#include "slimformer/error.h"

namespace slimformer::model {
namespace {

TensorNames bigbird_tensor_names(const Checkpoint& ckpt) {
  const std::string p = prefix_for(ckpt, "bert.", "embeddings.word_embeddings.weight");
  TensorNames n = bert_layout_names(ckpt, p);
  if (ckpt.contains(p + "pooler.weight")) {
    n.pooler_w = p + "pooler.weight";
    n.pooler_b = p + "pooler.bias";
  }
  return n;
}

// Shapes BigBird does not share with BERT are refused.
void check_big_bird(const io::Json& j, const std::string& path) {
  check_absolute_positions(j, path);
  if (!io::optional_bool(j, "use_bias", path, true)) {
    throw ModelError("'" + path + "': use_bias false is not supported (query, key and value need biases)");
  }
  if (io::optional_bool(j, "is_decoder", path, false)) {
    throw ModelError("'" + path + "': is_decoder true is not supported (encoders only)");
  }
}

void read_big_bird(const io::Json& j, const std::string& path, EncoderConfig& c) {
  c.attention_type = io::optional_string(j, "attention_type", path, "block_sparse");
  if (c.attention_type != "block_sparse" && c.attention_type != "original_full") {
    throw ModelError("'" + path + "': attention_type '" + io::text_excerpt(c.attention_type) +
                     "' is not supported (expected block_sparse or original_full)");
  }
  // Hugging Face's BigBirdConfig defaults (config.json normally spells them all out).
  if (!j.contains("hidden_act")) c.activation = Activation::GeluTanh;
  if (io::optional_bool(j, "rescale_embeddings", path, false)) {
    c.word_embedding_scale = static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size)));
  }
  c.block_size = io::optional_int(j, "block_size", path, 64);
  c.num_random_blocks = io::optional_int(j, "num_random_blocks", path, 3);
  if (c.block_size <= 0) throw FormatError("key 'block_size' in '" + path + "' must be positive, got " + std::to_string(c.block_size));
  if (c.num_random_blocks < 0) {
    throw FormatError("key 'num_random_blocks' in '" + path + "' must be >= 0, got " + std::to_string(c.num_random_blocks));
  }
}

void write_big_bird(const EncoderConfig& c, io::Json& j) {
  j["attention_type"] = c.attention_type;
  j["block_size"] = c.block_size;
  j["num_random_blocks"] = c.num_random_blocks;
  j["rescale_embeddings"] = c.word_embedding_scale != 1.0f;
}

// random=first_block: what Hugging Face's BigBird computes in eval mode (docs/attention/bigbird.md).
AttentionSpec big_bird_attention(const EncoderConfig& c) {
  AttentionSpec spec;
  if (c.attention_type == "block_sparse") {
    spec.parts.push_back(AttentionPart{"bigbird",
                                       {{"block_size", std::to_string(c.block_size)},
                                        {"num_random_blocks", std::to_string(c.num_random_blocks)},
                                        {"random", "first_block"}}});
  } else {
    spec.parts.push_back(AttentionPart{"exact", {}});
  }
  return spec;
}

}  // namespace

const Architecture kBigBird = {
    .model_type = "big_bird",
    .keys = kBertKeys,
    .default_pad_token_id = 0,
    .positions_after_padding = false,
    .prunable_heads = false,
    .check = check_big_bird,
    .read_extra = read_big_bird,
    .write_extra = write_big_bird,
    .extra_keys = {"attention_type", "block_size", "num_random_blocks", "rescale_embeddings"},
    .tensor_names = bigbird_tensor_names,
    .default_attention = big_bird_attention,
    .pooler_weight = "pooler.weight",
    .pooler_bias = "pooler.bias",
    .model_class = "BigBirdModel",
};

}  // namespace slimformer::model
