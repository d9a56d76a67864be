// read_sentence_config: what a sentence-transformers folder says about pooling, Dense projections,
// normalizing and the sequence limit. A folder without modules.json is a plain Hugging Face model
// (mean pooling).
#include <filesystem>
#include <string>

#include "io/json_file.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

using io::Json;
namespace fs = std::filesystem;

// The last dotted component: both "sentence_transformers.models.Pooling" and
// "sentence_transformers.sentence_transformer.modules.pooling.Pooling" name a Pooling module.
std::string class_name(const std::string& type) {
  const size_t dot = type.rfind('.');
  return dot == std::string::npos ? type : type.substr(dot + 1);
}

PoolingMode mode_from_name(const std::string& name, const std::string& path) {
  if (name == "mean" || name == "mean_tokens") return PoolingMode::Mean;
  if (name == "cls" || name == "cls_token") return PoolingMode::Cls;
  if (name == "max" || name == "max_tokens") return PoolingMode::Max;
  if (name == "mean_sqrt_len_tokens" || name == "mean_sqrt_len") return PoolingMode::MeanSqrtLen;
  if (name == "weightedmean" || name == "weightedmean_tokens") return PoolingMode::WeightedMean;
  if (name == "lasttoken") return PoolingMode::LastToken;
  throw ModelError("'" + path + "': pooling mode '" + io::text_excerpt(name) +
                   "' is not supported (supported: mean, cls, max, mean_sqrt_len_tokens, weightedmean, lasttoken)");
}

// Newer files say "pooling_mode": "mean"; older ones set one pooling_mode_*_tokens flag.
PoolingMode read_pooling(const std::string& path) {
  const Json j = io::read_json_file(path);
  if (!j.is_object()) throw FormatError("'" + path + "' must hold a JSON object");
  if (j.contains("pooling_mode") && !j["pooling_mode"].is_null()) {
    return mode_from_name(io::require_string(j, "pooling_mode", path), path);
  }
  static const std::pair<const char*, const char*> flags[] = {
      {"pooling_mode_cls_token", "cls"},           {"pooling_mode_mean_tokens", "mean"},
      {"pooling_mode_max_tokens", "max"},          {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"},
      {"pooling_mode_weightedmean_tokens", "weightedmean"}, {"pooling_mode_lasttoken", "lasttoken"}};
  std::string chosen;
  int count = 0;
  for (const auto& [key, mode] : flags) {
    if (io::optional_bool(j, key, path, false)) {
      chosen = mode;
      ++count;
    }
  }
  if (count != 1) {
    throw ModelError("'" + path + "': exactly one pooling_mode_* flag must be true, found " + std::to_string(count) +
                     " (concatenated poolings are not supported)");
  }
  return mode_from_name(chosen, path);
}

// sentence-transformers stores the activation as the torch class's full name; the module is
// built with the class's defaults (GELU: the erf form).
DenseActivation activation_from_name(const std::string& name, const std::string& path) {
  static const std::pair<const char*, DenseActivation> known[] = {
      {"Identity", DenseActivation::Identity}, {"Tanh", DenseActivation::Tanh}, {"ReLU", DenseActivation::Relu},
      {"Sigmoid", DenseActivation::Sigmoid},   {"GELU", DenseActivation::Gelu}};
  if (name.rfind("torch.nn.", 0) == 0) {
    for (const auto& [cls, activation] : known) {
      if (class_name(name) == cls) return activation;
    }
  }
  throw ModelError("'" + path + "': activation_function '" + name +
                   "' is not supported (supported: torch.nn.modules.linear.Identity and "
                   "torch.nn.modules.activation.Tanh, ReLU, Sigmoid, GELU)");
}

DenseModuleConfig read_dense(const fs::path& module_dir) {
  const std::string path = (module_dir / "config.json").string();
  const Json j = io::read_json_file(path);
  if (!j.is_object()) throw FormatError("'" + path + "' must hold a JSON object");
  DenseModuleConfig d;
  d.dir = module_dir.string();
  d.in_features = io::require_int(j, "in_features", path);
  d.out_features = io::require_int(j, "out_features", path);
  if (d.in_features < 1 || d.out_features < 1) {
    throw FormatError("'" + path + "': in_features and out_features must be positive, got " +
                      std::to_string(d.in_features) + " and " + std::to_string(d.out_features));
  }
  d.bias = io::optional_bool(j, "bias", path, true);
  d.activation = activation_from_name(
      io::optional_string(j, "activation_function", path, "torch.nn.modules.activation.Tanh"), path);
  return d;
}

// Modules run in order on one vector, so a Dense needs the pooled vector before it, and a
// Normalize after it (SentenceEncoder normalizes last).
void add_dense(const std::string& modules_path, const fs::path& module_dir, bool pooled, SentenceConfig* c) {
  if (!pooled) {
    throw ModelError("'" + modules_path + "': Dense module '" + module_dir.string() +
                     "' comes before the Pooling module (a Dense projects the pooled vector)");
  }
  if (c->normalize) {
    throw ModelError("'" + modules_path + "': Dense module '" + module_dir.string() +
                     "' comes after Normalize (supported: Pooling, then Dense modules, then Normalize)");
  }
  DenseModuleConfig d = read_dense(module_dir);
  if (!c->dense.empty() && d.in_features != c->dense.back().out_features) {
    throw ModelError("'" + (module_dir / "config.json").string() + "': in_features " + std::to_string(d.in_features) +
                     " differs from the previous Dense module's out_features " +
                     std::to_string(c->dense.back().out_features));
  }
  c->dense.push_back(std::move(d));
}

void read_modules(const std::string& dir, SentenceConfig* c) {
  const std::string path = (fs::path(dir) / "modules.json").string();
  const Json modules = io::read_json_file(path);
  if (!modules.is_array()) throw FormatError("'" + path + "' must hold a JSON array of modules");
  bool pooled = false;
  for (const Json& m : modules) {
    const std::string type = io::require_string(m, "type", path);
    const std::string name = class_name(type);
    const fs::path module_dir = fs::path(dir) / io::optional_string(m, "path", path, "");
    if (name == "Transformer") continue;
    if (name == "Pooling") {
      c->pooling = read_pooling((module_dir / "config.json").string());
      pooled = true;
    } else if (name == "Dense") {
      add_dense(path, module_dir, pooled, c);
    } else if (name == "Normalize") {
      c->normalize = true;
    } else {
      throw ModelError("'" + path + "': module type '" + io::text_excerpt(type) +
                       "' is not supported (supported: Transformer, Pooling, Dense, Normalize)");
    }
  }
}

}  // namespace

SentenceConfig read_sentence_config(const std::string& model_dir) {
  SentenceConfig c;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) throw IoError("model folder '" + model_dir + "' does not exist");
  if (!fs::exists(fs::path(model_dir) / "modules.json", ec)) return c;
  c.is_sentence_transformers = true;
  read_modules(model_dir, &c);
  const fs::path st_config = fs::path(model_dir) / "sentence_bert_config.json";
  if (fs::exists(st_config, ec)) {
    const std::string path = st_config.string();
    const Json j = io::read_json_file(path);
    if (!j.is_object()) throw FormatError("'" + path + "' must hold a JSON object");
    c.max_seq_length = io::optional_int(j, "max_seq_length", path, 0);
    if (c.max_seq_length < 0) throw FormatError("key 'max_seq_length' in '" + path + "' must not be negative");
  }
  return c;
}

}  // namespace slimformer
