// The request bodies of `slimformer serve`, parsed and checked without any socket: pure functions
// from (body, Content-Type) to a request or the HTTP error to answer, so they can be unit-tested
// and fuzzed on their own.
#pragma once
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace slimformer::serve {

// The JSON error every failure answers: {"error": message, "error_type": type}, with `status`.
// error_type follows text-embeddings-inference: "Validation" (413, 422), "Malformed" (400),
// "UnsupportedMediaType" (415), "NotFound" (404), "Unavailable" (503), "Backend" (500).
struct RequestError {
  int status = 400;
  std::string message;
  std::string error_type;
};

// POST /embed (text-embeddings-inference's shape) and POST /v1/embeddings (OpenAI's), both
// parsed into this: the texts, and the options only /embed has.
struct EmbedRequest {
  std::vector<std::string> texts;
  std::optional<bool> normalize;   // unset: the model folder's own choice (as `slimformer embed`)
  bool truncate = false;           // false: a text over the input limit is a 422
  std::string model;               // /v1/embeddings' "model", echoed back; "" if absent
};

// POST /tokenize: {"inputs": str | [str], "add_special_tokens": bool?}.
struct TokenizeRequest {
  std::vector<std::string> texts;
  bool add_special_tokens = true;
};

template <typename T>
using Parsed = std::variant<T, RequestError>;

// {"inputs": "text" | ["text", ...], "normalize": bool?, "truncate": bool?}. 415 unless the
// Content-Type is application/json; 422 for a body that is not UTF-8, a missing or empty
// "inputs", a non-string input or a non-boolean option; 400 for JSON that does not parse or is
// not an object.
Parsed<EmbedRequest> parse_embed_request(const std::string& body, const std::string& content_type);
// {"input": str | [str], "model": str?, "encoding_format": "float"?}: the same checks; token-id
// inputs and encoding formats other than "float" are a 422.
Parsed<EmbedRequest> parse_openai_request(const std::string& body, const std::string& content_type);
Parsed<TokenizeRequest> parse_tokenize_request(const std::string& body, const std::string& content_type);

// True for "application/json", case aside, with or without parameters ("; charset=utf-8").
bool is_json_content_type(const std::string& content_type);

}  // namespace slimformer::serve
