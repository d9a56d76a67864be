// config.json: every architecture's keys, types, sizes and per-layer shapes, and the writer that
// turns a read config back into JSON (which must read again).
#include "fuzz_util.h"
#include "slimformer/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  slimfuzz::expect_clean([&] {
    const slimformer::EncoderConfig c = slimformer::encoder_config_from_json_text(text, "fuzz config.json");
    for (int64_t layer = 0; layer < c.num_layers && layer < 64; ++layer) (void)slimformer::layer_shape(c, layer);
    const std::string again = slimformer::encoder_config_json(c, text);
    (void)slimformer::encoder_config_from_json_text(again, "fuzz config.json (rewritten)");
  });
  return 0;
}
