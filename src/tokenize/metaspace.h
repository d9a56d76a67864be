// SentencePiece-style pre-tokenizers: WhitespaceSplit and Metaspace (spaces become "▁", a "▁" is
// prepended per prepend_scheme, and with split each "▁" starts a new word).
#pragma once
#include <vector>

#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

struct MetaspaceOptions {
  char32_t replacement = U'\u2581';
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool split = true;
};

// Splits on Rust whitespace, dropping it.
std::vector<Chars> whitespace_split(const Chars& text);

// `first`: this piece begins the text (prepend scheme "first" prepends only there).
std::vector<Chars> metaspace_split(const Chars& text, const MetaspaceOptions& opt, bool first);

// The pre-tokenizers a Unigram pipeline chains, in order.
struct SpacePreTokenizer {
  bool whitespace_split = false;   // WhitespaceSplit before Metaspace
  MetaspaceOptions metaspace;
  std::vector<Chars> split(const Chars& text) const;
};

}  // namespace slimformer::tok
