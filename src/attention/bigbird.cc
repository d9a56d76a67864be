// `bigbird`: BigBird's block-sparse attention (ITC) on the sparse-pattern engine. The first and
// last query blocks are global rows; every other query block is one tile whose keys are its
// window, the two global blocks and its random blocks (bigbird_layout.h). Sequences too short
// for the pattern get full attention, with a warning, as in Hugging Face's BigBirdModel.
#include <atomic>
#include <iostream>

#include "attention/bigbird_layout.h"
#include "attention/registry.h"
#include "attention/sparse_pattern.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

const char* random_name(BigBirdRandom r) { return r == BigBirdRandom::Seeded ? "seeded" : "first_block"; }

class BigBirdAttention final : public Attention, private SparsePattern {
 public:
  BigBirdAttention(const BigBirdParams& p, std::unique_ptr<Attention> full) : p_(p), full_(std::move(full)) {}

  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    if (bigbird_is_sparse(io.seq, p_)) {
      sparse_attention_forward(io, scratch, *this);
      return;
    }
    // Once per mechanism, i.e. per encoder, not once per layer or forward.
    if (!warned_.exchange(true)) {
      std::cerr << "slimformer: warning: bigbird: sequence length " << io.seq
                << " <= (5 + 2 * num_random_blocks) * block_size = " << bigbird_min_sparse_tokens(p_)
                << " is too short for the block-sparse pattern; using full attention (as Hugging Face's BigBird "
                   "does)\n";
    }
    full_->forward(io, scratch);
  }

  // Head 0's pattern (seeded random blocks differ per head); all ones where full attention runs.
  std::vector<uint8_t> pattern(int64_t n, int layer) const override {
    if (!bigbird_is_sparse(n, p_)) return Attention::pattern(n, layer);
    return pattern_matrix(*this, n, layer, 0);
  }

  std::string describe() const override {
    AttentionSpec spec;
    spec.parts.push_back({"bigbird",
                          {{"block_size", std::to_string(p_.block_size)},
                           {"num_random_blocks", std::to_string(p_.num_random_blocks)},
                           {"seed", std::to_string(p_.seed)},
                           {"random", random_name(p_.random)}}});
    return spec.str();
  }

 private:
  // The first and last query blocks attend every key.
  void global_queries(const SequenceInfo& s, uint8_t* flags) const override {
    const BigBirdLayout layout(p_, s.seq, s.layer);
    const int64_t last = layout.blocks() - 1;
    for (int64_t t = 0; t < layout.block_end(0); ++t) flags[t] = 1;
    for (int64_t t = layout.block_begin(last); t < layout.block_end(last); ++t) flags[t] = 1;
  }

  int64_t tile_count(const SequenceInfo& s) const override { return BigBirdLayout(p_, s.seq, s.layer).blocks() - 2; }

  // Tile t is query block t + 1 with its key blocks, a key listed once per listing of its block.
  void tile(const SequenceInfo& s, int64_t t, int64_t head, Tile& out) const override {
    const BigBirdLayout layout(p_, s.seq, s.layer);
    const int64_t qb = t + 1;
    for (int64_t q = layout.block_begin(qb); q < layout.block_end(qb); ++q) out.queries.push_back(static_cast<int32_t>(q));
    std::vector<int64_t> blocks;
    layout.key_blocks(qb, head, blocks);
    for (int64_t kb : blocks) {
      for (int64_t k = layout.block_begin(kb); k < layout.block_end(kb); ++k) out.keys.push_back(static_cast<int32_t>(k));
    }
  }

  // Heads differ only in seeded random blocks.
  bool heads_share_tiles() const override { return p_.random == BigBirdRandom::FirstBlock || p_.num_random_blocks == 0; }

  BigBirdParams p_;
  std::unique_ptr<Attention> full_;
  mutable std::atomic<bool> warned_{false};
};

BigBirdRandom parse_random(const std::string& text) {
  if (text == "seeded") return BigBirdRandom::Seeded;
  if (text == "first_block") return BigBirdRandom::FirstBlock;
  throw InputError("attention bigbird: random=" + text +
                   " is not known (expected seeded: drawn per layer and head from seed, or first_block: every random "
                   "block is block 0, as Hugging Face's BigBird in eval mode)");
}

std::unique_ptr<Attention> make_bigbird(const AttentionSpec&, const AttentionPart& part, const AttentionContext& ctx) {
  BigBirdParams p;
  p.block_size = part.integer("block_size", p.block_size);
  p.num_random_blocks = part.integer("num_random_blocks", p.num_random_blocks);
  p.seed = part.seed();
  p.random = parse_random(part.text("random", "seeded"));
  if (p.block_size < 1 || p.block_size > (1 << 16)) {
    throw InputError("attention bigbird: block_size=" + std::to_string(p.block_size) +
                     " is out of range (expected 1 to 65536 tokens per block)");
  }
  if (p.num_random_blocks < 0 || p.num_random_blocks > 1024) {
    throw InputError("attention bigbird: num_random_blocks=" + std::to_string(p.num_random_blocks) +
                     " is out of range (expected 0 to 1024 random blocks per query block)");
  }
  return std::make_unique<BigBirdAttention>(p, make_attention(AttentionSpec::parse("full"), ctx));
}

const bool registered = register_attention(
    {"bigbird",
     {"block_size", "num_random_blocks", "seed", "random"},
     "BigBird block-sparse (ITC): per block, 3 window + 2 global + num_random_blocks random blocks (linear memory)",
     make_bigbird});

}  // namespace

}  // namespace slimformer::attention
