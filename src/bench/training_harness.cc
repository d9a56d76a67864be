// The training harness: the grid of the inference harness, each cell timing whole training steps
// (forward, loss, backward, AdamW update) on the trainable encoder, as a distillation run does.
#include <malloc.h>

#include <algorithm>
#include <new>

#include "bench/cell_timing.h"
#include "bench/common.h"
#include "slimformer/attention.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"
#include "train/losses.h"
#include "train/optimizer.h"
#include "train/trainable_encoder.h"

namespace slimformer::bench {
namespace {

// The learning rate of bench/train_step_bench.cc: small, so that the seeded weights stay sane over
// many steps (the value does not change the work a step does).
constexpr double kLearningRate = 1e-5;

// One model's trainable copy and its optimizer, kept for the whole grid: AdamW's moments live as
// long as training does, so they are counted in what is live before a step, not in its peak.
struct Trainer {
  train::TrainableEncoder model;
  train::AdamW opt{{}, train::is_bias_or_layer_norm};

  explicit Trainer(const Checkpoint& ckpt) : model(ckpt) {
    for (auto& p : model.parameters()) opt.add_parameter(p.name, p.value, p.grad);
  }

  // One training step; the counting allocator's peak above what was live before it.
  size_t step(const Batch& batch) {
    const size_t before = live_bytes();
    reset_peak_bytes();
    opt.zero_grad();
    const Tensor pooled = model.forward(batch, PoolingMode::Mean);
    Tensor d = Tensor::empty(pooled.shape());
    const Tensor target = Tensor::zeros(pooled.shape());
    train::mse_loss(d.data<float>(), pooled.data<float>(), target.data<float>(), pooled.numel());
    model.backward(d);
    opt.step(kLearningRate);
    const size_t peak = peak_bytes();
    return peak > before ? peak - before : 0;
  }

  size_t parameter_bytes() {
    size_t bytes = 0;
    for (const auto& p : model.parameters()) bytes += p.value.nbytes();
    return bytes;
  }
};

std::string mode_of(const BenchGrid& grid) { return grid.checkpoint_activations ? "training-checkpointed" : "training"; }

}  // namespace

std::string training_refusal(const BenchModel& model) {
  const EncoderConfig& c = model.config;
  // The trainable encoder computes full attention itself; other mechanisms have no backward.
  if (!c.attention_window.empty()) return "a Longformer (sliding-window attention) does not train: training runs full attention only";
  if (!c.attention_type.empty() && c.attention_type != "original_full") {
    return "attention_type '" + c.attention_type + "' does not train: training runs full attention only "
           "(attention_type=original_full does)";
  }
  // A mechanism asked for must be full; a model's own may be exact too (dense models default to
  // it: full attention computed in tiles, the same function the trainable encoder computes whole).
  if (!model.spec.attention.empty() && model.attention.str() != "full") {
    return "attention '" + model.attention.str() + "' does not train: training runs full attention only (attention=full)";
  }
  const AttentionSpec spec = model.attention.empty() ? default_attention(c) : model.attention;
  const bool dense = spec.parts.size() == 1 && (spec.parts[0].name == "full" || spec.parts[0].name == "exact");
  if (!dense) return "its attention '" + spec.str() + "' does not train: training runs full attention only";
  if (!model.builtin) {
    // Mapping the folder reads only its headers; an int8 tensor cannot hold a gradient step.
    const auto ckpt = load_checkpoint(model);
    for (const auto& [dtype, bytes] : ckpt->bytes_by_dtype()) {
      if (dtype == "I8") return "int8 weights do not train (slimformer export --dtype f32 first)";
    }
  }
  return "";
}

std::vector<BenchRecord> run_training_grid(std::shared_ptr<const Checkpoint> ckpt, const std::string& model,
                                           const BenchGrid& grid, const std::function<void(const BenchRecord&)>& on_record) {
  const EncoderConfig config = ckpt->config();
  check_grid_values(grid, config);
  Trainer trainer(*ckpt);
  // The trainer holds its own f32 copy: let the checkpoint (a built-in's drawn weights) go, and
  // its pages back to the system, so they count in no cell's peak RSS.
  ckpt.reset();
  malloc_trim(0);
  trainer.model.set_checkpoint_activations(grid.checkpoint_activations);
  const size_t weights = trainer.parameter_bytes();

  CellMaker make;
  make.blank = [&](int64_t b, int64_t s) {
    BenchRecord r;
    r.model = r.config = model;
    r.attention = "full";
    r.mode = mode_of(grid);
    r.batch = b;
    r.seq = s;
    r.threads = num_threads();
    r.runs = grid.runs;
    r.warmup = grid.warmup;
    r.weights_bytes = weights;
    return r;
  };
  make.run = [&](int64_t b, int64_t s) {
    BenchRecord r = make.blank(b, s);
    const Batch input = random_batch(config, b, s, grid.seed);
    size_t peak = 0;
    const auto timed_step = [&] { peak = std::max(peak, trainer.step(input)); };
    try {
      const CellTiming t = time_cell(timed_step, timed_step, grid.runs, grid.warmup, grid.time_limit_s, "training step");
      fill_timing(r, t, peak);
    } catch (const std::bad_alloc&) {
      trainer.model.release_activations();   // what the failed step had kept
      throw;
    }
    // The last step's activations are kept for a backward that will not come; the next cell
    // (another shape) must not count them.
    trainer.model.release_activations();
    return r;
  };
  const int64_t longest = length_limit(config);
  make.refuse = [&](int64_t, int64_t s) {
    return s > longest ? "longer than the model's limit of " + std::to_string(longest) + " tokens" : std::string();
  };
  return run_cells(grid.batch_sizes, grid.seq_lens, grid.max_activation_bytes, make, on_record);
}

}  // namespace slimformer::bench
