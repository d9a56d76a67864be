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
  // What a timed run is: "inference" (one forward pass), "training" (one training step: forward,
  // backward and an AdamW update) or "training-checkpointed" (the same with activation
  // checkpointing: each layer recomputed in the backward).
  std::string mode = "inference";
  int64_t batch = 0, seq = 0;
  int threads = 0, runs = 0, warmup = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0;   // wall time of a forward pass (training: a step) over `runs`
  size_t peak_activation_bytes = 0;  // counting allocator's peak above what was live before
  size_t weights_bytes = 0;          // Encoder::weights_bytes(); training: the f32 parameters (their
                                     // gradients and AdamW's two moments hold 3x as much beside them)
  size_t peak_rss_bytes = 0;         // process high-water mark over the cell (weights included;
                                     // over the whole run where the kernel cannot reset it)
  // Why the cell could not be measured ("out of memory ..."); empty when it was. Times and peak
  // activation bytes are then N/A (null in JSON, empty in CSV).
  std::string na_reason;
};

// A model to benchmark, as `--config` and `--models` give it: "[LABEL=]SOURCE[:KEY=VALUE,...]".
// SOURCE is a built-in configuration (builtin.h) or a model folder. KEY is a config.json key of
// its architecture (attention_window=4, attention_type=original_full, num_hidden_layers=6, ...;
// VALUE is read as JSON when it parses, else as a string) or `attention`, a mechanism spec for
// every layer (in brackets when it holds commas: attention=[sliding:window=64,dilation=2]).
struct ModelSpec {
  std::string label;       // what tables and plots call it: LABEL, else `text`
  std::string text;        // SOURCE[:KEY=VALUE,...]: the records' config
  std::string source;
  std::vector<std::pair<std::string, std::string>> overrides;   // config.json keys, in order
  std::string attention;   // "" = the built-in's mechanism, else the config's own
};
// InputError (what is wrong, quoting the text) for an empty source, label or key, a key without
// a value, or unbalanced brackets. Keys are checked by resolve_model.
ModelSpec parse_model_spec(const std::string& text);
// Comma-separated specs. A comma followed by KEY=VALUE with a known config key or `attention`
// continues the previous spec's overrides (longformer-base-4096:attention_window=4,num_hidden_layers=6);
// otherwise it starts the next spec. InputError for an empty list or a label used twice.
std::vector<ModelSpec> parse_model_list(const std::string& text);

// A spec made concrete: its config with the overrides applied (checked by the config.json reader,
// which names the spec in errors) and the mechanism it will run. No weights yet.
struct BenchModel {
  ModelSpec spec;
  EncoderConfig config;
  AttentionSpec attention;   // empty: default_attention(config)
  bool builtin = false;
};
// InputError for an unknown source (neither a built-in name nor a folder), a key its
// architecture does not read (listing those it does), or an attention spec that does not parse
// or build for this model; the config reader's errors for bad values.
BenchModel resolve_model(const ModelSpec& spec);
// The checkpoint to time: seeded random weights for a built-in, the mmapped folder (under the
// overridden config) otherwise.
std::shared_ptr<const Checkpoint> load_checkpoint(const BenchModel& model, uint64_t seed = 0);

struct BenchGrid {
  std::vector<int64_t> batch_sizes = {1, 8};
  std::vector<int64_t> seq_lens = {128, 512};
  int runs = 10;
  int warmup = 2;
  uint64_t seed = 0;                 // token ids are drawn from it
  // Seconds a cell may take (0: no limit). A cell starts no forward that would end past it (fewer
  // warm-ups, then fewer runs: the record says how many were done); one whose first forward alone
  // takes longer is N/A, and so are the cells needing as much or more (larger batch and length).
  double time_limit_s = 0;
  // Most bytes a cell may hold in the counting allocator above what is live when the grid starts
  // (the model's weights already loaded); 0: no limit. A cell needing more is N/A.
  size_t max_activation_bytes = 0;
  // Time training steps instead of forward passes (run_models, run_training_grid).
  bool training = false;
  bool checkpoint_activations = false;   // training: keep only each layer's input, recompute the rest
};

// InputError naming the field ("batch size", "sequence length", "runs", "warmup") if the grid is
// empty, holds a non-positive value, or a sequence length exceeds the model's limit.
void check_grid(const BenchGrid& grid, const EncoderConfig& config);
// The same for a run of several models: every length must fit at least one of them (the cells of
// a model it does not fit are N/A).
void check_grid(const BenchGrid& grid, const std::vector<EncoderConfig>& configs);

// Seeded token ids in [0, vocab) (never the pad id), mask all ones, no type ids: a benchmark
// needs no tokenizer.
Batch random_batch(const EncoderConfig& config, int64_t batch, int64_t seq, uint64_t seed);

struct TimingStats {
  double median = 0, min = 0, max = 0;
};
// Median (mean of the middle two for an even count), min and max; all 0 for no samples.
TimingStats summarize(std::vector<double> samples);

// Times one cell: one forward from nothing (peak memory), `warmup` untimed forwards, then `runs`
// timed ones, within grid.time_limit_s.
BenchRecord run_cell(const Encoder& encoder, const std::string& model, int64_t batch, int64_t seq, const BenchGrid& grid);

// Every batch size x sequence length in order (batch sizes outer); `on_record` sees each record
// as soon as its cell is done. A cell that runs out of memory (std::bad_alloc, e.g. from the
// counting allocator's limit, set_live_limit_bytes) or time is recorded N/A with the reason, the
// cells needing as much or more are skipped (N/A, naming the cell that failed), and the grid
// goes on. A length past the model's limit is N/A too (check_grid refuses it up front where
// one model runs). Records name `model` as model and config.
std::vector<BenchRecord> run_grid(const Encoder& encoder, const std::string& model, const BenchGrid& grid,
                                  const std::function<void(const BenchRecord&)>& on_record = {});

// Training steps. One step is what a distillation step does (bench/train_step_bench.cc):
// TrainableEncoder forward with mean pooling, MSE against zeros, backward, AdamW update. Its peak
// activation bytes are the counting allocator's peak above what was live before the step (the
// parameters, their gradients and AdamW's moments), the most over all steps of the cell.

// Why the trainable encoder cannot run `model` ("" when it can): a Longformer or BigBird
// block-sparse config, a mechanism other than full, int8 weights (a folder's files are looked at,
// not loaded).
std::string training_refusal(const BenchModel& model);
// Every cell of the grid as training steps (grid.training is implied), on a trainable copy of
// `ckpt` (let go once copied, so a built-in's drawn weights are not held twice); records have mode "training" ("training-checkpointed" with grid.checkpoint_activations)
// and attention "full". N/A cells as run_grid. ModelError when the trainable encoder refuses the
// checkpoint.
std::vector<BenchRecord> run_training_grid(std::shared_ptr<const Checkpoint> ckpt, const std::string& model, const BenchGrid& grid,
                                           const std::function<void(const BenchRecord&)>& on_record = {});

// Where a run of several models stands after a cell.
struct RunProgress {
  size_t cell = 0, cells = 0;   // cells done, this one included, of all
  double elapsed_s = 0;         // since the run started, weight loading included
  double left_s = -1;           // estimated time left; < 0 when nothing measured yet can say
};

// Every model in turn over the grid (training steps with grid.training): its weights are drawn
// (or mapped) just before its cells and freed after them, so one model's memory never adds to the
// next one's. Records name the model
// by its label and config by its spec text. run_grid's rules for N/A cells apply per model.
std::vector<BenchRecord> run_models(const std::vector<BenchModel>& models, const BenchGrid& grid,
                                    const std::function<void(const BenchRecord&, const RunProgress&)>& on_record = {});

// `slimformer bench` with no model named: Longformer-base-4096 with window 512 and 4,
// BigBird-RoBERTa-base sparse and full, the Reformer-shaped model with LSH and full, and BERT-base
// (positions stretched to 4096) with exact attention; batch 1 over 128 ... 4096 tokens, 5 runs,
// a 60 s limit per cell.
std::vector<ModelSpec> default_bench_models();
BenchGrid default_bench_grid();

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
  double time_limit_s = 0;           // as BenchGrid's
  size_t max_activation_bytes = 0;   // as BenchGrid's
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

// The machine and build a run was measured on, as ordered (name, value) pairs: slimformer's
// version and commit, date, CPU model, cores, threads, the instruction sets the kernels use,
// memory, OS, library versions, compiler, gnuplot, GOMP_SPINCOUNT.
using Environment = std::vector<std::pair<std::string, std::string>>;
Environment collect_environment();
// "ENVIRONMENT" and one aligned "  name: value" line per pair.
std::string format_environment(const Environment& env);

// Writers. The table is aligned plain text for a terminal (N/A where a cell was not measured, and
// an `N/A reason` column when any was not); CSV has a header row; JSON is
// {"records": [{...}, ...]} with one object per record and the field names above.
std::string format_table(const std::vector<BenchRecord>& records);
std::string format_csv(const std::vector<BenchRecord>& records);
// The two tables of the chapter's benchmark, in Hugging Face's layout: "INFERENCE - SPEED -
// RESULT" (model, batch size, sequence length, median time in s with min and max beside it) and
// "INFERENCE - MEMORY - RESULT" (peak activation + workspace memory in MB = 2^20 bytes, the
// allocator's exact figure, with weights and process peak RSS beside it), then a list of the N/A
// cells with their reasons. Training records: "TRAINING STEP - ..." under a line saying what a
// step is (forward + backward + AdamW, activations checkpointed or not).
std::string format_result_tables(const std::vector<BenchRecord>& records);
// {"environment": {...}, "records": [...]}, the environment only when `env` is not empty.
std::string format_json(const std::vector<BenchRecord>& records, const Environment& env = {});
// Atomic writes (temporary file + rename); IoError naming the path.
void write_json(const std::string& path, const std::vector<BenchRecord>& records, const Environment& env = {});
void write_csv(const std::string& path, const std::vector<BenchRecord>& records);

// The records of a JSON file format_json wrote, exactly: format_json(read_records_json(p)) is the
// text that was written. Top-level keys other than "records" (such as "environment") and fields a
// record has beyond BenchRecord's are ignored. Every field of BenchRecord is required but mode
// ("inference" when absent, as in files written before it existed); the measurements may be null
// only in a record with an na_reason; counts and sizes must be
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
