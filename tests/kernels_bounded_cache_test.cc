// The primitive caches stay bounded and keep the most recently used entries.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/bounded_cache.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/reference.h"

namespace slimformer::kernels {
namespace {

TEST(BoundedCache, EvictsTheLeastRecentlyUsed) {
  BoundedCache<int, int> cache(2);
  int made = 0;
  auto get = [&](int k) { return cache.get_or_make(k, [&] { ++made; return k * 10; }); };
  EXPECT_EQ(get(1), 10);
  EXPECT_EQ(get(2), 20);
  EXPECT_EQ(get(1), 10);   // 1 is now the most recent
  EXPECT_EQ(made, 2);
  EXPECT_EQ(get(3), 30);   // evicts 2
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(get(1), 10);
  EXPECT_EQ(made, 3);
  EXPECT_EQ(get(2), 20);   // made again
  EXPECT_EQ(made, 4);
}

// More distinct batch shapes than a layer keeps primitives for: every answer still right, the
// evicted shapes rebuilt on return.
TEST(BoundedCache, PackedLinearStaysRightPastItsCapacity) {
  const int64_t N = 24, K = 40;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<float> w(N * K), b(N);
  for (float& v : w) v = dist(rng);
  for (float& v : b) v = dist(rng);
  PackedLinear layer(w.data(), b.data(), N, K);
  for (int round = 0; round < 2; ++round) {
    for (int64_t M = 1; M <= static_cast<int64_t>(kPrimitivesPerLayer) + 5; ++M) {
      std::vector<float> x(M * K), got(M * N), want(M * N);
      for (float& v : x) v = dist(rng);
      layer.forward(got.data(), x.data(), M);
      ref::linear(want.data(), x.data(), w.data(), b.data(), M, N, K, Epilogue::None, false);
      for (int64_t i = 0; i < M * N; ++i) ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i]))) << M;
    }
  }
}

}  // namespace
}  // namespace slimformer::kernels
