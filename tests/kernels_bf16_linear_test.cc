// Bf16Linear against the scalar reference run on the widened bf16 weight, for every ISA the CPU
// runs (the bf16 matmul where AVX512-BF16 exists, the widened f32 PackedLinear below it), and the
// bf16 / f16 widening helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/reference.h"
#include "slimformer/error.h"
#include "slimformer/tensor.h"

namespace sk = slimformer::kernels;
using slimformer::InputError;

namespace {

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<uint16_t> random_bf16(size_t n, uint32_t seed) {
  const auto f = random_vec(n, seed);
  std::vector<uint16_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = slimformer::f32_to_bf16(f[i]);
  return b;
}

const sk::Epilogue kEpilogues[] = {sk::Epilogue::None, sk::Epilogue::Gelu, sk::Epilogue::GeluTanh,
                                   sk::Epilogue::Relu};

}  // namespace

TEST(Bf16Widen, MatchesScalarConversionsAndRoundsToNearestEven) {
  std::vector<uint16_t> all(0x10000);
  for (uint32_t i = 0; i < 0x10000; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> b(all.size()), h(all.size());
  sk::widen_bf16(b.data(), all.data(), static_cast<int64_t>(all.size()));
  sk::widen_f16(h.data(), all.data(), static_cast<int64_t>(all.size()));
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const float wb = slimformer::bf16_to_f32(all[i]), wh = slimformer::f16_to_f32(all[i]);
    EXPECT_TRUE(std::isnan(wb) ? std::isnan(b[i]) : b[i] == wb) << i;
    EXPECT_TRUE(std::isnan(wh) ? std::isnan(h[i]) : h[i] == wh) << i;
  }
  const auto f = random_vec(4097, 3);
  std::vector<uint16_t> n(f.size());
  sk::narrow_bf16(n.data(), f.data(), static_cast<int64_t>(f.size()));
  for (size_t i = 0; i < f.size(); ++i) EXPECT_EQ(n[i], slimformer::f32_to_bf16(f[i])) << f[i];
  const float nan = std::nanf("");
  sk::narrow_bf16(n.data(), &nan, 1);
  EXPECT_TRUE(std::isnan(slimformer::bf16_to_f32(n[0])));
}

// Tolerance: the weight is exact (the reference uses the same bf16 values widened), but the
// bf16 path rounds each input to bf16 (relative error <= 2^-9), so an output may move by up to
// 2^-9 * sum_k |w_k x_k|; doubled for slack, plus f32 accumulation (1e-5 per product) and the
// GELU slope (at most 1.13, taken as 1.2).
TEST(Bf16Linear, MatchesWidenedReferenceOnOddShapesForEveryIsa) {
  for (sk::Isa isa : sk::available_isas()) {
    sk::ScopedIsa scoped(isa);
    uint32_t seed = 1;
    int turn = 0;
    for (int64_t N : {1, 5, 65}) {
      for (int64_t K : {1, 7, 129, 300}) {
        const auto w16 = random_bf16(static_cast<size_t>(N * K), ++seed);
        std::vector<float> w(w16.size());
        sk::widen_bf16(w.data(), w16.data(), static_cast<int64_t>(w.size()));
        const auto bias = random_vec(static_cast<size_t>(N), ++seed);
        for (int ei = 0; ei < 2; ++ei) {
          const sk::Epilogue e = kEpilogues[turn++ % 4];
          const sk::Bf16Linear lin(w16.data(), ei ? bias.data() : nullptr, N, K, e);
          EXPECT_EQ(lin.native_bf16(), isa == sk::Isa::Avx512Bf16);
          for (int64_t M : {1, 3, 17, 130}) {
            const auto in = random_vec(static_cast<size_t>(M * K), ++seed);
            const auto prior = random_vec(static_cast<size_t>(M * N), ++seed);
            for (bool acc : {false, true}) {
              std::vector<float> got = prior, want = prior;
              lin.forward(got.data(), in.data(), M, acc);
              sk::ref::linear(want.data(), in.data(), w.data(), ei ? bias.data() : nullptr, M, N, K, e, acc);
              for (int64_t m = 0; m < M; ++m)
                for (int64_t j = 0; j < N; ++j) {
                  double s = 0.0;
                  for (int64_t k = 0; k < K; ++k) s += std::fabs(double(w[j * K + k]) * in[m * K + k]);
                  const double t = 1.2 * (2.0 * std::ldexp(s, -9) + 1e-5 * (K + 1));
                  ASSERT_NEAR(got[m * N + j], want[m * N + j], t)
                      << sk::isa_name(isa) << " M=" << M << " N=" << N << " K=" << K
                      << " epilogue=" << static_cast<int>(e) << " accumulate=" << acc;
                }
            }
          }
        }
      }
    }
  }
}

TEST(Bf16Linear, HalvesTheBytesAndRefusesBadArguments) {
  const int64_t N = 64, K = 128;
  const auto w16 = random_bf16(N * K, 1);
  const auto bias = random_vec(N, 2);
  const sk::Bf16Linear lin(w16.data(), bias.data(), N, K);
  EXPECT_EQ(lin.out_features(), N);
  EXPECT_EQ(lin.in_features(), K);
  if (lin.native_bf16()) {
    EXPECT_LE(lin.bytes(), static_cast<size_t>(N * K * 2 + N * 4) * 5 / 4);
  } else {
    EXPECT_GE(lin.bytes(), static_cast<size_t>(N * K * 4));
  }
  const sk::Bf16Linear copy = lin;
  const auto in = random_vec(3 * K, 3);
  std::vector<float> a(3 * N), b(3 * N);
  lin.forward(a.data(), in.data(), 3);
  copy.forward(b.data(), in.data(), 3);
  EXPECT_EQ(a, b);
  EXPECT_THROW(sk::Bf16Linear(nullptr, nullptr, -1, 2), InputError);
  EXPECT_THROW(sk::Bf16Linear(nullptr, nullptr, 2, 2), InputError);
  EXPECT_THROW(sk::Bf16Linear().forward(a.data(), in.data(), 1), InputError);
  EXPECT_THROW(lin.forward(a.data(), in.data(), -1), InputError);
}
