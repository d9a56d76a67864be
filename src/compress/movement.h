// Movement pruning's machinery around a training step, kept out of the encoder: the pruned
// matrices' scores, their top-v masks, the masked forward and the straight-through backward.
//   before_forward(t): M = TopK(S) keeping round((1 - s_t) n) per matrix; the parameter's value
//                      becomes W ⊙ M, the dense master W kept aside.
//   after_backward():  value <- W; dL/dS = dL/dW' ⊙ W; the parameter's grad <- dL/dW' ⊙ M.
//   score_step(lr):    S by its own AdamW (no weight decay; see docs/distill.md for the rate).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/compress.h"
#include "slimformer/movement.h"
#include "train/optimizer.h"
#include "train/trainable_encoder.h"

namespace slimformer::compress {

// The matrices movement pruning scores: every encoder layer's query, key, value, attention output,
// FFN in and FFN out weights (not embeddings, LayerNorm, biases or the pooler), layer by layer.
std::vector<std::string> movement_targets(const ModelState& m);

// mask[i] = 1 for the `keep` highest scores of n, else 0; ties go to the lower index, so the
// mask is a function of the scores alone. 0 <= keep <= n.
void top_v_mask(float* mask, const float* scores, int64_t n, int64_t keep);

class MovementPruner {
 public:
  // Scores (0) for each parameter of `params` named in `names` (InputError for a name that is
  // not there), on a schedule over `total_steps` optimizer steps. The parameters are held as
  // handles: the hooks write their values and gradients in place.
  MovementPruner(const MovementPruning& options, const std::vector<std::string>& names,
                 std::vector<train::Parameter>& params, int64_t total_steps);

  void before_forward(int64_t step);   // step: optimizer steps already taken
  void after_backward();
  void score_step(double lr);

  // Replaces each pruned tensor of `tensors` with a copy of W ⊙ TopK(S) at the sparsity of
  // `step` (the final one from the last step on): what a saved student holds.
  void write_masked(std::map<std::string, Tensor>& tensors, int64_t step) const;

  // "movement.scores.<name>", "movement.weights.<name>" (the dense master: masked weights keep
  // moving by momentum and decay, and may come back), the score optimizer's moments and step
  // ("movement.exp_avg.<name>", ...). load_state puts them back (the masters into the
  // parameters): InputError naming an entry that is missing or of another shape.
  std::map<std::string, Tensor> state() const;
  void load_state(const std::map<std::string, Tensor>& state);

  size_t size() const { return items_.size(); }
  const Tensor& scores(const std::string& name) const { return item(name).scores; }
  const Tensor& score_grad(const std::string& name) const { return item(name).score_grad; }
  const Tensor& mask(const std::string& name) const { return item(name).mask; }

 private:
  struct Item {
    train::Parameter* param;
    Tensor master, scores, score_grad, mask;
  };
  const Item& item(const std::string& name) const;
  double sparsity(int64_t step) const;   // s_t, the final one from the last step on

  MovementPruning options_;
  int64_t total_steps_;
  std::vector<Item> items_;
  std::unique_ptr<train::AdamW> score_opt_;
};

// The hooks distill() calls, null-safe so its loop stays one line per hook. A pruner for the
// student's movement_targets, or null when options.amount is 0.
std::unique_ptr<MovementPruner> movement_pruner_for(const MovementPruning& options, const ModelState& student,
                                                    std::vector<train::Parameter>& params, int64_t total_steps);
// Moves the "movement." entries out of `state` (a training_state read back) into `pruner`;
// InputError when the run was started with movement pruning and is resumed without, or the
// other way round.
void take_movement_state(MovementPruner* pruner, std::map<std::string, Tensor>& state);

}  // namespace slimformer::compress
