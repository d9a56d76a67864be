// `global`: tokens that attend every key and that every query attends. They are the positions
// given (positions=[0,7]), the first N tokens of each sequence (first=N; 1, the [CLS] / <s> token,
// unless positions are given) and the input's own global tokens (io.global_mask, Longformer's
// global_attention_mask). With Longformer's separate projections (io.q_global, ...) the global
// rows use them, as Hugging Face's LongformerSelfAttention does; see docs/attention/global.md.
#include <algorithm>

#include "attention/pattern_union.h"
#include "attention/registry.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

class GlobalPart final : public PatternPart {
 public:
  GlobalPart(std::vector<int64_t> positions, int64_t first) : positions_(std::move(positions)), first_(first) {}

  bool adds_global_tokens() const override { return first_ > 0 || !positions_.empty(); }
  std::string describe() const override {
    std::string out = "global:";
    if (!positions_.empty()) {
      std::string list;
      for (int64_t p : positions_) list += (list.empty() ? "" : ",") + std::to_string(p);
      out += "positions=[" + list + "],";
    }
    return out + "first=" + std::to_string(first_);
  }

  void check(const SequenceInfo& s) const override {
    for (int64_t p : positions_) {
      if (p >= s.seq) {
        throw InputError("attention global: position " + std::to_string(p) + " is outside the sequence of " +
                         std::to_string(s.seq) + " tokens (positions count from 0)");
      }
    }
  }

  void global_queries(const SequenceInfo& s, uint8_t* flags) const override {
    for (int64_t p : positions_) flags[p] = 1;
    for (int64_t i = 0; i < std::min<int64_t>(first_, s.length()); ++i) flags[s.tokens[i]] = 1;
    if (s.global_mask) {
      for (int64_t t = 0; t < s.seq; ++t) flags[t] |= s.global_mask[t] != 0;
    }
  }

  void add_keys(const SequenceInfo& s, std::span<const int32_t>, std::vector<int32_t>& keys) const override {
    keys.insert(keys.end(), s.globals.begin(), s.globals.end());
  }

  void mark(const SequenceInfo& s, std::span<const int32_t> queries, std::span<const int32_t> keys,
            uint8_t* allowed) const override {
    const size_t nk = keys.size();
    for (int32_t g : s.globals) {
      const int64_t c = first_column_at_or_after(keys, g);
      for (size_t r = 0; r < queries.size(); ++r) allowed[r * nk + c] = 1;
    }
  }

 private:
  std::vector<int64_t> positions_;
  int64_t first_;
};

std::unique_ptr<Attention> make_global(const AttentionSpec&, const AttentionPart& part, const AttentionContext&) {
  part.check_keys({"positions", "first"});
  std::vector<int64_t> positions = part.ints("positions", {});
  for (int64_t p : positions) {
    if (p < 0) throw InputError("attention global: position " + std::to_string(p) + " is negative (positions count from 0)");
  }
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  const int64_t first = part.integer("first", positions.empty() ? 1 : 0);
  if (first < 0) throw InputError("attention global: first=" + std::to_string(first) + " is negative (expected 0 or more)");
  return make_single_part(std::make_unique<GlobalPart>(std::move(positions), first));
}

const bool registered = register_attention(
    {"global", {"positions", "first"},
     "global tokens: positions=[..] and/or first=N (default first=1) plus the input's global_attention_mask",
     make_global, /*combinable=*/true});

}  // namespace

}  // namespace slimformer::attention
