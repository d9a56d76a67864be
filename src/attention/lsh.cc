// `lsh`: Reformer's LSH self-attention, the encoder form of Hugging Face's LSHSelfAttention.
// Queries and keys are one vector (shared QK: io.q; io.k is not read). Each hash round sorts the
// positions by (bucket, position); the sorted rounds, laid end to end, are cut into chunks of
// chunk_length, and every chunk attends to itself and the chunk before it (the first chunk of
// all wraps to the last). A query never attends its own position unless nothing else is in
// reach; padding is never attended. The rounds' outputs are summed with weights
// softmax_r(logsumexp of round r's scores). Work and memory are O(n * chunk_length) per head.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "attention/lsh_hash.h"
#include "attention/registry.h"
#include "kernels/cpu/flash_tiles.h"
#include "kernels/cpu/gemm.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

using kernels::flash::pad16;

// Hugging Face's self-mask score in f32 (tiny, not -inf), in the base-2 units the tiles use.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kSelfScore2 = -1e5f * kLog2e;
constexpr float kNormEps = 1e-6f;     // Hugging Face's length-normalization epsilon

struct LshParams {
  int64_t n_hashes = 1;
  int64_t n_buckets = 32;
  int64_t chunk_length = 64;
  int64_t seed = 0;
};

// How one sequence of `seq` positions is cut. Up to chunk_length positions: one chunk, one
// round, no hashing (Hugging Face then runs plain attention, self still masked). Longer: padded
// to a multiple of chunk_length (the tail is padding, as Hugging Face's ReformerModel pads it).
struct Layout {
  bool hashed = false;
  int64_t padded = 0;   // positions per round
  int64_t rounds = 1;
  int64_t chunk = 0;
  int64_t chunks = 0;   // over all rounds
};

Layout layout_for(int64_t seq, const LshParams& p) {
  Layout l;
  l.hashed = seq > p.chunk_length;
  if (!l.hashed) {
    l.padded = l.chunk = seq;
    l.chunks = seq > 0 ? 1 : 0;
    return l;
  }
  l.padded = (seq + p.chunk_length - 1) / p.chunk_length * p.chunk_length;
  l.rounds = p.n_hashes;
  l.chunk = p.chunk_length;
  l.chunks = l.rounds * l.padded / l.chunk;
  return l;
}

// The two runs of sorted entries a chunk's queries see: the chunk before (none when there is
// only one chunk) and the chunk itself, in that order, as Hugging Face lays out its keys.
struct Window {
  int64_t prev_begin = 0, prev_len = 0, own_begin = 0, own_len = 0;
};

Window window_of(const Layout& l, int64_t g) {
  Window w;
  w.own_begin = g * l.chunk;
  w.own_len = l.chunk;
  if (l.chunks > 1) {
    w.prev_begin = (g + l.chunks - 1) % l.chunks * l.chunk;
    w.prev_len = l.chunk;
  }
  return w;
}

size_t round16(int64_t n) { return static_cast<size_t>((n + 15) / 16 * 16); }   // 64-byte blocks

// Rows hashed per product (x R for a block of tokens at once).
constexpr int64_t kHashRows = 64;

// One thread's working memory, carved from the forward's scratch; all of it linear in n.
struct HeadScratch {
  // The head's rows of q and v, packed: the hash order reads them at random, and rows packed
  // head_dim apart (rather than a whole token's heads apart) stay in cache and in few pages.
  float* q;            // (padded, head_dim)
  float* v;            // (padded, head_dim)
  float* out;          // (padded, head_dim) outputs by position, copied out at the end
  int32_t* valid;      // (padded) 1 for a real token
  float* key_scale;    // (padded) what a key is multiplied by: dim_scale / rms(k)
  int32_t* buckets;    // (padded) one round's buckets
  int32_t* counts;     // (n_buckets + 2)
  int32_t* order;      // (rounds * padded) sorted positions, round after round
  float* round_max;    // (padded) running max of the rounds' base-2 logsumexps (several rounds)
  float* round_sum;    // (padded) running sum of 2^(lse - round_max)
  float* projections;  // (kHashRows, n_buckets/2)
  // One chunk: its real queries, the real keys in reach (at most two chunks, w = pad16(2 c)
  // columns), scores, and the tile steps' state per query row (exact attention's kernels).
  float* queries;      // (chunk_length, head_dim)
  int32_t* query_pos;  // (chunk_length)
  float* keys;         // (2 * chunk_length, head_dim) scaled keys, by row
  float* keys_t;       // (head_dim, w) the same, transposed for the score tiles
  float* no_mask;      // (w) zeros: every gathered key counts
  float* values;       // (2 * chunk_length, head_dim)
  int32_t* key_pos;    // (2 * chunk_length)
  float* scores;       // (chunk_length, w)
  float* acc;          // (chunk_length, pad16(head_dim)) unnormalized context
  float* row_max;      // (chunk_length) base-2 running max, sum and rescale of the tile steps
  float* row_sum;      // (chunk_length)
  float* rescale;      // (chunk_length)

  // Walks the regions in one order for both sizing (base null) and carving.
  static size_t carve(float* base, HeadScratch* s, const Layout& l, const LshParams& p, int64_t head_dim) {
    const int64_t c = p.chunk_length, w = 2 * c;
    size_t at = 0;
    auto take = [&](int64_t n) {
      float* here = base ? base + at : nullptr;
      at += round16(n);
      return here;
    };
    auto take_ints = [&](int64_t n) { return reinterpret_cast<int32_t*>(take(n)); };
    // The int32 regions share the float buffer (same size and alignment); within a forward each
    // region is only ever used as one type.
    HeadScratch t;
    t.q = take(l.padded * head_dim);
    t.v = take(l.padded * head_dim);
    t.out = take(l.padded * head_dim);
    t.valid = take_ints(l.padded);
    t.key_scale = take(l.padded);
    t.buckets = take_ints(l.hashed ? l.padded : 0);
    t.counts = take_ints(l.hashed ? p.n_buckets + 2 : 0);
    t.order = take_ints(l.rounds * l.padded);
    t.round_max = take(l.rounds > 1 ? l.padded : 0);
    t.round_sum = take(l.rounds > 1 ? l.padded : 0);
    t.projections = take(l.hashed ? kHashRows * (p.n_buckets / 2) : 0);
    t.queries = take(c * head_dim);
    t.query_pos = take_ints(c);
    t.keys = take(w * head_dim);
    t.keys_t = take(head_dim * pad16(w));
    t.no_mask = take(pad16(w));
    t.values = take(w * head_dim);
    t.key_pos = take_ints(w);
    t.scores = take(c * pad16(w));
    t.acc = take(c * pad16(head_dim));
    t.row_max = take(c);
    t.row_sum = take(c);
    t.rescale = take(c);
    if (s) *s = t;
    return at;
  }
  static size_t floats(const Layout& l, const LshParams& p, int64_t head_dim) {
    return carve(nullptr, nullptr, l, p, head_dim);
  }
  static HeadScratch at(float* base, const Layout& l, const LshParams& p, int64_t head_dim) {
    HeadScratch s;
    carve(base, &s, l, p, head_dim);
    return s;
  }
};

// One (sequence, head): rows of q and v `stride` floats apart; mask (seq) or null.
struct HeadInput {
  const float* q = nullptr;
  const float* v = nullptr;
  int64_t stride = 0;
  const int64_t* mask = nullptr;
  int64_t seq = 0, head_dim = 0;
  const float* rotations = nullptr;   // (rounds, n_buckets/2, head_dim) for this head
};

// valid[] and, when hashed, each round's order: real tokens by (bucket, position), then the
// padding (masked or past the end) in a bucket of its own after them, as Hugging Face does.
void sort_positions(const HeadInput& in, const Layout& l, const LshParams& p, HeadScratch& s) {
  for (int64_t t = 0; t < l.padded; ++t) s.valid[t] = t < in.seq && (!in.mask || in.mask[t] != 0);
  if (!l.hashed) {
    for (int64_t t = 0; t < l.padded; ++t) s.order[t] = static_cast<int32_t>(t);
    return;
  }
  const int64_t half = p.n_buckets / 2, d = in.head_dim;
  for (int64_t r = 0; r < l.rounds; ++r) {
    const float* rot = in.rotations + r * half * d;
    for (int64_t t0 = 0; t0 < l.padded; t0 += kHashRows) {
      // y (rows, half) = q (rows, d) . rot^T; rows past the sequence are padding anyway.
      const int64_t rows = std::max<int64_t>(0, std::min(kHashRows, in.seq - t0));
      kernels::gemm_f32(false, true, rows, half, d, 1.0f, in.q + t0 * in.stride, in.stride, rot, d, 0.0f,
                        s.projections, half);
      for (int64_t i = 0; i < std::min(kHashRows, l.padded - t0); ++i) {
        const int64_t t = t0 + i;
        s.buckets[t] = s.valid[t] ? lsh::bucket_from_projections(s.projections + i * half, p.n_buckets)
                                  : static_cast<int32_t>(p.n_buckets);
      }
    }
    lsh::sort_by_bucket(s.buckets, l.padded, p.n_buckets + 1, s.counts, s.order + r * l.padded);
  }
}

// The real keys in reach of a chunk, scaled, with their values: those of the chunk before, then
// the chunk's own. Returns how many; *from_prev: how many came from the chunk before.
int64_t gather_keys(const HeadInput& in, const Window& w, HeadScratch& s, int64_t* from_prev) {
  const int64_t d = in.head_dim;
  int64_t nk = 0;
  auto take_run = [&](int64_t begin, int64_t len) {
    for (int64_t i = begin; i < begin + len; ++i) {
      const int32_t pos = s.order[i];
      if (!s.valid[pos]) continue;
      const float* k = in.q + pos * d;
      const float* v = in.v + pos * d;
      float* key = s.keys + nk * d;
      float* value = s.values + nk * d;
      const float ks = s.key_scale[pos];
#pragma omp simd
      for (int64_t e = 0; e < d; ++e) {
        key[e] = k[e] * ks;
        value[e] = v[e];
      }
      s.key_pos[nk++] = pos;
    }
  };
  take_run(w.prev_begin, w.prev_len);
  *from_prev = nk;
  take_run(w.own_begin, w.own_len);
  return nk;
}

// The chunk's real queries, in the order their keys were gathered; returns how many.
int64_t gather_queries(const HeadInput& in, const Window& w, HeadScratch& s) {
  const int64_t d = in.head_dim;
  int64_t nq = 0;
  for (int64_t i = w.own_begin; i < w.own_begin + w.own_len; ++i) {
    const int32_t pos = s.order[i];
    if (!s.valid[pos]) continue;
    const float* q = in.q + pos * d;
    float* query = s.queries + nq * d;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) query[e] = q[e];
    s.query_pos[nq++] = pos;
  }
  return nq;
}

// acc (nq, d) = softmax(scores) . values for a chunk's queries, unnormalized: row r's context is
// acc[r] / row_sum[r] and its logsumexp ln(2) (row_max[r] + log2 row_sum[r]) (keys carry
// log2(e), so the tile steps' exponentials are powers of 2). Query r's own key is entry
// from_prev + r (the chunk's keys follow its queries' order); the chunk before holds it too only
// when it is another round's (check_prev).
void attend_chunk(int64_t nq, int64_t nk, int64_t from_prev, bool check_prev, int64_t d, HeadScratch& s,
                  const kernels::flash::TileOps& ops, int64_t ld) {
  ops.pack_keys(s.keys_t, ld, s.keys, d, nk, d, 1.0f);
  ops.scores(s.scores, ld, s.queries, d, nq, s.keys_t, ld, s.no_mask, nk, d);
  for (int64_t r = 0; r < nq; ++r) {
    float* row = s.scores + r * ld;
    row[from_prev + r] = kSelfScore2;
    if (check_prev) {
      const int32_t pos = s.query_pos[r];
      for (int64_t j = 0; j < from_prev; ++j) {
        if (s.key_pos[j] == pos) row[j] = kSelfScore2;
      }
    }
    s.row_max[r] = -std::numeric_limits<float>::infinity();
    s.row_sum[r] = 0.0f;
  }
  std::fill_n(s.acc, nq * pad16(d), 0.0f);
  ops.online_softmax(s.scores, ld, nq, nk, s.row_max, s.row_sum, s.rescale);
  ops.accumulate(s.acc, pad16(d), s.rescale, s.scores, ld, nq, s.values, d, nk, d);
}

// dim_scale: Hugging Face's 1/sqrt(head_dim), or the model's own score scale.
void forward_head(const HeadInput& strided, const Layout& l, const LshParams& p, float dim_scale, float* out,
                  int64_t out_stride, HeadScratch& s) {
  const int64_t d = strided.head_dim, ld = pad16(2 * p.chunk_length);
  const kernels::flash::TileOps& ops = kernels::flash::active_ops();
  std::fill_n(s.no_mask, ld, 0.0f);
  HeadInput in = strided;
  in.q = s.q;
  in.v = s.v;
  in.stride = d;
  for (int64_t t = 0; t < in.seq; ++t) {
    std::memcpy(s.q + t * d, strided.q + t * strided.stride, sizeof(float) * d);
    std::memcpy(s.v + t * d, strided.v + t * strided.stride, sizeof(float) * d);
  }
  sort_positions(in, l, p, s);
  for (int64_t t = 0; t < in.seq; ++t) {
    if (!s.valid[t]) continue;
    const float* k = in.q + t * d;
    float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
    for (int64_t e = 0; e < d; ++e) sq += k[e] * k[e];
    // Keys are the queries scaled to unit RMS, times 1/sqrt(d) (Hugging Face's _len_and_dim_norm):
    // a query scores a key by the angle between them, so a query's own vector is its best match.
    s.key_scale[t] = dim_scale * kLog2e / std::sqrt(sq / static_cast<float>(d) + kNormEps);
    if (l.rounds > 1) {
      s.round_max[t] = -std::numeric_limits<float>::infinity();
      s.round_sum[t] = 0.0f;
      std::fill_n(s.out + t * d, d, 0.0f);
    }
  }
  const int64_t chunks_per_round = l.padded / l.chunk;
  for (int64_t g = 0; g < l.chunks; ++g) {
    const Window w = window_of(l, g);
    const int64_t nq = gather_queries(in, w, s);
    if (nq == 0) continue;   // all padding
    int64_t from_prev = 0;
    const int64_t nk = gather_keys(in, w, s, &from_prev);
    attend_chunk(nq, nk, from_prev, l.rounds > 1 && g % chunks_per_round == 0, d, s, ops, ld);
    for (int64_t r = 0; r < nq; ++r) {
      const int32_t pos = s.query_pos[r];
      float* o = s.out + pos * d;
      const float* c = s.acc + r * pad16(d);
      const float inv_sum = 1.0f / s.row_sum[r];
      if (l.rounds == 1) {
#pragma omp simd
        for (int64_t e = 0; e < d; ++e) o[e] = c[e] * inv_sum;
        continue;
      }
      // Running form of sum_r context_r * exp(lse_r - logsumexp_r(lse_r)), in base 2 (the
      // weights are the same): no per-round copies.
      const float lse2 = s.row_max[r] + std::log2(s.row_sum[r]);
      const float m = std::max(s.round_max[pos], lse2);
      const float a = std::exp2(s.round_max[pos] - m), b = std::exp2(lse2 - m) * inv_sum;
#pragma omp simd
      for (int64_t e = 0; e < d; ++e) o[e] = o[e] * a + c[e] * b;
      s.round_sum[pos] = s.round_sum[pos] * a + std::exp2(lse2 - m);
      s.round_max[pos] = m;
    }
  }
  for (int64_t t = 0; t < in.seq; ++t) {
    float* o = out + t * out_stride;
    if (!s.valid[t]) {
      std::fill_n(o, d, 0.0f);   // padding rows: zeros
      continue;
    }
    const float inv = l.rounds > 1 ? 1.0f / s.round_sum[t] : 1.0f;
    const float* src = s.out + t * d;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) o[e] = src[e] * inv;
  }
}

// pattern()'s random queries come from a stream no head index reaches.
constexpr uint64_t kPatternStream = ~uint64_t{0};

class LshAttention final : public Attention {
 public:
  LshAttention(LshParams p, int64_t head_dim) : p_(p), head_dim_(head_dim) {}

  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    if (io.batch <= 0 || io.seq <= 0 || io.heads <= 0) return;
    const Layout l = layout_for(io.seq, p_);
    if (l.rounds * l.padded > std::numeric_limits<int32_t>::max()) {
      throw InputError("attention lsh: " + std::to_string(io.seq) + " tokens x n_hashes=" +
                       std::to_string(p_.n_hashes) + " is too long (expected at most 2^31 sorted positions)");
    }
    const int64_t d = io.head_dim, rot_size = p_.n_buckets / 2 * d;
    const int64_t rot_floats = l.hashed ? io.heads * l.rounds * rot_size : 0;
    const int threads = omp_get_max_threads();
    const size_t per_thread = HeadScratch::floats(l, p_, d);
    float* buf = scratch.floats(round16(rot_floats) + per_thread * static_cast<size_t>(threads));
    float* rotations = buf;
    for (int64_t h = 0; h < io.heads && l.hashed; ++h) {
      for (int64_t r = 0; r < l.rounds; ++r) {
        lsh::random_rotation(rotations + (h * l.rounds + r) * rot_size, d, p_.n_buckets,
                             static_cast<uint64_t>(p_.seed), h, r);
      }
    }
    const float dim_scale = io.scale != 0.0f ? io.scale : 1.0f / std::sqrt(static_cast<float>(d));
    const float* rot_const = rotations;
#pragma omp parallel
    {
      float* mine = buf + round16(rot_floats) + per_thread * static_cast<size_t>(omp_get_thread_num());
      HeadScratch s = HeadScratch::at(mine, l, p_, d);
#pragma omp for collapse(2) schedule(static)
      for (int64_t b = 0; b < io.batch; ++b) {
        for (int64_t h = 0; h < io.heads; ++h) {
          HeadInput in;
          in.q = io.q + b * io.seq * io.in_row_stride + h * d;
          in.v = io.v + b * io.seq * io.in_row_stride + h * d;
          in.stride = io.in_row_stride;
          in.mask = io.mask ? io.mask + b * io.seq : nullptr;
          in.seq = io.seq;
          in.head_dim = d;
          in.rotations = rot_const + h * l.rounds * rot_size;
          forward_head(in, l, p_, dim_scale, io.out + b * io.seq * io.out_row_stride + h * d, io.out_row_stride, s);
        }
      }
    }
  }

  // Head 0's pattern on standard normal queries drawn from (seed, layer): query i attends key j
  // when j is in i's window in some round and j != i, or when i has no other key there.
  std::vector<uint8_t> pattern(int64_t n, int layer) const override {
    std::vector<uint8_t> out(static_cast<size_t>(n * n), 0);
    if (n <= 0) return out;
    const Layout l = layout_for(n, p_);
    const int64_t d = head_dim_, rot_size = p_.n_buckets / 2 * d;
    std::vector<float> q(static_cast<size_t>(l.padded * d), 0.0f);
    lsh::fill_standard_normal(q.data(), n * d, static_cast<uint64_t>(p_.seed), kPatternStream,
                              static_cast<uint64_t>(layer));
    std::vector<float> rotations(static_cast<size_t>(l.rounds * rot_size));
    for (int64_t r = 0; r < l.rounds && l.hashed; ++r) {
      lsh::random_rotation(rotations.data() + r * rot_size, d, p_.n_buckets, static_cast<uint64_t>(p_.seed), 0, r);
    }
    std::vector<float> mem(HeadScratch::floats(l, p_, d));
    HeadScratch s = HeadScratch::at(mem.data(), l, p_, d);
    HeadInput in;
    in.q = in.v = q.data();
    in.stride = in.head_dim = d;
    in.seq = n;
    in.rotations = rotations.data();
    sort_positions(in, l, p_, s);
    std::vector<int32_t> keys;
    for (int64_t g = 0; g < l.chunks; ++g) {
      const Window w = window_of(l, g);
      keys.clear();
      for (const auto& [begin, len] : {std::pair{w.prev_begin, w.prev_len}, std::pair{w.own_begin, w.own_len}}) {
        for (int64_t i = begin; i < begin + len; ++i) {
          if (s.valid[s.order[i]]) keys.push_back(s.order[i]);
        }
      }
      for (int64_t i = w.own_begin; i < w.own_begin + w.own_len; ++i) {
        const int32_t pos = s.order[i];
        if (!s.valid[pos]) continue;
        const bool alone = std::all_of(keys.begin(), keys.end(), [pos](int32_t k) { return k == pos; });
        for (int32_t k : keys) {
          if (k != pos || alone) out[static_cast<size_t>(pos * n + k)] = 1;
        }
      }
    }
    return out;
  }

  std::string describe() const override {
    AttentionSpec spec;
    spec.parts.push_back(AttentionPart{"lsh",
                                       {{"n_hashes", std::to_string(p_.n_hashes)},
                                        {"n_buckets", std::to_string(p_.n_buckets)},
                                        {"chunk_length", std::to_string(p_.chunk_length)},
                                        {"seed", std::to_string(p_.seed)}}});
    return spec.str();
  }

 private:
  LshParams p_;
  int64_t head_dim_;
};

void check_range(const char* key, int64_t value, int64_t lo, int64_t hi, const char* why) {
  if (value < lo || value > hi) {
    throw InputError(std::string("attention lsh: ") + key + "=" + std::to_string(value) +
                     " is out of range (expected " + why + ")");
  }
}

std::unique_ptr<Attention> make_lsh(const AttentionSpec&, const AttentionPart& part, const AttentionContext& ctx) {
  LshParams p;
  p.n_hashes = part.integer("n_hashes", p.n_hashes);
  p.n_buckets = part.integer("n_buckets", p.n_buckets);
  p.chunk_length = part.integer("chunk_length", p.chunk_length);
  p.seed = part.integer("seed", p.seed);
  check_range("n_hashes", p.n_hashes, 1, 64, "1 to 64 hash rounds");
  check_range("n_buckets", p.n_buckets, 2, 1 << 16, "an even number from 2 to 65536");
  if (p.n_buckets % 2 != 0) {
    throw InputError("attention lsh: n_buckets=" + std::to_string(p.n_buckets) +
                     " is odd (expected an even number: each rotation column gives two buckets, +x and -x)");
  }
  check_range("chunk_length", p.chunk_length, 1, 1 << 16, "1 to 65536 tokens per chunk");
  check_range("seed", p.seed, 0, std::numeric_limits<int64_t>::max(), "an integer >= 0");
  return std::make_unique<LshAttention>(p, ctx.head_dim);
}

const bool registered = register_attention(
    {"lsh",
     {"n_hashes", "n_buckets", "chunk_length", "seed"},
     "Reformer LSH: shared QK hashed into buckets, sorted, chunked attention (O(n * chunk_length))",
     make_lsh});

}  // namespace

}  // namespace slimformer::attention
