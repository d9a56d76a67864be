// Byte offsets as character offsets (tokenizer.h: char_offsets).
#include <algorithm>

#include "slimformer/tokenizer.h"

namespace slimformer {
namespace {

// starts_before[i]: the characters that begin before byte i. An end at byte i covers exactly
// those; a begin at byte i is the character there, or the one byte i is inside.
struct CharIndex {
  std::vector<int64_t> starts_before;
  std::vector<bool> boundary;
  explicit CharIndex(const std::string& text) : starts_before(text.size() + 1), boundary(text.size() + 1, true) {
    int64_t n = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      boundary[i] = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
      starts_before[i] = n;
      if (boundary[i]) ++n;
    }
    starts_before[text.size()] = n;
  }
  size_t at(int64_t byte) const { return static_cast<size_t>(std::clamp<int64_t>(byte, 0, starts_before.size() - 1)); }
  int64_t begin(int64_t byte) const { return boundary[at(byte)] ? starts_before[at(byte)] : starts_before[at(byte)] - 1; }
  int64_t end(int64_t byte) const { return starts_before[at(byte)]; }
};

}  // namespace

std::vector<std::pair<int64_t, int64_t>> char_offsets(const Encoding& e, const std::string& first,
                                                      const std::string& second) {
  const CharIndex a(first), b(second);
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(e.offsets.size());
  for (size_t t = 0; t < e.offsets.size(); ++t) {
    const int64_t seq = t < e.sequence_ids.size() ? e.sequence_ids[t] : -1;
    if (seq < 0) {
      out.emplace_back(0, 0);
      continue;
    }
    const CharIndex& c = seq == 0 ? a : b;
    out.emplace_back(c.begin(e.offsets[t].first), c.end(e.offsets[t].second));
  }
  return out;
}

}  // namespace slimformer
