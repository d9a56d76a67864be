// PatternUnion: tiles of query rows (grouped by residue class when a part is dilated), each
// tile's keys the sorted union of what the parts name, and a pair allowed when any part allows it.
#include "attention/pattern_union.h"

#include <algorithm>

#include "slimformer/error.h"

namespace slimformer::attention {

namespace {
// Rows per tile when no part prefers a count.
constexpr int64_t kDefaultTileRows = 32;
}  // namespace

int64_t first_column_at_or_after(std::span<const int32_t> keys, int64_t position) {
  return std::lower_bound(keys.begin(), keys.end(), position) - keys.begin();
}

PatternUnion::PatternUnion(std::vector<std::unique_ptr<PatternPart>> parts) : parts_(std::move(parts)) {}

void PatternUnion::absorb(PatternUnion&& other) {
  for (auto& p : other.parts_) parts_.push_back(std::move(p));
  other.parts_.clear();
}

void PatternUnion::forward(const AttentionIO& io, AttentionScratch& scratch) const {
  sparse_attention_forward(io, scratch, *this);
}

std::vector<uint8_t> PatternUnion::pattern(int64_t n, int layer) const { return pattern_matrix(*this, n, layer); }

bool PatternUnion::adds_global_tokens() const {
  for (const auto& p : parts_) {
    if (p->adds_global_tokens()) return true;
  }
  return false;
}

std::string PatternUnion::describe() const {
  std::string out;
  for (const auto& p : parts_) out += (out.empty() ? "" : "+") + p->describe();
  return out;
}

void PatternUnion::global_queries(const SequenceInfo& s, uint8_t* flags) const {
  for (const auto& p : parts_) p->check(s);
  for (const auto& p : parts_) p->global_queries(s, flags);
}

PatternUnion::Tiling PatternUnion::tiling(const SequenceInfo& s) const {
  Tiling t{1, 0, s.tokens.empty() ? 0 : s.tokens.back() + 1};
  for (const auto& p : parts_) {
    t.stride = std::max(t.stride, p->tile_stride(s.layer));
    const int64_t r = p->tile_rows(s.layer);
    if (r > 0) t.rows = t.rows == 0 ? r : std::min(t.rows, r);
  }
  if (t.rows == 0) t.rows = kDefaultTileRows;
  return t;
}

int64_t PatternUnion::tile_count(const SequenceInfo& s) const {
  const Tiling t = tiling(s);
  int64_t count = 0;
  for (int64_t c = 0; c < std::min(t.stride, t.end); ++c) {
    const int64_t rows_in_class = (t.end - c + t.stride - 1) / t.stride;
    count += (rows_in_class + t.rows - 1) / t.rows;
  }
  return count;
}

void PatternUnion::tile(const SequenceInfo& s, int64_t index, int64_t /*head*/, Tile& out) const {
  const Tiling t = tiling(s);
  // Tile `index` -> residue class c and block within the class.
  int64_t c = 0, block = index;
  for (; c < std::min(t.stride, t.end); ++c) {
    const int64_t blocks = ((t.end - c + t.stride - 1) / t.stride + t.rows - 1) / t.rows;
    if (block < blocks) break;
    block -= blocks;
  }
  for (int64_t i = 0; i < t.rows; ++i) {
    const int64_t q = c + t.stride * (block * t.rows + i);
    if (q >= t.end) break;
    out.queries.push_back(static_cast<int32_t>(q));
  }
  for (const auto& p : parts_) p->add_keys(s, out.queries, out.keys);
  std::sort(out.keys.begin(), out.keys.end());
  out.keys.erase(std::unique(out.keys.begin(), out.keys.end()), out.keys.end());
  out.reset_allowed();
  for (const auto& p : parts_) p->mark(s, out.queries, out.keys, out.allowed.data());
  // Every pair allowed (a window wider than the sequence): the kernel can skip the bitmap.
  if (std::all_of(out.allowed.begin(), out.allowed.end(), [](uint8_t a) { return a != 0; })) out.allowed.clear();
}

std::unique_ptr<Attention> make_single_part(std::unique_ptr<PatternPart> part) {
  std::vector<std::unique_ptr<PatternPart>> parts;
  parts.push_back(std::move(part));
  return std::make_unique<PatternUnion>(std::move(parts));
}

}  // namespace slimformer::attention
