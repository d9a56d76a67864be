// Small helpers for the JSON files of a model folder: parse with the path in every error, and
// typed look-ups whose errors name the key and the file.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "io/json_text.h"

namespace slimformer::io {

using Json = nlohmann::json;

// Reads and parses `path`: IoError if unreadable, FormatError if not JSON or nested deeper than
// kMaxJsonDepth.
Json read_json_file(const std::string& path);
// Parses `text` (the contents of `path`, used in the error message).
Json parse_json_text(const std::string& text, const std::string& path);

// JSON type name for messages: "string", "integer", "array", ...
std::string json_type_name(const Json& j);

// The value of `key` in object `obj` (read from `path`). FormatError when absent or mistyped.
const Json& require_key(const Json& obj, const std::string& key, const std::string& path);
int64_t require_int(const Json& obj, const std::string& key, const std::string& path);
double require_number(const Json& obj, const std::string& key, const std::string& path);
std::string require_string(const Json& obj, const std::string& key, const std::string& path);
bool require_bool(const Json& obj, const std::string& key, const std::string& path);

// Same, but `fallback` when the key is absent or null.
int64_t optional_int(const Json& obj, const std::string& key, const std::string& path, int64_t fallback);
double optional_number(const Json& obj, const std::string& key, const std::string& path, double fallback);
std::string optional_string(const Json& obj, const std::string& key, const std::string& path,
                            const std::string& fallback);
bool optional_bool(const Json& obj, const std::string& key, const std::string& path, bool fallback);

}  // namespace slimformer::io
