// Reading and writing model folders: safetensors (mmapped, zero-copy), config.json, and the
// sentence-transformers files that say how to pool and normalize.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/tensor.h"

namespace slimformer {

// One safetensors file, mmapped read-only. Tensors returned by get() point into the mapping
// and keep it alive. The constructor validates the whole header: size limits, JSON, dtypes,
// offsets inside the file and not overlapping, shape x dtype == byte span. A tensor stored
// sparse (docs/formats.md: `<name>.mask`, `<name>.values` and "sparse N,K" in the metadata) is
// listed and returned under `<name>`, decoded to a dense copy by get().
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  size_t file_size() const { return size_; }
  bool contains(const std::string& name) const;
  std::vector<std::string> names() const;                       // sorted
  Tensor get(const std::string& name) const;                     // throws ModelError if absent
  bool is_sparse(const std::string& name) const { return sparse_.count(name) != 0; }
  size_t stored_bytes(const std::string& name) const;            // bytes in the file (sparse: mask + values)
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  static constexpr size_t kMaxHeaderBytes = 100u * 1000u * 1000u;  // 100 MB

 private:
  struct Entry { DType dtype; Shape shape; size_t begin, end; };
  struct SparseEntry { int64_t N, K; };
  Tensor view(const Entry& e) const;
  void read_sparse_entries();
  std::string path_;
  size_t size_ = 0;
  std::shared_ptr<const void> mapping_;   // the whole file; unmapped when the last view dies
  const unsigned char* base_ = nullptr;
  std::map<std::string, Entry> entries_;                 // as the header lists them
  std::map<std::string, SparseEntry> sparse_;            // tensors stored as mask + values
  std::map<std::string, Entry> sparse_parts_;            // their .mask and .values
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (any dtype) to `path` through a temporary file renamed into place, so a crash
// never leaves a half-written file. Data offsets are 64-byte aligned.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Atomic text write (temporary file in the same folder + rename).
void write_file_atomic(const std::string& path, const std::string& contents);
std::string read_text_file(const std::string& path);   // IoError naming the path

// An int8 tensor (codes, I8) carries one f32 scale per row in the tensor named name + this
// suffix: value = code * scale (docs/formats.md).
inline constexpr const char* kInt8ScaleSuffix = ".scale";

enum class Activation { Gelu, GeluTanh, Relu };
// WeightedMean weights token t (1-based) by t; LastToken takes the last token the mask keeps
// (sentence-transformers' pooling_mode_weightedmean_tokens and pooling_mode_lasttoken).
enum class PoolingMode { Mean, Cls, Max, MeanSqrtLen, WeightedMean, LastToken };

// Architecture-neutral description of an encoder, filled from config.json.
struct EncoderConfig {
  std::string model_type;              // bert, roberta, distilbert, xlm-roberta
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;         // 0: the model has no token_type embeddings (DistilBERT)
  int64_t pad_token_id = 0;
  int64_t position_offset = 0;         // RoBERTa: positions start at pad_token_id + 1
  float layer_norm_eps = 1e-12f;
  float word_embedding_scale = 1.0f;   // BigBird's rescale_embeddings: sqrt(hidden_size)
  Activation activation = Activation::Gelu;
  // Attention as the checkpoint was trained with it (see default_attention in attention.h).
  std::vector<int64_t> attention_window;   // Longformer: full window per layer (one value: all)
  std::string attention_type;              // BigBird: "block_sparse" or "original_full"
  int64_t block_size = 0;                  // BigBird
  int64_t num_random_blocks = 0;           // BigBird
  // Hugging Face's pruned_heads: layer -> the heads (original indices, ascending) removed from it;
  // that layer's query/key/value have (heads - removed) x head_dim outputs.
  std::map<int64_t, std::vector<int64_t>> pruned_heads;
  // The FFN width of each layer when structured pruning made them differ (config.json key
  // "intermediate_sizes", slimformer's own); empty: every layer has intermediate_size.
  std::vector<int64_t> intermediate_sizes;
};

// One encoder layer's sizes: heads kept and FFN width.
struct LayerShape {
  int64_t heads = 0;
  int64_t intermediate = 0;
};
LayerShape layer_shape(const EncoderConfig& c, int64_t layer);

// config.json -> EncoderConfig; FormatError for bad JSON / missing keys, ModelError for an
// unsupported model_type (the message lists the supported ones).
EncoderConfig read_encoder_config(const std::string& config_json_path);
// The same from config.json's text; `origin` names it in errors (a path, or what the text was
// built from, such as a built-in configuration with overrides).
EncoderConfig encoder_config_from_json_text(const std::string& text, const std::string& origin);
// config.json's text for `c`: `base` (the text of the config it came from; empty: none) with the
// keys slimformer reads rewritten in the family's spelling, so what else it holds (architectures,
// id2label, ...) survives; reading the result gives `c` back.
std::string encoder_config_json(const EncoderConfig& c, const std::string& base = "");
const std::vector<std::string>& supported_model_types();
// The config.json keys read for `model_type` (its own spelling: DistilBERT's "dim", "n_layers",
// ...), so a caller that edits a config can refuse a key that would be ignored; empty for an
// unsupported type.
std::vector<std::string> encoder_config_keys(const std::string& model_type);

// The activation of a sentence-transformers Dense module (its config.json names the torch class:
// torch.nn.modules.activation.Tanh, torch.nn.modules.linear.Identity, ...).
enum class DenseActivation { Identity, Tanh, Relu, Sigmoid, Gelu /* erf, torch's default */ };

// A sentence_transformers.models.Dense module: y = activation(W x + b) on the pooled vector, W
// (out_features, in_features) and b in `dir`/model.safetensors as linear.weight and linear.bias.
struct DenseModuleConfig {
  std::string dir;                  // the module's folder
  int64_t in_features = 0, out_features = 0;
  bool bias = true;
  DenseActivation activation = DenseActivation::Tanh;   // sentence-transformers' default
};

// What a sentence-transformers folder says about turning token states into one vector.
struct SentenceConfig {
  bool is_sentence_transformers = false;
  PoolingMode pooling = PoolingMode::Mean;   // plain HF folder: mean pooling
  std::vector<DenseModuleConfig> dense;      // after pooling, in modules.json order
  bool normalize = false;                    // a Normalize module in modules.json (after any Dense)
  int64_t max_seq_length = 0;                // 0: not set (use the model's limit)
};
// ModelError naming the file for what is not supported: an unknown pooling mode or Dense
// activation, concatenated poolings, another module type, a Dense before Pooling or after
// Normalize, a Dense whose in_features is not the previous Dense's out_features. The Dense
// weights are read by the SentenceEncoder (load_dense_layer), which knows the pooled width.
SentenceConfig read_sentence_config(const std::string& model_dir);

// A model folder: config, the weights (all *.safetensors files, mmapped) and their names.
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& model_dir);
  // An in-memory checkpoint (built-in configurations with seeded random weights, tests).
  Checkpoint(EncoderConfig config, std::map<std::string, Tensor> tensors);
  // The folder's weights under `config` instead of its config.json (a benchmark's overrides of
  // attention settings); the Encoder still checks every tensor's shape against it.
  Checkpoint(const std::string& model_dir, EncoderConfig config);
  const std::string& dir() const { return dir_; }
  const EncoderConfig& config() const { return config_; }
  bool contains(const std::string& name) const;
  Tensor get(const std::string& name) const;     // ModelError naming the tensor if absent
  std::vector<std::string> names() const;
  // Whether get(name) decodes a copy (a sparse-stored tensor) rather than viewing the file.
  bool is_decoded(const std::string& name) const;
  size_t stored_bytes(const std::string& name) const;   // bytes in the file (in memory: nbytes)
  size_t file_bytes() const;                     // total size of the safetensors files
  // Tensor bytes per stored dtype name ("F32", "F16", ...), largest first (ties by name).
  std::vector<std::pair<std::string, size_t>> bytes_by_dtype() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::string dir_;
  EncoderConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Tensor> in_memory_;
};

}  // namespace slimformer
