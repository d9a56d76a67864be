// The machine's f32 ceiling: core clock from a dependent integer-add chain, and register-only FMA
// throughput (no memory traffic) at 256 and 512 bits. GEMM figures are judged against these.
#include "ceiling.h"

#include <omp.h>

#include <chrono>
#include <cstdint>

namespace slimbench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// 8 dependent adds per iteration: each has 1-cycle latency, so cycles == adds.
double add_chain_seconds(int64_t iters) {
  uint64_t x = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iters; ++i) {
    asm volatile(
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        : "+r"(x));
  }
  return seconds_since(t0);
}

// Register-only FMA loops in inline asm (with intrinsics the compiler kept the accumulators on
// the stack). 16 independent accumulators hide the FMA latency (4 cycles x 2 pipes needs >= 8).
__attribute__((target("avx512f"))) float fma512(int64_t iters) {
  asm volatile("vxorps %%xmm16, %%xmm16, %%xmm16\n\tvxorps %%xmm17, %%xmm17, %%xmm17" ::: "xmm16", "xmm17");
  for (int64_t i = 0; i < iters; ++i) {
    asm volatile(
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm0\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm1\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm2\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm3\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm4\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm5\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm6\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm7\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm8\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm9\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm10\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm11\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm12\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm13\n\t"
        "vfmadd231ps %%zmm16, %%zmm17, %%zmm14\n\t vfmadd231ps %%zmm16, %%zmm17, %%zmm15\n\t"
        ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  }
  asm volatile("vzeroupper");
  return 0.0f;
}

float fma256(int64_t iters) {
  asm volatile("vxorps %%xmm14, %%xmm14, %%xmm14\n\tvxorps %%xmm15, %%xmm15, %%xmm15" ::: "xmm14", "xmm15");
  for (int64_t i = 0; i < iters; ++i) {
    asm volatile(
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm0\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm1\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm3\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm4\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm6\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm7\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm9\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm10\n\t vfmadd231ps %%ymm14, %%ymm15, %%ymm11\n\t"
        ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11");
  }
  asm volatile("vzeroupper");
  return 0.0f;
}

volatile float g_sink = 0.0f;

// GFLOP/s of `threads` threads each running fn(iters); flops_per_iter counts one thread.
template <class Fn>
double fma_gflops(Fn fn, int64_t iters, double flops_per_iter, int threads) {
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    { g_sink = g_sink + fn(iters); }
    best = std::min(best, seconds_since(t0));
  }
  return flops_per_iter * static_cast<double>(iters) * threads / best * 1e-9;
}

}  // namespace

Ceiling measure_ceiling() {
  Ceiling c;
  const int64_t add_iters = 100'000'000;
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) best = std::min(best, add_chain_seconds(add_iters));
  c.clock_ghz = 8.0 * static_cast<double>(add_iters) / best * 1e-9;
  const int64_t iters = 20'000'000;
  for (int t = 1; t <= 2; ++t) {
    c.fma512_gflops[t - 1] = fma_gflops(fma512, iters, 16 * 16 * 2, t);
    c.fma256_gflops[t - 1] = fma_gflops(fma256, iters, 12 * 8 * 2, t);
  }
  return c;
}

}  // namespace slimbench
