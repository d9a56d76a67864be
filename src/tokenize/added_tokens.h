// Added tokens ([CLS], <mask>, ...): found in the text and kept whole, before the model sees it.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool special = true;
  bool single_word = false;
  bool lstrip = false;   // the match absorbs whitespace on its left
  bool rstrip = false;   // ... and on its right
  bool normalized = false;   // matched in the normalized text rather than the raw text
};

// A piece of text: plain text for the normalizer and model, or one added token (token >= 0).
struct Segment {
  Chars chars;
  int64_t token = -1;   // index into AddedVocabulary::tokens()
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // match_forms[i]: the text to look for for tokens[i] (its content, normalized if it is a
  // normalized token and the tokenizer has a normalizer).
  AddedVocabulary(std::vector<AddedToken> tokens, const std::vector<std::string>& match_forms);
  // Leftmost-longest matching of the tokens whose `normalized` flag equals `normalized`.
  std::vector<Segment> split(const Chars& text, bool normalized) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }

 private:
  // Length in chars of the longest token matching at `pos`, or 0; `which` gets its index.
  size_t match_at(const Chars& text, size_t pos, bool normalized, size_t& which) const;
  std::vector<AddedToken> tokens_;
  std::vector<std::u32string> forms_;
  std::unordered_map<char32_t, std::vector<size_t>> by_first_char_;   // longest first
};

}  // namespace slimformer::tok
