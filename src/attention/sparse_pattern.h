// The sparse-pattern attention engine. A mechanism with a fixed pattern (sliding window, global
// tokens, random keys, BigBird's blocks) does not compute attention itself: it describes, per
// sequence, which query rows attend every key ("global" rows) and cuts the other rows into tiles,
// each tile naming its query rows, the keys they may attend and which (query, key) pairs count.
// sparse_attention_forward() runs every tile for every head (OpenMP over tiles x heads, scratch
// per thread from AttentionScratch, fixed size) with kernels::gathered_attention, and the global
// rows through a dense row path. Nothing is ever n x n: memory is linear in the sequence length.
//
// What the engine guarantees, whatever the pattern says:
//   - a padding key (io.mask 0) is never attended;
//   - padding query rows and query rows that attend nothing are written as zeros;
//   - a global query row attends every unpadded key once, with io.q_global/k_global/v_global when
//     they are given (Longformer's separate projections), else with q/k/v; the tiles' rows for
//     global queries are ignored;
//   - every other query row is computed from the tile that lists it, with q/k/v.
//
// Writing a pattern: derive from SparsePattern, implement tile_count() and tile(), and
// global_queries() if some rows attend everything. Then
//   void forward(const AttentionIO& io, AttentionScratch& s) const override {
//     sparse_attention_forward(io, s, *this);
//   }
//   std::vector<uint8_t> pattern(int64_t n, int layer) const override {
//     return pattern_matrix(*this, n, layer);
//   }
// A sequence's tiles are asked for once per head (or once for all heads, heads_share_tiles()).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "slimformer/attention.h"

namespace slimformer::attention {

// What a pattern is told about one sequence of the batch.
struct SequenceInfo {
  int64_t index = 0;                   // b, the sequence's row in the batch
  int64_t seq = 0;                     // T, the batch's (padded) length; positions are 0..T-1
  int layer = 0;                       // io.layer
  const int64_t* mask = nullptr;       // (T) 1 token, 0 padding; null: no padding
  const int64_t* global_mask = nullptr;  // (T) io.global_mask's row; null: none given
  std::span<const int32_t> tokens;     // positions whose mask is 1, ascending
  std::span<const int32_t> rank;       // (T) index of each position in tokens, -1 at padding
  // (T) 1 for the query rows that attend every key. Filled from global_queries() (padding rows
  // cleared) before tile_count() and tile() are called; empty inside global_queries().
  std::span<const uint8_t> global;
  std::span<const int32_t> globals;    // the positions where global is 1, ascending
  int64_t length() const { return static_cast<int64_t>(tokens.size()); }   // unpadded tokens
};

// One unit of work: query rows and the keys they may attend.
struct Tile {
  std::vector<int32_t> queries;   // query positions, each in [0, T)
  // Key positions, each in [0, T). A key may be listed more than once: every listing is its own
  // entry of the softmax, so a key listed twice and allowed twice counts twice (BigBird's
  // block-sparse attention does this where its random blocks repeat a window or global block).
  // Patterns that mean a set of keys list each key once.
  std::vector<int32_t> keys;
  // allowed[r * keys.size() + c] != 0 when queries[r] attends keys[c]; empty: every pair does.
  std::vector<uint8_t> allowed;

  void clear() {
    queries.clear();
    keys.clear();
    allowed.clear();
  }
  // Sizes allowed for the current queries x keys, all zero.
  void reset_allowed() { allowed.assign(queries.size() * keys.size(), 0); }
};

class SparsePattern {
 public:
  virtual ~SparsePattern() = default;
  // Sets flags[t] = 1 (flags has s.seq entries, all 0 on entry) for every query row of the
  // sequence that attends all keys. Called on one thread before any tile of the sequence, so it
  // may throw InputError (a position out of range). Default: none.
  virtual void global_queries(const SequenceInfo& s, uint8_t* flags) const;
  // How many tiles the sequence has. Called on one thread; may throw InputError.
  virtual int64_t tile_count(const SequenceInfo& s) const = 0;
  // Fills tile t < tile_count(s) for one head (out arrives cleared). Called from worker threads,
  // concurrently, so it must be const-safe and must not throw. Every unpadded, non-global query
  // row should be in exactly one tile of each head; a row in none gets zeros. Rows of padding or
  // global queries may be listed (the engine drops them), and so may padding keys.
  virtual void tile(const SequenceInfo& s, int64_t t, int64_t head, Tile& out) const = 0;
  // True when tile() does not depend on head: the engine then builds each tile once and runs it
  // for every head. Patterns that draw per head (BigBird's random blocks) return false.
  virtual bool heads_share_tiles() const { return true; }
};

// out = the pattern's attention for every sequence and head (see the top of this file).
// InputError when only some of io.q_global/k_global/v_global are given, or from the pattern.
void sparse_attention_forward(const AttentionIO& io, AttentionScratch& scratch, const SparsePattern& pattern);

// Row-major (n, n), 1 where query i attends key j (however many times), for one unpadded
// sequence of n tokens at `layer`, head `head`, with no io.global_mask: what Attention::pattern()
// returns for a SparsePattern.
std::vector<uint8_t> pattern_matrix(const SparsePattern& pattern, int64_t n, int layer, int64_t head = 0);

// The scratch floats sparse_attention_forward takes for `threads` threads (independent of n).
int64_t sparse_attention_scratch_floats(int64_t head_dim, int threads);

}  // namespace slimformer::attention
