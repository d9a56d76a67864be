// The --attention spec: parse, the canonical text round trip, and building the mechanism for a
// small model (where the keys and values are checked).
#include <cstdlib>

#include "fuzz_util.h"
#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  slimfuzz::expect_clean([&] {
    const slimformer::AttentionSpec spec = slimformer::AttentionSpec::parse(text);
    const std::string canonical = spec.str();
    if (slimformer::AttentionSpec::parse(canonical).str() != canonical) std::abort();
    slimformer::EncoderConfig c;
    c.hidden_size = 32;
    c.num_heads = 4;
    c.num_layers = 2;
    c.intermediate_size = 64;
    c.max_position_embeddings = 512;
    (void)slimformer::make_attention(spec, slimformer::attention_context(c));
  });
  return 0;
}
