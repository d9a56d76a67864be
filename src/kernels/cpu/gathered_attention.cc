// gathered_attention: query rows in blocks of kGatherRows, keys in chunks of kGatherKeys. Rows
// or keys that are consecutive positions are read in place (the sliding window's case); others
// are copied together first. Scores and the weighted sum of values are two small GEMMs per
// (block, chunk); between them each row takes the online softmax step, so a long key list
// (global keys, a long random list) never needs more than one chunk of scores.
#include "kernels/cpu/gathered_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/online_softmax.h"

namespace slimformer::kernels {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Per-call scratch, carved from the caller's buffer.
struct Scratch {
  float* q;        // (kGatherRows, d) gathered queries
  float* k;        // (kGatherKeys, d) gathered keys
  float* v;        // (kGatherKeys, d) gathered values
  float* s;        // (kGatherRows, kGatherKeys) scores, then probabilities
  float* acc;      // (kGatherRows, d) unnormalized output
  float* m;        // (kGatherRows) running maximum
  float* l;        // (kGatherRows) running sum
  uint8_t* key_ok; // (kGatherKeys) 1 where the chunk's key is not padding

  Scratch(float* p, int64_t d) {
    q = p;
    k = q + kGatherRows * d;
    v = k + kGatherKeys * d;
    s = v + kGatherKeys * d;
    acc = s + kGatherRows * kGatherKeys;
    m = acc + kGatherRows * d;
    l = m + kGatherRows;
    key_ok = reinterpret_cast<uint8_t*>(l + kGatherRows);
  }
};

bool consecutive(const int32_t* idx, int64_t n) {
  for (int64_t i = 1; i < n; ++i) {
    if (idx[i] != idx[0] + i) return false;
  }
  return true;
}

// Rows idx[0..n) of a strided matrix: a pointer and stride to read them with, copying them into
// buf (stride d) unless they are consecutive.
const float* rows_of(const float* base, int64_t stride, const int32_t* idx, int64_t n, int64_t d,
                     float* buf, int64_t& ld) {
  if (consecutive(idx, n)) {
    ld = stride;
    return base + static_cast<int64_t>(idx[0]) * stride;
  }
  for (int64_t i = 0; i < n; ++i) std::memcpy(buf + i * d, base + static_cast<int64_t>(idx[i]) * stride, d * sizeof(float));
  ld = d;
  return buf;
}

// One block of rows (queries q0.. of the call) against every key chunk.
void block(const HeadRows& h, const int32_t* queries, int64_t nr, const int32_t* keys, int64_t nk,
           const uint8_t* allowed, const int64_t* key_mask, float scale, Scratch& sc) {
  const int64_t d = h.head_dim;
  int64_t ldq = 0;
  const float* qb = rows_of(h.q, h.in_stride, queries, nr, d, sc.q, ldq);
  std::fill_n(sc.acc, nr * d, 0.0f);
  std::fill_n(sc.m, nr, kNegInf);
  std::fill_n(sc.l, nr, 0.0f);
  for (int64_t c0 = 0; c0 < nk; c0 += kGatherKeys) {
    const int64_t nc = std::min(kGatherKeys, nk - c0);
    const int32_t* kc = keys + c0;
    int64_t ldk = 0, ldv = 0;
    const float* kb = rows_of(h.k, h.in_stride, kc, nc, d, sc.k, ldk);
    const float* vb = rows_of(h.v, h.in_stride, kc, nc, d, sc.v, ldv);
    bool all_keys_ok = true;
    for (int64_t c = 0; c < nc; ++c) {
      sc.key_ok[c] = key_mask == nullptr || key_mask[kc[c]] != 0;
      all_keys_ok = all_keys_ok && sc.key_ok[c];
    }
    // s (nr, nc) = scale * q . k^T
    gemm_f32(false, true, nr, nc, d, scale, qb, ldq, kb, ldk, 0.0f, sc.s, kGatherKeys);
    for (int64_t r = 0; r < nr; ++r) {
      float* s = sc.s + r * kGatherKeys;
      if (allowed) {
        const uint8_t* a = allowed + r * nk + c0;
#pragma omp simd
        for (int64_t c = 0; c < nc; ++c) s[c] = (a[c] & sc.key_ok[c]) ? s[c] : kNegInf;
      } else if (!all_keys_ok) {
#pragma omp simd
        for (int64_t c = 0; c < nc; ++c) s[c] = sc.key_ok[c] ? s[c] : kNegInf;
      }
      const float alpha = online_softmax_step(s, nc, sc.m[r], sc.l[r]);
      if (alpha != 1.0f) {
        float* o = sc.acc + r * d;
#pragma omp simd
        for (int64_t e = 0; e < d; ++e) o[e] *= alpha;
      }
    }
    // acc (nr, d) += p (nr, nc) . v (nc, d)
    gemm_f32(false, false, nr, d, nc, 1.0f, sc.s, kGatherKeys, vb, ldv, 1.0f, sc.acc, d);
  }
  for (int64_t r = 0; r < nr; ++r) {
    float* o = h.out + static_cast<int64_t>(queries[r]) * h.out_stride;
    const float inv = sc.l[r] > 0.0f ? 1.0f / sc.l[r] : 0.0f;
    const float* a = sc.acc + r * d;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) o[e] = a[e] * inv;
  }
}

}  // namespace

int64_t gathered_attention_floats(int64_t head_dim) {
  return 2 * kGatherRows * head_dim + 2 * kGatherKeys * head_dim + kGatherRows * kGatherKeys +
         2 * kGatherRows + kGatherKeys / 4 + 16;
}

void gathered_attention(const HeadRows& h, const int32_t* queries, int64_t nq, const int32_t* keys,
                        int64_t nk, const uint8_t* allowed, const int64_t* key_mask, float scale,
                        float* scratch) {
  Scratch sc(scratch, h.head_dim);
  for (int64_t r0 = 0; r0 < nq; r0 += kGatherRows) {
    const int64_t nr = std::min(kGatherRows, nq - r0);
    block(h, queries + r0, nr, keys, nk, allowed ? allowed + r0 * nk : nullptr, key_mask, scale, sc);
  }
}

namespace ref {

void gathered_attention(const HeadRows& h, const int32_t* queries, int64_t nq, const int32_t* keys,
                        int64_t nk, const uint8_t* allowed, const int64_t* key_mask, float scale) {
  const int64_t d = h.head_dim;
  std::vector<double> score(static_cast<size_t>(nk));
  std::vector<double> out(static_cast<size_t>(d));
  for (int64_t r = 0; r < nq; ++r) {
    const float* q = h.q + static_cast<int64_t>(queries[r]) * h.in_stride;
    double mx = -INFINITY;
    for (int64_t c = 0; c < nk; ++c) {
      const bool ok = (!allowed || allowed[r * nk + c]) && (!key_mask || key_mask[keys[c]]);
      if (!ok) {
        score[c] = -INFINITY;
        continue;
      }
      const float* k = h.k + static_cast<int64_t>(keys[c]) * h.in_stride;
      double dot = 0.0;
      for (int64_t e = 0; e < d; ++e) dot += double(q[e]) * k[e];
      score[c] = dot * scale;
      mx = std::max(mx, score[c]);
    }
    std::fill(out.begin(), out.end(), 0.0);
    double sum = 0.0;
    if (mx != -INFINITY) {
      for (int64_t c = 0; c < nk; ++c) {
        if (score[c] == -INFINITY) continue;
        const double p = std::exp(score[c] - mx);
        sum += p;
        const float* v = h.v + static_cast<int64_t>(keys[c]) * h.in_stride;
        for (int64_t e = 0; e < d; ++e) out[e] += p * v[e];
      }
    }
    float* o = h.out + static_cast<int64_t>(queries[r]) * h.out_stride;
    for (int64_t e = 0; e < d; ++e) o[e] = sum > 0.0 ? static_cast<float>(out[e] / sum) : 0.0f;
  }
}

}  // namespace ref

}  // namespace slimformer::kernels
