// The steps flash_attention runs on one (query tile, key tile) pair, in a portable, an AVX2+FMA
// (flash_tiles_avx2.cc) and an AVX-512 version (flash_tiles_avx512.cc); the drivers
// (flash_attention.cc, attention/lsh.cc) take active_ops(), the set isa.h allows. Row-major throughout, strides in floats; "pad16(x)" is x rounded up to a multiple of 16.
#pragma once
#include <cstdint>

namespace slimformer::kernels::flash {

struct TileOps {
  // kt (d, pad16(n)) = scale * k^T for k (n, d) with rows k_stride apart; columns n .. pad16(n)
  // are zeros.
  void (*pack_keys)(float* kt, int64_t kt_stride, const float* k, int64_t k_stride, int64_t n, int64_t d,
                    float scale);
  // s (rows, cnt) = q (rows, d) . kt (d, cnt) + mask_add (cnt). kt and mask_add must have
  // pad16(cnt) readable columns (finite kt, mask_add 0 or -inf); s rows hold pad16(cnt) floats,
  // and lanes past cnt may be written with anything.
  void (*scores)(float* s, int64_t s_stride, const float* q, int64_t q_stride, int64_t rows,
                 const float* kt, int64_t kt_stride, const float* mask_add, int64_t cnt, int64_t d);
  // The online softmax step for each row r of s (rows, cnt), at least one entry finite, with
  // scores in base 2 (the caller folds log2(e) into the scale, so the exponentials are 2^x):
  //   m' = max(m[r], max_j s[r][j]), alpha[r] = 2^(m[r] - m'), s[r][j] = 2^(s[r][j] - m'),
  //   l[r] = alpha[r] l[r] + sum_j s[r][j], m[r] = m'.
  void (*online_softmax)(float* s, int64_t s_stride, int64_t rows, int64_t cnt, float* m, float* l,
                         float* alpha);
  // o (rows, d) = alpha[r] o + p (rows, cnt) . v (cnt, d). o rows hold pad16(d) floats (lanes
  // past d are kept finite); v rows are v_stride apart and only their first d floats are read.
  void (*accumulate)(float* o, int64_t o_stride, const float* alpha, const float* p, int64_t p_stride,
                     int64_t rows, const float* v, int64_t v_stride, int64_t cnt, int64_t d);
};

const TileOps& portable_ops();
const TileOps& avx2_ops();     // call only when isa_at_least(Isa::Avx2)
const TileOps& avx512_ops();   // call only when isa_at_least(Isa::Avx512)
const TileOps& active_ops();   // the best of the three that isa.h allows

constexpr int64_t pad16(int64_t x) { return (x + 15) / 16 * 16; }

}  // namespace slimformer::kernels::flash
