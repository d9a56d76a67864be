#include <algorithm>

#include "io/json_text.h"
#include "slimformer/error.h"
#include "tokenize/models.h"

namespace slimformer::tok {

Model::Model(Vocab vocab) : vocab_(std::move(vocab)) {
  int64_t max_id = -1;
  for (const auto& [tok, id] : vocab_) max_id = std::max(max_id, id);
  tokens_.resize(static_cast<size_t>(max_id + 1));
  for (const auto& [tok, id] : vocab_)
    if (id >= 0) tokens_[static_cast<size_t>(id)] = tok;
}

std::optional<int64_t> Model::token_to_id(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string& Model::id_to_token(int64_t id) const {
  static const std::string empty;
  if (id < 0 || id >= static_cast<int64_t>(tokens_.size())) return empty;
  return tokens_[static_cast<size_t>(id)];
}

WordPiece::WordPiece(Vocab vocab, WordPieceOptions opt, const std::string& source)
    : Model(std::move(vocab)), opt_(std::move(opt)) {
  auto unk = token_to_id(opt_.unk_token);
  if (!unk)
    throw FormatError(source + ": WordPiece unk_token \"" + io::text_excerpt(opt_.unk_token) + "\" is not in the vocabulary");
  unk_id_ = *unk;
}

// Greedy longest-match-first over the word's chars; one unmatched rest makes the whole word unknown.
void WordPiece::tokenize(const Chars& word, std::vector<Token>& out) const {
  if (word.empty()) return;
  const int64_t n = static_cast<int64_t>(word.size());
  const int64_t word_begin = word.front().begin, word_end = word.back().end;
  if (n > opt_.max_input_chars_per_word) {
    out.push_back(Token{unk_id_, opt_.unk_token, word_begin, word_end});
    return;
  }
  std::vector<size_t> byte_at(word.size() + 1, 0);   // char index -> byte offset in `text`
  std::string text;
  for (size_t i = 0; i < word.size(); ++i) {
    byte_at[i] = text.size();
    append_utf8(text, word[i].cp);
  }
  byte_at[word.size()] = text.size();

  const size_t first = out.size();
  std::string candidate;
  int64_t start = 0;
  while (start < n) {
    int64_t end = n;
    int64_t found = -1;
    for (; end > start; --end) {
      candidate.clear();
      if (start > 0) candidate += opt_.continuing_subword_prefix;
      candidate.append(text, byte_at[start], byte_at[end] - byte_at[start]);
      auto it = vocab_.find(candidate);
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      out.resize(first);
      out.push_back(Token{unk_id_, opt_.unk_token, word_begin, word_end});
      return;
    }
    int64_t b = word[start].begin, e = word[start].end;
    for (int64_t k = start; k < end; ++k) {
      b = std::min(b, word[k].begin);
      e = std::max(e, word[k].end);
    }
    out.push_back(Token{found, candidate, b, e});
    start = end;
  }
}

}  // namespace slimformer::tok
