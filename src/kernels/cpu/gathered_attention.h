// Attention for a chosen set of query rows over a chosen list of key rows of one head: the kernel
// under every sparse pattern (sliding, global, random, block-sparse). The caller says which
// (query, key) pairs count; keys are taken a chunk at a time with an online softmax, so scratch
// does not grow with the key list.
#pragma once
#include <cstdint>

namespace slimformer::kernels {

// One head of one sequence: row p of q is at q + p * in_stride (likewise k, v; the head's
// offset already applied), row p of out at out + p * out_stride.
struct HeadRows {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t in_stride = 0;
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t head_dim = 0;
};

// Query rows handled at once and keys scored at once (bounds the scratch; see scratch_floats).
constexpr int64_t kGatherRows = 64;
constexpr int64_t kGatherKeys = 1024;

// For r < nq, with c running over the keys where
//   allowed[r * nk + c] != 0 (allowed null: every c) and key_mask[keys[c]] != 0 (null: every c),
//   out[queries[r]] = sum_c p_rc v[keys[c]],  p_r = softmax_c(scale * q[queries[r]] . k[keys[c]]).
// A key listed twice is two entries of the softmax (it counts twice). A row with no such c gets
// zeros. Rows of out not named in queries are not touched. scratch: gathered_attention_floats.
// Scores and the weighted sum are GEMMs (gemm_f32); the softmax step runs AVX-512 where the CPU
// has it, portable loops otherwise.
void gathered_attention(const HeadRows& h, const int32_t* queries, int64_t nq, const int32_t* keys,
                        int64_t nk, const uint8_t* allowed, const int64_t* key_mask, float scale,
                        float* scratch);
int64_t gathered_attention_floats(int64_t head_dim);

namespace ref {
// The same, one query row at a time over all its keys, double precision, no scratch.
void gathered_attention(const HeadRows& h, const int32_t* queries, int64_t nq, const int32_t* keys,
                        int64_t nk, const uint8_t* allowed, const int64_t* key_mask, float scale);
}  // namespace ref

}  // namespace slimformer::kernels
