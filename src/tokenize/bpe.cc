#include <algorithm>
#include <limits>

#include "slimformer/error.h"
#include "tokenize/models.h"

namespace slimformer::tok {
namespace {
uint64_t pair_key(int64_t a, int64_t b) {
  return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(static_cast<uint32_t>(b));
}
constexpr size_t kMaxCacheWords = 200000;   // bounded memory for long-running processes
}  // namespace

Bpe::Bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
         std::string unk_token, const std::string& source)
    : Model(std::move(vocab)) {
  for (const auto& [tok, id] : vocab_)
    if (id < 0 || id > std::numeric_limits<int32_t>::max())
      throw FormatError(source + ": BPE vocabulary id " + std::to_string(id) + " of \"" + tok +
                        "\" is out of range");
  merges_.reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    auto ia = token_to_id(a), ib = token_to_id(b), im = token_to_id(a + b);
    if (!ia || !ib || !im)
      throw FormatError(source + ": merge " + std::to_string(r + 1) + " \"" + a + " " + b +
                        "\" uses a token that is not in the vocabulary");
    merges_.emplace(pair_key(*ia, *ib), Merge{static_cast<int32_t>(r), *im});   // first rank wins
  }
  if (!unk_token.empty()) {
    unk_id_ = token_to_id(unk_token);
    if (!unk_id_)
      throw FormatError(source + ": BPE unk_token \"" + unk_token + "\" is not in the vocabulary");
  }
}

// Repeatedly merges the adjacent pair of lowest rank (leftmost on ties), as Hugging Face does.
std::vector<Bpe::Piece> Bpe::merge_word(const Chars& word) const {
  std::vector<Piece> sym;
  sym.reserve(word.size());
  std::string one;
  for (size_t i = 0; i < word.size(); ++i) {
    one.clear();
    append_utf8(one, word[i].cp);
    auto id = token_to_id(one);
    if (!id) id = unk_id_;
    if (id) sym.push_back(Piece{*id, static_cast<int32_t>(i), 1});
  }
  while (sym.size() > 1) {
    int32_t best_rank = std::numeric_limits<int32_t>::max();
    size_t best = 0;
    int64_t best_id = -1;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      auto it = merges_.find(pair_key(sym[i].id, sym[i + 1].id));
      if (it != merges_.end() && it->second.rank < best_rank) {
        best_rank = it->second.rank;
        best = i;
        best_id = it->second.id;
      }
    }
    if (best_id < 0) break;
    sym[best] = Piece{best_id, sym[best].first, sym[best].nchars + sym[best + 1].nchars};
    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  return sym;
}

void Bpe::tokenize(const Chars& word, std::vector<Token>& out) const {
  if (word.empty()) return;
  const std::string key = to_utf8(word);
  std::vector<Piece> pieces;
  bool cached = false;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      pieces = it->second;
      cached = true;
    }
  }
  if (!cached) {
    pieces = merge_word(word);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheWords) cache_.clear();
    cache_.emplace(key, pieces);
  }
  for (const Piece& p : pieces) {
    int64_t b = word[p.first].begin, e = word[p.first].end;
    for (int32_t k = p.first; k < p.first + p.nchars; ++k) {
      b = std::min(b, word[k].begin);
      e = std::max(e, word[k].end);
    }
    out.push_back(Token{p.id, id_to_token(p.id), b, e});
  }
}

}  // namespace slimformer::tok
