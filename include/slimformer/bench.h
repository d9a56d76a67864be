// The benchmark harness: times an Encoder's forward pass over a grid of batch sizes x sequence
// lengths and measures its memory; records go to a table, CSV or JSON. Records are plain data
// so that later grids (several models, attention mechanisms, comparisons) reuse the writers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slimformer/encoder.h"

namespace slimformer::bench {

// One cell of a benchmark grid.
struct BenchRecord {
  std::string model;                 // the label lines and rows are named by (default: `config`)
  std::string config;                // what was built: folder path or built-in name, with overrides
  std::string attention;             // the mechanism run, as Attention::describe() gives it
  int64_t batch = 0, seq = 0;
  int threads = 0, runs = 0, warmup = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0;   // forward-pass wall time over `runs`
  size_t peak_activation_bytes = 0;  // counting allocator's peak above what was live before
  size_t weights_bytes = 0;          // Encoder::weights_bytes()
  size_t peak_rss_bytes = 0;         // process high-water mark after the cell (includes weights)
  // Why the cell could not be measured ("out of memory ..."); empty when it was. Times and peak
  // activation bytes are then N/A (null in JSON, empty in CSV).
  std::string na_reason;
};

struct BenchGrid {
  std::vector<int64_t> batch_sizes = {1, 8};
  std::vector<int64_t> seq_lens = {128, 512};
  int runs = 10;
  int warmup = 2;
  uint64_t seed = 0;                 // token ids are drawn from it
};

// InputError naming the field ("batch size", "sequence length", "runs", "warmup") if the grid is
// empty, holds a non-positive value, or a sequence length exceeds the model's limit.
void check_grid(const BenchGrid& grid, const EncoderConfig& config);

// Seeded token ids in [0, vocab) (never the pad id), mask all ones, no type ids: a benchmark
// needs no tokenizer.
Batch random_batch(const EncoderConfig& config, int64_t batch, int64_t seq, uint64_t seed);

struct TimingStats {
  double median = 0, min = 0, max = 0;
};
// Median (mean of the middle two for an even count), min and max; all 0 for no samples.
TimingStats summarize(std::vector<double> samples);

// Times one cell: `warmup` untimed forwards, then `runs` timed ones.
BenchRecord run_cell(const Encoder& encoder, const std::string& model, int64_t batch, int64_t seq,
                     int runs, int warmup, uint64_t seed);

// Every batch size x sequence length in order (batch sizes outer); `on_record` sees each record
// as soon as its cell is done. A cell that runs out of memory (std::bad_alloc, e.g. from the
// counting allocator's limit, set_live_limit_bytes) is recorded N/A with the reason, and the grid
// goes on.
std::vector<BenchRecord> run_grid(const Encoder& encoder, const std::string& model, const BenchGrid& grid,
                                  const std::function<void(const BenchRecord&)>& on_record = {});

// One attention layer alone: seeded random Q, K, V in the encoder's layout (B*T rows of the
// stacked projection, stride 3 * heads * head_dim), no padding, Attention::forward with a scratch
// kept between forwards.
struct AttentionGrid {
  std::vector<int64_t> batch_sizes = {1};
  std::vector<int64_t> seq_lens = {512, 1024, 2048, 4096};
  int64_t heads = 12, head_dim = 64;
  int runs = 10;
  int warmup = 2;
  uint64_t seed = 0;                 // Q, K and V are drawn from it
};

// InputError naming the field if a list is empty, a value is not positive, or B x T x 3 x heads x
// head_dim floats cannot be indexed.
void check_attention_grid(const AttentionGrid& grid);
// What make_attention() is told for an attention-only run: one layer of grid.heads x
// grid.head_dim, the longest sequence length as the model's limit.
AttentionContext attention_only_context(const AttentionGrid& grid);
// "attention-only 12x64": the `model` of attention-only records.
std::string attention_only_label(const AttentionGrid& grid);

// Times one cell. Peak activation bytes: the counting allocator's peak over allocating and
// filling Q/K/V and the output, and one forward with a fresh scratch.
BenchRecord run_attention_cell(const Attention& attention, const AttentionGrid& grid, int64_t batch, int64_t seq);
// Every cell, batch sizes outer; out-of-memory cells are N/A as in run_grid.
std::vector<BenchRecord> run_attention_grid(const Attention& attention, const AttentionGrid& grid,
                                            const std::function<void(const BenchRecord&)>& on_record = {});

// Writers. The table is aligned plain text for a terminal (N/A where a cell was not measured, and
// an `N/A reason` column when any was not); CSV has a header row; JSON is
// {"records": [{...}, ...]} with one object per record and the field names above.
std::string format_table(const std::vector<BenchRecord>& records);
std::string format_csv(const std::vector<BenchRecord>& records);
std::string format_json(const std::vector<BenchRecord>& records);
// Atomic writes (temporary file + rename); IoError naming the path.
void write_json(const std::string& path, const std::vector<BenchRecord>& records);
void write_csv(const std::string& path, const std::vector<BenchRecord>& records);

// The records of a JSON file format_json wrote, exactly: format_json(read_records_json(p)) is the
// text that was written. Top-level keys other than "records" (such as "environment") and fields a
// record has beyond BenchRecord's are ignored. Every field of BenchRecord is required; the
// measurements may be null only in a record with an na_reason; counts and sizes must be
// non-negative integers and times non-negative numbers. IoError when the file cannot be read;
// FormatError naming the path and, for a bad record, its index and field ("records[3].batch").
std::vector<BenchRecord> read_records_json(const std::string& path);

// `bench compare`: an aligned table with one row per cell (model, attention, batch, seq), the
// cells of `before` in order, then those only `after` has. Columns: model, attention, batch, seq,
// before ms, after ms, time (after/before median, "0.52x"), before MiB, after MiB, memory
// (after/before peak activation bytes), and a note column when any row has one. A cell on one
// side only shows "-" for the other side and the note "only before" / "only after"; a cell N/A on
// either side shows "N/A" there, "-" for its ratios and the N/A reason as a note. A ratio needs
// both values positive ("-" otherwise). A cell listed twice in one input counts by its first
// record. The closing line gives the geometric means of the time and memory ratios and over how
// many cells measured on both sides, or says that no cell was.
std::string format_comparison(const std::vector<BenchRecord>& before, const std::vector<BenchRecord>& after);

// Plots drawn with gnuplot (SLIMFORMER_GNUPLOT or gnuplot on PATH): median time in seconds and
// peak activation memory in MB (2^20 bytes) against sequence length, one line per model and batch
// size in the order they first appear (N/A cells left out, a line with none not drawn), linear
// axes from 0, labelled axes, a legend ("<model>, batch <b>") and `title` on top; 900 x 600. With
// no measured cell at all the figures are still written, empty, with "(no cell was measured)"
// under the title. Writes speed.png, speed.svg, memory.png and memory.svg into `dir` (an existing
// folder, IoError otherwise), each drawn in a temporary folder there and renamed into place, and
// returns their paths in that order. IoError when gnuplot is missing or fails, naming it; no
// figure is written then.
std::vector<std::string> write_plots(const std::vector<BenchRecord>& records, const std::string& dir,
                                     const std::string& title);

}  // namespace slimformer::bench
