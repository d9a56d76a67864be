// Tokenizers that reproduce Hugging Face's: WordPiece (BERT) and byte-level BPE (RoBERTa),
// loaded from tokenizer.json or from the legacy vocab.txt / vocab.json + merges.txt.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace slimformer {

struct Encoding {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
  std::vector<int64_t> type_ids;
  std::vector<std::pair<int64_t, int64_t>> offsets;   // byte offsets into the input, [begin, end)
  std::vector<int64_t> attention_mask;                 // 1 for tokens, 0 for padding
  // Which text each token comes from: 0 the first, 1 a pair's second, -1 a special token or
  // padding (Hugging Face's sequence_ids, None as -1); offsets count in that text.
  std::vector<int64_t> sequence_ids;
};

struct EncodeOptions {
  bool add_special_tokens = true;
  int64_t max_length = 0;        // 0: no truncation; otherwise truncate (longest-first for pairs)
  bool pad_to_max_length = false;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Text must be valid UTF-8 (InputError otherwise).
  virtual Encoding encode(const std::string& text, const EncodeOptions& opt = {}) const = 0;
  virtual Encoding encode_pair(const std::string& a, const std::string& b,
                               const EncodeOptions& opt = {}) const = 0;
  virtual std::string kind() const = 0;          // "wordpiece", "bpe" or "unigram"
  virtual int64_t pad_id() const = 0;
  virtual int64_t vocab_size() const = 0;
};

// Loads tokenizer.json if present, else vocab.txt (WordPiece; lowercase from tokenizer_config.json,
// default true), else vocab.json + merges.txt (byte-level BPE). IoError if none is found,
// FormatError naming the unsupported part (e.g. "normalizer type Sequence").
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir);
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& tokenizer_json_path);
std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::string& vocab_txt_path, bool lowercase);
std::unique_ptr<Tokenizer> load_bpe_files(const std::string& vocab_json_path,
                                          const std::string& merges_txt_path);

// Pads encodings to one length into row-major [B, T] arrays.
struct Batch {
  int64_t batch = 0, seq = 0;
  std::vector<int64_t> ids, mask, type_ids;
  std::vector<int64_t> global_mask;   // empty, or (B, T) 1 where a token attends globally
};
Batch make_batch(const std::vector<Encoding>& encodings, int64_t pad_id);

// e's offsets in characters (Unicode code points) of the text each token comes from: `first`, or
// a pair's `second` counted from its own start; [0, 0] for special tokens and padding. What
// Hugging Face's offsets mapping reports (Encoding::offsets count bytes). A byte-level token that
// holds part of a character covers that whole character, as there.
std::vector<std::pair<int64_t, int64_t>> char_offsets(const Encoding& e, const std::string& first,
                                                      const std::string& second = "");

// Throws InputError naming `where` (e.g. "line 3") if text is not valid UTF-8.
void check_utf8(const std::string& text, const std::string& where);

}  // namespace slimformer
