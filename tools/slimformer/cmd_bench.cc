// slimformer bench: forward-pass time and memory over batch sizes x sequence lengths, for a model
// folder or a built-in configuration with seeded random weights. The work is in src/bench/.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

struct BenchOptions {
  std::string model, config, batch_sizes = "1,8", seq_lens = "128,512", threads, runs = "10", warmup = "2";
  std::string json, csv;
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

int run_bench(const BenchOptions& o) {
  if (o.model.empty() == o.config.empty()) {
    throw slimformer::InputError("bench needs exactly one of --model DIR or --config NAME");
  }
  slimformer::bench::BenchGrid grid;
  grid.batch_sizes = parse_int_list("--batch-sizes", o.batch_sizes);
  grid.seq_lens = parse_int_list("--seq-lens", o.seq_lens);
  grid.runs = static_cast<int>(parse_int("--runs", o.runs, 1, 1000000));
  grid.warmup = static_cast<int>(parse_int("--warmup", o.warmup, 0, 1000000));
  if (!o.config.empty()) config_flag(o.config);   // checked before anything is built or opened
  if (!o.model.empty()) require_model_dir("--model", o.model);
  apply_threads(o.threads);
  // Output files are opened before the (long) run, so an unwritable path fails at once.
  std::unique_ptr<Output> json = o.json.empty() ? nullptr : std::make_unique<Output>(o.json, "--json");
  std::unique_ptr<Output> csv = o.csv.empty() ? nullptr : std::make_unique<Output>(o.csv, "--csv");

  // A folder's config is read (weights only mmapped) and a built-in one known before any weights
  // are drawn, so a bad grid fails at once.
  std::shared_ptr<const slimformer::Checkpoint> ckpt;
  if (!o.model.empty()) {
    ckpt = std::make_shared<const slimformer::Checkpoint>(o.model);
    check_seq_lens(grid.seq_lens, ckpt->config());
    slimformer::bench::check_grid(grid, ckpt->config());
  } else {
    const slimformer::EncoderConfig config = config_flag(o.config);
    check_seq_lens(grid.seq_lens, config);
    slimformer::bench::check_grid(grid, config);
    ckpt = slimformer::random_checkpoint(config, 0);
  }
  const slimformer::Encoder encoder(ckpt);
  const std::string name = o.model.empty() ? o.config : o.model;
  const auto records = slimformer::bench::run_grid(encoder, name, grid);
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
  return 0;
}

}  // namespace

Runner add_bench(CLI::App& root) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = root.add_subcommand("bench", "Time the forward pass and measure its memory");
  cmd->add_option("--model", o->model, "Model folder (no tokenizer needed: token ids are seeded)")->type_name("DIR");
  cmd->add_option("--config", o->config, "Built-in configuration with seeded random weights: bert-base, "
                                         "distilbert-base, minilm-l6, roberta-base")->type_name("NAME");
  cmd->add_option("--batch-sizes", o->batch_sizes, "Comma-separated batch sizes (default 1,8)")->type_name("N,N,...");
  cmd->add_option("--seq-lens", o->seq_lens, "Comma-separated sequence lengths (default 128,512)")->type_name("N,N,...");
  cmd->add_option("--runs", o->runs, "Timed forward passes per cell (default 10)")->type_name("N");
  cmd->add_option("--warmup", o->warmup, "Untimed forward passes before them (default 2)")->type_name("N");
  cmd->add_option("--json", o->json, "Write the records as JSON (atomically)")->type_name("FILE");
  cmd->add_option("--csv", o->csv, "Write the records as CSV (atomically)")->type_name("FILE");
  add_threads_flag(cmd, &o->threads);
  return [o] { return run_bench(*o); };
}

}  // namespace slimcli
