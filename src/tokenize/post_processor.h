// Post-processors: add the special tokens and set type ids (BertProcessing, RobertaProcessing,
// TemplateProcessing), or nothing.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "slimformer/tokenizer.h"

namespace slimformer::tok {

struct SpecialToken {
  std::string token;
  int64_t id = 0;
};

struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;          // 0 = A, 1 = B
  std::string special;       // key into the special token table
  int64_t type_id = 0;
};

struct TemplateSpecial {
  std::vector<std::string> tokens;
  std::vector<int64_t> ids;
};

struct PostProcessor {
  enum class Kind { None, Bert, Roberta, Template } kind = Kind::None;
  SpecialToken cls, sep;                        // Bert and Roberta
  bool trim_offsets = true, add_prefix_space = false;   // Roberta
  std::vector<TemplatePiece> single, pair;      // Template
  std::map<std::string, TemplateSpecial> specials;

  int64_t added_tokens(bool is_pair) const;
  // a, b: the sequences' own tokens (b empty when single). Type ids: a 0, b 1 before this step.
  Encoding process(Encoding a, const Encoding* b, bool add_special_tokens) const;
};

// Appends `src` to `dst` (all per-token fields).
void append_encoding(Encoding& dst, const Encoding& src);

}  // namespace slimformer::tok
