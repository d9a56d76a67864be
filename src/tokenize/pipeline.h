// The tokenizer every loader builds: added tokens -> normalizer -> pre-tokenizer -> model ->
// truncation -> post-processor -> padding, the order Hugging Face tokenizers runs them in.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "slimformer/tokenizer.h"
#include "tokenize/added_tokens.h"
#include "tokenize/bert_normalizer.h"
#include "tokenize/metaspace.h"
#include "tokenize/precompiled.h"
#include "tokenize/models.h"
#include "tokenize/normalizers.h"
#include "tokenize/post_processor.h"
#include "tokenize/pre_tokenizers.h"

namespace slimformer::tok {

struct PipelineParts {
  std::vector<NormalizeStep> normalizers;                       // in order; none: text passes unchanged
  std::unique_ptr<ByteLevelPreTokenizer> byte_level;            // else space_split, else BertPreTokenizer
  std::optional<SpacePreTokenizer> space_split;
  std::unique_ptr<Model> model;
  std::vector<AddedToken> added_tokens;
  PostProcessor post;
  std::string pad_token;                                        // "" if the vocabulary has none
  int64_t pad_id = 0;
};

class PipelineTokenizer : public Tokenizer {
 public:
  explicit PipelineTokenizer(PipelineParts parts);
  Encoding encode(const std::string& text, const EncodeOptions& opt) const override;
  Encoding encode_pair(const std::string& a, const std::string& b, const EncodeOptions& opt) const override;
  std::string kind() const override { return p_.model->kind(); }
  int64_t pad_id() const override { return p_.pad_id; }
  int64_t vocab_size() const override;

 private:
  Chars normalize(const Chars& text) const;
  Encoding encode_sequence(const std::string& text, int64_t type_id) const;
  void tokenize_text(const Chars& text, std::vector<Token>& out) const;
  Encoding finish(Encoding a, Encoding* b, const EncodeOptions& opt) const;
  PipelineParts p_;
  AddedVocabulary added_;
};

// Pad id from a vocabulary: the first of the names present, else 0.
int64_t find_pad(const Model& model, std::string& pad_token);

}  // namespace slimformer::tok
