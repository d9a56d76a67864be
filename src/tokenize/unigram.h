// Unigram (SentencePiece) model, as Hugging Face tokenizers runs it: the most likely segmentation
// (Viterbi over every vocabulary piece that matches at each position), unknown chars scored
// min_score - 10 and consecutive unknowns fused into one token, optional <0xXX> byte fallback.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tokenize/models.h"

namespace slimformer::tok {

struct UnigramPiece {
  std::string piece;
  double score;
};

class Unigram : public Model {
 public:
  // pieces: id -> (piece, log probability). unk_id must index pieces.
  Unigram(const std::vector<UnigramPiece>& pieces, int64_t unk_id, bool byte_fallback,
          const std::string& source);
  void tokenize(const Chars& word, std::vector<Token>& out) const override;
  std::string kind() const override { return "unigram"; }
  // The best segmentation of UTF-8 text into substrings (unknown runs fused), HF's encode_optimized.
  std::vector<std::string> segment(const std::string& text) const;

 private:
  std::vector<double> scores_;   // by id
  int64_t unk_id_;
  bool byte_fallback_;
  double unk_score_;
  size_t max_piece_bytes_ = 0;
};

}  // namespace slimformer::tok
