// The encoder: one implementation for every architecture (an architecture only maps config.json
// and tensor names onto it), run in fp32 on the CPU.
#pragma once
#include <functional>
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

// A sentence-transformers Dense module's weights, ready to apply.
struct DenseLayer {
  DenseModuleConfig config;
  Tensor weight;   // (out_features, in_features) F32
  Tensor bias;     // (out_features) F32; undefined without bias
};
// Reads config.dir/model.safetensors (linear.weight, linear.bias; F32, F16 or BF16) for a module
// fed `in_features` values. ModelError naming the file for: no model.safetensors (one holding a
// PyTorch pickle, pytorch_model.bin, is refused: it is not read), in_features that differ from
// `in_features`, a tensor missing, misshapen, of another dtype or holding a non-finite value,
// linear.bias present when the config says bias false.
DenseLayer load_dense_layer(const DenseModuleConfig& config, int64_t in_features);
// (B, out_features) = activation(x W^T + b) for x (B, in_features); each row summed in double on
// its own, so a row's result does not depend on the rows beside it.
Tensor dense_forward(const Tensor& x, const DenseLayer& layer);

// Called after each batch with the number of inputs done so far and the total.
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

// A model folder ready to embed text: checkpoint + encoder + tokenizer + sentence config (pooling,
// Dense modules, normalization).
class SentenceEncoder {
 public:
  explicit SentenceEncoder(const std::string& model_dir, const AttentionSpec& attention = {});
  // (N, dim()) embeddings for texts, processed in batches of batch_size; max_length 0 = model
  // limit. normalize_override_off skips the Normalize module (never the Dense ones).
  Tensor embed(const std::vector<std::string>& texts, int64_t batch_size = 32,
               int64_t max_length = 0, bool normalize_override_off = false,
               const ProgressFn& progress = {}) const;
  const Encoder& encoder() const { return *encoder_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const SentenceConfig& sentence_config() const { return sentence_; }
  int64_t max_length() const;   // min(sentence max_seq_length, max_position_embeddings - offset)
  // The embedding width: the last Dense module's out_features, else the hidden size.
  int64_t dim() const;

 private:
  std::shared_ptr<const Checkpoint> checkpoint_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Tokenizer> tokenizer_;
  SentenceConfig sentence_;
  std::vector<DenseLayer> dense_;
};

// The sequence-classification head a model folder declares: config.json's "architectures" entry
// ending in "ForSequenceClassification" (e.g. "BertForSequenceClassification"), or "" if none.
std::string sequence_classification_head(const std::string& model_dir);

// A model folder with a sequence-classification head (BertForSequenceClassification: the
// pooler's output through `classifier`, a (num_labels, H) Linear; RobertaForSequenceClassification:
// the first token's state through classifier.dense, tanh and classifier.out_proj): text pairs in,
// logits out. num_labels: config.json's "num_labels", else the size of "id2label", else 2.
// ModelError naming the folder for a head architecture that is not supported (the message lists
// those that are), a missing or misshapen head tensor, or (BERT) a checkpoint without a pooler.
class SequenceClassifier {
 public:
  explicit SequenceClassifier(const std::string& model_dir, const AttentionSpec& attention = {});
  int64_t num_labels() const;
  const std::string& architecture() const;     // e.g. "BertForSequenceClassification"
  int64_t parameter_count() const;             // the encoder's and the head's
  // (N, num_labels) logits of the pairs (a[i], b[i]), encoded as Hugging Face encodes a pair
  // ([CLS] a [SEP] b [SEP], token types 0 then 1), in batches of batch_size sorted by length;
  // max_length 0 = the model's limit; longer pairs are truncated longest-first with one warning
  // line on stderr, as embed does. InputError if a and b differ in length.
  Tensor logits(const std::vector<std::string>& a, const std::vector<std::string>& b, int64_t batch_size = 32,
                int64_t max_length = 0, const ProgressFn& progress = {}) const;
  // (B, num_labels) logits of an already encoded batch (ids, mask, type ids as forward takes them).
  Tensor logits(const Batch& batch) const;
  const Encoder& encoder() const { return *encoder_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  int64_t max_length() const;                  // max_position_embeddings - offset

 private:
  std::shared_ptr<const Checkpoint> checkpoint_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string architecture_;
  Tensor head_w_, head_b_;                     // (num_labels, H), (num_labels), F32
  Tensor dense_w_, dense_b_;                   // RoBERTa's classifier.dense (H, H), (H); empty for BERT
};

}  // namespace slimformer
