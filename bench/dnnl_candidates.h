// The raw oneDNN matmul primitive as a GEMM candidate (plain or pre-packed weights), measured
// beside dnnl_sgemm and OpenBLAS before the library wrapper was written.
#pragma once
#include <cstdint>
#include <functional>

namespace slimbench {

// out (M,N) = in (M,K) . w^T, w (N,K). packed: weights reordered once into the primitive's
// preferred layout (format_tag::any); otherwise the primitive reads w in place.
std::function<void()> dnnl_matmul_runner(int64_t M, int64_t N, int64_t K, const float* in,
                                         const float* w, float* out, bool packed);

}  // namespace slimbench
