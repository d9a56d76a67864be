// Knowledge distillation of sentence-embedding models: a student (a smaller copy of the teacher,
// or any model folder) trained so that its pooled embeddings match the teacher's on a corpus of
// sentences. docs/distill.md has the recipe and its measurements.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slimformer/compress.h"
#include "slimformer/movement.h"

namespace slimformer::compress {

enum class StudentInit {
  EveryOther,   // DistilBERT's: teacher layers 0, 2, 4, ... (as many as the student has)
  First,        // teacher layers 0 .. n-1
  Random,       // the teacher's shapes, weights drawn afresh (normal, std 0.02; LayerNorm 1, 0)
};
enum class DistillLoss { EmbeddingMse, Cosine };

struct DistillEpoch {
  int64_t epoch = 0;                // 1-based
  double mean_loss = 0, seconds = 0;
  double spearman = -2;             // Spearman on the --eval-stsb file after the epoch (-2: not evaluated)
  size_t peak_bytes = 0;            // the counting allocator's peak during the epoch's steps
};

struct DistillOptions {
  std::string teacher_dir, out_dir, data_path;
  std::string student_dir;          // a model folder to train (then student_layers is 0)
  int64_t student_layers = 0;       // else: a student of this many of the teacher's layers
  StudentInit init = StudentInit::EveryOther;
  DistillLoss loss = DistillLoss::EmbeddingMse;
  int64_t epochs = 1, batch_size = 32, max_length = 128;
  double lr = 1e-4, weight_decay = 0.01, warmup_fraction = 0.1, max_grad_norm = 1.0;
  uint64_t seed = 42;
  std::string eval_stsb;            // an STS-B file scored after each epoch ("": none)
  bool resume = false;              // continue from out_dir's last epoch
  bool checkpoint_activations = false;   // recompute each layer in backward (less memory, same result)
  MovementPruning movement;              // movement pruning while distilling (amount 0: none)
  // Called after every optimizer step (stderr progress in the CLI).
  std::function<void(int64_t epoch, int64_t step, int64_t steps_per_epoch, double loss, double sentences_per_s)> progress;
  // Called after each epoch's student is written (and scored).
  std::function<void(const DistillEpoch&)> on_epoch;
};

// The student before training, as a model state: teacher layers kept (EveryOther, First) or the
// teacher's shapes re-initialised with `seed` (Random). InputError for 0 or more layers than the
// teacher has.
ModelState make_student(const ModelState& teacher, int64_t layers, StudentInit init, uint64_t seed);

// Sentences for distillation from a text file: one sentence a line; a line with a tab holds a
// pair (both used); an STS Benchmark file (7+ tab-separated fields) gives its two sentences.
// Empty lines are skipped. IoError / InputError naming the file and line.
std::vector<std::string> read_distill_sentences(const std::string& path);

// Trains and writes the student to out_dir after every epoch (model folder + the optimizer state
// in training_state.safetensors, replaced atomically), returning one row per epoch run.
std::vector<DistillEpoch> distill(const DistillOptions& options);

}  // namespace slimformer::compress
