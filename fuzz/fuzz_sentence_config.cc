// A sentence-transformers folder's module files: the input is 1_Pooling/config.json beside a fixed
// modules.json naming a Transformer, a Pooling and a Normalize module.
#include "fuzz_util.h"
#include "slimformer/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string modules =
      R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)"
      R"({"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},)"
      R"({"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])";
  const std::string dir = (slimfuzz::scratch_dir() / "st").string();
  slimfuzz::write_input("st/modules.json", reinterpret_cast<const uint8_t*>(modules.data()), modules.size());
  slimfuzz::write_input("st/1_Pooling/config.json", data, size);
  slimfuzz::expect_clean([&] { (void)slimformer::read_sentence_config(dir); });
  return 0;
}
