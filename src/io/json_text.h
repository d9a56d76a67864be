// Guards for JSON read from files and flags: a nesting limit checked by a byte scan before parsing
// (nlohmann parses and frees deep documents without recursion, but copying, comparing or dumping
// one recurses once per level), and bounded excerpts of values and strings for error messages, so
// that no message grows with its input or spans lines.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace slimformer::io {

// Deeper than any model file nests (tokenizer.json: under 10 levels); far below what recursion survives.
constexpr size_t kMaxJsonDepth = 512;
// Characters of a value or string an error message quotes.
constexpr size_t kExcerptChars = 60;

// FormatError naming `what` when [begin, end) opens more than kMaxJsonDepth arrays/objects at once.
// Brackets inside strings do not count. Malformed text passes here and fails in the parser.
void check_json_depth(const char* begin, const char* end, const std::string& what);

// Parses [begin, end) after check_json_depth, refusing an object that repeats a key (the parser
// would keep the last value silently). Syntax errors throw nlohmann's parse_error, for the
// caller to word; depth and repeated keys throw FormatError naming `what`.
nlohmann::json parse_json_checked(const char* begin, const char* end, const std::string& what);

// JSON text of `v`, cut to about `limit` characters ("..." when cut), built without recursion.
std::string json_excerpt(const nlohmann::json& v, size_t limit = kExcerptChars);
// "integer 3", "string \"abc\"", "array [[[[...": a value's type and excerpt for a message.
std::string describe_json(const nlohmann::json& v);
// `text` with control characters escaped (one line), cut to about `limit` characters.
std::string text_excerpt(const std::string& text, size_t limit = kExcerptChars);

}  // namespace slimformer::io
