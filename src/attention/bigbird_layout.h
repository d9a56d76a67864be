// BigBird's block layout (ITC, as in Hugging Face's BigBirdBlockSparseAttention): the sequence is
// cut into blocks of `block_size` tokens (the last one may be short); the first and last query
// blocks attend every key; every other query block attends the window blocks i-1, i, i+1, the
// global blocks 0 and nb-1 (each once) and `num_random_blocks` random blocks, which are kept
// as drawn: a random block equal to one already attended counts twice in the softmax.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slimformer::attention {

enum class BigBirdRandom {
  Seeded,       // per layer and head, drawn from `seed` among the blocks outside window and globals
  FirstBlock,   // every random block is block 0: Hugging Face's model.eval() (no randomness)
};

struct BigBirdParams {
  int64_t block_size = 64;
  int64_t num_random_blocks = 3;
  uint64_t seed = 0;
  BigBirdRandom random = BigBirdRandom::Seeded;
};

// Hugging Face's rule: the block-sparse pattern needs seq > (5 + 2 * num_random_blocks) *
// block_size tokens; shorter sequences are served by full attention.
int64_t bigbird_min_sparse_tokens(const BigBirdParams& p);
inline bool bigbird_is_sparse(int64_t seq, const BigBirdParams& p) { return seq > bigbird_min_sparse_tokens(p); }

// The layout of one layer over `seq` tokens (the batch's padded length: Hugging Face lays its
// blocks over the padded batch, so a short row's last global block may be padding, masked).
// Cheap to build and const: a row's random blocks are drawn when asked for, from a stream of
// its own (seed, layer, head, query block), so tiles can be built on any thread in any order.
class BigBirdLayout {
 public:
  // Requires bigbird_is_sparse(seq, p).
  BigBirdLayout(const BigBirdParams& p, int64_t seq, int layer);

  int64_t seq() const { return seq_; }
  int64_t block_size() const { return b_; }
  int64_t blocks() const { return nb_; }
  int64_t block_begin(int64_t blk) const { return blk * b_; }
  int64_t block_end(int64_t blk) const { return blk + 1 == nb_ ? seq_ : (blk + 1) * b_; }
  bool is_global_row(int64_t qb) const { return qb == 0 || qb == nb_ - 1; }

  // Key blocks of a non-global query block for one head: globals and window (each block once),
  // then the random blocks as drawn (duplicates kept).
  void key_blocks(int64_t qb, int64_t head, std::vector<int64_t>& out) const;
  // The num_random_blocks random blocks of a non-global query block, in draw order.
  void random_blocks(int64_t qb, int64_t head, std::vector<int64_t>& out) const;

 private:
  BigBirdParams p_;
  int layer_;
  int64_t seq_, b_, nb_, r_;
};

// Blocks query block qb (1 <= qb <= nb-2) may draw at random, as Hugging Face's
// _get_single_block_row_attention allows them: neither global block, none of the window, and the
// second query block never draws the second-to-last key block (nor the reverse).
bool bigbird_random_block_allowed(int64_t qb, int64_t key_block, int64_t nb);

}  // namespace slimformer::attention
