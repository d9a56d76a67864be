// `random`: every query attends r keys drawn uniformly without replacement from its sequence's
// tokens (padding is never drawn; all tokens when r >= the length). The draw is a function of
// (seed, layer, the query's index among the tokens, the number of tokens) only, so it is the same
// for every head, every run and every batch the sequence is padded into. See docs/attention/random.md.
#include <algorithm>

#include "attention/pattern_union.h"
#include "core/splitmix.h"
#include "attention/registry.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

constexpr int64_t kDefaultKeys = 3;

using rng::splitmix64;

class RandomPart final : public PatternPart {
 public:
  RandomPart(int64_t r, uint64_t seed) : r_(r), seed_(seed) {}

  std::string describe() const override {
    return "random:r=" + std::to_string(r_) + ",seed=" + std::to_string(seed_);
  }

  // r keys per row: a tile of 16 rows adds about 16 r keys, most allowed for one row only.
  int64_t tile_rows(int) const override { return r_ > 0 ? 16 : 0; }

  void add_keys(const SequenceInfo& s, std::span<const int32_t> queries, std::vector<int32_t>& keys) const override {
    std::vector<int32_t> drawn;
    for (int32_t q : queries) {
      draw(s, q, drawn);
      keys.insert(keys.end(), drawn.begin(), drawn.end());
    }
  }

  void mark(const SequenceInfo& s, std::span<const int32_t> queries, std::span<const int32_t> keys,
            uint8_t* allowed) const override {
    std::vector<int32_t> drawn;
    for (size_t r = 0; r < queries.size(); ++r) {
      draw(s, queries[r], drawn);
      for (int32_t j : drawn) allowed[r * keys.size() + first_column_at_or_after(keys, j)] = 1;
    }
  }

 private:
  // The keys of query q (positions), or none for a padding row.
  void draw(const SequenceInfo& s, int32_t q, std::vector<int32_t>& out) const {
    out.clear();
    const int64_t rank = s.rank[q], n = s.length();
    if (rank < 0 || r_ == 0) return;
    if (r_ >= n) {
      out.assign(s.tokens.begin(), s.tokens.end());
      return;
    }
    uint64_t state = seed_;
    for (uint64_t field : {static_cast<uint64_t>(s.layer), static_cast<uint64_t>(rank), static_cast<uint64_t>(n)}) {
      state = splitmix64(state) ^ field;
    }
    // Floyd's sampling: r distinct token indices out of n with r draws.
    for (int64_t j = n - r_; j < n; ++j) {
      const int32_t t = static_cast<int32_t>(splitmix64(state) % static_cast<uint64_t>(j + 1));
      const int32_t pick = std::find(out.begin(), out.end(), s.tokens[t]) == out.end() ? t : static_cast<int32_t>(j);
      out.push_back(s.tokens[pick]);
    }
  }

  int64_t r_;
  uint64_t seed_;
};

std::unique_ptr<Attention> make_random(const AttentionSpec&, const AttentionPart& part, const AttentionContext&) {
  part.check_keys({"r", "seed"});
  const int64_t r = part.integer("r", kDefaultKeys);
  if (r < 0) throw InputError("attention random: r=" + std::to_string(r) + " is negative (expected 0 or more keys per query)");
  return make_single_part(std::make_unique<RandomPart>(r, part.seed()));
}

const bool registered = register_attention(
    {"random", {"r", "seed"}, "r random keys per query (default r=3), the same for a given seed, layer and query",
     make_random, /*combinable=*/true});

}  // namespace

}  // namespace slimformer::attention
