#include "serve/responses.h"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace slimformer::serve {
namespace {

void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {   // JSON has no NaN or infinity
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_row(std::string& out, const std::vector<float>& row) {
  out += '[';
  for (size_t j = 0; j < row.size(); ++j) {
    if (j) out += ',';
    append_float(out, row[j]);
  }
  out += ']';
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::string error_json(const RequestError& e) {
  nlohmann::ordered_json j;
  j["error"] = e.message;
  j["error_type"] = e.error_type;
  return dump(j);
}

std::string embeddings_json(const std::vector<std::vector<float>>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    append_row(out, rows[i]);
  }
  return out + "]";
}

std::string openai_embeddings_json(const std::vector<std::vector<float>>& rows, const std::string& model,
                                   int64_t prompt_tokens) {
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    out += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
    append_row(out, rows[i]);
    out += '}';
  }
  const std::string tokens = std::to_string(prompt_tokens);
  return out + "],\"model\":" + dump(model) + ",\"usage\":{\"prompt_tokens\":" + tokens + ",\"total_tokens\":" + tokens +
         "}}";
}

std::string tokenize_json(const std::vector<Encoding>& encodings, const std::vector<std::string>& texts) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (size_t i = 0; i < encodings.size(); ++i) {
    const Encoding& e = encodings[i];
    std::vector<std::array<int64_t, 2>> offsets;
    for (const auto& [begin, end] : char_offsets(e, texts[i])) offsets.push_back({begin, end});
    nlohmann::ordered_json j;
    j["ids"] = e.ids;
    j["tokens"] = e.tokens;
    j["attention_mask"] = e.attention_mask;
    j["offsets"] = offsets;
    all.push_back(std::move(j));
  }
  return dump(all);
}

}  // namespace slimformer::serve
