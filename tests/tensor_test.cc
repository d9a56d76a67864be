#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "slimformer/memory.h"
#include "slimformer/tensor.h"

using namespace slimformer;

TEST(Tensor, AllocatorCountsLiveAndPeakBytes) {
  const size_t live0 = live_bytes();
  reset_peak_bytes();
  {
    Tensor a = Tensor::zeros({4, 8});
    EXPECT_EQ(live_bytes(), live0 + 128);
    {
      Tensor b = Tensor::empty({10}, DType::I64);
      EXPECT_EQ(live_bytes(), live0 + 208);
    }
    EXPECT_EQ(live_bytes(), live0 + 128);
  }
  EXPECT_EQ(live_bytes(), live0);
  EXPECT_EQ(peak_bytes(), live0 + 208);
}

TEST(Tensor, HalfConversionsRoundTripAndRound) {
  // every finite half converts to float and back unchanged
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if (((h >> 10) & 0x1f) == 0x1f) continue;
    EXPECT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h) << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);             // rounds up to inf
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie to even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
}

TEST(Tensor, ToF32ConvertsEveryDtype) {
  Tensor t = Tensor::empty({3}, DType::I64);
  t.data<int64_t>()[0] = -5; t.data<int64_t>()[1] = 0; t.data<int64_t>()[2] = 7;
  Tensor f = t.to_f32();
  EXPECT_EQ(f.data<float>()[0], -5.0f);
  EXPECT_EQ(f.data<float>()[2], 7.0f);
  EXPECT_THROW(t.reshaped({2, 2}), std::exception);
}

TEST(Tensor, U8IsOneByteNamedU8AndConvertsByValue) {
  EXPECT_EQ(dtype_size(DType::U8), 1u);
  EXPECT_STREQ(dtype_name(DType::U8), "U8");
  DType t = DType::F32;
  ASSERT_TRUE(dtype_from_name("U8", &t));
  EXPECT_EQ(t, DType::U8);
  Tensor m = Tensor::empty({3}, DType::U8);
  EXPECT_EQ(m.nbytes(), 3u);
  m.data<uint8_t>()[0] = 0; m.data<uint8_t>()[1] = 0x81; m.data<uint8_t>()[2] = 255;
  Tensor f = m.to_f32();
  EXPECT_EQ(f.data<float>()[1], 129.0f);   // unsigned, not sign-extended
  EXPECT_EQ(f.data<float>()[2], 255.0f);
  EXPECT_THROW(m.to_float(DType::U8), std::exception);   // not a floating target
}
