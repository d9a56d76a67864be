// safetensors: the header (size field, JSON, dtypes, shapes, offsets, sparse entries) and every
// tensor it lists, read back through get().
#include "fuzz_util.h"
#include "slimformer/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slimfuzz::write_input("model.safetensors", data, size);
  slimfuzz::expect_clean([&] {
    slimformer::SafetensorsFile f(path);
    for (const std::string& name : f.names()) {
      const slimformer::Tensor t = f.get(name);
      (void)f.stored_bytes(name);
      (void)t.nbytes();
    }
  });
  return 0;
}
