// Arbitrary bytes through each tokenizer family (WordPiece, byte-level BPE, Unigram), loaded once
// from the shared fixtures: invalid UTF-8 must be refused cleanly, anything else encoded, and the
// offsets must stay inside the text.
#include <cstdlib>
#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "slimformer/tokenizer.h"

namespace {

std::vector<std::unique_ptr<slimformer::Tokenizer>> load_all() {
  const char* dirs = std::getenv("SLIM_FUZZ_TOKENIZERS");   // colon-separated tokenizer.json paths
  std::vector<std::unique_ptr<slimformer::Tokenizer>> out;
  std::string list = dirs ? dirs : "";
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = list.find(':', start);
    const std::string path = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!path.empty()) out.push_back(slimformer::load_tokenizer_json(path));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (out.empty()) {
    std::fprintf(stderr, "fuzz_tokenize_text: set SLIM_FUZZ_TOKENIZERS to tokenizer.json paths\n");
    std::abort();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto tokenizers = load_all();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& tok : tokenizers) {
    slimfuzz::expect_clean([&] {
      const slimformer::Encoding e = tok->encode(text);
      for (const auto& [begin, end] : e.offsets)
        if (begin < 0 || end < begin || end > static_cast<int64_t>(text.size())) std::abort();
      (void)slimformer::char_offsets(e, text);
      slimformer::EncodeOptions o;
      o.max_length = 8;
      (void)tok->encode_pair(text, text, o);
    });
  }
  return 0;
}
