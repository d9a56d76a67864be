#include "kernels/cpu/gemm.h"

#include <dnnl.hpp>
#include <omp.h>

#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "kernels/cpu/bounded_cache.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/onednn.h"

namespace slimformer::kernels {

void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc) {
  if (M == 0 || N == 0) return;
  (void)active_isa();   // sgemm needs no engine: cap oneDNN (isa.h) before its first dispatch here too
  dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

namespace {

// linear_f32 runs the oneDNN matmul primitive reading the weight in place ((N,K) row-major seen
// as a (K,N) "ba" matrix) with the bias fused. Against dnnl_sgemm it is up to 2.4x faster where
// sgemm splits the work badly over 2 threads (K=3072, N=768: docs/gemm.md). One primitive per
// (shape, thread count), created on first use and kept in a bounded cache: a primitive keeps the thread count it was created
// with, so a later set_num_threads needs new ones.
dnnl::engine& cpu_engine() { return onednn_engine(); }

Matmul linear_primitive(int64_t M, int64_t N, int64_t K, bool bias) {
  using dnnl::memory;
  using tag = memory::format_tag;
  static BoundedCache<std::tuple<int64_t, int64_t, int64_t, bool, int>, Matmul> cache(
      kPrimitivesShared);
  return cache.get_or_make(std::make_tuple(M, N, K, bias, omp_get_max_threads()), [&] {
    const memory::desc src({M, K}, memory::data_type::f32, tag::ab);
    const memory::desc wei({K, N}, memory::data_type::f32, tag::ba);
    const memory::desc dst({M, N}, memory::data_type::f32, tag::ab);
    const memory::desc b({1, N}, memory::data_type::f32, tag::ab);
    const auto desc = bias ? dnnl::matmul::desc(src, wei, b, dst) : dnnl::matmul::desc(src, wei, dst);
    return make_matmul(matmul_pd(desc));
  });
}

}  // namespace

void linear_f32(float* out, const float* in, const float* weight, const float* bias, int64_t M,
                int64_t N, int64_t K) {
  if (M == 0 || N == 0) return;
  if (K == 0) {   // empty product: out = bias
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) out[i * N + j] = bias ? bias[j] : 0.0f;
    return;
  }
  using dnnl::memory;
  using tag = memory::format_tag;
  const Matmul prim = linear_primitive(M, N, K, bias != nullptr);
  const dnnl::engine& eng = cpu_engine();
  auto f = [](const float* p) { return const_cast<float*>(p); };
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory({{M, K}, memory::data_type::f32, tag::ab}, eng, f(in))},
      {DNNL_ARG_WEIGHTS, memory({{K, N}, memory::data_type::f32, tag::ba}, eng, f(weight))},
      {DNNL_ARG_DST, memory({{M, N}, memory::data_type::f32, tag::ab}, eng, out)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory({{1, N}, memory::data_type::f32, tag::ab}, eng, f(bias)));
  execute(prim, args);
}

void gemm_f32_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      const float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * acc) + prev;
    }
  }
}

}  // namespace slimformer::kernels
