// Hugging Face's BertNormalizer: clean text, isolate CJK ideographs, strip accents, lowercase.
#pragma once
#include "tokenize/unicode_chars.h"

namespace slimformer::tok {

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;   // a null in tokenizer.json means: same as lowercase
  bool lowercase = true;
};

// Every output char keeps the byte range of the input char it came from.
Chars bert_normalize(const Chars& in, const BertNormalizerOptions& opt);

}  // namespace slimformer::tok
