// tokenizer.json: every normalizer, pre-tokenizer, model, post-processor and added-token part the
// loader accepts, then a few encodes with the tokenizer it built.
#include "fuzz_util.h"
#include "slimformer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slimfuzz::write_input("tokenizer.json", data, size);
  slimfuzz::expect_clean([&] {
    const auto tok = slimformer::load_tokenizer_json(path);
    for (const char* text : {"", "Hello world!", "  Café  naïve ﬁ 日本語 😀 [CLS] <s> </s>"}) {
      slimformer::EncodeOptions o;
      o.max_length = 16;
      (void)tok->encode(text);
      (void)tok->encode_pair(text, "second piece", o);
    }
  });
  return 0;
}
