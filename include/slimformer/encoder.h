// The encoder: one implementation for every architecture (an architecture only maps config.json
// and tensor names onto it), run in fp32 on the CPU.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"
#include "slimformer/tokenizer.h"

namespace slimformer {

struct ForwardOptions {
  bool keep_all_hidden_states = false;   // hidden_states.0 (embeddings) ... hidden_states.N
};

struct ForwardResult {
  Tensor last_hidden_state;              // (B, T, H) f32
  std::vector<Tensor> hidden_states;     // filled when keep_all_hidden_states
  Tensor pooler_output;                  // (B, H) when the checkpoint has a pooler
};

class Encoder {
 public:
  // Builds from a checkpoint; F32 weights are used in place (mmapped), others converted once.
  // ModelError naming the tensor and expected shape if one is missing or misshapen. Attention
  // runs the given mechanism, or the model's own (default_attention(config)) when `attention`
  // is empty; InputError for a bad spec. The encoder keeps what it reads (packed copies of the
  // linear weights, the other tensors in place), not the checkpoint itself.
  explicit Encoder(std::shared_ptr<const Checkpoint> checkpoint, const AttentionSpec& attention = {});
  ~Encoder();
  const EncoderConfig& config() const;
  bool has_pooler() const;
  int64_t parameter_count() const;
  size_t weights_bytes() const;
  const Attention& attention() const;   // describe() gives the spec it runs, defaults filled in

  // ids, mask, type_ids, global_mask: row-major (B, T); type_ids may be empty (all zero),
  // global_mask empty (no global tokens; Longformer's global_attention_mask otherwise).
  ForwardResult forward(const Batch& batch, const ForwardOptions& opt = {}) const;
  // forward() keeps its scratch buffers for the next forward of the same shape (fresh buffers
  // cost a page fault per 4 KiB); this frees them, so the next forward allocates them again.
  void release_workspace() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// (B, H) sentence vectors from (B, T, H) token states and the (B, T) mask.
Tensor pool(const Tensor& hidden, const std::vector<int64_t>& mask, PoolingMode mode);
void l2_normalize_rows(Tensor& x);      // in place, (B, H)

// A model folder ready to embed text: checkpoint + encoder + tokenizer + sentence config.
class SentenceEncoder {
 public:
  explicit SentenceEncoder(const std::string& model_dir, const AttentionSpec& attention = {});
  // (N, H) embeddings for texts, processed in batches of batch_size; max_length 0 = model limit.
  Tensor embed(const std::vector<std::string>& texts, int64_t batch_size = 32,
               int64_t max_length = 0, bool normalize_override_off = false) const;
  const Encoder& encoder() const { return *encoder_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const SentenceConfig& sentence_config() const { return sentence_; }
  int64_t max_length() const;   // min(sentence max_seq_length, max_position_embeddings - offset)

 private:
  std::shared_ptr<const Checkpoint> checkpoint_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Tokenizer> tokenizer_;
  SentenceConfig sentence_;
};

}  // namespace slimformer
