// Making a trained model smaller: structured pruning (heads, FFN neurons) on a model's state,
// which then saves as a model folder slimformer (and, where it can, Hugging Face) loads.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/eval.h"
#include "slimformer/tensor.h"

namespace slimformer::compress {

// A model's whole state while it is compressed: its config and every tensor by name.
struct ModelState {
  EncoderConfig config;
  std::map<std::string, Tensor> tensors;
};

// Every tensor of `ckpt` (views of its files: nothing is copied until changed).
ModelState state_of(const Checkpoint& ckpt);
// An in-memory checkpoint of `m` (an Encoder loads it like a folder).
std::shared_ptr<const Checkpoint> checkpoint_of(const ModelState& m);

// Hugging Face's prune_heads: removes heads (original indices, as config.pruned_heads counts
// them) from each layer: their rows of query, key and value and their columns of the attention
// output. Heads already removed are skipped; config.pruned_heads records the union. InputError
// for a layer or head out of range, or a request that leaves a layer without heads.
void remove_heads(ModelState& m, const std::map<int64_t, std::vector<int64_t>>& heads);

// Removes FFN neurons (the layer's current indices): their rows of the FFN input Linear and
// columns of its output Linear, so the layer's width (config.intermediate_sizes) shrinks. What a
// removed neuron adds for a zero input, act(bias_j) * W_out[:, j], is folded into the output
// bias, so removing a neuron whose input weights are all zero changes nothing (and one with small
// weights, little). InputError for a layer or neuron out of range.
void remove_ffn_neurons(ModelState& m, const std::map<int64_t, std::vector<int64_t>>& neurons);

// What structured pruning removes when asked for an amount rather than a list:
// each layer's FFN neurons with the smallest L1 (norm 1) or L2 (norm 2) norm of their input
// weights, round(amount * width) of them (torch.nn.utils.prune.ln_structured on dim 0, ties as
// torch.topk breaks them), as remove_ffn_neurons takes them.
std::map<int64_t, std::vector<int64_t>> ffn_neurons_by_norm(ModelState& m, double amount, int norm = 2);
// Each layer's heads (the ones still there, in order) scored by the L2 norm of their weights:
// their rows of query, key and value and their columns of the attention output.
std::map<int64_t, std::vector<double>> head_importance(ModelState& m);
// The round(amount * heads) least important heads over all layers (original indices, as
// remove_heads takes them), skipping any that would leave a layer without heads. Scored by
// head_importance (weight norms), or by `scores` (per layer, the heads still there, in order, as
// head_importance and head_importance_by_gradient give them; InputError if their shape differs).
std::map<int64_t, std::vector<int64_t>> heads_by_importance(ModelState& m, double amount);
std::map<int64_t, std::vector<int64_t>> heads_by_importance(const ModelState& m,
                                                            const std::map<int64_t, std::vector<double>>& scores,
                                                            double amount);

// Gradient head importance (Michel, Levy, Neubig 2019, "Are Sixteen Heads Really Better than
// One?"): a gate xi_h multiplies each head's attention context; head h's importance is the sum
// over batches of |d loss / d xi_h| at xi = 1, each layer's scores then divided by their L2 norm
// (as the paper's code does: layers whose gradients are larger do not take all the ranks).
// The loss is sentence-transformers' CosineSimilarityLoss on the pairs: mean over a batch of
// (cos(u, v) - score / 5)^2, u and v the pooled embeddings (the folder's pooling, mean or cls).
struct HeadGradientOptions {
  int64_t max_pairs = 2000;    // the first max_pairs pairs are used (the cost is linear in them)
  int64_t batch_size = 32;     // pairs per batch (a batch encodes 2 x batch_size sentences)
  int64_t max_length = 0;      // tokens per sentence; 0 = the model's limit
  bool normalize_layers = true;
};
struct HeadImportance {
  std::map<int64_t, std::vector<double>> scores;   // per layer, the heads still there, in order
  int64_t pairs = 0;                               // the pairs used
};
// InputError for a folder with a classification head (gradient importance scores sentence
// embeddings), a pooling other than mean or cls, no pairs, a quantized model, or bad options.
HeadImportance head_importance_by_gradient(const std::string& model_dir, const std::vector<StsPair>& pairs,
                                           const HeadGradientOptions& options = {});

// Keeps only the listed encoder layers (in order), renumbered from 0; their pruned heads, FFN
// widths and attention windows go with them. InputError for a layer out of range, listed twice,
// or an empty list.
void keep_layers(ModelState& m, const std::vector<int64_t>& keep);

// InputError unless `out_dir` can receive a model: not the source folder, not inside it nor
// containing it, absent or an empty folder, in an existing parent folder.
void check_output_folder(const std::string& source_dir, const std::string& out_dir);
// Only the first of those: InputError when out_dir is source_dir, inside it or contains it.
void check_not_inside(const std::string& source_dir, const std::string& out_dir);
struct SavedModel {
  std::string dir;
  size_t weights_bytes = 0;   // model.safetensors on disk
};
// How save_model stores tensors full of zeros (unstructured pruning's).
enum class Storage {
  Dense,    // as they are: Hugging Face loads the file
  Sparse,   // 2-D tensors at least kSparseStorageMinZeros zero as a bitmask and their nonzeros
};
// From a quarter of zeros the sparse form saves a fifth of an f32 tensor's bytes and more
// (bytes: 1/32 for the mask + the nonzeros), enough to be worth a format Hugging Face cannot read.
constexpr double kSparseStorageMinZeros = 0.25;

// Writes m as a model folder at out_dir: model.safetensors (with `metadata`), config.json (the
// source's, keys slimformer reads rewritten) and every other file of source_dir (tokenizer,
// sentence-transformers modules) except its weight files. Built in a temporary folder beside
// out_dir and renamed into place: out_dir is absent or complete. source_dir may be "".
SavedModel save_model(const ModelState& m, const std::string& source_dir, const std::string& out_dir,
                      const std::map<std::string, std::string>& metadata = {}, Storage storage = Storage::Sparse);

// Quantization of the stored weights.
enum class WeightDType { Int8, F16, BF16 };
enum class EmbeddingDType {
  Same,   // int8 models keep their embeddings; fp16/bf16 ones convert them with the rest
  Keep, Int8, F16, BF16
};
struct Quantization {
  WeightDType dtype = WeightDType::Int8;
  EmbeddingDType embeddings = EmbeddingDType::Same;
  std::vector<std::string> skip;   // tensors left as they are
};
struct QuantizeSummary {
  std::vector<std::string> changed;   // tensors converted
  std::vector<std::string> skipped;
};
// Int8: every Linear weight (and the embeddings when asked) becomes int8 codes per output row,
// symmetric, with f32 scales in "<name>.scale" (kInt8ScaleSuffix); biases and LayerNorm stay f32.
// F16/BF16: every floating tensor is stored at that precision (the embeddings as chosen).
// InputError for an already quantized model, a --skip name that is not a tensor, a non-finite
// weight.
QuantizeSummary quantize(ModelState& m, const Quantization& options);

// The dense f32 model m computes, in the shapes Hugging Face loads: int8 dequantized (scales
// dropped), fp16/bf16 widened, pruned heads and narrowed FFN layers padded back with zeros (which
// add nothing: the outputs stay the same). config loses pruned_heads and intermediate_sizes.
void to_dense_f32(ModelState& m);

// Unstructured L1 pruning (torch.nn.utils.prune's L1Unstructured / global_unstructured).
enum class PruneScope {
  Linear,       // the weights of every Linear (encoder layers and pooler): LayerNorm, biases and
                // embeddings are spared
  EveryWeight,  // every tensor with "weight" in its name, LayerNorm and embeddings included
};
struct UnstructuredPruning {
  double amount = 0.0;       // the fraction of the scope's weights set to zero, in [0, 1)
  bool global = false;       // one ranking over the whole scope (else each tensor on its own)
  PruneScope scope = PruneScope::Linear;
  int64_t steps = 1;         // prune in this many equal steps (each ranks the weights left)
};
struct PruneSummary {
  std::vector<std::string> tensors;   // the tensors in scope
  int64_t weights = 0;                // their elements
  int64_t zeros = 0;                  // of which zero afterwards
};
// The tensors a scope covers, in ranking order.
std::vector<std::string> prune_scope_tensors(const ModelState& m, PruneScope scope);
// Sets the smallest |w| to zero, choosing exactly the elements PyTorch chooses (ties included).
// InputError for an amount outside [0, 1), steps < 1, a non-finite weight or an int8 model.
PruneSummary prune_l1_unstructured(ModelState& m, const UnstructuredPruning& options);

}  // namespace slimformer::compress
