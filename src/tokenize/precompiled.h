// SentencePiece's precompiled_charsmap normalizer (the "Precompiled" normalizer of tokenizer.json):
// a Darts-clone double-array trie over UTF-8 keys whose values index NUL-terminated replacements.
// Applied as Hugging Face applies it: a whole grapheme cluster shorter than 6 bytes is looked up
// first, else each of its chars alone.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

// Standard base64 (padding optional); FormatError naming `what` on a bad char.
std::string decode_base64(const std::string& text, const std::string& what);

class PrecompiledCharsmap {
 public:
  // blob: u32 little-endian trie byte size, the trie's u32 units, then the replacement strings.
  PrecompiledCharsmap(const std::string& blob, const std::string& what);
  // The replacement of the shortest trie key that prefixes `chunk`, if any.
  std::optional<std::string_view> transform(std::string_view chunk) const;
  // Output chars are aligned with the input chars they replace as Hugging Face aligns them
  // (positionally: the k-th new char with the k-th old one, extra new chars with the last old one).
  Chars normalize(const Chars& in) const;

 private:
  std::vector<uint32_t> units_;
  std::string normalized_;
};

}  // namespace slimformer::tok
