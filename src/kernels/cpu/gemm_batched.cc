// gemm_batched_f32 over the oneDNN matmul primitive with 4-D strided tensors (outer, inner, rows,
// cols). For BERT attention at 128 tokens one batched call runs 2.3-2.9x faster than a loop of
// dnnl_sgemm calls per (batch, head), which each pay the threading overhead on a tiny product.
#include <dnnl.hpp>
#include <omp.h>

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kernels/cpu/onednn.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/bounded_cache.h"
#include "slimformer/error.h"

namespace slimformer::kernels {
namespace {

using dnnl::memory;
using dt = memory::data_type;

dnnl::engine& cpu_engine() { return onednn_engine(); }

struct Descs {
  memory::desc a, b, c, add;
};

// A stride only matters for a dimension of size > 1; oneDNN wants a positive one everywhere.
int64_t stride_for(int64_t dim, int64_t stride) { return dim == 1 && stride <= 0 ? 1 : stride; }

Descs make_descs(bool trans_b, int64_t bo, int64_t bi, int64_t M, int64_t N, int64_t K,
                 int64_t lda, BatchStride sa, int64_t ldb, BatchStride sb, int64_t ldc,
                 BatchStride sc, bool row_add) {
  Descs d;
  sa = {stride_for(bo, sa.outer), stride_for(bi, sa.inner)};
  sb = {stride_for(bo, sb.outer), stride_for(bi, sb.inner)};
  sc = {stride_for(bo, sc.outer), stride_for(bi, sc.inner)};
  d.a = memory::desc({bo, bi, M, K}, dt::f32, memory::dims{sa.outer, sa.inner, lda, 1});
  // B as a (K,N) matrix: rows ldb apart, or (N,K) rows read transposed
  d.b = memory::desc({bo, bi, K, N}, dt::f32,
                     trans_b ? memory::dims{sb.outer, sb.inner, 1, ldb}
                             : memory::dims{sb.outer, sb.inner, ldb, 1});
  d.c = memory::desc({bo, bi, M, N}, dt::f32, memory::dims{sc.outer, sc.inner, ldc, 1});
  if (row_add) d.add = memory::desc({bo, 1, 1, N}, dt::f32, memory::dims{N, N, N, 1});
  return d;
}

using Key = std::tuple<bool, int64_t, int64_t, int64_t, int64_t, int64_t, float, int64_t,
                       int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       bool, int>;

// One primitive per full description (and thread count: a primitive keeps the count it was
// created with), created on first use.
Matmul batched_primitive(const Key& key, const Descs& d, float alpha, bool row_add) {
  static BoundedCache<Key, Matmul> cache(kPrimitivesShared);
  return cache.get_or_make(key, [&] {
    dnnl::primitive_attr attr;
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    if (row_add) {
      dnnl::post_ops ops;
      ops.append_binary(dnnl::algorithm::binary_add, d.add);
      attr.set_post_ops(ops);
    }
    return make_matmul(matmul_pd(dnnl::matmul::desc(d.a, d.b, d.c), attr));
  });
}

}  // namespace

void gemm_batched_f32(bool trans_b, int64_t batch_outer, int64_t batch_inner, int64_t M, int64_t N,
                      int64_t K, float alpha, const float* A, int64_t lda, BatchStride sa,
                      const float* B, int64_t ldb, BatchStride sb, float* C, int64_t ldc,
                      BatchStride sc, const float* row_add) {
  if (batch_outer <= 0 || batch_inner <= 0 || M <= 0 || N <= 0) return;
  if (K <= 0) {   // empty product: C = row_add (or 0)
    for (int64_t o = 0; o < batch_outer; ++o)
      for (int64_t i = 0; i < batch_inner; ++i)
        for (int64_t r = 0; r < M; ++r)
          for (int64_t j = 0; j < N; ++j)
            C[o * sc.outer + i * sc.inner + r * ldc + j] = row_add ? row_add[o * N + j] : 0.0f;
    return;
  }
  for (auto [dim, st, what] : {std::tuple{batch_outer, sa.outer, "sa.outer"}, {batch_inner, sa.inner, "sa.inner"},
                               {batch_outer, sb.outer, "sb.outer"}, {batch_inner, sb.inner, "sb.inner"},
                               {batch_outer, sc.outer, "sc.outer"}, {batch_inner, sc.inner, "sc.inner"}})
    if (dim > 1 && st <= 0)
      throw InputError(std::string("gemm_batched_f32: stride ") + what + " must be > 0 for a batch of " +
                       std::to_string(dim) + ", got " + std::to_string(st));
  const bool add = row_add != nullptr;
  const Descs d = make_descs(trans_b, batch_outer, batch_inner, M, N, K, lda, sa, ldb, sb, ldc, sc, add);
  const Key key{trans_b, batch_outer, batch_inner, M, N, K, alpha, lda, sa.outer, sa.inner, ldb,
                sb.outer, sb.inner, ldc, sc.outer, sc.inner, add, omp_get_max_threads()};
  const Matmul prim = batched_primitive(key, d, alpha, add);
  auto f = [](const float* p) { return const_cast<float*>(p); };
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, memory(d.a, cpu_engine(), f(A))},
                                          {DNNL_ARG_WEIGHTS, memory(d.b, cpu_engine(), f(B))},
                                          {DNNL_ARG_DST, memory(d.c, cpu_engine(), C)}};
  if (add)
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
                 memory(d.add, cpu_engine(), f(row_add)));
  execute(prim, args);
}

}  // namespace slimformer::kernels
