// `sliding`: Longformer's local window. With window w (per layer) and dilation d, query i attends
// key j when (i - j) is a multiple of d and |i - j| / d <= w / 2: w / 2 keys on each side (w's
// integer half), d apart, plus the query itself. d = 1 is Hugging Face's Longformer window
// (attention_window is the full width, both sides together). See docs/attention/sliding.md.
#include <algorithm>
#include <climits>

#include "attention/pattern_union.h"
#include "attention/registry.h"
#include "kernels/cpu/gathered_attention.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

constexpr int64_t kDefaultWindow = 512;

class SlidingPart final : public PatternPart {
 public:
  SlidingPart(std::vector<int64_t> windows, int64_t dilation) : windows_(std::move(windows)), dilation_(dilation) {}

  std::string describe() const override {
    std::string w;
    for (int64_t x : windows_) w += (w.empty() ? "" : ",") + std::to_string(x);
    if (windows_.size() > 1) w = "[" + w + "]";
    return "sliding:window=" + w + ",dilation=" + std::to_string(dilation_);
  }

  void check(const SequenceInfo& s) const override {
    // One value serves every layer; a list is indexed by the layer.
    if (s.layer < 0 || (windows_.size() > 1 && static_cast<size_t>(s.layer) >= windows_.size())) {
      throw InputError("attention sliding: layer " + std::to_string(s.layer) + " has no window (the window list has " +
                       std::to_string(windows_.size()) + " values)");
    }
  }

  int64_t tile_stride(int) const override { return dilation_; }
  // A tile's keys span its rows plus one side at each end. 64 rows (the kernel's row block) beat
  // 32 and 16 at windows 64 and 512 (n = 4096: 18 vs 20 vs 24 ms and 65 vs 73 vs 81 ms CPU): the
  // larger products outweigh the extra scores computed at the tile's corners.
  int64_t tile_rows(int) const override { return kernels::kGatherRows; }

  void add_keys(const SequenceInfo& s, std::span<const int32_t> queries, std::vector<int32_t>& keys) const override {
    if (queries.empty()) return;
    const int64_t reach = side(s.layer) * dilation_;
    const int64_t residue = queries[0] % dilation_;
    const bool one_class =
        std::all_of(queries.begin(), queries.end(), [&](int32_t q) { return q % dilation_ == residue; });
    if (one_class) {   // the union's tiles: one residue class, so one strided run of keys
      const auto [lo_q, hi_q] = std::minmax_element(queries.begin(), queries.end());
      for (int64_t j = first_in_range(*lo_q - reach, *lo_q); j <= std::min(*hi_q + reach, s.seq - 1); j += dilation_) {
        keys.push_back(static_cast<int32_t>(j));
      }
      return;
    }
    for (int32_t q : queries) {
      for (int64_t j = first_in_range(q - reach, q); j <= std::min(q + reach, s.seq - 1); j += dilation_) {
        keys.push_back(static_cast<int32_t>(j));
      }
    }
  }

  void mark(const SequenceInfo& s, std::span<const int32_t> queries, std::span<const int32_t> keys,
            uint8_t* allowed) const override {
    const int64_t reach = side(s.layer) * dilation_, nk = static_cast<int64_t>(keys.size());
    for (size_t r = 0; r < queries.size(); ++r) {
      const int64_t q = queries[r];
      const int64_t hi = std::min(q + reach, s.seq - 1);
      uint8_t* row = allowed + r * nk;
      for (int64_t c = first_column_at_or_after(keys, first_in_range(q - reach, q)); c < nk && keys[c] <= hi; ++c) {
        if ((q - keys[c]) % dilation_ == 0) row[c] = 1;
      }
    }
  }

 private:
  int64_t side(int layer) const {
    const size_t i = std::min(static_cast<size_t>(std::max(layer, 0)), windows_.size() - 1);
    return windows_[i] / 2;
  }
  // The smallest position >= max(lo, 0) in q's residue class (lo is in it).
  int64_t first_in_range(int64_t lo, int64_t q) const { return lo >= 0 ? lo : q % dilation_; }

  std::vector<int64_t> windows_;
  int64_t dilation_;
};

std::unique_ptr<Attention> make_sliding(const AttentionSpec&, const AttentionPart& part, const AttentionContext& ctx) {
  part.check_keys({"window", "dilation"});
  const std::vector<int64_t> windows = part.ints("window", {kDefaultWindow});
  if (windows.empty()) throw InputError("attention sliding: window list is empty (expected e.g. window=512 or [8,16])");
  // Bounded so that half a window times the dilation, added to a position, stays far inside 64 bits.
  constexpr int64_t kMaxReach = INT32_MAX;
  for (int64_t w : windows) {
    if (w <= 0) throw InputError("attention sliding: window=" + std::to_string(w) + " is not positive (expected e.g. 512)");
    if (w > kMaxReach) {
      throw InputError("attention sliding: window=" + std::to_string(w) + " is out of range (expected 1 to " +
                       std::to_string(kMaxReach) + " tokens)");
    }
  }
  if (windows.size() > 1 && static_cast<int64_t>(windows.size()) < ctx.num_layers) {
    throw InputError("attention sliding: window list has " + std::to_string(windows.size()) + " values for " +
                     std::to_string(ctx.num_layers) + " layers (expected one value, or one per layer)");
  }
  const int64_t dilation = part.integer("dilation", 1);
  if (dilation <= 0 || dilation > kMaxReach) {
    throw InputError("attention sliding: dilation=" + std::to_string(dilation) + " is out of range (expected 1 to " +
                     std::to_string(kMaxReach) + ")");
  }
  return make_single_part(std::make_unique<SlidingPart>(windows, dilation));
}

const bool registered = register_attention(
    {"sliding", {"window", "dilation"}, "Longformer's local window: window=512 (or [w0,w1,...] per layer), dilation=1",
     make_sliding, /*combinable=*/true});

}  // namespace

}  // namespace slimformer::attention
