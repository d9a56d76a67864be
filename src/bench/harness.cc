// The harness: seeded inputs, warmup, timed forwards, and the allocator's exact peak around them.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <new>

#include "bench/cell_timing.h"
#include "bench/common.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace slimformer::bench {
namespace {

void check_positive_list(const std::vector<int64_t>& values, const std::string& what) {
  if (values.empty()) throw InputError("the list of " + what + "s is empty, expected at least one value");
  for (int64_t v : values) {
    if (v <= 0) throw InputError(what + " " + std::to_string(v) + " must be a positive integer");
  }
}

// The fields that do not depend on the measurement.
BenchRecord blank_record(const Encoder& encoder, const std::string& model, int64_t batch, int64_t seq,
                         const BenchGrid& grid) {
  BenchRecord r;
  r.model = model;
  r.config = model;
  r.attention = encoder.attention().describe();
  r.batch = batch;
  r.seq = seq;
  r.threads = num_threads();
  r.runs = grid.runs;
  r.warmup = grid.warmup;
  r.weights_bytes = encoder.weights_bytes();
  return r;
}

}  // namespace

void fill_timing(BenchRecord& r, const CellTiming& t, size_t peak_activation_bytes) {
  r.warmup = t.warmup_done;
  r.runs = static_cast<int>(t.run_ms.size());
  r.na_reason = t.na_reason;
  if (!t.na_reason.empty()) return;
  const TimingStats stats = summarize(t.run_ms);
  r.median_ms = stats.median;
  r.min_ms = stats.min;
  r.max_ms = stats.max;
  r.peak_activation_bytes = peak_activation_bytes;
}

void check_grid_values(const BenchGrid& grid, const EncoderConfig& config) {
  check_positive_list(grid.batch_sizes, "batch size");
  check_positive_list(grid.seq_lens, "sequence length");
  // B x T x hidden must be countable before anything is allocated (larger simply runs out of memory).
  const int64_t width = std::max<int64_t>(config.hidden_size, 1);
  for (int64_t b : grid.batch_sizes) {
    for (int64_t s : grid.seq_lens) {
      if (b > INT64_MAX / s / width) {
        throw InputError("batch size " + std::to_string(b) + " x sequence length " + std::to_string(s) +
                         " is too large to index");
      }
    }
  }
  if (grid.runs <= 0) throw InputError("runs " + std::to_string(grid.runs) + " must be a positive integer");
  if (grid.warmup < 0) throw InputError("warmup " + std::to_string(grid.warmup) + " must not be negative");
  if (!(grid.time_limit_s >= 0)) throw InputError("the time limit per cell must not be negative");
}

void check_grid(const BenchGrid& grid, const EncoderConfig& config) {
  check_grid_values(grid, config);
  for (int64_t s : grid.seq_lens) {
    if (s > length_limit(config)) {
      throw InputError("sequence length " + std::to_string(s) + " exceeds the model's limit of " +
                       std::to_string(length_limit(config)) + " tokens");
    }
  }
}

void check_grid(const BenchGrid& grid, const std::vector<EncoderConfig>& configs) {
  if (configs.empty()) throw InputError("no model to benchmark");
  EncoderConfig widest = configs.front();
  int64_t longest = 0;
  for (const EncoderConfig& c : configs) {
    widest.hidden_size = std::max(widest.hidden_size, c.hidden_size);
    longest = std::max(longest, length_limit(c));
  }
  check_grid_values(grid, widest);
  for (int64_t s : grid.seq_lens) {
    if (s > longest) {
      throw InputError("sequence length " + std::to_string(s) + " exceeds every model's limit (the longest is " +
                       std::to_string(longest) + " tokens)");
    }
  }
}

Batch random_batch(const EncoderConfig& config, int64_t batch, int64_t seq, uint64_t seed) {
  if (config.vocab_size < 2) throw ModelError("vocab_size " + std::to_string(config.vocab_size) + " is too small to draw token ids");
  Batch b;
  b.batch = batch;
  b.seq = seq;
  const size_t n = static_cast<size_t>(batch * seq);
  b.ids.resize(n);
  b.mask.assign(n, 1);
  uint64_t state = mix(seed);
  const uint64_t vocab = static_cast<uint64_t>(config.vocab_size);
  for (size_t i = 0; i < n; ++i) {
    state = mix(state);
    int64_t id = static_cast<int64_t>(state % vocab);
    // RoBERTa derives positions from the non-pad ids, so a pad id would change what is timed.
    if (id == config.pad_token_id) id = (id + 1) % config.vocab_size;
    b.ids[i] = id;
  }
  return b;
}

TimingStats summarize(std::vector<double> samples) {
  TimingStats s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  return s;
}

BenchRecord run_cell(const Encoder& encoder, const std::string& model, int64_t batch, int64_t seq, const BenchGrid& grid) {
  BenchRecord r = blank_record(encoder, model, batch, seq, grid);
  const Batch input = random_batch(encoder.config(), batch, seq, grid.seed);
  // Memory: the first forward starts from nothing, so the scratch buffers the encoder keeps
  // between forwards (and the output) are counted in the peak.
  encoder.release_workspace();
  const size_t live_before = live_bytes();
  size_t peak = 0;
  const CellTiming t = time_cell(
      [&] {
        reset_peak_bytes();
        { const ForwardResult out = encoder.forward(input); }
        peak = peak_bytes();
      },
      [&] { const ForwardResult out = encoder.forward(input); }, grid.runs, grid.warmup, grid.time_limit_s);
  encoder.release_workspace();   // the next cell's shape needs other buffers
  fill_timing(r, t, peak > live_before ? peak - live_before : 0);
  return r;
}

std::vector<BenchRecord> run_grid(const Encoder& encoder, const std::string& model, const BenchGrid& grid,
                                  const std::function<void(const BenchRecord&)>& on_record) {
  check_grid_values(grid, encoder.config());
  const int64_t longest = length_limit(encoder.config());
  CellMaker make;
  make.blank = [&](int64_t b, int64_t s) { return blank_record(encoder, model, b, s, grid); };
  make.run = [&](int64_t b, int64_t s) {
    try {
      return run_cell(encoder, model, b, s, grid);
    } catch (const std::bad_alloc&) {
      encoder.release_workspace();   // what was allocated before the failure
      throw;
    }
  };
  make.refuse = [&](int64_t, int64_t s) {
    return s > longest ? "longer than the model's limit of " + std::to_string(longest) + " tokens" : std::string();
  };
  return run_cells(grid.batch_sizes, grid.seq_lens, grid.max_activation_bytes, make, on_record);
}

}  // namespace slimformer::bench
