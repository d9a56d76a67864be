// Pre-tokenizers: split normalized text into words for the model.
#pragma once
#include <memory>
#include <vector>

#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

// BertPreTokenizer: drop whitespace, isolate every punctuation char.
std::vector<Chars> bert_pre_tokenize(const Chars& text);

// ByteLevel: optionally prefix a space, split with the GPT-2 regex (PCRE2, UTF + UCP), then map
// every UTF-8 byte of a word to its printable stand-in char; each byte keeps its source char's range.
class ByteLevelPreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  ~ByteLevelPreTokenizer();
  ByteLevelPreTokenizer(const ByteLevelPreTokenizer&) = delete;
  ByteLevelPreTokenizer& operator=(const ByteLevelPreTokenizer&) = delete;
  std::vector<Chars> split(const Chars& text) const;
  bool add_prefix_space() const { return add_prefix_space_; }

 private:
  std::vector<std::pair<size_t, size_t>> regex_spans(const std::string& utf8) const;
  bool add_prefix_space_, use_regex_;
  void* code_ = nullptr;   // pcre2_code_8*
};

// The GPT-2 byte -> printable char table (byte 0x20 -> U+0120 'Ġ').
char32_t byte_to_char(unsigned char b);

}  // namespace slimformer::tok
