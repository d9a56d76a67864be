// Pooling modes and l2 normalization on hand-worked values.
#include <gtest/gtest.h>

#include <cmath>

#include "slimformer/encoder.h"
#include "slimformer/error.h"

using namespace slimformer;

namespace {
// (B=2, T=3, H=2); row 1 has its last token padded.
Tensor hidden() {
  Tensor t = Tensor::empty({2, 3, 2});
  const float v[] = {1, 2, 3, 4, 5, 6, /* row 1 */ -1, 0, 3, -4, 100, 100};
  std::copy(v, v + 12, t.data<float>());
  return t;
}
const std::vector<int64_t> kMask = {1, 1, 1, 1, 1, 0};
}  // namespace

TEST(ModelPooling, Mean) {
  const Tensor p = pool(hidden(), kMask, PoolingMode::Mean);
  EXPECT_FLOAT_EQ(p.data<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[1], 4.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[2], 1.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[3], -2.0f);
}

TEST(ModelPooling, MeanSqrtLen) {
  const Tensor p = pool(hidden(), kMask, PoolingMode::MeanSqrtLen);
  EXPECT_FLOAT_EQ(p.data<float>()[0], 9.0f / std::sqrt(3.0f));
  EXPECT_FLOAT_EQ(p.data<float>()[3], -4.0f / std::sqrt(2.0f));
}

TEST(ModelPooling, ClsAndMax) {
  const Tensor c = pool(hidden(), kMask, PoolingMode::Cls);
  EXPECT_FLOAT_EQ(c.data<float>()[2], -1.0f);
  const Tensor m = pool(hidden(), kMask, PoolingMode::Max);
  EXPECT_FLOAT_EQ(m.data<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(m.data<float>()[2], 3.0f);   // the padded 100 is ignored
  EXPECT_FLOAT_EQ(m.data<float>()[3], 0.0f);
}

TEST(ModelPooling, WeightedMeanWeighsByPosition) {
  const Tensor p = pool(hidden(), kMask, PoolingMode::WeightedMean);
  // Row 0: (1*(1,2) + 2*(3,4) + 3*(5,6)) / 6; row 1 keeps positions 1 and 2: (1*(-1,0) + 2*(3,-4)) / 3.
  EXPECT_FLOAT_EQ(p.data<float>()[0], 22.0f / 6.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[1], 28.0f / 6.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[2], 5.0f / 3.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[3], -8.0f / 3.0f);
}

TEST(ModelPooling, LastTokenIsTheLastKeptOne) {
  const Tensor p = pool(hidden(), kMask, PoolingMode::LastToken);
  EXPECT_FLOAT_EQ(p.data<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[1], 6.0f);
  EXPECT_FLOAT_EQ(p.data<float>()[2], 3.0f);    // not the padded (100, 100)
  EXPECT_FLOAT_EQ(p.data<float>()[3], -4.0f);
  // Left padding, and a row with nothing kept (sentence-transformers gives zeros).
  const Tensor q = pool(hidden(), {0, 1, 0, 0, 0, 0}, PoolingMode::LastToken);
  EXPECT_FLOAT_EQ(q.data<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(q.data<float>()[1], 4.0f);
  EXPECT_EQ(q.data<float>()[2], 0.0f);
  EXPECT_EQ(q.data<float>()[3], 0.0f);
}

TEST(ModelPooling, L2Normalize) {
  Tensor x = Tensor::empty({2, 2});
  const float v[] = {3, 4, 0, 0};
  std::copy(v, v + 4, x.data<float>());
  l2_normalize_rows(x);
  EXPECT_FLOAT_EQ(x.data<float>()[0], 0.6f);
  EXPECT_FLOAT_EQ(x.data<float>()[1], 0.8f);
  EXPECT_EQ(x.data<float>()[2], 0.0f);   // a zero row stays zero, no NaN
}

TEST(ModelPooling, BadMaskIsRefused) {
  EXPECT_THROW(pool(hidden(), {1, 1}, PoolingMode::Mean), InputError);
}
