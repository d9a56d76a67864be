// slimformer distill: a smaller model trained to mimic a teacher (its embeddings or its logits).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "slimformer/distill.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

using slimformer::InputError;
namespace compress = slimformer::compress;

struct DistillCliOptions {
  std::string teacher, student, out, data, init = "every-other", loss, eval_stsb, eval_mrpc, threads;
  int64_t student_layers = 0, epochs = 1, batch_size = 32, max_length = 128;
  double lr = 1e-4, temperature = 0, hard_label_weight = -1, dropout = 0;
  uint64_t seed = 42;
  bool resume = false, checkpoint_activations = false;
  std::string prune;   // --prune movement:amount=F
  bool dense = false;
};

int run_distill(const DistillCliOptions& o) {
  apply_threads(o.threads);
  require_model_dir("--teacher", o.teacher);
  if (!o.student.empty()) require_model_dir("--student", o.student);
  // With --resume, --out holds the student by design: it is the output, not an input here.
  refuse_outputs_onto_inputs({{"--teacher", o.teacher, PathArg::Folder},
                              {"--student", o.student, PathArg::Folder},
                              {"--data", o.data, PathArg::File},
                              {"--eval-stsb", o.eval_stsb, PathArg::File},
                              {"--eval-mrpc", o.eval_mrpc, PathArg::File}},
                             {{"--out", o.out, PathArg::ReplacedFolder}});
  compress::DistillOptions d;
  d.teacher_dir = o.teacher;
  d.student_dir = o.student;
  d.out_dir = o.out;
  d.data_path = o.data;
  d.student_layers = o.student_layers;
  if (o.init == "every-other") d.init = compress::StudentInit::EveryOther;
  else if (o.init == "first") d.init = compress::StudentInit::First;
  else if (o.init == "random") d.init = compress::StudentInit::Random;
  else throw InputError("--student-init: '" + o.init + "' is not a choice (expected every-other, first or random)");
  if (o.loss.empty()) d.loss = compress::DistillLoss::Auto;
  else if (o.loss == "embedding-mse") d.loss = compress::DistillLoss::EmbeddingMse;
  else if (o.loss == "cosine") d.loss = compress::DistillLoss::Cosine;
  else if (o.loss == "kd") d.loss = compress::DistillLoss::Kd;
  else throw InputError("--loss: '" + o.loss + "' is not a loss (expected embedding-mse, cosine or kd)");
  if (o.temperature != 0 && !(o.temperature > 0)) throw InputError("--temperature must be a positive number");
  d.temperature = o.temperature;
  d.hard_label_weight = o.hard_label_weight;
  d.epochs = o.epochs;
  d.batch_size = o.batch_size;
  d.max_length = o.max_length;
  d.lr = o.lr;
  d.seed = o.seed;
  d.eval_stsb = o.eval_stsb;
  d.eval_mrpc = o.eval_mrpc;
  d.resume = o.resume;
  d.checkpoint_activations = o.checkpoint_activations;
  d.dropout = o.dropout;
  if (!o.prune.empty()) d.movement = compress::parse_movement_spec(o.prune);   // movement pruning
  d.dense_storage = o.dense;
  const auto start = std::chrono::steady_clock::now();
  d.progress = [&](int64_t epoch, int64_t step, int64_t steps, double loss, double per_s) {
    if (step % 20 != 0 && step != steps) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double done = static_cast<double>((epoch - 1) * steps + step), all = static_cast<double>(o.epochs * steps);
    std::fprintf(stderr, "distill: epoch %lld/%lld step %lld/%lld loss %.6f, %.0f examples/s, %.0f s left\n",
                 static_cast<long long>(epoch), static_cast<long long>(o.epochs), static_cast<long long>(step),
                 static_cast<long long>(steps), loss, per_s, elapsed / done * (all - done));
  };
  d.on_epoch = [](const compress::DistillEpoch& r) {
    char line[256];
    int n = std::snprintf(line, sizeof line, "epoch %lld: mean loss %.6f, %.1f s, peak memory %.1f MiB",
                          static_cast<long long>(r.epoch), r.mean_loss, r.seconds,
                          static_cast<double>(r.peak_bytes) / (1024.0 * 1024.0));
    std::string text(line, static_cast<size_t>(n));
    if (r.spearman > -2) {
      n = std::snprintf(line, sizeof line, ", STS-B Spearman %.4f", r.spearman);
      text.append(line, static_cast<size_t>(n));
    }
    if (r.accuracy > -2) {
      n = std::snprintf(line, sizeof line, ", MRPC accuracy %.4f F1 %.4f", r.accuracy, r.f1);
      text.append(line, static_cast<size_t>(n));
    }
    write_stdout(text + "\n");   // a failed write ends the run at once
    flush_stdout();
  };
  compress::distill(d);
  write_stdout("wrote '" + o.out + "'\n");
  return 0;
}

}  // namespace

Runner add_distill(CLI::App& root) {
  auto o = std::make_shared<DistillCliOptions>();
  CLI::App* cmd = root.add_subcommand("distill", "Train a smaller model to produce a teacher's sentence embeddings or classifier logits");
  cmd->add_option("--teacher", o->teacher, "Teacher model folder (only read)")->type_name("DIR")->required();
  cmd->add_option("--out", o->out, "Student model folder to write (absent or empty; with --resume, the one to continue)")
      ->type_name("DIR")->required();
  cmd->add_option("--data", o->data, "Sentences (one a line, a TSV of pairs, an STS Benchmark file); for a classifier: pairs first<TAB>second[<TAB>label] or an MRPC file")
      ->type_name("FILE")->required();
  cmd->add_option("--student-layers", o->student_layers, "A student of N of the teacher's layers")->type_name("N");
  cmd->add_option("--student", o->student, "Or: a model folder to train as the student (e.g. a pruned one)")->type_name("DIR");
  cmd->add_option("--student-init", o->init, "every-other (default), first or random")->type_name("INIT");
  cmd->add_option("--loss", o->loss, "embedding-mse (an embedding teacher's default), cosine, or kd (a classifier's, the default)")
      ->type_name("LOSS");
  cmd->add_option("--temperature", o->temperature, "kd: the softmax temperature (default 2)")->type_name("T");
  cmd->add_option("--hard-label-weight", o->hard_label_weight,
                  "kd with labelled data: the cross-entropy's share of the loss (default 0.5)")->type_name("A");
  cmd->add_option("--epochs", o->epochs, "Passes over the data (default 1)")->type_name("E");
  cmd->add_option("--batch-size", o->batch_size, "Sentences per step (default 32)")->type_name("B");
  cmd->add_option("--max-length", o->max_length, "Truncate sentences to N tokens (default 128)")->type_name("N");
  cmd->add_option("--lr", o->lr, "Peak learning rate of AdamW (default 1e-4; linear warm-up over 10%, then decay)")
      ->type_name("LR");
  cmd->add_option("--seed", o->seed, "Seed of the shuffles and of a random student (default 42)")->type_name("S");
  cmd->add_option("--eval-stsb", o->eval_stsb, "Score the student on this STS-B file after each epoch")->type_name("FILE");
  cmd->add_option("--eval-mrpc", o->eval_mrpc, "A 2-label classifier: score the student on this MRPC file after each epoch")
      ->type_name("FILE");
  cmd->add_flag("--resume", o->resume, "Continue the run whose last epoch --out holds");
  cmd->add_flag("--checkpoint-activations", o->checkpoint_activations,
                "Keep only each layer's input and recompute the layer in backward: less memory, same result");
  cmd->add_option("--dropout", o->dropout,
                  "The student's dropout probability, where BERT has it (default 0: none; seeded by --seed)")
      ->type_name("P");
  cmd->add_option("--prune", o->prune, "movement:amount=F: movement pruning to sparsity F of every layer's Linear weights")
      ->type_name("SPEC");
  cmd->add_flag("--dense", o->dense, "With --prune: store the zeros densely, a file Hugging Face loads (else sparse, smaller)");
  add_threads_flag(cmd, &o->threads);
  return [o] { return run_distill(*o); };
}

}  // namespace slimcli
