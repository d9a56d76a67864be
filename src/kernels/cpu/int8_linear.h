// Int8 Linear for dynamic quantization (docs/int8.md): weights int8 per output channel
// (symmetric, f32 scales), activations quantized per row at run time to u8 with a zero point,
// integer dot products in int32, then one f32 scale per (row, column). Row-major throughout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu/gemm.h"

namespace slimformer::kernels {

// The largest K an Int8Linear takes: 255 * 128 * K (the largest |(x_q - zp) * w_q| sum, and
// each of the two terms the kernels subtract) stays below 2^31 for K <= 32768.
constexpr int64_t kInt8MaxK = 32768;

// q (N,K), scales (N) = symmetric per-output-row quantization of w (N,K):
// scale = max|w_row| / 127 (1 for an all-zero row), q = round-half-even(w * (1/scale)) clamped
// to [-127, 127]; the product by the f32 reciprocal is what torch.quantize_per_channel does.
void quantize_per_channel(int8_t* q, float* scales, const float* w, int64_t N, int64_t K);

// Asymmetric u8 parameters of one activation row: x ~ scale * (x_q - zero_point).
struct RowQuant {
  float scale;
  int32_t zero_point;
};
// PyTorch's ChooseQuantizationParams(min(0, min x), max(0, max x), 0, 255) (reduce_range off),
// computed on one row instead of the whole tensor: scale = (max - min) / 255 in double, 0.1 when
// that is 0 (an all-zero row), raised to 6.1e-5 when smaller; zero_point = round(-min / scale)
// clamped to [0, 255]. x (K).
RowQuant row_quant_params(const float* x, int64_t K);
// x_q = clamp(round-half-even(fma(x, 1/scale, zero_point)), 0, 255), as fbgemm quantizes.
uint8_t quantize_u8(float x, float inv_scale, int32_t zero_point);

// The scalar reference: out (M,N) = epilogue(s_x[m] * scales[n] * sum_k (x_q - zp) q[n,k]
// + bias[n]) [+ previous out when accumulate], every row of in (M,K) quantized by
// row_quant_params; q (N,K), scales (N), bias (N) or null. Integer sums in int64.
void int8_linear_ref(float* out, const float* in, const int8_t* q, const float* scales,
                     const float* bias, int64_t M, int64_t N, int64_t K, Epilogue epilogue,
                     bool accumulate);

// A Linear layer holding int8 weights, packed once at construction for the best kernel the
// CPU runs (AVX-512 VNNI, AVX2, portable). If the active ISA is lowered later (ScopedIsa,
// SLIMFORMER_ISA), the layout that kernel reads is built on first use. Copyable (copies share
// the packed weights); forward may be called from several threads at once.
class Int8Linear {
 public:
  Int8Linear();
  // q (N,K) int8 as quantize_per_channel makes it (any int8 value is accepted), scales (N) > 0,
  // bias (N) or null; all copied. InputError for a negative N or K, K > kInt8MaxK, a null
  // q/scales where N*K > 0 or N > 0, or a scale that is not finite and > 0.
  Int8Linear(const int8_t* q, const float* scales, const float* bias, int64_t N, int64_t K,
             Epilogue epilogue = Epilogue::None);

  // out (M,N) = epilogue(in (M,K) . dequant(q)^T + bias) with in quantized per row at run
  // time, plus the previous out when accumulate. in and out must not overlap. Threads: OpenMP.
  void forward(float* out, const float* in, int64_t M, bool accumulate = false) const;

  bool empty() const { return impl_ == nullptr; }
  int64_t out_features() const;   // N
  int64_t in_features() const;    // K
  size_t bytes() const;           // packed int8 weights (every layout built) + scales + sums + bias

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace slimformer::kernels
