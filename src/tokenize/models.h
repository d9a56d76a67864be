// Subword models: WordPiece (BERT) and BPE (byte-level, RoBERTa / GPT-2).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

struct Token {
  int64_t id;
  std::string text;
  int64_t begin, end;   // byte range in the original input
};

using Vocab = std::unordered_map<std::string, int64_t>;

class Model {
 public:
  explicit Model(Vocab vocab);
  virtual ~Model() = default;
  // Appends the tokens of one pre-tokenized word.
  virtual void tokenize(const Chars& word, std::vector<Token>& out) const = 0;
  virtual std::string kind() const = 0;
  std::optional<int64_t> token_to_id(const std::string& token) const;
  const std::string& id_to_token(int64_t id) const;
  int64_t vocab_size() const { return static_cast<int64_t>(vocab_.size()); }

 protected:
  Vocab vocab_;
  std::vector<std::string> tokens_;   // id -> token (ids may leave holes: empty strings)
};

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  int64_t max_input_chars_per_word = 100;
};

class WordPiece : public Model {
 public:
  WordPiece(Vocab vocab, WordPieceOptions opt, const std::string& source);
  void tokenize(const Chars& word, std::vector<Token>& out) const override;
  std::string kind() const override { return "wordpiece"; }

 private:
  WordPieceOptions opt_;
  int64_t unk_id_;
};

class Bpe : public Model {
 public:
  // merges: pairs of vocab tokens, highest priority first. unk_token empty: unknown chars dropped.
  Bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      std::string unk_token, const std::string& source);
  void tokenize(const Chars& word, std::vector<Token>& out) const override;
  std::string kind() const override { return "bpe"; }

 private:
  struct Piece { int64_t id; int32_t first, nchars; };   // chars [first, first + nchars) of the word
  std::vector<Piece> merge_word(const Chars& word) const;
  struct Merge { int32_t rank; int64_t id; };
  std::unordered_map<uint64_t, Merge> merges_;   // (left id << 32 | right id) -> rank, merged id
  std::optional<int64_t> unk_id_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<Piece>> cache_;
};

}  // namespace slimformer::tok
