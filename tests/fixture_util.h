// Reading the Hugging Face output fixtures (../shared/fixtures/hf/outputs/*.safetensors) into a
// Batch and comparing states on the positions the attention mask keeps: one copy for every
// model test.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"
#include "slimformer/tokenizer.h"

namespace slimtest {

inline std::vector<int64_t> fixture_ints(const slimformer::SafetensorsFile& f, const std::string& name) {
  const slimformer::Tensor t = f.get(name);
  const int64_t* p = t.data<int64_t>();
  return {p, p + t.numel()};
}

// input_ids and attention_mask, plus token_type_ids and global_attention_mask where the fixture has them.
inline slimformer::Batch fixture_batch(const slimformer::SafetensorsFile& f) {
  const slimformer::Tensor ids = f.get("input_ids");
  slimformer::Batch b;
  b.batch = ids.dim(0);
  b.seq = ids.dim(1);
  b.ids = fixture_ints(f, "input_ids");
  b.mask = fixture_ints(f, "attention_mask");
  if (f.contains("token_type_ids")) b.type_ids = fixture_ints(f, "token_type_ids");
  if (f.contains("global_attention_mask")) b.global_mask = fixture_ints(f, "global_attention_mask");
  return b;
}

// Max |got - want| over the rows (of the last dimension's width) whose mask entry is 1: (B, T, H)
// states with the (B, T) mask, or (B, H) pooler outputs with one entry per row. NaN -> infinity.
inline double masked_max_diff(const slimformer::Tensor& got, const slimformer::Tensor& want,
                              const std::vector<int64_t>& mask) {
  EXPECT_EQ(got.shape(), want.shape());
  const int64_t H = want.dim(-1);
  double m = 0.0;
  for (int64_t r = 0; r < static_cast<int64_t>(mask.size()); ++r) {
    if (!mask[static_cast<size_t>(r)]) continue;
    for (int64_t j = 0; j < H; ++j) {
      const double d = std::fabs(double(got.data<float>()[r * H + j]) - want.data<float>()[r * H + j]);
      if (std::isnan(d)) return INFINITY;
      m = std::max(m, d);
    }
  }
  return m;
}

}  // namespace slimtest
