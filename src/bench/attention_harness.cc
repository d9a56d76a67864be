// The attention-only harness: one attention layer timed alone on seeded random Q, K, V laid out
// as the encoder lays them out, so a mechanism's cost can be followed to lengths no model allows.
#include <algorithm>
#include <new>

#include "bench/common.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace slimformer::bench {
namespace {

void check_positive(const std::vector<int64_t>& values, const std::string& what) {
  if (values.empty()) throw InputError("the list of " + what + "s is empty, expected at least one value");
  for (int64_t v : values) {
    if (v <= 0) throw InputError(what + " " + std::to_string(v) + " must be a positive integer");
  }
}

// Uniform in [-1, 1) from a counter, so the fill is the same whatever the thread count.
void fill_uniform(float* x, int64_t n, uint64_t seed) {
  const uint64_t base = mix(seed);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(static_cast<double>(mix(base + static_cast<uint64_t>(i)) >> 11) * 0x1.0p-52 - 1.0);
  }
}

// The layer's buffers: the stacked projection (B*T, 3, heads, head_dim) and the output (B*T, H).
struct AttentionBuffers {
  Tensor qkv, out;
  AttentionIO io;

  AttentionBuffers(const AttentionGrid& g, int64_t batch, int64_t seq) {
    const int64_t H = g.heads * g.head_dim, rows = batch * seq;
    qkv = Tensor::empty({rows, 3 * H});
    out = Tensor::empty({rows, H});
    fill_uniform(qkv.data<float>(), qkv.numel(), g.seed ^ mix(static_cast<uint64_t>(batch) << 32 | static_cast<uint64_t>(seq)));
    io.batch = batch;
    io.seq = seq;
    io.heads = g.heads;
    io.head_dim = g.head_dim;
    io.q = qkv.data<float>();
    io.k = io.q + H;
    io.v = io.q + 2 * H;
    io.in_row_stride = 3 * H;
    io.out = out.data<float>();
    io.out_row_stride = H;
  }
};

BenchRecord identity(const Attention& attention, const AttentionGrid& g, int64_t batch, int64_t seq) {
  BenchRecord r;
  r.model = attention_only_label(g);
  r.config = r.model;
  r.attention = attention.describe();
  r.batch = batch;
  r.seq = seq;
  r.threads = num_threads();
  r.runs = g.runs;
  r.warmup = g.warmup;
  return r;
}

}  // namespace

void check_attention_grid(const AttentionGrid& g) {
  check_positive(g.batch_sizes, "batch size");
  check_positive(g.seq_lens, "sequence length");
  if (g.heads <= 0) throw InputError("heads " + std::to_string(g.heads) + " must be a positive integer");
  if (g.head_dim <= 0) throw InputError("head dim " + std::to_string(g.head_dim) + " must be a positive integer");
  if (g.heads > INT64_MAX / 3 / g.head_dim) throw InputError("heads x head dim is too large to index");
  const int64_t width = 3 * g.heads * g.head_dim;
  for (int64_t b : g.batch_sizes) {
    for (int64_t s : g.seq_lens) {
      if (b > INT64_MAX / 4 / s / width) {
        throw InputError("batch size " + std::to_string(b) + " x sequence length " + std::to_string(s) +
                         " is too large to index");
      }
    }
  }
  if (g.runs <= 0) throw InputError("runs " + std::to_string(g.runs) + " must be a positive integer");
  if (g.warmup < 0) throw InputError("warmup " + std::to_string(g.warmup) + " must not be negative");
  if (!(g.time_limit_s >= 0)) throw InputError("the time limit per cell must not be negative");
}

AttentionContext attention_only_context(const AttentionGrid& g) {
  AttentionContext ctx;
  ctx.num_layers = 1;
  ctx.heads = g.heads;
  ctx.head_dim = g.head_dim;
  ctx.max_seq = g.seq_lens.empty() ? 0 : *std::max_element(g.seq_lens.begin(), g.seq_lens.end());
  return ctx;
}

std::string attention_only_label(const AttentionGrid& g) {
  return "attention-only " + std::to_string(g.heads) + "x" + std::to_string(g.head_dim);
}

BenchRecord run_attention_cell(const Attention& attention, const AttentionGrid& g, int64_t batch, int64_t seq) {
  BenchRecord r = identity(attention, g, batch, seq);
  // Memory: buffers and scratch from nothing, through one forward.
  const size_t live_before = live_bytes();
  reset_peak_bytes();
  AttentionBuffers buffers(g, batch, seq);
  AttentionScratch scratch;
  size_t peak = 0;
  const CellTiming t = time_cell(
      [&] {
        attention.forward(buffers.io, scratch);
        peak = peak_bytes();
      },
      [&] { attention.forward(buffers.io, scratch); }, g.runs, g.warmup, g.time_limit_s);
  fill_timing(r, t, peak > live_before ? peak - live_before : 0);
  r.peak_rss_bytes = process_peak_rss_bytes();
  return r;
}

std::vector<BenchRecord> run_attention_grid(const Attention& attention, const AttentionGrid& g,
                                            const std::function<void(const BenchRecord&)>& on_record) {
  check_attention_grid(g);
  CellMaker make;
  make.blank = [&](int64_t b, int64_t s) { return identity(attention, g, b, s); };
  make.run = [&](int64_t b, int64_t s) { return run_attention_cell(attention, g, b, s); };
  return run_cells(g.batch_sizes, g.seq_lens, g.max_activation_bytes, make, on_record);
}

}  // namespace slimformer::bench
