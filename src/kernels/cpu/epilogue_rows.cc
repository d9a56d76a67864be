// apply_epilogue_row: the activation after a product, for the kernels that run outside the GEMM
// library (int8, sparse). Scalar GELU calls erff per value, which cost more than the int8
// product itself on bert-mini; the SIMD versions (epilogue_avx2.cc, epilogue_avx512.cc) use
// Abramowitz & Stegun's erf (7.1.26, |error| <= 1.5e-7), as oneDNN's gelu_erf does.
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/rows_simd.h"

namespace slimformer::kernels {

void apply_epilogue_row(Epilogue e, float* out, const float* v, int64_t n, bool accumulate) {
  if (e == Epilogue::None && !accumulate) {
    if (out != v)
      for (int64_t j = 0; j < n; ++j) out[j] = v[j];
    return;
  }
  if (isa_at_least(Isa::Avx512)) return avx512::epilogue_row(e, out, v, n, accumulate);
  if (isa_at_least(Isa::Avx2)) return avx2::epilogue_row(e, out, v, n, accumulate);
  for (int64_t j = 0; j < n; ++j) {
    const float y = apply_epilogue(e, v[j]);
    out[j] = accumulate ? out[j] + y : y;
  }
}

}  // namespace slimformer::kernels
