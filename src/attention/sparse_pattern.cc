// The sparse-pattern engine: per-sequence bookkeeping (tokens, global rows, tile counts) on one
// thread, then tiles x heads and global-row blocks x heads on the OpenMP team. A thread builds a
// tile once and runs it for consecutive heads (the static schedule hands each thread a run of
// consecutive work items, and items are ordered tile-major).
#include "attention/sparse_pattern.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/gathered_attention.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace k = slimformer::kernels;

void SparsePattern::global_queries(const SequenceInfo&, uint8_t*) const {}

namespace {

// One sequence's bookkeeping; info's spans point into the vectors.
struct Sequence {
  std::vector<int32_t> tokens, rank, globals;
  std::vector<uint8_t> global;
  int64_t tiles = 0;
  SequenceInfo info;
};

void describe_sequence(Sequence& s, const SparsePattern& p, int64_t b, int64_t T, int layer, const int64_t* mask,
                       const int64_t* global_mask) {
  s.rank.assign(static_cast<size_t>(T), -1);
  for (int64_t t = 0; t < T; ++t) {
    if (mask && mask[t] == 0) continue;
    s.rank[t] = static_cast<int32_t>(s.tokens.size());
    s.tokens.push_back(static_cast<int32_t>(t));
  }
  s.info.index = b;
  s.info.seq = T;
  s.info.layer = layer;
  s.info.mask = mask;
  s.info.global_mask = global_mask;
  s.info.tokens = s.tokens;
  s.info.rank = s.rank;
  s.global.assign(static_cast<size_t>(T), 0);
  p.global_queries(s.info, s.global.data());
  for (int64_t t = 0; t < T; ++t) {
    if (s.rank[t] < 0) s.global[t] = 0;   // padding is never global
    if (s.global[t]) s.globals.push_back(static_cast<int32_t>(t));
  }
  s.info.global = s.global;
  s.info.globals = s.globals;
  s.tiles = p.tile_count(s.info);
  if (s.tiles < 0) s.tiles = 0;
}

// Drops the tile's rows that the dense path or nobody computes (global and padding queries).
void keep_local_rows(Tile& tile, const Sequence& s) {
  const size_t nk = tile.keys.size();
  const bool has_allowed = !tile.allowed.empty();
  size_t kept = 0;
  for (size_t r = 0; r < tile.queries.size(); ++r) {
    const int32_t q = tile.queries[r];
    if (s.rank[q] < 0 || s.global[q]) continue;
    if (kept != r) {
      tile.queries[kept] = q;
      if (has_allowed) std::memmove(&tile.allowed[kept * nk], &tile.allowed[r * nk], nk);
    }
    ++kept;
  }
  tile.queries.resize(kept);
  if (has_allowed) tile.allowed.resize(kept * nk);
}

k::HeadRows head_rows(const AttentionIO& io, int64_t b, int64_t h, bool global_projections) {
  const int64_t in0 = b * io.seq * io.in_row_stride + h * io.head_dim;
  k::HeadRows r;
  r.q = (global_projections ? io.q_global : io.q) + in0;
  r.k = (global_projections ? io.k_global : io.k) + in0;
  r.v = (global_projections ? io.v_global : io.v) + in0;
  r.in_stride = io.in_row_stride;
  r.out = io.out + b * io.seq * io.out_row_stride + h * io.head_dim;
  r.out_stride = io.out_row_stride;
  r.head_dim = io.head_dim;
  return r;
}

void check_io(const AttentionIO& io) {
  if (io.batch < 0 || io.seq < 0 || io.heads < 0 || io.head_dim < 0) {
    throw InputError("attention: negative shape (batch " + std::to_string(io.batch) + ", seq " + std::to_string(io.seq) +
                     ", heads " + std::to_string(io.heads) + ", head_dim " + std::to_string(io.head_dim) + ")");
  }
  const int given = (io.q_global != nullptr) + (io.k_global != nullptr) + (io.v_global != nullptr);
  if (given != 0 && given != 3) {
    throw InputError("attention: q_global, k_global and v_global must be given together (got " + std::to_string(given) +
                     " of 3)");
  }
}

}  // namespace

int64_t sparse_attention_scratch_floats(int64_t head_dim, int threads) {
  return static_cast<int64_t>(std::max(threads, 1)) * k::gathered_attention_floats(head_dim);
}

void sparse_attention_forward(const AttentionIO& io, AttentionScratch& scratch, const SparsePattern& pattern) {
  check_io(io);
  const int64_t B = io.batch, T = io.seq, H = io.heads, d = io.head_dim;
  if (B == 0 || T == 0 || H == 0 || d == 0) return;
  const float scale = io.scale != 0.0f ? io.scale : 1.0f / std::sqrt(static_cast<float>(d));
  const bool global_projections = io.q_global != nullptr;
  const bool shared = pattern.heads_share_tiles();

  std::vector<Sequence> seqs(static_cast<size_t>(B));
  std::vector<std::pair<int64_t, int64_t>> local_items, global_items;   // (b, tile) and (b, first global row)
  for (int64_t b = 0; b < B; ++b) {
    describe_sequence(seqs[b], pattern, b, T, io.layer, io.mask ? io.mask + b * T : nullptr,
                      io.global_mask ? io.global_mask + b * T : nullptr);
    for (int64_t t = 0; t < seqs[b].tiles; ++t) local_items.emplace_back(b, t);
    for (size_t g = 0; g < seqs[b].globals.size(); g += k::kGatherRows) global_items.emplace_back(b, g);
  }

  const int threads = omp_get_max_threads();
  const int64_t per_thread = k::gathered_attention_floats(d);
  float* buffer = scratch.floats(static_cast<size_t>(sparse_attention_scratch_floats(d, threads)));
  const int64_t n_local = static_cast<int64_t>(local_items.size()) * H;
  const int64_t n_global = static_cast<int64_t>(global_items.size()) * H;

  // (row, head) slices the kernels wrote; each is written by one item, so no two threads share a byte.
  std::vector<uint8_t> written(static_cast<size_t>(B * T * H), 0);

#pragma omp parallel num_threads(threads)
  {
    float* mine = buffer + omp_get_thread_num() * per_thread;
    Tile tile;
    int64_t built = -1;   // which local item `tile` holds

#pragma omp for schedule(static)
    for (int64_t it = 0; it < n_local; ++it) {
      const int64_t w = it / H, h = it % H;
      const auto [b, t] = local_items[w];
      const Sequence& s = seqs[b];
      if (w != built || !shared) {
        tile.clear();
        pattern.tile(s.info, t, h, tile);
        keep_local_rows(tile, s);
        built = w;
      }
      if (tile.queries.empty()) continue;
      for (int32_t q : tile.queries) written[(b * T + q) * H + h] = 1;
      k::gathered_attention(head_rows(io, b, h, false), tile.queries.data(), static_cast<int64_t>(tile.queries.size()),
                            tile.keys.data(), static_cast<int64_t>(tile.keys.size()),
                            tile.allowed.empty() ? nullptr : tile.allowed.data(), s.info.mask, scale, mine);
    }

    // Global rows: every unpadded key, through the global projections when the model has them.
#pragma omp for schedule(static)
    for (int64_t it = 0; it < n_global; ++it) {
      const int64_t w = it / H, h = it % H;
      const auto [b, g0] = global_items[w];
      const Sequence& s = seqs[b];
      const int64_t nq = std::min<int64_t>(k::kGatherRows, static_cast<int64_t>(s.globals.size()) - g0);
      for (int64_t i = 0; i < nq; ++i) written[(b * T + s.globals[g0 + i]) * H + h] = 1;
      k::gathered_attention(head_rows(io, b, h, global_projections), s.globals.data() + g0, nq, s.tokens.data(),
                            s.info.length(), nullptr, nullptr, scale, mine);
    }

    // Zeros where nothing was written: padding rows, and rows no tile lists.
#pragma omp for schedule(static)
    for (int64_t row = 0; row < B * T; ++row) {
      for (int64_t h = 0; h < H; ++h) {
        if (!written[row * H + h]) std::fill_n(io.out + row * io.out_row_stride + h * d, d, 0.0f);
      }
    }
  }
}

std::vector<uint8_t> pattern_matrix(const SparsePattern& pattern, int64_t n, int layer, int64_t head) {
  if (n < 0) throw InputError("attention pattern: negative sequence length " + std::to_string(n));
  std::vector<uint8_t> m(static_cast<size_t>(n * n), 0);
  if (n == 0) return m;
  Sequence s;
  describe_sequence(s, pattern, 0, n, layer, nullptr, nullptr);
  for (int32_t g : s.globals) std::fill_n(m.begin() + g * n, n, uint8_t{1});
  Tile tile;
  for (int64_t t = 0; t < s.tiles; ++t) {
    tile.clear();
    pattern.tile(s.info, t, head, tile);
    keep_local_rows(tile, s);
    const size_t nk = tile.keys.size();
    for (size_t r = 0; r < tile.queries.size(); ++r) {
      for (size_t c = 0; c < nk; ++c) {
        if (tile.allowed.empty() || tile.allowed[r * nk + c]) m[tile.queries[r] * n + tile.keys[c]] = 1;
      }
    }
  }
  return m;
}

}  // namespace slimformer::attention
