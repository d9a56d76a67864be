// The GEMM kernels' memory must not grow with the number of shapes seen: a server meets a new
// row count with nearly every batch. oneDNN's default gave each primitive a scratchpad of its
// own, held as long as the primitive is cached (hundreds of MB over a load run); the kernels now
// pass one scratch buffer per thread (onednn.h). Here 64 row counts in a row through PackedLinear
// and the batched GEMM must leave the process's resident memory within a few buffers' worth.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/onednn.h"
#include "sanitizer_util.h"
#include "serve/heap_limits.h"
#include "slimformer/memory.h"

namespace sk = slimformer::kernels;

namespace {

// AddressSanitizer keeps freed blocks in quarantine (256 MiB by default), so resident memory
// there says nothing of the kernels': these two run in the Release build.
constexpr const char* kAsanSkip =
    "AddressSanitizer's quarantine holds freed memory: resident memory is measured in the Release build";

// The process's resident memory in KiB.
int64_t rss_kib() { return static_cast<int64_t>(slimformer::process_rss_bytes() / 1024); }

TEST(KernelsGemmMemory, PrimitivesKeepNoScratchOfTheirOwn) {
  if (SLIM_TEST_ASAN) GTEST_SKIP() << kAsanSkip;
  // The encoder's two kinds of Linear: one with an activation (the FFN's first), one adding into
  // its output (the residual ones).
  constexpr int64_t N = 1024, K = 256, kMostRows = 2048 + 64;
  std::vector<float> w(N * K, 0.01f), bias(N, 0.5f), in(kMostRows * K, 1.0f), mid(kMostRows * N),
      out(kMostRows * K, 1.0f);
  // The server's malloc settings: with glibc's dynamic mmap threshold the freed blocks of each
  // new shape stay resident in the heap (+45 MiB here), which would hide what this measures.
  slimformer::serve::bound_heap_growth();
  const sk::PackedLinear up(w.data(), bias.data(), N, K, sk::Epilogue::Gelu);
  const sk::PackedLinear down(w.data(), bias.data(), K, N);   // (K,N): the transpose shape, same values
  up.forward(mid.data(), in.data(), 2048);   // warm: the thread's scratch at about its largest
  down.forward(out.data(), mid.data(), 2048, /*accumulate=*/true);
  const int64_t before = rss_kib();
  ASSERT_GT(before, 0);
  for (int64_t M = 2048 + 1; M <= kMostRows; ++M) {   // 64 new shapes for each
    up.forward(mid.data(), in.data(), M);
    std::fill(out.begin(), out.end(), 1.0f);
    down.forward(out.data(), mid.data(), M, /*accumulate=*/true);
  }
  const int64_t grown_mib = (rss_kib() - before) / 1024;
  // One (M, N) f32 buffer is 8 MiB: a scratchpad per primitive adds 73 MiB here; without, ~4 MiB.
  EXPECT_LT(grown_mib, 24) << "resident memory grew by " << grown_mib << " MiB over 64 shapes";
  const double x = 256 * 0.01 + 0.5, gelu = 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  EXPECT_NEAR(mid[0], gelu, 1e-4);                            // the products ran
  EXPECT_NEAR(out[0], 1 + 1024 * 0.01 * gelu + 0.5, 1e-3);    // and added into out
}

TEST(KernelsGemmMemory, BatchedGemmKeepsNoScratchOfItsOwn) {
  if (SLIM_TEST_ASAN) GTEST_SKIP() << kAsanSkip;
  constexpr int64_t H = 4, T = 256;
  std::vector<float> q(T * H * 64, 0.1f), k((T + 64) * H * 64, 0.1f), s(H * T * (T + 64));
  const int64_t before_warm = rss_kib();
  sk::gemm_batched_f32(true, 1, H, T, T, 64, 1.0f, q.data(), H * 64, {0, 64}, k.data(), H * 64, {0, 64},
                       s.data(), T, {0, T * T});
  const int64_t before = rss_kib();
  for (int64_t n = T + 1; n <= T + 64; ++n)   // 64 new key lengths
    sk::gemm_batched_f32(true, 1, H, T, n, 64, 1.0f, q.data(), H * 64, {0, 64}, k.data(), H * 64, {0, 64},
                         s.data(), n, {0, T * n});
  const int64_t grown_mib = (rss_kib() - before) / 1024;
  EXPECT_LT(grown_mib, 48) << "resident memory grew by " << grown_mib << " MiB over 64 shapes (warm-up "
                           << (before - before_warm) / 1024 << " MiB)";
}

// oneDNN's own primitive cache is bounded below its default of 1024 (onednn.cc), unless the
// environment says otherwise.
TEST(KernelsGemmMemory, OneDnnPrimitiveCacheIsBounded) {
  (void)sk::onednn_engine();
  if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY"))
    GTEST_SKIP() << "the environment sets oneDNN's primitive cache capacity";
  EXPECT_EQ(dnnl::get_primitive_cache_capacity(), 256);
}

}  // namespace
