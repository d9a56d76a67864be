#include "tokenize/unigram.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "slimformer/error.h"

namespace slimformer::tok {
namespace {

// Hugging Face's K_UNK_PENALTY: an unknown char costs this much more than the rarest piece.
constexpr double kUnkPenalty = 10.0;

Vocab make_vocab(const std::vector<UnigramPiece>& pieces) {
  Vocab v;
  v.reserve(pieces.size());
  // A repeated piece keeps its last id, as HF's map insertion does.
  for (size_t i = 0; i < pieces.size(); ++i) v[pieces[i].piece] = static_cast<int64_t>(i);
  return v;
}

size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

}  // namespace

Unigram::Unigram(const std::vector<UnigramPiece>& pieces, int64_t unk_id, bool byte_fallback,
                 const std::string& source)
    : Model(make_vocab(pieces)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  if (pieces.empty()) throw FormatError(source + ": Unigram vocab is empty");
  if (unk_id < 0 || unk_id >= static_cast<int64_t>(pieces.size()))
    throw FormatError(source + ": Unigram unk_id " + std::to_string(unk_id) + " is outside the vocab of " +
                      std::to_string(pieces.size()) + " pieces");
  double min_score = pieces.front().score;
  for (const UnigramPiece& p : pieces) {
    scores_.push_back(p.score);
    min_score = std::min(min_score, p.score);
    max_piece_bytes_ = std::max(max_piece_bytes_, p.piece.size());
  }
  unk_score_ = min_score - kUnkPenalty;
}

std::vector<std::string> Unigram::segment(const std::string& text) const {
  struct Best {
    int64_t id = -1;        // -1: no path ends here yet
    double score = 0.0;
    size_t starts_at = 0;
  };
  const size_t n = text.size();
  std::vector<Best> best(n + 1);
  const std::string_view sv(text);
  std::string key;
  for (size_t at = 0; at < n;) {
    const size_t char_len = std::min(utf8_len(static_cast<unsigned char>(text[at])), n - at);
    const double here = best[at].score;
    bool single_char_piece = false;
    auto relax = [&](size_t end, int64_t id, double score) {
      const double cand = here + score;
      Best& b = best[end];
      if (b.id == -1 || cand > b.score) b = Best{id, cand, at};
    };
    // Pieces are valid UTF-8, so only lengths that end on a char boundary can match.
    const size_t limit = std::min(max_piece_bytes_, n - at);
    for (size_t len = 1; len <= limit; ++len) {
      auto it = vocab_.find(key.assign(sv.substr(at, len)));
      if (it == vocab_.end()) continue;
      relax(at + len, it->second, scores_[static_cast<size_t>(it->second)]);
      if (len == char_len) single_char_piece = true;
    }
    if (!single_char_piece) relax(at + char_len, unk_id_, unk_score_);
    at += char_len;
  }
  std::vector<std::string> out;
  std::string unk_run;   // consecutive unknowns, collected back to front
  for (size_t end = n; end > 0;) {
    const Best& b = best[end];
    const std::string piece = text.substr(b.starts_at, end - b.starts_at);
    if (b.id == unk_id_) {
      unk_run.insert(0, piece);
    } else {
      if (!unk_run.empty()) out.push_back(std::move(unk_run));
      unk_run.clear();
      out.push_back(piece);
    }
    end = b.starts_at;
  }
  if (!unk_run.empty()) out.push_back(std::move(unk_run));
  std::reverse(out.begin(), out.end());
  return out;
}

void Unigram::tokenize(const Chars& word, std::vector<Token>& out) const {
  if (word.empty()) return;
  // byte i of the UTF-8 word -> the char it belongs to, for offsets into the original input
  std::string text;
  std::vector<size_t> char_of_byte;
  for (size_t c = 0; c < word.size(); ++c) {
    append_utf8(text, word[c].cp);
    char_of_byte.resize(text.size(), c);
  }
  size_t at = 0;
  for (std::string& s : segment(text)) {
    const Char& first = word[char_of_byte[at]];
    const Char& last = word[char_of_byte[at + s.size() - 1]];
    at += s.size();
    if (auto id = token_to_id(s)) {
      out.push_back(Token{*id, std::move(s), first.begin, last.end});
      continue;
    }
    if (byte_fallback_) {
      std::vector<Token> bytes;
      for (unsigned char byte : s) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", byte);
        auto id = token_to_id(name);
        if (!id) break;
        bytes.push_back(Token{*id, name, first.begin, last.end});
      }
      if (bytes.size() == s.size()) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    out.push_back(Token{unk_id_, std::move(s), first.begin, last.end});
  }
}

}  // namespace slimformer::tok
