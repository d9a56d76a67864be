// Linear layers whose weights are stored in bfloat16 (half the bytes of f32). docs/bf16.md has
// the measurements behind the two compute paths.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu/gemm.h"

namespace slimformer::kernels {

// out (n) = the f32 values of bfloat16 / IEEE half bits in (n).
void widen_bf16(float* out, const uint16_t* in, int64_t n);
void widen_f16(float* out, const uint16_t* in, int64_t n);
// out (n) = in (n) rounded to bfloat16 (nearest even; NaN stays NaN).
void narrow_bf16(uint16_t* out, const float* in, int64_t n);

// out (M,N) = epilogue(in (M,K) . W^T + bias) for a bfloat16 W. Where the CPU has AVX512-BF16
// (isa_at_least(Isa::Avx512Bf16) when the layer is built) the weight stays bf16, packed for the
// library's bf16 matmul, and each forward rounds its input to bf16 and accumulates in f32; else
// the weight is widened to f32 once and a PackedLinear runs it. Copyable (copies share the
// weight); forward may be called from several threads at once.
class Bf16Linear {
 public:
  Bf16Linear();
  // weight (N,K) bf16 bits row-major; bias (N) f32 or null. Both are copied. InputError if N or
  // K is negative or weight is null for a non-empty layer.
  Bf16Linear(const uint16_t* weight, const float* bias, int64_t N, int64_t K,
             Epilogue epilogue = Epilogue::None);
  ~Bf16Linear();
  Bf16Linear(const Bf16Linear&);
  Bf16Linear& operator=(const Bf16Linear&);
  Bf16Linear(Bf16Linear&&) noexcept;
  Bf16Linear& operator=(Bf16Linear&&) noexcept;

  // Same contract as PackedLinear::forward.
  void forward(float* out, const float* in, int64_t M, bool accumulate = false) const;

  bool empty() const { return impl_ == nullptr; }
  bool native_bf16() const;       // true when the bf16 matmul runs (not the f32 fallback)
  int64_t out_features() const;   // N
  int64_t in_features() const;    // K
  size_t bytes() const;           // weight + bias as held

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace slimformer::kernels
