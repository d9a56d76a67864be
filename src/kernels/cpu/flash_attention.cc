// Tiled exact attention (see flash_attention.h): the driver and the portable tile steps.
//
// Per thread: k of the current (sequence, head) transposed and scaled once, kt (d, T), with an
// additive key mask (T), and v copied to contiguous rows vp (T, pad16(d)) (the fused QKV rows
// are thousands of floats apart, which thrashes L1 sets); per query tile of `tile` rows a score
// tile s (tile, tile), an output accumulator o (tile, d) and the running max m, sum l and
// rescale factor alpha per row. q is read in place. Key tiles with no unpadded key are skipped,
// and so are the keys and query rows after a sequence's last unpadded token.
#include "kernels/cpu/flash_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/flash_tiles.h"
#include "kernels/cpu/isa.h"

namespace slimformer::kernels {

namespace {

using flash::pad16;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Where each buffer of one thread's scratch starts (floats from the thread's base).
struct Layout {
  int64_t tile = 0;        // key tile edge and largest query tile, min(tile, seq)
  int64_t kt_stride = 0;   // pad16(seq) + 16: every kt row readable pad16(cnt) past any key tile start
  int64_t o_stride = 0;    // pad16(d)
  int64_t s_stride = 0;    // pad16(tile)
  int64_t kt = 0, mask_add = 0, vp = 0, s = 0, o = 0, m = 0, l = 0, alpha = 0, total = 0;

  Layout(int64_t seq, int64_t d, int64_t tile_arg) {
    tile = std::max<int64_t>(1, std::min(tile_arg, seq));
    kt_stride = pad16(seq) + 16;
    o_stride = pad16(d);
    s_stride = pad16(tile);
    int64_t at = 0;
    auto take = [&at](int64_t floats) { const int64_t here = at; at += pad16(floats); return here; };
    kt = take(d * kt_stride);
    mask_add = take(kt_stride);
    vp = take(seq * o_stride);
    s = take(tile * s_stride);
    o = take(tile * o_stride);
    m = take(tile);
    l = take(tile);
    alpha = take(tile);
    total = at;
  }
};

// The per-(sequence, head) buffers: kt (d, kt_stride) = scale * k^T for keys [0, n_eff), zeros
// (mask_add -inf) for 16 columns past pad16(n_eff), so tile steps may read a whole vector past
// the last key of any tile; vp (n_eff, o_stride) = v with zeros past head_dim.
void pack_head(float* kt, float* mask_add, float* vp, const Layout& lay, const flash::TileOps& ops,
               const float* k, const float* v, int64_t stride, const int64_t* mask, int64_t n_eff, int64_t d,
               float scale) {
  ops.pack_keys(kt, lay.kt_stride, k, stride, n_eff, d, scale);
  const int64_t from = pad16(n_eff), end = std::min(lay.kt_stride, from + 16);
  for (int64_t e = 0; e < d; ++e) std::fill(kt + e * lay.kt_stride + from, kt + e * lay.kt_stride + end, 0.0f);
  for (int64_t j = 0; j < n_eff; ++j) mask_add[j] = (mask == nullptr || mask[j] != 0) ? 0.0f : kNegInf;
  std::fill(mask_add + n_eff, mask_add + end, kNegInf);
  for (int64_t j = 0; j < n_eff; ++j) {
    std::copy_n(v + j * stride, d, vp + j * lay.o_stride);
    std::fill(vp + j * lay.o_stride + d, vp + (j + 1) * lay.o_stride, 0.0f);
  }
}

void pack_keys_portable(float* kt, int64_t kt_stride, const float* k, int64_t k_stride, int64_t n, int64_t d,
                        float scale) {
  for (int64_t j0 = 0; j0 < n; j0 += 16) {   // 16 keys at a time: each kt row gets a line
    const int64_t j1 = std::min(j0 + 16, n);
    for (int64_t e = 0; e < d; ++e) {
      float* dst = kt + e * kt_stride;
      for (int64_t j = j0; j < j1; ++j) dst[j] = k[j * k_stride + e] * scale;
    }
  }
  for (int64_t e = 0; e < d; ++e) std::fill(kt + e * kt_stride + n, kt + e * kt_stride + pad16(n), 0.0f);
}

// One past the last unpadded key of a sequence (0 when it has none).
int64_t keys_in_use(const int64_t* mask, int64_t seq) {
  if (mask == nullptr) return seq;
  int64_t n = seq;
  while (n > 0 && mask[n - 1] == 0) --n;
  return n;
}

bool any_key(const int64_t* mask, int64_t j0, int64_t cnt) {
  if (mask == nullptr) return true;
  for (int64_t j = j0; j < j0 + cnt; ++j)
    if (mask[j] != 0) return true;
  return false;
}

// ---- portable tile steps: plain loops the compiler vectorizes for the baseline target ----

void scores_portable(float* s, int64_t s_stride, const float* q, int64_t q_stride, int64_t rows,
                     const float* kt, int64_t kt_stride, const float* mask_add, int64_t cnt, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * s_stride;
    std::copy_n(mask_add, cnt, sr);
    const float* qr = q + r * q_stride;
    for (int64_t e = 0; e < d; ++e) {
      const float qe = qr[e];
      const float* kte = kt + e * kt_stride;
#pragma omp simd
      for (int64_t j = 0; j < cnt; ++j) sr[j] += qe * kte[j];
    }
  }
}

void online_softmax_portable(float* s, int64_t s_stride, int64_t rows, int64_t cnt, float* m, float* l,
                             float* alpha) {
  for (int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * s_stride;
    float mx = m[r];
    for (int64_t j = 0; j < cnt; ++j) mx = std::max(mx, sr[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < cnt; ++j) {
      sr[j] = std::exp2(sr[j] - mx);
      sum += sr[j];
    }
    alpha[r] = std::exp2(m[r] - mx);   // 0 on the first tile (m = -inf)
    l[r] = alpha[r] * l[r] + sum;
    m[r] = mx;
  }
}

void accumulate_portable(float* o, int64_t o_stride, const float* alpha, const float* p, int64_t p_stride,
                         int64_t rows, const float* v, int64_t v_stride, int64_t cnt, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) {
    float* orow = o + r * o_stride;
    const float a = alpha[r];
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) orow[e] *= a;
    const float* pr = p + r * p_stride;
    for (int64_t j = 0; j < cnt; ++j) {
      const float pj = pr[j];
      const float* vj = v + j * v_stride;
#pragma omp simd
      for (int64_t e = 0; e < d; ++e) orow[e] += pj * vj[e];
    }
  }
}

// out rows (rows, d) = o / l; zeros where no key was seen.
void write_out(float* out, int64_t out_stride, const float* o, int64_t o_stride, const float* l,
               int64_t rows, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) {
    const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    const float* orow = o + r * o_stride;
    float* dst = out + r * out_stride;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) dst[e] = orow[e] * inv;
  }
}

}  // namespace

namespace flash {
const TileOps& portable_ops() {
  static const TileOps ops{pack_keys_portable, scores_portable, online_softmax_portable, accumulate_portable};
  return ops;
}

const TileOps& active_ops() {
  if (isa_at_least(Isa::Avx512)) return avx512_ops();
  if (isa_at_least(Isa::Avx2)) return avx2_ops();
  return portable_ops();
}
}  // namespace flash

int64_t flash_attention_thread_floats(int64_t seq, int64_t head_dim, int64_t tile) {
  return Layout(std::max<int64_t>(seq, 1), std::max<int64_t>(head_dim, 1), tile).total;
}

// The work is split into groups: one (sequence, head) and a run of its query tiles. Enough groups
// for every thread to take several (one per (sequence, head) when there are many, so each is
// packed once), taken dynamically, so sequences of different lengths still spread evenly.
struct Groups {
  int64_t per_unit = 1, tiles_per_group = 1, count = 0;
  Groups(int64_t units, int64_t q_tiles, int threads) {
    per_unit = std::clamp<int64_t>((4 * int64_t{threads} + units - 1) / units, 1, q_tiles);
    tiles_per_group = (q_tiles + per_unit - 1) / per_unit;
    per_unit = (q_tiles + tiles_per_group - 1) / tiles_per_group;
    count = units * per_unit;
  }
};

void flash_attention(const StridedAttention& a, int64_t tile, float* scratch, int threads) {
  if (a.batch <= 0 || a.seq <= 0 || a.heads <= 0 || a.head_dim <= 0) return;
  threads = std::max(1, threads);
  const int64_t T = a.seq, d = a.head_dim, heads = a.heads;
  const Layout lay(T, d, tile);
  const int64_t per_thread = lay.total;
  // Query tiles as large as key tiles, unless that leaves fewer than 4 tiles per thread (one long
  // sequence on many threads): the rows of a query tile only share its key tile loads, and each
  // row's result is the same whichever tile it is in.
  const int64_t units = a.batch * heads;
  int64_t q_tile = lay.tile;
  while (q_tile > 32 && units * ((T + q_tile - 1) / q_tile) < 4 * int64_t{threads}) q_tile = (q_tile + 1) / 2;
  const int64_t q_tiles = (T + q_tile - 1) / q_tile;
  const Groups groups(units, q_tiles, threads);
  // Scores in base 2: e^(scale q.k) = 2^(scale log2(e) q.k), and 2^x costs less than e^x.
  const float scale = (a.scale != 0.0f ? a.scale : 1.0f / std::sqrt(static_cast<float>(d))) * 1.44269504088896341f;
  const flash::TileOps& ops = flash::active_ops();

#pragma omp parallel num_threads(threads)
  {
    float* base = scratch + static_cast<int64_t>(omp_get_thread_num()) * per_thread;
    float *kt = base + lay.kt, *mask_add = base + lay.mask_add, *vp = base + lay.vp, *s = base + lay.s;
    float* o = base + lay.o;
    float *m = base + lay.m, *l = base + lay.l, *alpha = base + lay.alpha;
    int64_t packed = -1;   // which (sequence, head) kt and vp hold
#pragma omp for schedule(dynamic, 1)
    for (int64_t g = 0; g < groups.count; ++g) {
      const int64_t bh = g / groups.per_unit, b = bh / heads, h = bh % heads;
      const int64_t* mask = a.mask ? a.mask + b * T : nullptr;
      const int64_t n_eff = keys_in_use(mask, T);
      const int64_t head_off = h * d;
      const int64_t qt0 = (g % groups.per_unit) * groups.tiles_per_group;
      const int64_t qt1 = std::min(q_tiles, qt0 + groups.tiles_per_group);
      if (bh != packed && qt0 * q_tile < n_eff) {
        const int64_t at = b * T * a.in_stride + head_off;
        pack_head(kt, mask_add, vp, lay, ops, a.k + at, a.v + at, a.in_stride, mask, n_eff, d, scale);
        packed = bh;
      }
      for (int64_t qt = qt0; qt < qt1; ++qt) {
        const int64_t q0 = qt * q_tile, rows_all = std::min(q_tile, T - q0);
        // Rows after the last unpadded token are padding: zeros, not computed.
        const int64_t rows = std::clamp<int64_t>(n_eff - q0, 0, rows_all);
        float* out = a.out + (b * T + q0) * a.out_stride + head_off;
        for (int64_t r = rows; r < rows_all; ++r) std::fill_n(out + r * a.out_stride, d, 0.0f);
        if (rows == 0) continue;
        for (int64_t r = 0; r < rows; ++r) {
          std::fill_n(o + r * lay.o_stride, lay.o_stride, 0.0f);
          m[r] = kNegInf;
          l[r] = 0.0f;
        }
        const float* q = a.q + (b * T + q0) * a.in_stride + head_off;
        for (int64_t j0 = 0; j0 < n_eff; j0 += lay.tile) {
          const int64_t cnt = std::min(lay.tile, n_eff - j0);
          if (!any_key(mask, j0, cnt)) continue;   // all -inf scores: nothing to add
          ops.scores(s, lay.s_stride, q, a.in_stride, rows, kt + j0, lay.kt_stride, mask_add + j0, cnt, d);
          ops.online_softmax(s, lay.s_stride, rows, cnt, m, l, alpha);
          ops.accumulate(o, lay.o_stride, alpha, s, lay.s_stride, rows, vp + j0 * lay.o_stride, lay.o_stride, cnt, d);
        }
        write_out(out, a.out_stride, o, lay.o_stride, l, rows, d);
      }
    }
  }
}

}  // namespace slimformer::kernels
