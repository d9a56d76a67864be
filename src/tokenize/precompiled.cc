#include "tokenize/precompiled.h"

#include <algorithm>

#include <utf8proc.h>

#include "slimformer/error.h"

namespace slimformer::tok {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Darts-clone unit fields.
bool has_leaf(uint32_t u) { return (u >> 8) & 1; }
uint32_t value(uint32_t u) { return u & ((1u << 31) - 1); }
uint32_t label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
uint32_t offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

}  // namespace

std::string decode_base64(const std::string& text, const std::string& what) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const int v = base64_value(text[i]);
    if (v < 0) throw FormatError(what + ": not base64 (char " + std::to_string(i) + ")");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  for (; i < text.size(); ++i)
    if (text[i] != '=') throw FormatError(what + ": not base64 (data after padding)");
  return out;
}

PrecompiledCharsmap::PrecompiledCharsmap(const std::string& blob, const std::string& what) {
  if (blob.size() < 4) throw FormatError(what + ": precompiled_charsmap is shorter than its header");
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  const uint32_t trie_bytes = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  if (trie_bytes % 4 != 0 || trie_bytes == 0 || trie_bytes > blob.size() - 4)
    throw FormatError(what + ": precompiled_charsmap trie size " + std::to_string(trie_bytes) +
                      " does not fit its " + std::to_string(blob.size()) + " bytes");
  units_.resize(trie_bytes / 4);
  for (size_t i = 0; i < units_.size(); ++i) {
    const unsigned char* p = b + 4 + 4 * i;
    units_[i] = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }
  normalized_ = blob.substr(4 + trie_bytes);
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  size_t pos = offset(units_[0]);
  for (unsigned char c : chunk) {
    if (c == 0) break;
    pos ^= c;
    if (pos >= units_.size() || label(units_[pos]) != c) return std::nullopt;
    const bool leaf = has_leaf(units_[pos]);
    pos ^= offset(units_[pos]);
    if (pos >= units_.size()) return std::nullopt;
    if (leaf) {   // the first (shortest) match is the one used
      const size_t start = value(units_[pos]);
      if (start >= normalized_.size()) return std::nullopt;
      const size_t end = normalized_.find('\0', start);
      return std::string_view(normalized_).substr(start, end == std::string::npos ? end : end - start);
    }
  }
  return std::nullopt;
}

Chars PrecompiledCharsmap::normalize(const Chars& in) const {
  Chars out;
  out.reserve(in.size());
  // Replacing chars [first, last) by `repl`, Hugging Face aligns positionally: the k-th new char
  // takes the k-th old char's range, and new chars beyond the old count take the last old char's.
  auto emit = [&](std::string_view repl, size_t first, size_t last) {
    size_t k = 0;
    for (const Char& c : decode_utf8(std::string(repl))) {
      const Char& old = in[std::min(first + k, last - 1)];
      out.push_back(Char{c.cp, old.begin, old.end});
      ++k;
    }
  };
  size_t i = 0;
  while (i < in.size()) {
    // [i, j): one extended grapheme cluster
    size_t j = i + 1;
    utf8proc_int32_t state = 0;
    while (j < in.size() && !utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(in[j - 1].cp),
                                                             static_cast<utf8proc_int32_t>(in[j].cp), &state))
      ++j;
    std::string cluster = to_utf8(in.data() + i, in.data() + j);
    if (cluster.size() < 6) {
      if (auto repl = transform(cluster)) {
        emit(*repl, i, j);
        i = j;
        continue;
      }
    }
    for (; i < j; ++i) {
      std::string one;
      append_utf8(one, in[i].cp);
      if (auto repl = transform(one)) emit(*repl, i, i + 1);
      else out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace slimformer::tok
