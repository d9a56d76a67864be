#include "tokenize/normalizers.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>

#include "slimformer/error.h"

namespace slimformer::tok {
namespace {

int combining_class(char32_t cp) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
}

// Each char decomposed alone (its pieces keep its range), then every run of marks put in
// canonical order (a stable sort by combining class, moving only the code points: the ranges stay
// where they were, as Hugging Face's positional alignment has them).
Chars decompose(const Chars& in, bool compat) {
  Chars out;
  out.reserve(in.size());
  utf8proc_int32_t buf[32];
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0));
  for (const Char& c : in) {
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c.cp), buf, 32, options, &boundclass);
    if (n <= 0 || n > 32) {
      out.push_back(c);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(Char{static_cast<char32_t>(buf[k]), c.begin, c.end});
  }
  for (size_t i = 0; i < out.size();) {
    if (combining_class(out[i].cp) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && combining_class(out[j].cp) != 0) ++j;
    std::vector<char32_t> marks;
    for (size_t k = i; k < j; ++k) marks.push_back(out[k].cp);
    std::stable_sort(marks.begin(), marks.end(),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    for (size_t k = i; k < j; ++k) out[k].cp = marks[k - i];
    i = j;
  }
  return out;
}

// The primary composite of a + b, or 0 (utf8proc composes a decomposed buffer in place).
char32_t compose_pair(char32_t a, char32_t b) {
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  const utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, UTF8PROC_COMPOSE);
  return n == 1 ? static_cast<char32_t>(buf[0]) : 0;
}

// Canonical composition (UAX #15): a char joins the last starter unless a char between them has
// class 0 or a class at least its own.
Chars compose(const Chars& in) {
  Chars out;
  out.reserve(in.size());
  std::ptrdiff_t starter = -1;
  int last_class = 0;
  for (const Char& c : in) {
    const int cls = combining_class(c.cp);
    if (starter >= 0) {
      const bool adjacent = static_cast<std::ptrdiff_t>(out.size()) == starter + 1;
      const bool blocked = !adjacent && (last_class == 0 || last_class >= cls);
      if (!blocked) {
        if (const char32_t composite = compose_pair(out[starter].cp, c.cp)) {
          out[starter].cp = composite;   // keeps the starter's range
          continue;
        }
      }
    }
    if (cls == 0) starter = static_cast<std::ptrdiff_t>(out.size());
    out.push_back(c);
    last_class = cls;
  }
  return out;
}

}  // namespace

Chars unicode_normalize(const Chars& in, UnicodeForm form) {
  const bool compat = form == UnicodeForm::NFKC || form == UnicodeForm::NFKD;
  Chars d = decompose(in, compat);
  if (form == UnicodeForm::NFC || form == UnicodeForm::NFKC) return compose(d);
  return d;
}

Chars lowercase(const Chars& in) {
  Chars out;
  out.reserve(in.size());
  for (const Char& c : in) {
    if (c.cp == 0x130) {
      out.push_back(Char{U'i', c.begin, c.end});
      out.push_back(Char{0x307, c.begin, c.end});
    } else {
      out.push_back(Char{static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c.cp))), c.begin, c.end});
    }
  }
  return out;
}

Chars drop_marks(const Chars& in) {
  Chars out;
  out.reserve(in.size());
  for (const Char& c : in) {
    const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(c.cp));
    if (category != UTF8PROC_CATEGORY_MN && category != UTF8PROC_CATEGORY_MC && category != UTF8PROC_CATEGORY_ME)
      out.push_back(c);
  }
  return out;
}

Chars strip_whitespace(const Chars& in, bool left, bool right) {
  size_t first = 0, last = in.size();
  if (left)
    while (first < last && is_rust_whitespace(in[first].cp)) ++first;
  if (right)
    while (last > first && is_rust_whitespace(in[last - 1].cp)) --last;
  return Chars(in.begin() + static_cast<std::ptrdiff_t>(first), in.begin() + static_cast<std::ptrdiff_t>(last));
}

Chars prepend(const Chars& in, const std::string& text) {
  if (in.empty()) return in;
  Chars out;
  for (const Char& c : decode_utf8(text)) out.push_back(Char{c.cp, in[0].begin, in[0].end});
  out.insert(out.end(), in.begin(), in.end());
  return out;
}

Replace::Replace(const std::string& pattern, bool is_regex, const std::string& content, const std::string& what)
    : is_regex_(is_regex), content_(decode_utf8(content)) {
  if (!is_regex) {
    literal_ = decode_utf8(pattern);
    if (literal_.empty()) throw FormatError(what + ": the String pattern is empty");
    return;
  }
  int err = 0;
  PCRE2_SIZE at = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &err,
                        &at, nullptr);
  if (!code_) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(err, message, sizeof message);
    throw FormatError(what + ": Regex does not compile at offset " + std::to_string(at) + ": " +
                      reinterpret_cast<const char*>(message));
  }
  // A pattern that matches nothing at all would insert the content between every two chars.
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(static_cast<pcre2_code*>(code_), nullptr);
  const int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(""), 0, 0, 0, md, nullptr);
  pcre2_match_data_free(md);
  if (rc >= 0) {
    pcre2_code_free(static_cast<pcre2_code*>(code_));
    code_ = nullptr;
    throw FormatError(what + ": Regex matches the empty string (expected a pattern that consumes text)");
  }
}

Replace::~Replace() {
  if (code_) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

std::vector<std::pair<size_t, size_t>> Replace::match_chars(const Chars& in) const {
  std::vector<std::pair<size_t, size_t>> found;
  if (!is_regex_) {
    const size_t n = literal_.size();
    for (size_t i = 0; i + n <= in.size();) {
      bool same = true;
      for (size_t k = 0; k < n && same; ++k) same = in[i + k].cp == literal_[k].cp;
      if (same) {
        found.emplace_back(i, i + n);
        i += n;
      } else {
        ++i;
      }
    }
    return found;
  }
  std::string s;
  std::vector<size_t> starts;   // byte offset of each char in s
  starts.reserve(in.size() + 1);
  for (const Char& c : in) {
    starts.push_back(s.size());
    append_utf8(s, c.cp);
  }
  starts.push_back(s.size());
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  size_t pos = 0;
  while (pos < s.size()) {
    const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;   // no further match (the pattern never matches empty: checked at load)
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[1] <= ov[0]) break;
    const auto at = [&](size_t byte) {
      return static_cast<size_t>(std::lower_bound(starts.begin(), starts.end(), byte) - starts.begin());
    };
    found.emplace_back(at(ov[0]), at(ov[1]));
    pos = ov[1];
  }
  pcre2_match_data_free(md);
  return found;
}

Chars Replace::apply(const Chars& in) const {
  const auto matches = match_chars(in);
  if (matches.empty()) return in;
  Chars out;
  out.reserve(in.size());
  size_t next = 0;
  for (const auto& [first, last] : matches) {
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(next), in.begin() + static_cast<std::ptrdiff_t>(first));
    const Char& anchor = in[last - 1];
    for (const Char& c : content_) out.push_back(Char{c.cp, anchor.begin, anchor.end});
    next = last;
  }
  out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(next), in.end());
  return out;
}

}  // namespace slimformer::tok
