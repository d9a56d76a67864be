// The data files users point eval and distill at: STS-B (CSV/TSV), MRPC (TSV) and distillation
// pairs, the same bytes through each reader.
#include "fuzz_util.h"
#include "slimformer/distill.h"
#include "slimformer/eval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slimfuzz::write_input("data.tsv", data, size);
  slimfuzz::expect_clean([&] { (void)slimformer::read_sts(path); });
  slimfuzz::expect_clean([&] { (void)slimformer::read_mrpc(path); });
  slimfuzz::expect_clean([&] { (void)slimformer::compress::read_distill_pairs(path); });
  return 0;
}
