#include "tokenize/metaspace.h"

namespace slimformer::tok {

std::vector<Chars> whitespace_split(const Chars& text) {
  std::vector<Chars> words;
  Chars cur;
  for (const Char& c : text) {
    if (is_rust_whitespace(c.cp)) {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

std::vector<Chars> metaspace_split(const Chars& text, const MetaspaceOptions& opt, bool first) {
  Chars s;
  s.reserve(text.size() + 1);
  const bool prepend = opt.prepend == MetaspaceOptions::Prepend::Always ||
                       (opt.prepend == MetaspaceOptions::Prepend::First && first);
  // The prepended "▁" takes the first char's range, as HF aligns it.
  if (prepend && !text.empty() && text.front().cp != ' ' && text.front().cp != opt.replacement)
    s.push_back(Char{opt.replacement, text.front().begin, text.front().end});
  for (const Char& c : text) s.push_back(Char{c.cp == ' ' ? opt.replacement : c.cp, c.begin, c.end});
  std::vector<Chars> words;
  if (s.empty()) return words;
  if (!opt.split) {
    words.push_back(std::move(s));
    return words;
  }
  Chars cur;   // each "▁" starts a word (HF's MergedWithNext)
  for (const Char& c : s) {
    if (c.cp == opt.replacement && !cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
    cur.push_back(c);
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

std::vector<Chars> SpacePreTokenizer::split(const Chars& text) const {
  std::vector<Chars> words;
  if (!whitespace_split) return metaspace_split(text, metaspace, true);
  bool first = true;
  for (const Chars& w : tok::whitespace_split(text)) {
    for (Chars& m : metaspace_split(w, metaspace, first)) words.push_back(std::move(m));
    first = false;
  }
  return words;
}

}  // namespace slimformer::tok
