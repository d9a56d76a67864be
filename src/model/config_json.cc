// config.json <-> EncoderConfig through the family's record (model/architecture.h): which keys
// hold the sizes, whether it has token types, where positions start, and its own fields.
#include <algorithm>
#include <climits>
#include <set>
#include <string>
#include <vector>

#include "io/json_file.h"
#include "model/architecture.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

using io::Json;
using model::Architecture;

Activation parse_activation(const std::string& name, const char* key, const std::string& path) {
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  throw ModelError("'" + path + "': " + key + " '" + io::text_excerpt(name) +
                   "' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_new";
    case Activation::Relu: return "relu";
  }
  return "gelu";
}

// Sizes stay below 2^31, so a product of two (a weight's element count) cannot overflow 64 bits.
constexpr int64_t kMaxSize = INT32_MAX;
// More layers than any encoder has; per-layer settings are expanded when the config is read.
constexpr int64_t kMaxLayers = 10000;

int64_t positive_int(const Json& j, const char* key, const std::string& path, int64_t max = kMaxSize) {
  const int64_t v = io::require_int(j, key, path);
  if (v <= 0 || v > max) {
    throw FormatError("key '" + std::string(key) + "' in '" + path + "' must be positive and at most " + std::to_string(max) +
                      ", got " + std::to_string(v));
  }
  return v;
}

// pruned_heads: {"layer": [head, ...]}, as PretrainedConfig saves it. Each layer keeps at least
// one head (Hugging Face cannot run a layer without any).
void read_pruned_heads(const Json& j, const Architecture& arch, const std::string& path, EncoderConfig& c) {
  if (!j.contains("pruned_heads") || j["pruned_heads"].is_null()) return;
  const Json& p = j["pruned_heads"];
  const std::string where = "key 'pruned_heads' in '" + path + "'";
  if (!p.is_object()) throw FormatError(where + " must be an object of layer -> list of heads, got " + io::json_type_name(p));
  for (const auto& [key, heads] : p.items()) {
    size_t used = 0;
    int64_t layer = -1;
    try {
      layer = std::stoll(key, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != key.size() || key.empty() || layer < 0 || layer >= c.num_layers) {
      throw FormatError(where + ": layer '" + io::text_excerpt(key) + "' is not a layer index in [0, " + std::to_string(c.num_layers) + ")");
    }
    if (!heads.is_array()) throw FormatError(where + ": layer " + key + " must list heads, got " + io::json_type_name(heads));
    std::set<int64_t> removed;
    for (const Json& h : heads) {
      if (!h.is_number_integer() || h.get<int64_t>() < 0 || h.get<int64_t>() >= c.num_heads) {
        throw FormatError(where + ": layer " + key + " lists head " + io::json_excerpt(h) + ", expected an index in [0, " +
                          std::to_string(c.num_heads) + ")");
      }
      removed.insert(h.get<int64_t>());
    }
    if (static_cast<int64_t>(removed.size()) == c.num_heads) {
      throw FormatError(where + ": layer " + key + " removes all " + std::to_string(c.num_heads) +
                        " heads (a layer keeps at least one)");
    }
    if (!removed.empty()) c.pruned_heads[layer] = std::vector<int64_t>(removed.begin(), removed.end());
  }
  if (!c.pruned_heads.empty() && !arch.prunable_heads) {
    throw ModelError("'" + path + "': pruned_heads is not supported for model_type '" + c.model_type +
                     "' (its attention has projections that Hugging Face does not prune with the heads)");
  }
}

void read_intermediate_sizes(const Json& j, const std::string& path, EncoderConfig& c) {
  if (!j.contains("intermediate_sizes") || j["intermediate_sizes"].is_null()) return;
  const Json& s = j["intermediate_sizes"];
  const std::string where = "key 'intermediate_sizes' in '" + path + "'";
  if (!s.is_array() || static_cast<int64_t>(s.size()) != c.num_layers) {
    throw FormatError(where + " must list one FFN width per layer (" + std::to_string(c.num_layers) + " integers)");
  }
  for (const Json& x : s) {
    if (!x.is_number_unsigned() || x.get<uint64_t>() > static_cast<uint64_t>(kMaxSize)) {
      throw FormatError(where + " holds " + io::describe_json(x) + ", expected a width in [0, " + std::to_string(kMaxSize) + "]");
    }
    c.intermediate_sizes.push_back(x.get<int64_t>());
  }
}

const Architecture& architecture_in(const Json& j, const std::string& path) {
  if (!j.contains("model_type") || j["model_type"].is_null()) {
    throw ModelError("'" + path + "' has no model_type (supported: " + model::supported_list() + ")");
  }
  const std::string type = io::require_string(j, "model_type", path);
  const Architecture* arch = model::find_architecture(type);
  if (!arch) {
    throw ModelError("'" + path + "': model_type '" + io::text_excerpt(type) + "' is not supported (supported: " + model::supported_list() + ")");
  }
  return *arch;
}

}  // namespace

LayerShape layer_shape(const EncoderConfig& c, int64_t layer) {
  LayerShape s;
  const auto pruned = c.pruned_heads.find(layer);
  s.heads = c.num_heads - (pruned == c.pruned_heads.end() ? 0 : static_cast<int64_t>(pruned->second.size()));
  s.intermediate = c.intermediate_sizes.empty() ? c.intermediate_size : c.intermediate_sizes.at(static_cast<size_t>(layer));
  return s;
}

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> v;
    for (const Architecture* a : model::architectures()) v.push_back(a->model_type);
    return v;
  }();
  return types;
}

std::vector<std::string> encoder_config_keys(const std::string& model_type) {
  const Architecture* arch = model::find_architecture(model_type);
  if (!arch) return {};
  const model::ConfigKeys& k = arch->keys;
  std::vector<std::string> keys;
  for (const char* key : {k.vocab_size, k.hidden_size, k.num_layers, k.num_heads, k.intermediate_size, k.activation,
                          k.type_vocab_size, k.layer_norm_eps}) {
    if (key) keys.emplace_back(key);
  }
  keys.emplace_back("max_position_embeddings");
  keys.emplace_back("pad_token_id");
  keys.insert(keys.end(), arch->extra_keys.begin(), arch->extra_keys.end());
  return keys;
}

EncoderConfig read_encoder_config(const std::string& path) {
  return encoder_config_from_json_text(read_text_file(path), path);
}

EncoderConfig encoder_config_from_json_text(const std::string& text, const std::string& path) {
  const Json j = io::parse_json_text(text, path);
  if (!j.is_object()) throw FormatError("'" + path + "' must hold a JSON object, got " + io::json_type_name(j));
  const Architecture& arch = architecture_in(j, path);
  const model::ConfigKeys& k = arch.keys;
  if (arch.check) arch.check(j, path);

  EncoderConfig c;
  c.model_type = arch.model_type;
  c.vocab_size = positive_int(j, k.vocab_size, path);
  c.hidden_size = positive_int(j, k.hidden_size, path);
  c.num_layers = positive_int(j, k.num_layers, path, kMaxLayers);
  c.num_heads = positive_int(j, k.num_heads, path);
  c.intermediate_size = positive_int(j, k.intermediate_size, path);
  c.max_position_embeddings = positive_int(j, "max_position_embeddings", path);
  if (c.hidden_size % c.num_heads != 0) {
    throw ModelError("'" + path + "': " + k.hidden_size + " " + std::to_string(c.hidden_size) + " is not divisible by " +
                     k.num_heads + " " + std::to_string(c.num_heads));
  }
  c.type_vocab_size = k.type_vocab_size ? io::optional_int(j, k.type_vocab_size, path, 2) : 0;
  if (c.type_vocab_size < 0 || c.type_vocab_size > kMaxSize) {
    throw FormatError("key '" + std::string(k.type_vocab_size) + "' in '" + path + "' must be in [0, " +
                      std::to_string(kMaxSize) + "], got " + std::to_string(c.type_vocab_size));
  }
  c.pad_token_id = io::optional_int(j, "pad_token_id", path, arch.default_pad_token_id);
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size) {
    throw FormatError("key 'pad_token_id' in '" + path + "' must be in [0, vocab_size), got " + std::to_string(c.pad_token_id));
  }
  c.position_offset = arch.positions_after_padding ? c.pad_token_id + 1 : 0;
  if (c.position_offset >= c.max_position_embeddings) {
    throw FormatError("'" + path + "': max_position_embeddings " + std::to_string(c.max_position_embeddings) +
                      " leaves no positions after the offset " + std::to_string(c.position_offset));
  }
  if (k.layer_norm_eps) {
    const double eps = io::optional_number(j, k.layer_norm_eps, path, 1e-12);
    if (!(eps > 0)) throw FormatError("key 'layer_norm_eps' in '" + path + "' must be positive");
    c.layer_norm_eps = static_cast<float>(eps);
  }
  c.activation = parse_activation(io::optional_string(j, k.activation, path, "gelu"), k.activation, path);
  if (arch.read_extra) arch.read_extra(j, path, c);
  read_pruned_heads(j, arch, path, c);
  read_intermediate_sizes(j, path, c);
  return c;
}

std::string encoder_config_json(const EncoderConfig& c, const std::string& base) {
  const Architecture& arch = model::architecture_of(c);
  const model::ConfigKeys& k = arch.keys;
  Json j = base.empty() ? Json::object() : io::parse_json_text(base, "the base config.json");
  if (!j.is_object()) j = Json::object();
  if (base.empty()) j["architectures"] = Json::array({arch.model_class});
  j["model_type"] = c.model_type;
  j[k.vocab_size] = c.vocab_size;
  j[k.hidden_size] = c.hidden_size;
  j[k.num_layers] = c.num_layers;
  j[k.num_heads] = c.num_heads;
  j[k.intermediate_size] = c.intermediate_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["pad_token_id"] = c.pad_token_id;
  if (k.type_vocab_size) j[k.type_vocab_size] = c.type_vocab_size;
  if (k.layer_norm_eps) j[k.layer_norm_eps] = static_cast<double>(c.layer_norm_eps);
  // The base's spelling survives when it means the same (gelu_pytorch_tanh stays itself).
  const bool same_activation = j.contains(k.activation) && j[k.activation].is_string() &&
                               j[k.activation].get<std::string>() != "" &&
                               [&] {
                                 try {
                                   return parse_activation(j[k.activation].get<std::string>(), k.activation, "") ==
                                          c.activation;
                                 } catch (const Error&) {
                                   return false;
                                 }
                               }();
  if (!same_activation) j[k.activation] = activation_name(c.activation);
  if (arch.write_extra) arch.write_extra(c, j);
  j.erase("pruned_heads");
  if (!c.pruned_heads.empty()) {
    Json p = Json::object();
    for (const auto& [layer, heads] : c.pruned_heads) p[std::to_string(layer)] = heads;
    j["pruned_heads"] = p;
  }
  j.erase("intermediate_sizes");
  if (!c.intermediate_sizes.empty()) j["intermediate_sizes"] = c.intermediate_sizes;
  return j.dump(2) + "\n";
}

}  // namespace slimformer
