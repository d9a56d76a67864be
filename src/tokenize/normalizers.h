// The normalizers of Hugging Face tokenizer.json files besides BertNormalizer and Precompiled:
// Unicode forms (NFC, NFD, NFKC, NFKD), Lowercase, StripAccents, Strip, Prepend and Replace, and
// the Sequence that chains them (XLM-R: [Precompiled, Replace " {2,}" -> " "]; ALBERT: [Replace,
// Replace, NFKD, StripAccents, Lowercase, Precompiled]). Each keeps, for every output char, the
// byte range of the input char Hugging Face aligns it with, so token offsets agree too.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

// One step of a normalizer chain.
using NormalizeStep = std::function<Chars(const Chars&)>;

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };

// Canonical (NFD/NFC) or compatibility (NFKD/NFKC) normalization. A decomposed char's pieces
// keep its range; a composed char keeps its first piece's range (the marks folded into it are
// dropped from the alignment), as Hugging Face aligns them.
Chars unicode_normalize(const Chars& in, UnicodeForm form);

// Rust's char::to_lowercase per char (U+0130 becomes two chars, both with its range).
Chars lowercase(const Chars& in);

// Hugging Face's StripAccents normalizer: drops every mark (Mn, Mc, Me: Rust's
// is_combining_mark), decomposing nothing. (BertNormalizer's strip_accents drops Mn only.)
Chars drop_marks(const Chars& in);

// Drops leading and/or trailing whitespace (Rust char::is_whitespace).
Chars strip_whitespace(const Chars& in, bool left, bool right);

// `text` before a non-empty input, its chars aligned with the input's first char.
Chars prepend(const Chars& in, const std::string& text);

// Replaces every non-overlapping match of a literal string or a regular expression with
// `content`. The content's chars take the range of the match's last char.
class Replace {
 public:
  // FormatError naming `what` if the regex does not compile or can match the empty string.
  Replace(const std::string& pattern, bool is_regex, const std::string& content, const std::string& what);
  ~Replace();
  Replace(const Replace&) = delete;
  Replace& operator=(const Replace&) = delete;
  Chars apply(const Chars& in) const;

 private:
  std::vector<std::pair<size_t, size_t>> match_chars(const Chars& in) const;   // [first, last) char indices
  Chars literal_;
  bool is_regex_;
  Chars content_;
  void* code_ = nullptr;   // pcre2_code_8*, for a regex
};

}  // namespace slimformer::tok
