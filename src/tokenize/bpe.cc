#include <algorithm>
#include <limits>
#include <queue>

#include "io/json_text.h"
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
      throw FormatError(source + ": BPE vocabulary id " + std::to_string(id) + " of \"" + io::text_excerpt(tok) +
                        "\" is out of range");
  merges_.reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    auto ia = token_to_id(a), ib = token_to_id(b), im = token_to_id(a + b);
    if (!ia || !ib || !im)
      throw FormatError(source + ": merge " + std::to_string(r + 1) + " \"" + io::text_excerpt(a + " " + b) +
                        "\" uses a token that is not in the vocabulary (\"" + io::text_excerpt(!ia ? a : !ib ? b : a + b) + "\")");
    merges_.emplace(pair_key(*ia, *ib), Merge{static_cast<int32_t>(r), *im});   // first rank wins
  }
  if (!unk_token.empty()) {
    unk_id_ = token_to_id(unk_token);
    if (!unk_id_)
      throw FormatError(source + ": BPE unk_token \"" + io::text_excerpt(unk_token) + "\" is not in the vocabulary");
  }
}

// Repeatedly merges the adjacent pair of lowest rank (leftmost on ties), as Hugging Face does,
// with a heap and a linked list of symbols so that long words stay O(n log n).
std::vector<Bpe::Piece> Bpe::merge_word(const Chars& word) const {
  struct Sym { int64_t id; int32_t first, nchars, prev, next; };
  std::vector<Sym> sym;
  sym.reserve(word.size());
  std::string one;
  for (size_t i = 0; i < word.size(); ++i) {
    one.clear();
    append_utf8(one, word[i].cp);
    auto id = token_to_id(one);
    if (!id) id = unk_id_;
    if (!id) continue;   // no unk token: the char is dropped, as in Hugging Face
    const auto n = static_cast<int32_t>(sym.size());
    sym.push_back(Sym{*id, static_cast<int32_t>(i), 1, n - 1, -1});
    if (n > 0) sym[n - 1].next = n;
  }
  struct Candidate { int32_t rank, pos; int64_t id; };
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> heap(later);
  auto consider = [&](int32_t left) {
    if (left < 0 || sym[left].next < 0) return;
    auto it = merges_.find(pair_key(sym[left].id, sym[sym[left].next].id));
    if (it != merges_.end()) heap.push(Candidate{it->second.rank, left, it->second.id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Sym& s = sym[c.pos];
    if (s.nchars == 0 || s.next < 0) continue;   // merged away since it was queued
    Sym& right = sym[s.next];
    auto it = merges_.find(pair_key(s.id, right.id));
    if (it == merges_.end() || it->second.id != c.id) continue;   // neighbours changed
    s.id = c.id;
    s.nchars += right.nchars;
    right.nchars = 0;
    s.next = right.next;
    if (s.next >= 0) sym[s.next].prev = c.pos;
    consider(s.prev);
    consider(c.pos);
  }
  std::vector<Piece> out;
  for (const Sym& s : sym)
    if (s.nchars > 0) out.push_back(Piece{s.id, s.first, s.nchars});
  return out;
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
