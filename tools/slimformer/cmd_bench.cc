// slimformer bench: forward-pass time and memory over batch sizes x sequence lengths, for a model
// folder or a built-in configuration with seeded random weights, or (--attention-only) for one
// attention layer alone on seeded random Q, K, V. The work is in src/bench/.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"

namespace slimcli {
namespace {

struct BenchOptions {
  std::string model, config, attention, batch_sizes, seq_lens, threads, runs = "10", warmup = "2";
  std::string heads, head_dim, max_memory, json, csv;
  bool attention_only = false;
  // Their defaults depend on the mode; an explicit value (even an empty one) is always parsed.
  CLI::Option* batch_sizes_flag = nullptr;
  CLI::Option* seq_lens_flag = nullptr;

  std::string batch_sizes_or(const char* fallback) const { return batch_sizes_flag->count() ? batch_sizes : fallback; }
  std::string seq_lens_or(const char* fallback) const { return seq_lens_flag->count() ? seq_lens : fallback; }
};

slimformer::EncoderConfig config_flag(const std::string& name) {
  try {
    return slimformer::builtin_config(name);
  } catch (const slimformer::InputError& e) {
    throw slimformer::InputError(std::string("--config: ") + e.what());
  }
}

void check_seq_lens(const std::vector<int64_t>& seq_lens, const slimformer::EncoderConfig& c) {
  const int64_t limit = c.max_position_embeddings - c.position_offset;
  for (int64_t s : seq_lens) {
    if (s > limit) {
      throw slimformer::InputError("--seq-lens: " + std::to_string(s) + " exceeds the model's limit of " +
                                   std::to_string(limit) + " tokens");
    }
  }
}

// The records' destinations, opened before the (long) run so that an unwritable path fails at once.
struct Outputs {
  std::unique_ptr<Output> json, csv;

  explicit Outputs(const BenchOptions& o)
      : json(o.json.empty() ? nullptr : std::make_unique<Output>(o.json, "--json")),
        csv(o.csv.empty() ? nullptr : std::make_unique<Output>(o.csv, "--csv")) {}

  void write(const std::vector<slimformer::bench::BenchRecord>& records) {
    if (json) {
      json->write(slimformer::bench::format_json(records));
      json->commit();
    }
    if (csv) {
      csv->write(slimformer::bench::format_csv(records));
      csv->commit();
    }
    Output table("", "");
    table.write(slimformer::bench::format_table(records));
    table.commit();
  }
};

// --max-memory SIZE (default 3/4 of the memory the process may use), checked early.
size_t memory_limit(const std::string& text) {
  return text.empty() ? slimformer::available_memory_bytes() / 4 * 3 : parse_bytes("--max-memory", text);
}

// Set just before the grid runs: the counting allocator then refuses to hold more than `limit`
// bytes above what is live now (weights drawn for --config), so a cell too large for the machine
// is reported N/A instead of being ended by the OOM killer.
void apply_memory_limit(size_t limit) { slimformer::set_live_limit_bytes(slimformer::live_bytes() + limit); }

int run_attention_only(const BenchOptions& o) {
  if (!o.model.empty() || !o.config.empty()) {
    throw slimformer::InputError("--attention-only times one attention layer alone: it takes no --model or --config");
  }
  if (o.attention.empty()) throw slimformer::InputError("--attention-only needs --attention NAME[:key=value,...]");
  const slimformer::AttentionSpec spec = parse_attention_flag(o.attention);
  slimformer::bench::AttentionGrid grid;
  grid.batch_sizes = parse_int_list("--batch-sizes", o.batch_sizes_or("1"));
  grid.seq_lens = parse_int_list("--seq-lens", o.seq_lens_or("512,1024,2048,4096"));
  if (!o.heads.empty()) grid.heads = parse_int("--heads", o.heads, 1, 4096);
  if (!o.head_dim.empty()) grid.head_dim = parse_int("--head-dim", o.head_dim, 1, 65536);
  grid.runs = static_cast<int>(parse_int("--runs", o.runs, 1, 1000000));
  grid.warmup = static_cast<int>(parse_int("--warmup", o.warmup, 0, 1000000));
  slimformer::bench::check_attention_grid(grid);
  const auto attention = build_attention_flag(spec, slimformer::bench::attention_only_context(grid));
  const size_t limit = memory_limit(o.max_memory);
  apply_threads(o.threads);
  Outputs outputs(o);
  apply_memory_limit(limit);
  outputs.write(slimformer::bench::run_attention_grid(*attention, grid));
  return 0;
}

int run_model(const BenchOptions& o) {
  if (o.model.empty() == o.config.empty()) {
    throw slimformer::InputError("bench needs exactly one of --model DIR or --config NAME (or --attention-only)");
  }
  if (!o.heads.empty() || !o.head_dim.empty()) {
    throw slimformer::InputError(std::string(o.heads.empty() ? "--head-dim" : "--heads") +
                                 " is for --attention-only (a model has its own heads)");
  }
  const slimformer::AttentionSpec spec = parse_attention_flag(o.attention);
  slimformer::bench::BenchGrid grid;
  grid.batch_sizes = parse_int_list("--batch-sizes", o.batch_sizes_or("1,8"));
  grid.seq_lens = parse_int_list("--seq-lens", o.seq_lens_or("128,512"));
  grid.runs = static_cast<int>(parse_int("--runs", o.runs, 1, 1000000));
  grid.warmup = static_cast<int>(parse_int("--warmup", o.warmup, 0, 1000000));
  if (!o.config.empty()) config_flag(o.config);   // checked before anything is built or opened
  if (!o.model.empty()) require_model_dir("--model", o.model);
  const size_t limit = memory_limit(o.max_memory);
  apply_threads(o.threads);
  Outputs outputs(o);

  // A folder's config is read (weights only mmapped) and a built-in one known before any weights
  // are drawn, so a bad grid or mechanism fails at once.
  std::shared_ptr<const slimformer::Checkpoint> ckpt;
  const auto check = [&](const slimformer::EncoderConfig& config) {
    check_seq_lens(grid.seq_lens, config);
    slimformer::bench::check_grid(grid, config);
    if (!spec.empty()) build_attention_flag(spec, slimformer::attention_context(config));
  };
  if (!o.model.empty()) {
    ckpt = std::make_shared<const slimformer::Checkpoint>(o.model);
    check(ckpt->config());
  } else {
    const slimformer::EncoderConfig config = config_flag(o.config);
    check(config);
    ckpt = slimformer::random_checkpoint(config, 0);
  }
  const slimformer::Encoder encoder(ckpt, spec);   // the spec runs in every layer
  apply_memory_limit(limit);
  outputs.write(slimformer::bench::run_grid(encoder, o.model.empty() ? o.config : o.model, grid));
  return 0;
}

}  // namespace

Runner add_bench(CLI::App& root) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = root.add_subcommand("bench", "Time the forward pass (or one attention layer) and measure its memory");
  cmd->add_option("--model", o->model, "Model folder (no tokenizer needed: token ids are seeded)")->type_name("DIR");
  cmd->add_option("--config", o->config, "Built-in configuration with seeded random weights: bert-base, "
                                         "distilbert-base, minilm-l6, roberta-base")->type_name("NAME");
  cmd->add_option("--attention", o->attention, "Attention mechanism for every layer, e.g. exact or "
                                               "sliding:window=256+global:first=1 (default: the model's own)")
      ->type_name("SPEC");
  cmd->add_flag("--attention-only", o->attention_only, "Time one attention layer alone on seeded random Q, K, V "
                                                       "(needs --attention; no --model or --config)");
  cmd->add_option("--heads", o->heads, "--attention-only: heads (default 12)")->type_name("N");
  cmd->add_option("--head-dim", o->head_dim, "--attention-only: dimensions per head (default 64)")->type_name("N");
  o->batch_sizes_flag = cmd->add_option("--batch-sizes", o->batch_sizes, "Comma-separated batch sizes (default 1,8; --attention-only: 1)")
      ->type_name("N,N,...");
  o->seq_lens_flag = cmd->add_option("--seq-lens", o->seq_lens, "Comma-separated sequence lengths (default 128,512; "
                                             "--attention-only: 512,1024,2048,4096)")->type_name("N,N,...");
  cmd->add_option("--runs", o->runs, "Timed forward passes per cell (default 10)")->type_name("N");
  cmd->add_option("--warmup", o->warmup, "Untimed forward passes before them (default 2)")->type_name("N");
  cmd->add_option("--max-memory", o->max_memory, "Most activation memory a cell may hold, e.g. 8G; a cell needing "
                                                 "more is reported N/A (default: 3/4 of the machine's memory)")
      ->type_name("SIZE");
  cmd->add_option("--json", o->json, "Write the records as JSON (atomically)")->type_name("FILE");
  cmd->add_option("--csv", o->csv, "Write the records as CSV (atomically)")->type_name("FILE");
  add_threads_flag(cmd, &o->threads);
  const Runner compare = add_bench_compare(cmd);
  return [o, cmd, compare] {
    if (cmd->got_subcommand("compare")) return compare();
    return o->attention_only ? run_attention_only(*o) : run_model(*o);
  };
}

}  // namespace slimcli
