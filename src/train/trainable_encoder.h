// An encoder that can learn: the same forward as model::Encoder (post-LN BERT layers, full
// attention, any per-layer shape a pruned checkpoint has) computed in f32 on parameters it owns,
// keeping what the backward needs, and a backward that fills one gradient per parameter. Built for
// distillation (a student is small), so it favours clarity over the inference engine's packing.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/tensor.h"

namespace slimformer::train {

struct LayerActivations;   // what one layer's backward reads (trainable_encoder.cc)

// One learnable tensor (Hugging Face's name) and its gradient, same shape, f32.
struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;
};

class TrainableEncoder {
 public:
  // Every tensor the encoder reads, copied as f32 (F16/BF16 widened, sparse-stored decoded).
  // ModelError for an int8 checkpoint (export it to f32 first) or an attention other than full.
  explicit TrainableEncoder(const Checkpoint& ckpt);

  // Mean-pooled (sentence-transformers: over the mask) or [CLS] sentence vectors (B, H) of the
  // batch; keeps the activations of this call for backward(). `step` keys the dropout masks
  // (set_dropout): the optimizer step, so that a resumed run draws what an uninterrupted one did.
  Tensor forward(const Batch& batch, PoolingMode pooling, uint64_t step = 0);
  // Adds d loss / d parameter to every grad, from dpooled (B, H) = d loss / d forward()'s result.
  // Uses the activations of the last forward (InputError if there was none).
  void backward(const Tensor& dpooled);

  // Gradient checkpointing: forward() keeps only each layer's input and backward() runs the layer
  // again before going back through it. The same gradients, bit for bit, for about a third more
  // compute and a fraction of the activation memory (docs/distill.md).
  void set_checkpoint_activations(bool on) { checkpoint_activations_ = on; }
  // Frees the last forward's activations (a caller done with a shape, e.g. a benchmark's cell).
  void release_activations() { tape_.reset(); }

  // Dropout where BERT has it in training: on the embeddings' output, the attention
  // probabilities, and each sublayer's output before its residual sum (hidden_dropout_prob,
  // attention_probs_dropout_prob). Masks depend on (seed, step, site, element) only
  // (train/dropout.h): the same for any thread count and when a checkpointed layer is recomputed.
  // Off (0) unless set. InputError for a probability outside [0, 1).
  struct Dropout {
    double hidden = 0.0, attention = 0.0;
    uint64_t seed = 0;
  };
  void set_dropout(const Dropout& dropout);

  void zero_grad();
  std::vector<Parameter>& parameters() { return params_; }
  const Parameter& parameter(const std::string& name) const;
  // The parameters as a tensor map (the checkpoint's names), for saving.
  std::map<std::string, Tensor> state() const;
  const EncoderConfig& config() const { return config_; }

  // One layer: the positions of its parameters in parameters(), and its shape.
  struct Layer {
    size_t q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_g, ln1_b, i_w, i_b, out_w, out_b, ln2_g, ln2_b;
    int64_t heads = 0, intermediate = 0;
  };
  struct Tape;    // the last forward's activations (trainable_encoder.cc)

 private:
  EncoderConfig config_;
  std::vector<Parameter> params_;
  std::map<std::string, size_t> index_;
  std::vector<Layer> layers_;
  size_t word_ = 0, position_ = 0, token_type_ = 0, emb_ln_g_ = 0, emb_ln_b_ = 0;
  bool has_token_type_ = false;
  std::shared_ptr<Tape> tape_;
  bool checkpoint_activations_ = false;
  Dropout dropout_;

  // Layer `index` (its dropout sites) over x, with the dropout masks of `step`.
  LayerActivations layer_forward(size_t index, const Tensor& x, const Batch& batch, uint64_t step);

  size_t add(const std::string& name, const Checkpoint& ckpt);
  float* value(size_t i) { return params_[i].value.data<float>(); }
  float* grad(size_t i) { return params_[i].grad.data<float>(); }
};

}  // namespace slimformer::train
