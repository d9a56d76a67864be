#include "tokenize/bert_normalizer.h"

#include <utf8proc.h>

#include "tokenize/normalizers.h"

namespace slimformer::tok {
namespace {

// Drops NUL, U+FFFD and control chars; every whitespace becomes a plain space.
Chars clean_text(const Chars& in) {
  Chars out;
  out.reserve(in.size());
  for (Char c : in) {
    if (c.cp == 0 || c.cp == 0xFFFD || is_bert_control(c.cp)) continue;
    if (is_bert_whitespace(c.cp)) c.cp = U' ';
    out.push_back(c);
  }
  return out;
}

Chars pad_chinese_chars(const Chars& in) {
  Chars out;
  out.reserve(in.size());
  for (const Char& c : in) {
    if (is_chinese_char(c.cp)) {
      out.push_back(Char{U' ', c.begin, c.end});
      out.push_back(c);
      out.push_back(Char{U' ', c.begin, c.end});
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// NFD, then remove nonspacing marks (Mn). Decomposition is per char: canonical reordering only
// moves combining marks, and those that move are the Mn marks removed here anyway.
Chars strip_accents(const Chars& in) {
  Chars out;
  out.reserve(in.size());
  utf8proc_int32_t buf[32];
  for (const Char& c : in) {
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c.cp), buf, 32,
                                                       UTF8PROC_DECOMPOSE, &boundclass);
    if (n <= 0 || n > 32) {
      out.push_back(c);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      const auto cp = static_cast<char32_t>(buf[k]);
      if (!is_nonspacing_mark(cp)) out.push_back(Char{cp, c.begin, c.end});
    }
  }
  return out;
}

}  // namespace

Chars bert_normalize(const Chars& in, const BertNormalizerOptions& opt) {
  Chars s = opt.clean_text ? clean_text(in) : in;
  if (opt.handle_chinese_chars) s = pad_chinese_chars(s);
  if (opt.strip_accents) s = strip_accents(s);
  if (opt.lowercase) s = lowercase(s);
  return s;
}

}  // namespace slimformer::tok
