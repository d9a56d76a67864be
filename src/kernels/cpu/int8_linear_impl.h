// What the per-ISA int8 Linear kernels share with int8_linear.cc: weight layouts and the
// tile interface. Not part of the library's API.
#pragma once
#include <cstdint>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/int8_linear.h"

namespace slimformer::kernels::int8 {

// Weight layouts, one per kernel. Columns are grouped into panels of kPanel columns (the last
// one zero-padded) and each panel stores kGroup consecutive k of one column together, so one
// vector load gives every column of the panel its next kGroup weights:
//   vnni   panel 64 (4 zmm of 16 int32 lanes), group 4 (vpdpbusd sums 4 u8 x s8 products);
//   avx2   panel 16 (2 ymm of 8 int32 lanes),  group 2 (vpmaddwd sums 2 int16 products);
//   plain  (N,K) row-major, for the portable loops.
enum Layout : int { kVnni = 0, kAvx2 = 1, kPlain = 2, kLayouts = 3 };

constexpr int64_t kVnniPanel = 64, kVnniGroup = 4;
constexpr int64_t kAvx2Panel = 16, kAvx2Group = 2;
constexpr int64_t kPlainPanel = 16;   // columns per tile on the portable path

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
inline int64_t panel_of(Layout l) { return l == kVnni ? kVnniPanel : l == kAvx2 ? kAvx2Panel : kPlainPanel; }
inline int64_t group_of(Layout l) { return l == kVnni ? kVnniGroup : l == kAvx2 ? kAvx2Group : 1; }
// Bytes of the layout for (N,K), and where weight (n,k) lies in it.
inline int64_t layout_size(Layout l, int64_t N, int64_t K) {
  if (l == kPlain) return N * K;
  return round_up(N, panel_of(l)) * round_up(K, group_of(l));
}
inline int64_t layout_index(Layout l, int64_t n, int64_t k, int64_t N, int64_t K) {
  if (l == kPlain) return n * K + k;
  const int64_t P = panel_of(l), G = group_of(l), Kp = round_up(K, G);
  return (n / P) * (P * Kp) + (k / G) * (P * G) + (n % P) * G + k % G;
}

// Everything a tile kernel reads besides activations and weights. colsum[n] = sum_k q[n,k],
// which turns sum_k x_q q into sum_k (x_q - zp) q.
struct Params {
  int64_t N, K;
  const float* scales;
  const int32_t* colsum;
  const float* bias;   // null: none
  Epilogue epilogue;
  bool accumulate;
};

// Turns one output row segment of raw int32 dot products into floats: out[j] =
// epilogue(float(acc - zp colsum) * (s_x s_w) + bias) [+ out[j]], for scalar tails and epilogues.
inline float finish(int32_t acc, int64_t n, const RowQuant& rq, const Params& p) {
  const int32_t d = acc - rq.zero_point * p.colsum[n];
  return static_cast<float>(d) * (rq.scale * p.scales[n]) + (p.bias ? p.bias[n] : 0.0f);
}
// Applies the epilogue and the accumulation to v (ncols), writing out.
void store_row(float* out, const float* v, int64_t ncols, const Params& p);

// Picks a row's parameters from its min and max (row_quant_params without the scan).
RowQuant choose_row_quant(float lo, float hi);

// Per-ISA kernels. quantize_row_* writes one row of x (K) quantized, zero-padded to the
// layout's K; tile_* computes out rows [0, rows) x columns [n0, n0 + ncols) of one panel.
// a: quantized rows, lda elements apart; panel: the panel's weights; rq: the rows' parameters.
RowQuant quantize_row_vnni(uint8_t* dst, const float* x, int64_t K);
void tile_vnni(float* out, const uint8_t* a, int64_t lda, const RowQuant* rq, int64_t rows,
               const int8_t* panel, int64_t n0, int64_t ncols, const Params& p);
RowQuant quantize_row_avx2(int16_t* dst, const float* x, int64_t K);
void tile_avx2(float* out, const int16_t* a, int64_t lda, const RowQuant* rq, int64_t rows,
               const int8_t* panel, int64_t n0, int64_t ncols, const Params& p);

}  // namespace slimformer::kernels::int8
