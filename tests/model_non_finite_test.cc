// model::first_non_finite against std::isfinite on every element (the independent reference), for
// each floating dtype, on odd sizes and at unaligned addresses (mmapped tensors can be).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/non_finite.h"
#include "slimformer/tensor.h"
#include "test_util.h"

namespace {
using namespace slimformer;

// The reference: decode every element to f32 and ask std::isfinite.
int64_t reference_first(const Tensor& t) {
  const Tensor f = t.dtype() == DType::F32 ? t : t.to_f32();
  const auto* bytes = static_cast<const unsigned char*>(f.raw());
  for (int64_t i = 0; i < f.numel(); ++i) {
    float x;
    std::memcpy(&x, bytes + i * sizeof(float), sizeof x);   // the view may be unaligned
    if (!std::isfinite(x)) return i;
  }
  return -1;
}

// `values` stored as `dtype` one byte past an aligned address.
Tensor unaligned(const std::vector<float>& values, DType dtype, std::vector<unsigned char>& storage) {
  const size_t size = dtype_size(dtype), n = values.size();
  storage.assign(n * size + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    if (dtype == DType::F32) {
      std::memcpy(&storage[1 + i * size], &values[i], size);
    } else {
      const uint16_t h = dtype == DType::F16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
      std::memcpy(&storage[1 + i * size], &h, size);
    }
  }
  return Tensor::view(storage.data() + 1, {static_cast<int64_t>(n)}, dtype, nullptr);
}

TEST(ModelNonFinite, MatchesIsfiniteForEveryDtypeSizeAndPosition) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    for (int64_t n : {1, 3, 17, 513, 9000}) {
      std::vector<float> v = slimtest::random_vec(n, static_cast<unsigned>(n));
      std::vector<unsigned char> storage;
      EXPECT_EQ(model::first_non_finite(unaligned(v, dtype, storage)), -1);
      for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
        for (float bad : {nan, inf, -inf}) {
          std::vector<float> w = v;
          w[static_cast<size_t>(at)] = bad;
          if (at + 1 < n) w[static_cast<size_t>(n - 1)] = nan;   // a later one must not win
          const Tensor t = unaligned(w, dtype, storage);
          EXPECT_EQ(model::first_non_finite(t), reference_first(t)) << dtype_name(dtype) << " n=" << n << " at=" << at;
          EXPECT_EQ(model::first_non_finite(t), at);
        }
      }
    }
  }
}

TEST(ModelNonFinite, LargestFiniteValuesAndIntegerTensorsPass) {
  std::vector<unsigned char> storage;
  const float big = std::numeric_limits<float>::max();
  EXPECT_EQ(model::first_non_finite(unaligned({big, -big, 0.0f, -0.0f, 1e-45f}, DType::F32, storage)), -1);
  EXPECT_EQ(model::first_non_finite(unaligned({65504.0f, -65504.0f}, DType::F16, storage)), -1);
  Tensor codes = Tensor::zeros({4}, DType::I8);
  std::memset(codes.raw(), 0xff, 4);   // all-ones bytes: a NaN pattern in a float, not in an int8
  EXPECT_EQ(model::first_non_finite(codes), -1);
}

}  // namespace
