// The distillation loop: the teacher's targets once (compress/distill_task.h), then epochs of
// seeded shuffled batches through the student (TrainableEncoder), AdamW with linear warm-up/decay
// and gradient clipping, and the student written after every epoch.
#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include "compress/distill_task.h"
#include "compress/movement.h"
#include "io/signal_cleanup.h"
#include "slimformer/distill.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "train/clip.h"
#include "train/optimizer.h"
#include "train/schedule.h"
#include "train/trainable_encoder.h"

namespace slimformer::compress {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStateFile = "training_state.safetensors";

// The order of the sentences in `epoch` (1-based): a shuffle seeded by (seed, epoch), so a resumed
// run sees what an uninterrupted one would.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// Writes the student (and its optimizer state) as out_dir, replacing the previous epoch's folder
// only once the new one is complete.
void write_student(const ModelState& m, const std::string& source_dir, const std::string& out_dir,
                   const std::map<std::string, Tensor>& training_state, const std::map<std::string, std::string>& meta,
                   Storage storage) {
  const fs::path out = fs::absolute(out_dir);
  const fs::path fresh = out.parent_path() / (".slimformer-epoch-" + out.filename().string());
  std::error_code ec;
  fs::remove_all(fresh, ec);
  io::CleanupGuard fresh_guard(fresh.string(), io::CleanupKind::Folder);   // gone if a signal ends the run
  save_model(m, source_dir, fresh.string(), meta, storage);
  try {
    write_safetensors((fresh / kStateFile).string(), training_state);
  } catch (...) {   // a full disk: leave no half-built student beside the last complete one
    fs::remove_all(fresh, ec);
    throw;
  }
  if (!fs::exists(out, ec)) {
    fs::rename(fresh, out, ec);
  } else {
    const fs::path old = out.parent_path() / (".slimformer-previous-" + out.filename().string());
    fs::remove_all(old, ec);
    fs::rename(out, old, ec);
    if (!ec) fs::rename(fresh, out, ec);
    if (!ec) fs::remove_all(old, ec);
  }
  if (ec) throw IoError("cannot move the new student into '" + out.string() + "': " + ec.message());
}

}  // namespace

std::vector<DistillEpoch> distill(const DistillOptions& o) {
  if (o.epochs < 1 || o.batch_size < 1) throw InputError("--epochs and --batch-size must be at least 1");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw InputError("--lr must be a positive number");
  if (!(o.dropout >= 0 && o.dropout < 1)) throw InputError("--dropout must be in [0, 1)");
  if (o.dense_storage && o.movement.amount == 0) {
    throw InputError("--dense applies to --prune movement (other students are stored dense already)");
  }
  if (o.student_dir.empty() == (o.student_layers == 0)) {
    throw InputError("distill: give either --student-layers N or --student DIR");
  }
  // The inputs are only read: --out may be neither of them nor inside them (also on --resume,
  // where --out exists by design).
  if (o.out_dir.empty()) throw InputError("an output folder is required");
  for (const std::string& input : {o.teacher_dir, o.student_dir}) check_not_inside(input, o.out_dir);
  if (!o.resume) check_output_folder(o.teacher_dir, o.out_dir);
  if (o.resume && !fs::exists(fs::path(o.out_dir) / kStateFile)) {
    throw InputError("--resume: '" + o.out_dir + "' holds no " + kStateFile + " (no earlier epoch to continue)");
  }
  const std::unique_ptr<DistillTask> task = make_distill_task(o);

  const std::string source_dir = o.resume ? o.out_dir : o.student_dir.empty() ? o.teacher_dir : o.student_dir;
  ModelState student = o.resume || !o.student_dir.empty()
                           ? state_of(Checkpoint(source_dir))
                           : make_student(state_of(Checkpoint(o.teacher_dir)), o.student_layers, o.init, o.seed);
  const std::shared_ptr<const Checkpoint> student_ckpt = checkpoint_of(student);
  task->attach_student(*student_ckpt, o.resume ? o.out_dir : o.student_dir);
  train::TrainableEncoder model(*student_ckpt);
  model.set_checkpoint_activations(o.checkpoint_activations);
  model.set_dropout({o.dropout, o.dropout, o.seed});

  train::AdamWOptions ao;
  ao.lr = o.lr;
  ao.weight_decay = o.weight_decay;
  train::AdamW opt(ao, train::is_bias_or_layer_norm);
  for (train::Parameter& p : model.parameters()) opt.add_parameter(p.name, p.value, p.grad);
  for (train::Parameter& p : task->extra_parameters()) opt.add_parameter(p.name, p.value, p.grad);
  const int64_t n = task->size();
  const int64_t steps_per_epoch = (n + o.batch_size - 1) / o.batch_size, total = steps_per_epoch * o.epochs;
  const train::LinearWarmupSchedule schedule(o.lr, static_cast<int64_t>(o.warmup_fraction * static_cast<double>(total)), total);
  // Movement pruning (--prune movement:...; null without it): scores, masks, straight-through.
  const std::unique_ptr<MovementPruner> pruner = movement_pruner_for(o.movement, student, model.parameters(), total);
  int64_t first_epoch = 1;
  if (o.resume) {
    const SafetensorsFile f((fs::path(o.out_dir) / kStateFile).string());
    std::map<std::string, Tensor> state;
    for (const std::string& name : f.names()) state[name] = f.get(name);
    take_movement_state(pruner.get(), state);   // movement pruning: its scores and dense weights
    opt.load_state(state);
    first_epoch = opt.steps_taken() / steps_per_epoch + 1;
  }

  std::vector<DistillEpoch> rows;
  for (int64_t epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int64_t> order = epoch_order(n, o.seed, epoch);
    double loss_sum = 0;
    reset_peak_bytes();
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      const int64_t begin = s * o.batch_size, end = std::min(n, begin + o.batch_size);
      const Batch batch = task->batch(order, begin, end);
      opt.zero_grad();
      if (pruner) pruner->before_forward(opt.steps_taken());   // movement pruning: W ⊙ M in the student
      const Tensor pooled = model.forward(batch, task->pooling(), static_cast<uint64_t>(opt.steps_taken()));
      Tensor d = Tensor::empty(pooled.shape());
      const float loss = task->loss(pooled, order, begin, end, d);
      model.backward(d);
      if (pruner) pruner->after_backward();   // movement pruning: W back; dL/dW ⊙ M, and dL/dS
      const float norm = train::clip_grad_norm(opt.gradients(), o.max_grad_norm);
      if (std::isfinite(norm)) {
        if (pruner) pruner->score_step(schedule.lr(opt.steps_taken()));   // movement pruning: the scores' step
        opt.step(schedule.lr(opt.steps_taken()));
      }
      loss_sum += loss;
      if (o.progress) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        o.progress(epoch, s + 1, steps_per_epoch, loss, static_cast<double>(end) / std::max(secs, 1e-9));
      }
    }
    DistillEpoch row;
    row.peak_bytes = peak_bytes();
    row.epoch = epoch;
    row.mean_loss = loss_sum / static_cast<double>(steps_per_epoch);
    for (train::Parameter& p : model.parameters()) student.tensors[p.name] = p.value;
    for (train::Parameter& p : task->extra_parameters()) student.tensors[p.name] = p.value;
    std::map<std::string, Tensor> training_state = opt.state();
    if (pruner) {   // movement pruning: W ⊙ M is saved (sparse storage), the scores and dense W beside
      pruner->write_masked(student.tensors, opt.steps_taken());
      training_state.merge(pruner->state());
    }
    write_student(student, source_dir, o.out_dir, training_state,
                  {{"slimformer.distilled_from", fs::path(o.teacher_dir).filename().string()},
                   {"slimformer.epoch", std::to_string(epoch)}},
                  pruner && !o.dense_storage ? Storage::Sparse : Storage::Dense);
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    task->score(o.out_dir, row);
    rows.push_back(row);
    if (o.on_epoch) o.on_epoch(row);
  }
  return rows;
}

}  // namespace slimformer::compress
