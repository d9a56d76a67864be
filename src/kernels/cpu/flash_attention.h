// Exact softmax attention without the (T,T) score matrix: queries and keys are taken a tile at a
// time and each query row keeps a running maximum and sum (the online softmax of FlashAttention),
// rescaling its output accumulator when the maximum grows. Extra memory is O(T) per thread.
#pragma once
#include <cstdint>

namespace slimformer::kernels {

// One layer's attention over strided inputs. Element (b, t, head, e) of q is at
//   q[(b * seq + t) * in_stride + head * head_dim + e]
// and likewise k and v; out is written the same way with out_stride.
struct StridedAttention {
  int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t in_stride = 0;
  float* out = nullptr;
  int64_t out_stride = 0;
  const int64_t* mask = nullptr;   // (B,T) 1 = token, 0 = padding key; null: no padding
  float scale = 0.0f;              // 0 means 1/sqrt(head_dim)
};

// Key tile edge (and largest query tile) used when none is given (docs/attention/exact.md has
// the measurement).
constexpr int64_t kFlashDefaultTile = 256;

// Scratch floats one thread needs for seq and head_dim with this tile edge (linear in seq).
int64_t flash_attention_thread_floats(int64_t seq, int64_t head_dim, int64_t tile);

// out = softmax(scale q k^T + mask) v for every sequence, head and query row up to the
// sequence's last unpadded token (padding inside a sequence is computed as Hugging Face does);
// rows after it, and every row of a sequence with no unpadded token, get zeros. Runs `threads`
// OpenMP threads over (sequence, head, query tiles); scratch holds at least
// threads * flash_attention_thread_floats() floats. tile > 0 (any value; it need not divide seq).
// AVX-512 or AVX2+FMA kernels as isa.h allows (flash::active_ops()), portable loops otherwise.
void flash_attention(const StridedAttention& a, int64_t tile, float* scratch, int threads);

namespace ref {
// The straightforward form the tiled kernel is checked against: one query row at a time, all
// its scores, softmax over the unpadded keys in double precision, no threads.
void attention_strided(const StridedAttention& a);
}  // namespace ref

}  // namespace slimformer::kernels
