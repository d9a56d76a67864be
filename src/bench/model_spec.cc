// Model specs for `bench --config` and `--models`: "[LABEL=]SOURCE[:KEY=VALUE,...]", resolved to a
// config by editing the source's config.json and reading it with the folder reader, so an
// override is checked exactly as a config.json value would be.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "io/json_text.h"
#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer::bench {
namespace {

// Specs come from the command line: quoted bounded, so a huge one cannot flood the message.
std::string in_quotes(const std::string& text) { return "'" + io::text_excerpt(text, 200) + "'"; }

// Splits at commas outside brackets; InputError for unbalanced brackets.
std::vector<std::string> split_top_level(const std::string& text, const std::string& what) {
  std::vector<std::string> parts(1);
  int depth = 0;
  for (char ch : text) {
    if (ch == '[') ++depth;
    if (ch == ']' && --depth < 0) throw InputError(what + " " + in_quotes(text) + ": ']' without '['");
    if (ch == ',' && depth == 0) {
      parts.emplace_back();
    } else {
      parts.back() += ch;
    }
  }
  if (depth != 0) throw InputError(what + " " + in_quotes(text) + ": '[' without ']'");
  return parts;
}

bool is_folder(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

// Every key some architecture reads, and `attention`: what may continue a spec in a list.
const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> k = {"attention"};
    for (const auto& type : supported_model_types()) {
      for (const auto& key : encoder_config_keys(type)) k.insert(key);
    }
    return k;
  }();
  return keys;
}

std::string strip_brackets(const std::string& value) {
  return value.size() >= 2 && value.front() == '[' && value.back() == ']' ? value.substr(1, value.size() - 2) : value;
}

// "3" -> 3, "[4,8]" -> [4, 8], "true" -> true, "original_full" -> "original_full". A value nested
// deeper than any config.json is refused here: the edited config is dumped, which recurses.
nlohmann::json json_value(const std::string& key, const std::string& value, const std::string& spec) {
  io::check_json_depth(value.data(), value.data() + value.size(), "model " + in_quotes(spec) + ": value of " + key);
  nlohmann::json v = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? nlohmann::json(value) : v;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

}  // namespace

ModelSpec parse_model_spec(const std::string& text) {
  ModelSpec m;
  std::string rest = text;
  // A label is what precedes an '=' that comes before any ':' (a key=value needs a ':' first).
  const size_t eq = text.find('='), colon = text.find(':');
  if (eq != std::string::npos && (colon == std::string::npos || eq < colon) && !is_folder(text)) {
    m.label = text.substr(0, eq);
    rest = text.substr(eq + 1);
    if (m.label.empty()) throw InputError("model " + in_quotes(text) + ": empty label before '='");
  }
  m.text = rest;
  const size_t sep = is_folder(rest) ? std::string::npos : rest.find(':');
  m.source = rest.substr(0, sep);
  if (m.source.empty()) throw InputError("model " + in_quotes(text) + ": no built-in configuration or folder named");
  if (sep != std::string::npos) {
    for (const std::string& item : split_top_level(rest.substr(sep + 1), "model")) {
      const size_t e = item.find('=');
      if (e == std::string::npos || e == 0 || e + 1 == item.size()) {
        throw InputError("model " + in_quotes(text) + ": " + in_quotes(item) + " is not KEY=VALUE");
      }
      const std::string key = item.substr(0, e), value = item.substr(e + 1);
      if (key == "attention") {
        m.attention = strip_brackets(value);
      } else {
        m.overrides.emplace_back(key, value);
      }
    }
  }
  if (m.label.empty()) m.label = m.text;
  return m;
}

std::vector<ModelSpec> parse_model_list(const std::string& text) {
  std::vector<std::string> specs;
  for (const std::string& part : split_top_level(text, "model list")) {
    const size_t eq = part.find('=');
    const bool continues = !specs.empty() && specs.back().find(':') != std::string::npos &&
                           eq != std::string::npos && known_keys().count(part.substr(0, eq)) != 0;
    if (continues) {
      specs.back() += "," + part;
    } else {
      specs.push_back(part);
    }
  }
  std::vector<ModelSpec> out;
  std::set<std::string> labels;
  for (const std::string& s : specs) {
    if (s.empty()) throw InputError("model list " + in_quotes(text) + ": an empty entry (two commas in a row, or one at an end)");
    out.push_back(parse_model_spec(s));
    if (!labels.insert(out.back().label).second) {
      throw InputError("model list " + in_quotes(text) + ": " + in_quotes(out.back().label) +
                       " names two models (give each a label: LABEL=SPEC)");
    }
  }
  return out;
}

BenchModel resolve_model(const ModelSpec& spec) {
  BenchModel m;
  m.spec = spec;
  m.builtin = is_builtin_config(spec.source);
  std::string json_text;
  if (m.builtin) {
    json_text = builtin_config_json(spec.source);
  } else if (is_folder(spec.source)) {
    json_text = read_text_file((std::filesystem::path(spec.source) / "config.json").string());
  } else {
    throw InputError("model " + in_quotes(spec.text) + ": " + in_quotes(spec.source) +
                     " is neither a built-in configuration (" + join(builtin_config_names()) + ") nor a folder");
  }
  const std::string origin = spec.overrides.empty() ? (m.builtin ? "built-in configuration " + in_quotes(spec.source)
                                                                 : spec.source + "/config.json")
                                                    : io::text_excerpt(spec.text, 200);
  if (!spec.overrides.empty()) {
    // The untouched config first: its model_type says which keys may be overridden.
    const EncoderConfig base = encoder_config_from_json_text(json_text, origin);
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(json_text);
    const std::vector<std::string> keys = encoder_config_keys(base.model_type);
    for (const auto& [key, value] : spec.overrides) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        throw InputError("model " + in_quotes(spec.text) + ": unknown key " + in_quotes(key) + " for model_type " +
                         base.model_type + " (known: attention, " + join(keys) + ")");
      }
      j[key] = json_value(key, value, spec.text);
    }
    json_text = j.dump();
  }
  m.config = encoder_config_from_json_text(json_text, origin);
  const std::string attention = !spec.attention.empty() ? spec.attention
                                : m.builtin            ? builtin_default_attention(spec.source)
                                                       : "";
  try {
    if (!attention.empty()) m.attention = AttentionSpec::parse(attention);
    make_attention(m.attention.empty() ? default_attention(m.config) : m.attention, attention_context(m.config));
  } catch (const InputError& e) {
    throw InputError("model " + in_quotes(spec.text) + ": " + e.what());
  }
  return m;
}

std::shared_ptr<const Checkpoint> load_checkpoint(const BenchModel& model, uint64_t seed) {
  if (model.builtin) return random_checkpoint(model.config, seed);
  return std::make_shared<const Checkpoint>(model.spec.source, model.config);
}

}  // namespace slimformer::bench
