#include "tokenize/post_processor.h"

#include <algorithm>

namespace slimformer::tok {
namespace {

void push(Encoding& e, int64_t id, const std::string& token, int64_t type_id) {
  e.ids.push_back(id);
  e.tokens.push_back(token);
  e.type_ids.push_back(type_id);
  e.offsets.emplace_back(0, 0);
  e.attention_mask.push_back(1);
  e.sequence_ids.push_back(-1);
}

bool is_space_token_char(const std::string& s, size_t& i, bool forward) {
  // 'Ġ' (U+0120, the byte-level stand-in for a space) is C4 A0 in UTF-8; a raw space also counts.
  if (forward) {
    if (i < s.size() && s[i] == ' ') { i += 1; return true; }
    if (i + 1 < s.size() && s[i] == '\xC4' && s[i + 1] == '\xA0') { i += 2; return true; }
  } else {
    if (i >= 1 && s[i - 1] == ' ') { i -= 1; return true; }
    if (i >= 2 && s[i - 2] == '\xC4' && s[i - 1] == '\xA0') { i -= 2; return true; }
  }
  return false;
}

// ByteLevel offset trimming: offsets drop the spaces a token starts or ends with.
void trim_byte_level_offsets(Encoding& e, bool add_prefix_space) {
  for (size_t t = 0; t < e.ids.size(); ++t) {
    const std::string& s = e.tokens[t];
    int64_t leading = 0, trailing = 0;
    for (size_t i = 0; is_space_token_char(s, i, true);) ++leading;
    for (size_t i = s.size(); is_space_token_char(s, i, false);) ++trailing;
    auto& [b, en] = e.offsets[t];
    if (leading > 0) {
      const bool is_first = t == 0 || b == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      b = std::min(b + leading, en);
    }
    if (trailing > 0 && en >= trailing) en = std::max(en - trailing, b);
  }
}

void set_type_ids(Encoding& e, int64_t type_id) { std::fill(e.type_ids.begin(), e.type_ids.end(), type_id); }

}  // namespace

void append_encoding(Encoding& dst, const Encoding& src) {
  dst.ids.insert(dst.ids.end(), src.ids.begin(), src.ids.end());
  dst.tokens.insert(dst.tokens.end(), src.tokens.begin(), src.tokens.end());
  dst.type_ids.insert(dst.type_ids.end(), src.type_ids.begin(), src.type_ids.end());
  dst.offsets.insert(dst.offsets.end(), src.offsets.begin(), src.offsets.end());
  dst.attention_mask.insert(dst.attention_mask.end(), src.attention_mask.begin(), src.attention_mask.end());
  dst.sequence_ids.insert(dst.sequence_ids.end(), src.sequence_ids.begin(), src.sequence_ids.end());
}

// The sequences alone, one after the other: what every processor gives without special tokens.
static Encoding without_specials(Encoding a, const Encoding* b) {
  if (b) append_encoding(a, *b);
  return a;
}

int64_t PostProcessor::added_tokens(bool is_pair) const {
  switch (kind) {
    case Kind::None: return 0;
    case Kind::Bert: return is_pair ? 3 : 2;
    case Kind::Roberta: return is_pair ? 4 : 2;
    case Kind::Template: {
      int64_t n = 0;
      for (const TemplatePiece& p : is_pair ? pair : single) {
        if (p.is_sequence) continue;
        auto it = specials.find(p.special);
        n += it == specials.end() ? 0 : static_cast<int64_t>(it->second.ids.size());
      }
      return n;
    }
  }
  return 0;
}

Encoding PostProcessor::process(Encoding a, const Encoding* b_in, bool add_special) const {
  Encoding b = b_in ? *b_in : Encoding{};
  Encoding out;
  switch (kind) {
    case Kind::None:
    case Kind::Bert:
      if (kind == Kind::None || !add_special) return without_specials(std::move(a), b_in);
      push(out, cls.id, cls.token, 0);
      append_encoding(out, a);
      push(out, sep.id, sep.token, 0);
      if (b_in) {
        set_type_ids(b, 1);
        append_encoding(out, b);
        push(out, sep.id, sep.token, 1);
      }
      return out;
    case Kind::Roberta:
      if (trim_offsets) {
        trim_byte_level_offsets(a, add_prefix_space);
        if (b_in) trim_byte_level_offsets(b, add_prefix_space);
      }
      set_type_ids(a, 0);   // RoBERTa gives every token type id 0
      set_type_ids(b, 0);
      if (!add_special) return without_specials(std::move(a), b_in ? &b : nullptr);
      push(out, cls.id, cls.token, 0);
      append_encoding(out, a);
      push(out, sep.id, sep.token, 0);
      if (b_in) {
        push(out, sep.id, sep.token, 0);
        append_encoding(out, b);
        push(out, sep.id, sep.token, 0);
      }
      return out;
    case Kind::Template:
      for (const TemplatePiece& p : b_in ? pair : single) {
        if (p.is_sequence) {
          Encoding& s = p.sequence == 0 ? a : b;
          set_type_ids(s, p.type_id);
          append_encoding(out, s);
        } else if (add_special) {
          auto it = specials.find(p.special);
          if (it == specials.end()) continue;
          for (size_t k = 0; k < it->second.ids.size(); ++k)
            push(out, it->second.ids[k], k < it->second.tokens.size() ? it->second.tokens[k] : "", p.type_id);
        }
      }
      return out;
  }
  return out;
}

}  // namespace slimformer::tok
