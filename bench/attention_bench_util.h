// What the stand-alone attention benchmarks share: their flag lists, one layer's q/k/v laid out
// as the encoder lays them out, and the clocks. (`slimformer bench --attention-only` is the
// user-facing harness; these programs keep the side-by-side, interleaved measurements the
// attention pages quote.)
#pragma once
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "slimformer/attention.h"

namespace slimbench {

// "a;b;;c" -> {"a", "b", "c"} (empty items dropped).
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Wall clock and the process's CPU time (all threads: on a shared machine it counts the work
// done, not the time spent waiting for a core), in milliseconds.
inline double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
inline double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

// The upper median (the middle sample, or the later of the middle two).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

constexpr double kMiB = 1024.0 * 1024.0;

// One layer's input and output: q/k/v read in place from the fused (B*T, 3, heads, head_dim) rows
// the encoder's projection writes, uniform in [-1, 1) from a fixed LCG (the values only need to
// be ordinary numbers), the output written with heads merged. io.mask is left for the caller.
struct LayerBuffers {
  std::vector<float> qkv, out;
  slimformer::AttentionIO io;

  LayerBuffers(int64_t batch, int64_t n, int64_t heads, int64_t head_dim) {
    const int64_t width = heads * head_dim;
    qkv.resize(static_cast<size_t>(batch * n * 3 * width));
    out.assign(static_cast<size_t>(batch * n * width), 0.0f);
    uint32_t x = 12345;
    for (float& f : qkv) {
      x = x * 1664525u + 1013904223u;
      f = static_cast<float>(x >> 8) / 8388608.0f - 1.0f;
    }
    io.batch = batch, io.seq = n, io.heads = heads, io.head_dim = head_dim;
    io.q = qkv.data(), io.k = qkv.data() + width, io.v = qkv.data() + 2 * width;
    io.in_row_stride = 3 * width;
    io.out = out.data(), io.out_row_stride = width;
  }
  LayerBuffers(const LayerBuffers&) = delete;
  LayerBuffers& operator=(const LayerBuffers&) = delete;

  size_t bytes() const { return (qkv.size() + out.size()) * sizeof(float); }
};

// What make_attention() is told for one layer of `heads` x `head_dim` on sequences of n.
inline slimformer::AttentionContext one_layer(int64_t heads, int64_t head_dim, int64_t n) {
  slimformer::AttentionContext ctx;
  ctx.num_layers = 1;
  ctx.heads = heads;
  ctx.head_dim = head_dim;
  ctx.max_seq = n;
  return ctx;
}

// One mechanism timed side by side with others: each sample is the mean of `calls` forwards, so
// it lasts about --min-ms, and the process's CPU time per forward beside the wall time.
struct InterleavedRunner {
  std::unique_ptr<slimformer::Attention> attention;
  slimformer::AttentionScratch scratch;
  int calls = 1;
  std::vector<double> wall, cpu;   // ms per forward, one sample per round

  // The untimed first forward (scratch grown, pages touched), which also sets `calls`.
  void first_forward(const slimformer::AttentionIO& io, double min_ms) {
    const double t0 = wall_ms();
    attention->forward(io, scratch);
    calls = std::max(1, static_cast<int>(min_ms / std::max(0.01, wall_ms() - t0)));
  }
};

// `rounds` rounds in which every runner takes one sample in turn: interleaved, so a burst of load
// on a shared machine hits every mechanism alike.
template <typename Runner>
void time_interleaved(std::vector<Runner>& runners, const slimformer::AttentionIO& io, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    for (InterleavedRunner& r : runners) {
      const double t0 = wall_ms(), c0 = cpu_ms();
      for (int c = 0; c < r.calls; ++c) r.attention->forward(io, r.scratch);
      r.wall.push_back((wall_ms() - t0) / r.calls);
      r.cpu.push_back((cpu_ms() - c0) / r.calls);
    }
  }
}

}  // namespace slimbench
