// One interface for every self-attention mechanism. A mechanism is data, an AttentionSpec such
// as "sliding:window=[512],dilation=2+global:first=1", chosen per model (from its config) or per
// run (--attention), and built by make_attention(); the encoder never forks on it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"

namespace slimformer {

// One mechanism and its parameters as written: name, then key=value pairs in the order given.
// A value may be a bracketed list, "[8,16]", read with AttentionPart::ints.
struct AttentionPart {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;

  bool has(std::string_view key) const;
  // The value of `key` parsed as a number, or `fallback` when absent. InputError (naming the
  // mechanism, the key and what was expected) when present but not a number of that kind.
  int64_t integer(std::string_view key, int64_t fallback) const;
  double real(std::string_view key, double fallback) const;
  std::string text(std::string_view key, const std::string& fallback) const;
  // The `seed` key (default 0): InputError when negative, so every seeded mechanism refuses alike.
  uint64_t seed() const;
  // "[8,16]" or "8" -> {8, 16} / {8}; `fallback` when absent.
  std::vector<int64_t> ints(std::string_view key, const std::vector<int64_t>& fallback) const;
  // InputError naming the first key not in `known` (the message lists the known ones).
  void check_keys(const std::vector<std::string>& known) const;
};

// NAME[:key=value,...][+NAME[:...]]: parts joined with '+' combine (sliding, random and global
// union their patterns). parse() throws InputError on bad syntax; names and keys are checked by
// make_attention().
struct AttentionSpec {
  std::vector<AttentionPart> parts;

  static AttentionSpec parse(std::string_view text);
  std::string str() const;                       // canonical text, parse(str()) == *this
  bool empty() const { return parts.empty(); }
  const AttentionPart* find(std::string_view name) const;   // null when absent
};

// Built-in mechanism names in the order docs and errors list them.
const std::vector<std::string>& attention_names();

// Views of one layer's attention inputs. Element (b, t, head, e) of q is at
//   q[(b * seq + t) * in_row_stride + head * head_dim + e]
// and likewise k, v (and the optional global projections); out is written the same way with
// out_row_stride (heads merged as written, the layout the output projection reads).
struct AttentionIO {
  int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t in_row_stride = 0;
  float* out = nullptr;
  int64_t out_row_stride = 0;
  // (B, T): 1 for a token, 0 for padding (keys at padding are never attended; rows at padding
  // may hold anything). Null: no padding.
  const int64_t* mask = nullptr;
  // (B, T): 1 where the input marks a global token (Longformer's global_attention_mask). Null:
  // none. The `global` mechanism adds its own positions (positions=, first=) to these.
  const int64_t* global_mask = nullptr;
  // Longformer's separate projections for global attention (query_global, key_global,
  // value_global), same layout as q; null when the model has none (q, k, v are used).
  const float* q_global = nullptr;
  const float* k_global = nullptr;
  const float* v_global = nullptr;
  int layer = 0;   // which encoder layer (per-layer parameters such as sliding's window list)
  float scale = 0.0f;   // score scale; 0 means 1/sqrt(head_dim)
};

// Scratch memory a mechanism asks for on each forward. It grows and is kept (by the encoder's
// workspace), so repeated forwards do not fault in fresh pages; it comes from the counting
// allocator, so peak activation memory includes it.
class AttentionScratch {
 public:
  float* floats(size_t count);          // at least `count` floats, contents unspecified
  size_t bytes() const { return buffer_.raw() ? buffer_.nbytes() : 0; }
  void release() { buffer_ = Tensor(); }

 private:
  Tensor buffer_;
};

class Attention {
 public:
  virtual ~Attention() = default;
  // out = attention(q, k, v) for every sequence, head and unpadded query.
  virtual void forward(const AttentionIO& io, AttentionScratch& scratch) const = 0;
  // Which query attends to which key for one unpadded sequence of n tokens at `layer`:
  // row-major (n, n), 1 where query i attends key j. Mechanisms without a fixed pattern return
  // the pattern for seeded random inputs (lsh) or all ones (dense approximations).
  virtual std::vector<uint8_t> pattern(int64_t n, int layer) const;
  // The canonical spec this mechanism was built from, with defaults filled in.
  virtual std::string describe() const = 0;
  // True when the mechanism makes tokens global by itself (global:first=1, positions=[..]), so
  // a model with separate global projections must compute them even without a global_mask.
  virtual bool adds_global_tokens() const { return false; }
};

// What a mechanism may need to know about the model it serves.
struct AttentionContext {
  int64_t num_layers = 1;
  int64_t heads = 1;
  int64_t head_dim = 1;
  int64_t max_seq = 0;                 // model's longest sequence (0: unknown)
};

// What a model of `config` tells make_attention(): its layers, heads, head width and the
// longest sequence its positions allow.
AttentionContext attention_context(const EncoderConfig& config);

// Builds the mechanism. InputError for an unknown name (listing the known ones), an unknown key,
// a value out of range (window <= 0, k < 1, ...), or parts that cannot combine.
std::unique_ptr<Attention> make_attention(const AttentionSpec& spec, const AttentionContext& ctx);

// The mechanism a model's config.json asks for: Longformer -> sliding (its attention_window
// list) + global; BigBird block_sparse -> bigbird (block_size, num_random_blocks); everything
// else -> exact (dense, tiled: docs/attention/exact.md measured it faster than full).
AttentionSpec default_attention(const EncoderConfig& config);

}  // namespace slimformer
