#include "io/json_file.h"

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer::io {

Json parse_json_text(const std::string& text, const std::string& path) {
  try {
    return parse_json_checked(text.data(), text.data() + text.size(), "'" + path + "'");
  } catch (const Json::exception& e) {
    throw FormatError("'" + path + "' is not valid JSON: " + text_excerpt(e.what(), 240));
  }
}

Json read_json_file(const std::string& path) { return parse_json_text(read_text_file(path), path); }

std::string json_type_name(const Json& j) {
  if (j.is_number_integer()) return "integer";
  if (j.is_number_float()) return "number";
  return j.type_name();
}

namespace {
[[noreturn]] void wrong_type(const Json& v, const std::string& key, const std::string& path,
                             const char* expected) {
  throw FormatError("key '" + text_excerpt(key) + "' in '" + path + "' must be " + expected + ", got " +
                    describe_json(v));
}
bool present(const Json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}
}  // namespace

const Json& require_key(const Json& obj, const std::string& key, const std::string& path) {
  if (!obj.is_object()) throw FormatError("'" + path + "' must hold a JSON object, got " + json_type_name(obj));
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    throw FormatError("'" + path + "' lacks the required key '" + text_excerpt(key) + "'");
  }
  return *it;
}

int64_t require_int(const Json& obj, const std::string& key, const std::string& path) {
  const Json& v = require_key(obj, key, path);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) wrong_type(v, key, path, "an integer below 2^63");
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (!v.is_number_integer()) wrong_type(v, key, path, "an integer");
  return v.get<int64_t>();
}

double require_number(const Json& obj, const std::string& key, const std::string& path) {
  const Json& v = require_key(obj, key, path);
  if (!v.is_number()) wrong_type(v, key, path, "a number");
  return v.get<double>();
}

std::string require_string(const Json& obj, const std::string& key, const std::string& path) {
  const Json& v = require_key(obj, key, path);
  if (!v.is_string()) wrong_type(v, key, path, "a string");
  return v.get<std::string>();
}

bool require_bool(const Json& obj, const std::string& key, const std::string& path) {
  const Json& v = require_key(obj, key, path);
  if (!v.is_boolean()) wrong_type(v, key, path, "true or false");
  return v.get<bool>();
}

int64_t optional_int(const Json& obj, const std::string& key, const std::string& path, int64_t fallback) {
  return present(obj, key) ? require_int(obj, key, path) : fallback;
}
double optional_number(const Json& obj, const std::string& key, const std::string& path, double fallback) {
  return present(obj, key) ? require_number(obj, key, path) : fallback;
}
std::string optional_string(const Json& obj, const std::string& key, const std::string& path,
                            const std::string& fallback) {
  return present(obj, key) ? require_string(obj, key, path) : fallback;
}
bool optional_bool(const Json& obj, const std::string& key, const std::string& path, bool fallback) {
  return present(obj, key) ? require_bool(obj, key, path) : fallback;
}

}  // namespace slimformer::io
