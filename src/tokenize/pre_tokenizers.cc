#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/pre_tokenizers.h"

#include <pcre2.h>

#include <array>

#include "slimformer/error.h"

namespace slimformer::tok {

std::vector<Chars> bert_pre_tokenize(const Chars& text) {
  std::vector<Chars> words;
  Chars cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (const Char& c : text) {
    if (is_rust_whitespace(c.cp)) {
      flush();
    } else if (is_bert_punctuation(c.cp)) {
      flush();
      words.push_back(Chars{c});
    } else {
      cur.push_back(c);
    }
  }
  flush();
  return words;
}

namespace {

// Bytes that are printable in Latin-1 map to themselves, the rest to 256, 257, ... in order.
std::array<char32_t, 256> make_byte_table() {
  std::array<char32_t, 256> t{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    t[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return t;
}

const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace

char32_t byte_to_char(unsigned char b) {
  static const std::array<char32_t, 256> table = make_byte_table();
  return table[b];
}

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
  int err = 0;
  PCRE2_SIZE at = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern), PCRE2_ZERO_TERMINATED,
                        PCRE2_UTF | PCRE2_UCP, &err, &at, nullptr);
  if (!code_) throw Error("ByteLevel pre-tokenizer: PCRE2 could not compile the GPT-2 pattern");
  pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE);   // optional speed-up
}

ByteLevelPreTokenizer::~ByteLevelPreTokenizer() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

// Byte spans covering the whole input: the regex matches, and any gaps between them.
std::vector<std::pair<size_t, size_t>> ByteLevelPreTokenizer::regex_spans(const std::string& s) const {
  std::vector<std::pair<size_t, size_t>> spans;
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  size_t pos = 0, covered = 0;
  while (pos < s.size()) {
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos,
                         PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)   // e.g. the JIT stack ran out: use the interpreter
      rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos,
                       PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      throw InputError("ByteLevel pre-tokenizer: the GPT-2 pattern failed (PCRE2 error " +
                       std::to_string(rc) + ") at byte " + std::to_string(pos) + " of a text piece");
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[1] <= ov[0]) {   // an empty match cannot happen with this pattern; step one char
      ++pos;
      while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
      continue;
    }
    if (ov[0] > covered) spans.emplace_back(covered, ov[0]);
    spans.emplace_back(ov[0], ov[1]);
    covered = pos = ov[1];
  }
  pcre2_match_data_free(md);
  if (covered < s.size()) spans.emplace_back(covered, s.size());
  return spans;
}

std::vector<Chars> ByteLevelPreTokenizer::split(const Chars& in) const {
  Chars text;
  if (add_prefix_space_ && !in.empty() && in.front().cp != U' ') {
    text.reserve(in.size() + 1);
    text.push_back(Char{U' ', in.front().begin, in.front().end});
  }
  text.insert(text.end(), in.begin(), in.end());

  std::string utf8;
  std::vector<size_t> char_of_byte;   // byte index in utf8 -> index into text
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t before = utf8.size();
    append_utf8(utf8, text[i].cp);
    char_of_byte.insert(char_of_byte.end(), utf8.size() - before, i);
  }
  std::vector<std::pair<size_t, size_t>> spans;
  if (use_regex_) spans = regex_spans(utf8);
  else if (!utf8.empty()) spans.emplace_back(0, utf8.size());

  std::vector<Chars> words;
  words.reserve(spans.size());
  for (auto [b, e] : spans) {
    Chars w;
    w.reserve(e - b);
    for (size_t k = b; k < e; ++k) {
      const Char& src = text[char_of_byte[k]];
      w.push_back(Char{byte_to_char(static_cast<unsigned char>(utf8[k])), src.begin, src.end});
    }
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace slimformer::tok
