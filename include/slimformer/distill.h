// Knowledge distillation: a student (a smaller copy of the teacher, or any model folder) trained to
// mimic the teacher: a sentence-embedding teacher's pooled embeddings on a corpus of sentences, or
// a sequence classifier's logits on text pairs. docs/distill.md has the recipes and measurements.
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
enum class DistillLoss {
  Auto,           // EmbeddingMse for a sentence-embedding teacher, Kd for a classifier
  EmbeddingMse,   // MSE of the pooled embeddings
  Cosine,         // 1 - cosine of the pooled embeddings
  Kd,             // a classifier's logits: KL at a temperature (+ cross-entropy on hard labels);
                  // a 1-label regression head: MSE of its output
};

struct DistillEpoch {
  int64_t epoch = 0;                // 1-based
  double mean_loss = 0, seconds = 0;
  double spearman = -2;             // Spearman on the --eval-stsb file after the epoch (-2: not evaluated)
  double accuracy = -2, f1 = -2;    // on the --eval-mrpc file (-2: not evaluated)
  size_t peak_bytes = 0;            // the counting allocator's peak during the epoch's steps
};

struct DistillOptions {
  std::string teacher_dir, out_dir, data_path;
  std::string student_dir;          // a model folder to train (then student_layers is 0)
  int64_t student_layers = 0;       // else: a student of this many of the teacher's layers
  StudentInit init = StudentInit::EveryOther;
  DistillLoss loss = DistillLoss::Auto;
  // Kd: loss = (1 - a) T^2 KL(teacher_T || student_T) + a CE(student, label), T = temperature,
  // a = hard_label_weight when the data file has labels (else a = 0: KL alone; unlabelled pairs
  // of a labelled file are left out of the CE's mean). T^2 keeps the soft term's gradients the
  // size of the hard one's (Hinton et al.). 0 / -1: the defaults, T = 2 and a = 0.5; set for an
  // embedding teacher, InputError.
  double temperature = 0, hard_label_weight = -1;
  int64_t epochs = 1, batch_size = 32, max_length = 128;
  double lr = 1e-4, weight_decay = 0.01, warmup_fraction = 0.1, max_grad_norm = 1.0;
  uint64_t seed = 42;
  std::string eval_stsb;            // an STS-B file scored after each epoch ("": none)
  std::string eval_mrpc;            // an MRPC file a 2-label classifier student is scored on each epoch
  bool resume = false;              // continue from out_dir's last epoch
  bool checkpoint_activations = false;   // recompute each layer in backward (less memory, same result)
  // The student's dropout probability (BERT's places: embeddings, attention probabilities,
  // sublayer outputs; a classifier head has none), masks keyed by (seed, step): 0 = none.
  double dropout = 0.0;
  MovementPruning movement;              // movement pruning while distilling (amount 0: none)
  bool dense_storage = false;            // a movement-pruned student stored dense (Hugging Face loads it)
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

// Text pairs for distilling a classifier, with their labels where the file has them.
struct DistillPairs {
  std::vector<std::string> first, second;
  std::vector<int64_t> labels;      // -1: none (KL only for that pair)
};
// An MRPC file (its header "Quality ..."): the pairs and their 0/1 labels; an STS Benchmark file
// (7+ fields): its pairs, unlabelled; otherwise lines "first<TAB>second" or
// "first<TAB>second<TAB>label" (a label an integer >= 0). IoError / InputError naming the file and line.
DistillPairs read_distill_pairs(const std::string& path);

// Trains and writes the student to out_dir after every epoch (model folder + the optimizer state
// in training_state.safetensors, replaced atomically), returning one row per epoch run.
std::vector<DistillEpoch> distill(const DistillOptions& options);

}  // namespace slimformer::compress
