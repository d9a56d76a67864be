// AdamW (Loshchilov & Hutter), computed as torch.optim.AdamW does in PyTorch 1.13, so a
// fine-tuning run here follows the same trajectory as the Hugging Face recipe it reproduces:
//   p <- p * (1 - lr * weight_decay)                        decoupled decay, before the Adam step
//   m <- beta1 * m + (1 - beta1) * g
//   v <- beta2 * v + (1 - beta2) * g * g
//   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The state (m, v and the step count t) is a map of named tensors that write_safetensors can
// store, and loading it back continues a run bit for bit.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "slimformer/tensor.h"

namespace slimformer::train {

struct AdamWOptions {
  double lr = 1e-3;            // used by step() without an argument; a schedule passes its own
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // for parameters the no-decay predicate does not pick
};

// Hugging Face's fine-tuning scripts exempt biases and LayerNorm weights from weight decay
// (no_decay = ["bias", "LayerNorm.weight"], matched as substrings); DistilBERT's layer norms are
// spelled "layer_norm". True for names that rule picks.
bool is_bias_or_layer_norm(const std::string& name);

class AdamW {
 public:
  using NamePredicate = std::function<bool(const std::string& name)>;

  // Parameters whose name `no_decay` picks get weight_decay 0 (none when it is empty).
  explicit AdamW(AdamWOptions options = {}, NamePredicate no_decay = {});

  // Registers a parameter and the buffer its gradient is written to: F32 tensors of one shape,
  // kept as handles (they share memory with the caller's), so step() reads the gradient in place
  // and updates the parameter in place. Names must be unique; they key the saved state.
  void add_parameter(const std::string& name, Tensor value, Tensor grad);

  // One update of every registered parameter with the gradients now in their buffers, at
  // learning rate `lr` (the options' lr without an argument).
  void step();
  void step(double lr);

  // Sets every gradient buffer to 0 (before a new accumulation).
  void zero_grad();

  int64_t steps_taken() const { return steps_taken_; }
  const AdamWOptions& options() const { return options_; }
  // The gradient buffers in registration order (for clip_grad_norm).
  std::vector<Tensor> gradients() const;
  // Whether weight decay applies to the parameter called `name` (InputError if not registered).
  bool decays(const std::string& name) const;

  // A copy of the state: "exp_avg.<name>" and "exp_avg_sq.<name>" (F32, the parameter's shape)
  // for every parameter and "step" (I64, shape [1]).
  std::map<std::string, Tensor> state() const;
  // Replaces the state with a copy of `state` (as state() gives it, e.g. read back from a
  // safetensors file). InputError naming the entry if one is missing, unknown, or of another
  // dtype or shape; nothing changes then.
  void load_state(const std::map<std::string, Tensor>& state);

 private:
  struct Parameter {
    std::string name;
    Tensor value, grad;
    Tensor exp_avg, exp_avg_sq;   // m and v, zero before the first step
    bool decay = true;
  };
  AdamWOptions options_;
  NamePredicate no_decay_;
  std::vector<Parameter> params_;
  std::map<std::string, size_t> index_of_;   // name -> position in params_
  int64_t steps_taken_ = 0;
};

}  // namespace slimformer::train
