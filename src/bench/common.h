// What the model and attention-only harnesses share: seeding and the out-of-memory record.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/cell_timing.h"
#include "core/splitmix.h"
#include "slimformer/bench.h"
#include "slimformer/memory.h"

namespace slimformer::bench {

// splitmix64's first output for state x: decorrelates nearby seeds.
inline uint64_t mix(uint64_t x) { return rng::splitmix64(x); }

// The N/A reason of a cell whose allocation failed, naming the limit when one was set: what the
// cell could have added to what is live now (called once the cell's buffers are freed).
inline std::string out_of_memory_reason() {
  const size_t limit = live_limit_bytes(), live = live_bytes();
  if (limit == 0) return "out of memory";
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(limit > live ? limit - live : 0);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, u == 0 ? "out of memory (limit %.0f %s)" : "out of memory (limit %.1f %s)", v, units[u]);
  return buf;
}

// Sets the counting allocator's limit to `bytes` above what is live now for the grid's lifetime
// (0: leaves it as it is), so a cell too large for the machine fails its allocation at once and is
// N/A, instead of an overcommitting kernel granting it and the OOM killer ending the process.
class LiveLimit {
 public:
  explicit LiveLimit(size_t bytes) : before_(live_limit_bytes()), set_(bytes > 0) {
    if (set_) set_live_limit_bytes(live_bytes() + bytes);
  }
  ~LiveLimit() {
    if (set_) set_live_limit_bytes(before_);
  }
  LiveLimit(const LiveLimit&) = delete;
  LiveLimit& operator=(const LiveLimit&) = delete;

 private:
  size_t before_;
  bool set_;
};

// Everything check_grid checks but the model's length limit.
void check_grid_values(const BenchGrid& grid, const EncoderConfig& config);

// The longest input the model's position table allows.
inline int64_t length_limit(const EncoderConfig& config) { return config.max_position_embeddings - config.position_offset; }

// Times, runs and warm-ups done (or the N/A reason) and the peak from a cell's timing.
void fill_timing(BenchRecord& r, const CellTiming& t, size_t peak_activation_bytes);

// How a harness makes one cell's record.
struct CellMaker {
  std::function<BenchRecord(int64_t batch, int64_t seq)> blank;   // the fields known without running
  std::function<BenchRecord(int64_t batch, int64_t seq)> run;     // measured (std::bad_alloc: out of memory)
  std::function<std::string(int64_t batch, int64_t seq)> refuse;  // an N/A reason known up front, "" to run; may be empty
};

// Every batch size x sequence length, batch sizes outer, under `max_activation_bytes` (LiveLimit):
// a refused cell, one ruled out by a failed smaller one (FailedCells) or one that runs out of
// memory is N/A with its reason; each record gets the cell's own peak RSS and goes to `on_record`
// as soon as it is made.
std::vector<BenchRecord> run_cells(const std::vector<int64_t>& batch_sizes, const std::vector<int64_t>& seq_lens,
                                   size_t max_activation_bytes, const CellMaker& make,
                                   const std::function<void(const BenchRecord&)>& on_record);

}  // namespace slimformer::bench
