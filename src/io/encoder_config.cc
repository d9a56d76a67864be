// config.json -> EncoderConfig. Each architecture is one row of kArchitectures: which keys hold
// the sizes, whether it has token types, and where positions start. Adding a model type that
// fits the shared encoder is one more row.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "io/json_file.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

using io::Json;

struct Architecture {
  const char* model_type;
  const char* vocab_size;
  const char* hidden_size;
  const char* num_layers;
  const char* num_heads;
  const char* intermediate_size;
  const char* activation;
  const char* type_vocab_size;     // nullptr: no token_type embeddings
  const char* layer_norm_eps;      // nullptr: fixed at 1e-12
  int64_t default_pad_token_id;    // Hugging Face's default when config.json omits it
  bool positions_after_padding;    // RoBERTa: position ids start at pad_token_id + 1
  void (*check)(const Json& j, const std::string& path);  // architecture-specific refusals
  // Architecture-specific fields (how attention was trained); nullptr: none.
  void (*read_extra)(const Json& j, const std::string& path, EncoderConfig& c) = nullptr;
  const char* extra_keys = "";     // the keys read_extra reads, comma-separated
};

void check_absolute_positions(const Json& j, const std::string& path) {
  const std::string kind = io::optional_string(j, "position_embedding_type", path, "absolute");
  if (kind != "absolute") {
    throw ModelError("'" + path + "': position_embedding_type '" + kind + "' is not supported (only 'absolute')");
  }
}

void check_distilbert(const Json& j, const std::string& path) {
  if (io::optional_bool(j, "sinusoidal_pos_embds", path, false)) {
    throw ModelError("'" + path + "': sinusoidal_pos_embds true is not supported (only learned position embeddings)");
  }
}

// BigBird: its attention (block_sparse with block_size and num_random_blocks, or original_full)
// picks the default mechanism (default_attention). Shapes it does not share with BERT are refused.
void check_big_bird(const Json& j, const std::string& path) {
  check_absolute_positions(j, path);
  if (!io::optional_bool(j, "use_bias", path, true)) {
    throw ModelError("'" + path + "': use_bias false is not supported (query, key and value need biases)");
  }
  if (io::optional_bool(j, "is_decoder", path, false)) {
    throw ModelError("'" + path + "': is_decoder true is not supported (encoders only)");
  }
}

void read_big_bird(const Json& j, const std::string& path, EncoderConfig& c) {
  c.attention_type = io::optional_string(j, "attention_type", path, "block_sparse");
  if (c.attention_type != "block_sparse" && c.attention_type != "original_full") {
    throw ModelError("'" + path + "': attention_type '" + c.attention_type +
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

// Longformer: attention_window is the full window width (both sides) per layer, or one number
// for every layer; default_attention() turns it into sliding:window=[...] + global.
void read_longformer(const Json& j, const std::string& path, EncoderConfig& c) {
  if (!j.contains("attention_window")) {
    c.attention_window.assign(static_cast<size_t>(c.num_layers), 512);   // LongformerConfig's default
    return;
  }
  const Json& w = j["attention_window"];
  if (w.is_number_integer()) {
    c.attention_window.assign(static_cast<size_t>(c.num_layers), w.get<int64_t>());
  } else if (w.is_array()) {
    for (const Json& x : w) {
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
    if (x <= 0) throw FormatError("key 'attention_window' in '" + path + "' must be positive, got " + std::to_string(x));
  }
}

const Architecture kArchitectures[] = {
    {"bert", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
     "hidden_act", "type_vocab_size", "layer_norm_eps", 0, false, check_absolute_positions},
    {"roberta", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
     "hidden_act", "type_vocab_size", "layer_norm_eps", 1, true, check_absolute_positions},
    {"xlm-roberta", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
     "hidden_act", "type_vocab_size", "layer_norm_eps", 1, true, check_absolute_positions},
    {"distilbert", "vocab_size", "dim", "n_layers", "n_heads", "hidden_dim", "activation", nullptr, nullptr, 0,
     false, check_distilbert},
    {"big_bird", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
     "hidden_act", "type_vocab_size", "layer_norm_eps", 0, false, check_big_bird, read_big_bird,
     "attention_type,block_size,num_random_blocks,rescale_embeddings"},
    {"longformer", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
     "hidden_act", "type_vocab_size", "layer_norm_eps", 1, true, check_absolute_positions, read_longformer,
     "attention_window"},
};

std::string supported_list() {
  std::string s;
  for (const auto& t : supported_model_types()) {
    if (!s.empty()) s += ", ";
    s += t;
  }
  return s;
}

Activation parse_activation(const std::string& name, const char* key, const std::string& path) {
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  throw ModelError("'" + path + "': " + key + " '" + name +
                   "' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

int64_t positive_int(const Json& j, const char* key, const std::string& path) {
  const int64_t v = io::require_int(j, key, path);
  if (v <= 0) throw FormatError("key '" + std::string(key) + "' in '" + path + "' must be positive, got " + std::to_string(v));
  return v;
}

const Architecture* find_architecture(const std::string& type) {
  for (const auto& a : kArchitectures) {
    if (type == a.model_type) return &a;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> v;
    for (const auto& a : kArchitectures) v.push_back(a.model_type);
    return v;
  }();
  return types;
}

std::vector<std::string> encoder_config_keys(const std::string& model_type) {
  const Architecture* arch = find_architecture(model_type);
  if (!arch) return {};
  std::vector<std::string> keys;
  for (const char* k : {arch->vocab_size, arch->hidden_size, arch->num_layers, arch->num_heads,
                        arch->intermediate_size, arch->activation, arch->type_vocab_size, arch->layer_norm_eps}) {
    if (k) keys.emplace_back(k);
  }
  keys.emplace_back("max_position_embeddings");
  keys.emplace_back("pad_token_id");
  const std::string extra = arch->extra_keys;
  for (size_t start = 0; start < extra.size();) {
    const size_t comma = std::min(extra.find(',', start), extra.size());
    keys.push_back(extra.substr(start, comma - start));
    start = comma + 1;
  }
  return keys;
}

EncoderConfig read_encoder_config(const std::string& path) {
  return encoder_config_from_json_text(read_text_file(path), path);
}

EncoderConfig encoder_config_from_json_text(const std::string& text, const std::string& path) {
  const Json j = io::parse_json_text(text, path);
  if (!j.is_object()) throw FormatError("'" + path + "' must hold a JSON object, got " + io::json_type_name(j));
  if (!j.contains("model_type") || j["model_type"].is_null()) {
    throw ModelError("'" + path + "' has no model_type (supported: " + supported_list() + ")");
  }
  const std::string type = io::require_string(j, "model_type", path);
  const Architecture* arch = find_architecture(type);
  if (!arch) throw ModelError("'" + path + "': model_type '" + type + "' is not supported (supported: " + supported_list() + ")");
  if (arch->check) arch->check(j, path);

  EncoderConfig c;
  c.model_type = type;
  c.vocab_size = positive_int(j, arch->vocab_size, path);
  c.hidden_size = positive_int(j, arch->hidden_size, path);
  c.num_layers = positive_int(j, arch->num_layers, path);
  c.num_heads = positive_int(j, arch->num_heads, path);
  c.intermediate_size = positive_int(j, arch->intermediate_size, path);
  c.max_position_embeddings = positive_int(j, "max_position_embeddings", path);
  if (c.hidden_size % c.num_heads != 0) {
    throw ModelError("'" + path + "': " + arch->hidden_size + " " + std::to_string(c.hidden_size) +
                     " is not divisible by " + arch->num_heads + " " + std::to_string(c.num_heads));
  }
  c.type_vocab_size = arch->type_vocab_size ? io::optional_int(j, arch->type_vocab_size, path, 2) : 0;
  if (c.type_vocab_size < 0) throw FormatError("key '" + std::string(arch->type_vocab_size) + "' in '" + path + "' is negative");
  c.pad_token_id = io::optional_int(j, "pad_token_id", path, arch->default_pad_token_id);
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size) {
    throw FormatError("key 'pad_token_id' in '" + path + "' must be in [0, vocab_size), got " + std::to_string(c.pad_token_id));
  }
  c.position_offset = arch->positions_after_padding ? c.pad_token_id + 1 : 0;
  if (c.position_offset >= c.max_position_embeddings) {
    throw FormatError("'" + path + "': max_position_embeddings " + std::to_string(c.max_position_embeddings) +
                      " leaves no positions after the offset " + std::to_string(c.position_offset));
  }
  if (arch->layer_norm_eps) {
    const double eps = io::optional_number(j, arch->layer_norm_eps, path, 1e-12);
    if (!(eps > 0)) throw FormatError("key 'layer_norm_eps' in '" + path + "' must be positive");
    c.layer_norm_eps = static_cast<float>(eps);
  }
  c.activation = parse_activation(io::optional_string(j, arch->activation, path, "gelu"), arch->activation, path);
  if (arch->read_extra) arch->read_extra(j, path, c);
  return c;
}

}  // namespace slimformer
