// The mechanisms that combine with '+' (sliding, global, random) are parts of one PatternUnion:
// a query attends a key when any part says so (a set union: a key counts once however many parts
// name it). Each part file registers a mechanism that builds a union of that one part; the "+"
// combiner (combine.cc) builds each part through its own mechanism and merges the parts.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "attention/sparse_pattern.h"

namespace slimformer::attention {

class PatternPart {
 public:
  virtual ~PatternPart() = default;
  // Canonical spec text of the part with its defaults filled in ("sliding:window=512,dilation=1").
  virtual std::string describe() const = 0;
  // Query rows that attend every key (see SparsePattern::global_queries). May throw InputError.
  virtual void global_queries(const SequenceInfo&, uint8_t* /*flags*/) const {}
  // True when the part marks tokens global without the input's global_mask.
  virtual bool adds_global_tokens() const { return false; }
  // Checks what depends on the forward (the layer, positions against the length): InputError.
  virtual void check(const SequenceInfo&) const {}
  // Tiling the part prefers: query rows whose positions differ by `stride` go together (a
  // dilated window), about `rows` of them per tile. 0 rows: no preference.
  virtual int64_t tile_stride(int /*layer*/) const { return 1; }
  virtual int64_t tile_rows(int /*layer*/) const { return 0; }
  // Appends every key any of `queries` attends through this part (repeats are fine).
  virtual void add_keys(const SequenceInfo& s, std::span<const int32_t> queries, std::vector<int32_t>& keys) const = 0;
  // Sets allowed[r * keys.size() + c] = 1 for each pair (queries[r], keys[c]) of this part.
  // keys is ascending without repeats and holds every key add_keys named.
  virtual void mark(const SequenceInfo& s, std::span<const int32_t> queries, std::span<const int32_t> keys,
                    uint8_t* allowed) const = 0;
};

class PatternUnion final : public Attention, public SparsePattern {
 public:
  explicit PatternUnion(std::vector<std::unique_ptr<PatternPart>> parts);
  // Moves the parts of `other` (a PatternUnion built by a part's mechanism) into this union.
  void absorb(PatternUnion&& other);

  void forward(const AttentionIO& io, AttentionScratch& scratch) const override;
  std::vector<uint8_t> pattern(int64_t n, int layer) const override;
  std::string describe() const override;
  bool adds_global_tokens() const override;

  void global_queries(const SequenceInfo& s, uint8_t* flags) const override;
  int64_t tile_count(const SequenceInfo& s) const override;
  void tile(const SequenceInfo& s, int64_t t, int64_t head, Tile& out) const override;

 private:
  struct Tiling {
    int64_t stride, rows, end;   // residue classes mod stride, `rows` per tile, positions < end
  };
  Tiling tiling(const SequenceInfo& s) const;

  std::vector<std::unique_ptr<PatternPart>> parts_;
};

// The first column c with keys[c] >= position (keys ascending).
int64_t first_column_at_or_after(std::span<const int32_t> keys, int64_t position);

// Builds the union of one part (what a part's mechanism returns).
std::unique_ptr<Attention> make_single_part(std::unique_ptr<PatternPart> part);

}  // namespace slimformer::attention
