// Text as a sequence of code points, each carrying the byte range of the input it came from, so
// that normalization and splitting keep Hugging Face-style offsets into the original text.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slimformer::tok {

struct Char {
  char32_t cp;
  int64_t begin, end;   // byte range in the original input
};
using Chars = std::vector<Char>;

// Decodes valid UTF-8 (check_utf8 first); offsets start at `base`.
Chars decode_utf8(const std::string& text, int64_t base = 0);
void append_utf8(std::string& out, char32_t cp);
std::string to_utf8(const Char* first, const Char* last);
inline std::string to_utf8(const Chars& c) { return to_utf8(c.data(), c.data() + c.size()); }

// Character classes with the exact meaning Hugging Face tokenizers gives them.
bool is_rust_whitespace(char32_t cp);       // Rust char::is_whitespace (White_Space property)
bool is_bert_whitespace(char32_t cp);       // \t \n \r or White_Space
bool is_bert_control(char32_t cp);          // category C* except \t \n \r
bool is_bert_punctuation(char32_t cp);      // ASCII punctuation or category P*
bool is_chinese_char(char32_t cp);          // CJK ideograph blocks BERT isolates
bool is_nonspacing_mark(char32_t cp);       // category Mn

}  // namespace slimformer::tok
