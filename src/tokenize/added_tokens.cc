#include "tokenize/added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

namespace slimformer::tok {
namespace {

bool is_word_char(char32_t c) {
  if (c == U'_') return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

std::u32string code_points(const std::string& s) {
  std::u32string out;
  for (const Char& c : decode_utf8(s)) out += c.cp;
  return out;
}

}  // namespace

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens,
                                 const std::vector<std::string>& match_forms)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    forms_.push_back(code_points(i < match_forms.size() ? match_forms[i] : tokens_[i].content));
    if (!forms_.back().empty()) by_first_char_[forms_.back()[0]].push_back(i);
  }
  for (auto& [c, list] : by_first_char_)
    std::stable_sort(list.begin(), list.end(),
                     [&](size_t a, size_t b) { return forms_[a].size() > forms_[b].size(); });
}

size_t AddedVocabulary::match_at(const Chars& text, size_t pos, bool normalized, size_t& which) const {
  auto it = by_first_char_.find(text[pos].cp);
  if (it == by_first_char_.end()) return 0;
  for (size_t t : it->second) {
    if (tokens_[t].normalized != normalized) continue;
    const std::u32string& f = forms_[t];
    if (pos + f.size() > text.size()) continue;
    bool same = true;
    for (size_t k = 0; k < f.size() && same; ++k) same = text[pos + k].cp == f[k];
    if (!same) continue;
    if (tokens_[t].single_word) {
      const bool left_ok = pos == 0 || !is_word_char(text[pos - 1].cp);
      const bool right_ok = pos + f.size() == text.size() || !is_word_char(text[pos + f.size()].cp);
      if (!left_ok || !right_ok) continue;
    }
    which = t;
    return f.size();
  }
  return 0;
}

std::vector<Segment> AddedVocabulary::split(const Chars& text, bool normalized) const {
  std::vector<Segment> out;
  size_t text_start = 0;   // start of the plain text not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    size_t which = 0;
    const size_t len = tokens_.empty() ? 0 : match_at(text, pos, normalized, which);
    if (len == 0) {
      ++pos;
      continue;
    }
    size_t b = pos, e = pos + len;
    if (tokens_[which].lstrip)
      while (b > text_start && is_rust_whitespace(text[b - 1].cp)) --b;
    if (tokens_[which].rstrip)
      while (e < text.size() && is_rust_whitespace(text[e].cp)) ++e;
    if (b > text_start) out.push_back(Segment{Chars(text.begin() + text_start, text.begin() + b), -1});
    out.push_back(Segment{Chars(text.begin() + b, text.begin() + e), static_cast<int64_t>(which)});
    text_start = pos = e;
  }
  if (text_start < text.size() || out.empty())
    out.push_back(Segment{Chars(text.begin() + text_start, text.end()), -1});
  return out;
}

}  // namespace slimformer::tok
