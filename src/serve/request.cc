#include "serve/request.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "slimformer/error.h"
#include "slimformer/tokenizer.h"

namespace slimformer::serve {
namespace {

using json = nlohmann::json;

RequestError validation(const std::string& message) { return {422, message, "Validation"}; }

// The checks every endpoint shares before its own fields: media type, UTF-8, JSON, an object.
Parsed<json> parse_object(const std::string& body, const std::string& content_type) {
  if (!is_json_content_type(content_type)) {
    return RequestError{415, "Content-Type must be application/json, got '" + content_type + "'", "UnsupportedMediaType"};
  }
  try {
    check_utf8(body, "the request body");
  } catch (const Error& e) {
    return validation(e.what());
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return RequestError{400, "the request body is not valid JSON", "Malformed"};
  if (!j.is_object()) return RequestError{400, "the request body must be a JSON object", "Malformed"};
  return j;
}

// `field` as a string or a non-empty list of strings.
Parsed<std::vector<std::string>> texts_of(const json& j, const std::string& field) {
  const auto it = j.find(field);
  if (it == j.end()) return validation("'" + field + "' is missing (expected a string or a list of strings)");
  if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  if (!it->is_array()) {
    return validation("'" + field + "' must be a string or a list of strings, got " + std::string(it->type_name()));
  }
  if (it->empty()) return validation("'" + field + "' is an empty list (expected at least one text)");
  std::vector<std::string> texts;
  texts.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    if (!t.is_string()) {
      return validation("'" + field + "'[" + std::to_string(i) + "] must be a string, got " + std::string(t.type_name()));
    }
    texts.push_back(t.get<std::string>());
  }
  return texts;
}

// An optional boolean field: nullopt if absent or null, an error if another type.
Parsed<std::optional<bool>> optional_bool(const json& j, const std::string& field) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::optional<bool>{};
  if (!it->is_boolean()) return validation("'" + field + "' must be true or false, got " + std::string(it->type_name()));
  return std::optional<bool>{it->get<bool>()};
}

}  // namespace

bool is_json_content_type(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  media.erase(std::remove_if(media.begin(), media.end(), [](unsigned char c) { return std::isspace(c); }), media.end());
  std::transform(media.begin(), media.end(), media.begin(), [](unsigned char c) { return std::tolower(c); });
  return media == "application/json";
}

Parsed<EmbedRequest> parse_embed_request(const std::string& body, const std::string& content_type) {
  auto obj = parse_object(body, content_type);
  if (auto* e = std::get_if<RequestError>(&obj)) return *e;
  const json& j = std::get<json>(obj);
  EmbedRequest r;
  auto texts = texts_of(j, "inputs");
  if (auto* e = std::get_if<RequestError>(&texts)) return *e;
  r.texts = std::move(std::get<std::vector<std::string>>(texts));
  auto normalize = optional_bool(j, "normalize");
  if (auto* e = std::get_if<RequestError>(&normalize)) return *e;
  r.normalize = std::get<std::optional<bool>>(normalize);
  auto truncate = optional_bool(j, "truncate");
  if (auto* e = std::get_if<RequestError>(&truncate)) return *e;
  r.truncate = std::get<std::optional<bool>>(truncate).value_or(false);
  return r;
}

Parsed<EmbedRequest> parse_openai_request(const std::string& body, const std::string& content_type) {
  auto obj = parse_object(body, content_type);
  if (auto* e = std::get_if<RequestError>(&obj)) return *e;
  const json& j = std::get<json>(obj);
  EmbedRequest r;
  auto texts = texts_of(j, "input");   // token-id lists fail here: their items are not strings
  if (auto* e = std::get_if<RequestError>(&texts)) return *e;
  r.texts = std::move(std::get<std::vector<std::string>>(texts));
  if (const auto m = j.find("model"); m != j.end() && !m->is_null()) {
    if (!m->is_string()) return validation("'model' must be a string, got " + std::string(m->type_name()));
    r.model = m->get<std::string>();
  }
  if (const auto f = j.find("encoding_format"); f != j.end() && !f->is_null() && *f != "float") {
    return validation("'encoding_format' must be \"float\" (the only one served)");
  }
  return r;
}

Parsed<TokenizeRequest> parse_tokenize_request(const std::string& body, const std::string& content_type) {
  auto obj = parse_object(body, content_type);
  if (auto* e = std::get_if<RequestError>(&obj)) return *e;
  const json& j = std::get<json>(obj);
  TokenizeRequest r;
  auto texts = texts_of(j, "inputs");
  if (auto* e = std::get_if<RequestError>(&texts)) return *e;
  r.texts = std::move(std::get<std::vector<std::string>>(texts));
  auto special = optional_bool(j, "add_special_tokens");
  if (auto* e = std::get_if<RequestError>(&special)) return *e;
  r.add_special_tokens = std::get<std::optional<bool>>(special).value_or(true);
  return r;
}

}  // namespace slimformer::serve
