// One distillation training step of slimformer (TrainableEncoder forward, MSE on the mean-pooled
// embeddings, backward, AdamW step) timed on the anchors' fixed inputs, beside the same step in
// PyTorch (bench/train_step_torch.py; bench/train_vs_pytorch.sh runs both). Usage:
//   slim_train_bench MODEL_DIR BATCH SEQ [--threads N] [--runs N] [--checkpoint-activations]
// Prints the median and min step time in ms, the counted peak memory of a step (activations and
// gradients; weights, gradients and AdamW's moments held beside it) and the process's peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"
#include "train/losses.h"
#include "train/optimizer.h"
#include "train/trainable_encoder.h"

namespace {

using Clock = std::chrono::steady_clock;

// The anchors' inputs: id[b,s] = 1000 + (b*7919 + s*104729 + 17) % 28000, no padding.
slimformer::Batch inputs(int64_t batch, int64_t seq) {
  slimformer::Batch b;
  b.batch = batch;
  b.seq = seq;
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t s = 0; s < seq; ++s) {
      b.ids.push_back(1000 + (i * 7919 + s * 104729 + 17) % 28000);
      b.mask.push_back(1);
      b.type_ids.push_back(0);
    }
  return b;
}

int run(int argc, char** argv) {
  if (argc < 4) throw slimformer::InputError("usage: slim_train_bench MODEL_DIR BATCH SEQ [--threads N] [--runs N] [--checkpoint-activations]");
  const std::string dir = argv[1];
  const int64_t batch = std::stoll(argv[2]), seq = std::stoll(argv[3]);
  int threads = 2, runs = 10;
  bool checkpoint = false;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::stoi(argv[++i]);
    else if (a == "--checkpoint-activations") checkpoint = true;
    else throw slimformer::InputError("unknown argument '" + a + "'");
  }
  slimformer::set_num_threads(threads);
  slimformer::train::TrainableEncoder model{slimformer::Checkpoint(dir)};
  model.set_checkpoint_activations(checkpoint);
  slimformer::train::AdamW opt({}, slimformer::train::is_bias_or_layer_norm);
  for (auto& p : model.parameters()) opt.add_parameter(p.name, p.value, p.grad);
  const slimformer::Batch b = inputs(batch, seq);
  std::vector<double> ms;
  size_t step_peak = 0;
  for (int r = -2; r < runs; ++r) {   // two warm-up steps
    const size_t before = slimformer::live_bytes();
    slimformer::reset_peak_bytes();
    const auto t0 = Clock::now();
    opt.zero_grad();
    const slimformer::Tensor pooled = model.forward(b, slimformer::PoolingMode::Mean);
    slimformer::Tensor d = slimformer::Tensor::empty(pooled.shape());
    const slimformer::Tensor target = slimformer::Tensor::zeros(pooled.shape());
    slimformer::train::mse_loss(d.data<float>(), pooled.data<float>(), target.data<float>(), pooled.numel());
    model.backward(d);
    opt.step(1e-5);
    if (r >= 0) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    step_peak = std::max(step_peak, slimformer::peak_bytes() - before);
  }
  std::sort(ms.begin(), ms.end());
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("slimformer train step b=%lld s=%lld threads=%d%s: median %.1f ms, min %.1f ms, step peak %.1f MiB, "
              "held %.1f MiB, peak RSS %.0f MiB\n",
              static_cast<long long>(batch), static_cast<long long>(seq), threads, checkpoint ? " checkpointed" : "",
              ms[ms.size() / 2], ms.front(), static_cast<double>(step_peak) / 1048576.0,
              static_cast<double>(slimformer::live_bytes()) / 1048576.0, static_cast<double>(u.ru_maxrss) / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slim_train_bench: %s\n", e.what());
    return 2;
  }
}
