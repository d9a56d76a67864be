// slimformer bench: forward-pass time and memory over batch sizes x sequence lengths, for model
// folders and built-in configurations (seeded random weights), several in one run; with no model
// named, the default comparisons of efficient attention; (--training) whole training steps of
// those models; or (--attention-only) one attention layer alone on seeded random Q, K, V. The
// work is in src/bench/.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "bench_output.h"
#include "commands.h"
#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace slimcli {
namespace {

namespace bench = slimformer::bench;

struct BenchOptions {
  std::string model, config, models, attention, batch_sizes, seq_lens, threads, runs, warmup, time_limit;
  std::string heads, head_dim, max_memory, json, csv, output_dir;
  bool attention_only = false, training = false, checkpoint_activations = false, no_plots = false;
  // Options whose defaults depend on the mode; an explicit value (even an empty one) is always parsed.
  CLI::Option* batch_sizes_flag = nullptr;
  CLI::Option* seq_lens_flag = nullptr;
  CLI::Option* runs_flag = nullptr;
  CLI::Option* warmup_flag = nullptr;
  CLI::Option* time_limit_flag = nullptr;
};

// "60", "0.5" -> seconds; 0 = no limit. InputError naming the flag otherwise.
double parse_seconds(const std::string& flag, const std::string& text) {
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !(v >= 0) || v > 1e9) {
    throw slimformer::InputError(flag + ": expected seconds, a number >= 0 (0: no limit), got '" + text + "'");
  }
  return v;
}

// The grid flags over a mode's defaults.
template <typename Grid>
void apply_grid_flags(const BenchOptions& o, Grid& g) {
  if (o.batch_sizes_flag->count()) g.batch_sizes = parse_int_list("--batch-sizes", o.batch_sizes);
  if (o.seq_lens_flag->count()) g.seq_lens = parse_int_list("--seq-lens", o.seq_lens);
  if (o.runs_flag->count()) g.runs = static_cast<int>(parse_int("--runs", o.runs, 1, 1000000));
  if (o.warmup_flag->count()) g.warmup = static_cast<int>(parse_int("--warmup", o.warmup, 0, 1000000));
  if (o.time_limit_flag->count()) g.time_limit_s = parse_seconds("--time-limit", o.time_limit);
}

// --max-memory SIZE (default 3/4 of the memory the process may use), checked early.
size_t memory_limit(const std::string& text) {
  return text.empty() ? slimformer::available_memory_bytes() / 4 * 3 : parse_bytes("--max-memory", text);
}

BenchOutputOptions output_options(const BenchOptions& o, bool default_run) {
  BenchOutputOptions out;
  out.json = o.json;
  out.csv = o.csv;
  out.folder = o.output_dir.empty() && default_run ? "bench-results" : o.output_dir;
  out.fresh_folder = o.output_dir.empty() && default_run;
  out.plots = !o.no_plots;
  return out;
}

std::string plot_title(const char* what) {
  return std::string("slimformer bench: ") + what + " (" + std::to_string(slimformer::num_threads()) + " threads)";
}

int run_attention_only(const BenchOptions& o) {
  if (o.training || o.checkpoint_activations) {
    throw slimformer::InputError(std::string(o.training ? "--training" : "--checkpoint-activations") +
                                 " times a model's training steps: it does not go with --attention-only");
  }
  if (!o.model.empty() || !o.config.empty() || !o.models.empty()) {
    throw slimformer::InputError("--attention-only times one attention layer alone: it takes no --model, --config or --models");
  }
  if (o.attention.empty()) throw slimformer::InputError("--attention-only needs --attention NAME[:key=value,...]");
  const slimformer::AttentionSpec spec = parse_attention_flag(o.attention);
  bench::AttentionGrid grid;
  apply_grid_flags(o, grid);
  if (!o.heads.empty()) grid.heads = parse_int("--heads", o.heads, 1, 4096);
  if (!o.head_dim.empty()) grid.head_dim = parse_int("--head-dim", o.head_dim, 1, 65536);
  bench::check_attention_grid(grid);
  const auto attention = build_attention_flag(spec, bench::attention_only_context(grid));
  grid.max_activation_bytes = memory_limit(o.max_memory);
  apply_bench_threads(o.threads);
  BenchOutputs outputs(output_options(o, false));
  const bench::Environment env = bench::collect_environment();
  bench::RunProgress progress;
  progress.cells = grid.batch_sizes.size() * grid.seq_lens.size();
  const auto start = std::chrono::steady_clock::now();
  const auto records = bench::run_attention_grid(*attention, grid, [&](const bench::BenchRecord& r) {
    progress.cell += 1;
    progress.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Cells alike in cost are not a fair assumption here, so the estimate is the mean so far.
    progress.left_s = progress.elapsed_s / progress.cell * (progress.cells - progress.cell);
    print_progress(r, progress);
  });
  outputs.write(records, env, plot_title(attention->describe().c_str()));
  return 0;
}

// The flag that named the models, for messages ("bench" for the default run).
std::string model_flag(const BenchOptions& o) {
  return !o.models.empty() ? "--models" : !o.config.empty() ? "--config" : !o.model.empty() ? "--model" : "bench";
}

// --model DIR, --config SPEC, --models LIST, or none of them (the default comparisons).
std::vector<bench::ModelSpec> model_specs(const BenchOptions& o) {
  const int given = !o.model.empty() + !o.config.empty() + !o.models.empty();
  if (given > 1) throw slimformer::InputError("bench takes one of --model, --config or --models");
  try {
    if (!o.models.empty()) return bench::parse_model_list(o.models);
    if (!o.config.empty()) {
      bench::ModelSpec spec = bench::parse_model_spec(o.config);
      if (!slimformer::is_builtin_config(spec.source)) {
        std::string known;
        for (const auto& n : slimformer::builtin_config_names()) known += (known.empty() ? "" : ", ") + n;
        throw slimformer::InputError("unknown built-in configuration '" + spec.source + "' (known: " + known +
                                     "; a model folder goes to --model)");
      }
      return {spec};
    }
    if (!o.model.empty()) {
      bench::ModelSpec spec = bench::parse_model_spec(o.model);
      require_model_dir("--model", spec.source);
      return {spec};
    }
  } catch (const slimformer::InputError& e) {
    throw slimformer::InputError(model_flag(o) + ": " + e.what());
  }
  return bench::default_bench_models();
}

// --training: models named, full attention (checked before the models are resolved).
void check_training_flags(const BenchOptions& o) {
  if (o.model.empty() && o.config.empty() && o.models.empty()) {
    throw slimformer::InputError("--training needs --model, --config or --models (the default run compares "
                                 "attention mechanisms that do not train)");
  }
  if (!o.attention.empty() && parse_attention_flag(o.attention).str() != "full") {
    throw slimformer::InputError("--attention '" + o.attention + "': --training runs full attention only "
                                 "(the trainable encoder has no other mechanism)");
  }
}

// --training: every model one the trainable encoder accepts, checked before any weights are
// drawn, so that a refused one fails at once.
void check_trainable(const BenchOptions& o, const std::vector<bench::BenchModel>& models) {
  for (const bench::BenchModel& m : models) {
    const std::string why = bench::training_refusal(m);
    if (!why.empty()) throw slimformer::InputError(model_flag(o) + ": model '" + m.spec.text + "': " + why);
  }
}

std::string models_title(const BenchOptions& o, bool default_run) {
  if (o.training) {
    return o.checkpoint_activations ? "training step (forward + backward + AdamW), activations checkpointed"
                                    : "training step (forward + backward + AdamW)";
  }
  return default_run ? "efficient attention against full" : "forward pass";
}

int run_models(const BenchOptions& o) {
  if (o.checkpoint_activations && !o.training) {
    throw slimformer::InputError("--checkpoint-activations is for --training (inference keeps no activations)");
  }
  if (o.training) check_training_flags(o);
  if (!o.heads.empty() || !o.head_dim.empty()) {
    throw slimformer::InputError(std::string(o.heads.empty() ? "--head-dim" : "--heads") +
                                 " is for --attention-only (a model has its own heads)");
  }
  const bool default_run = o.model.empty() && o.config.empty() && o.models.empty();
  const std::vector<bench::ModelSpec> specs = model_specs(o);
  bench::BenchGrid grid = default_run ? bench::default_bench_grid() : bench::BenchGrid{};
  apply_grid_flags(o, grid);
  // Every model is resolved (config, overrides, mechanism) before any weights are drawn, so a
  // bad one fails at once rather than after the others' cells.
  std::vector<bench::BenchModel> models;
  std::vector<slimformer::EncoderConfig> configs;
  parse_attention_flag(o.attention);   // its syntax, with the flag's name in the message
  for (bench::ModelSpec spec : specs) {
    const bool from_flag = !o.attention.empty() && spec.attention.empty();
    if (from_flag) spec.attention = o.attention;
    try {
      models.push_back(bench::resolve_model(spec));
    } catch (const slimformer::InputError& e) {
      throw slimformer::InputError((from_flag ? "--attention" : model_flag(o)) + ": " + e.what());
    }
    configs.push_back(models.back().config);
  }
  if (o.training) check_trainable(o, models);
  grid.training = o.training;
  grid.checkpoint_activations = o.checkpoint_activations;
  try {
    bench::check_grid(grid, configs);
  } catch (const slimformer::InputError& e) {
    throw slimformer::InputError(std::string("bench grid: ") + e.what());
  }
  grid.max_activation_bytes = memory_limit(o.max_memory);   // counted from each model's weights on
  apply_bench_threads(o.threads);
  BenchOutputOptions output = output_options(o, default_run);
  for (const bench::BenchModel& m : models) {
    if (!m.builtin) output.inputs.push_back({model_flag(o), m.spec.source, PathArg::Folder});
  }
  BenchOutputs outputs(output);
  const bench::Environment env = bench::collect_environment();
  const auto records = bench::run_models(models, grid, print_progress);
  outputs.write(records, env, plot_title(models_title(o, default_run).c_str()));
  return 0;
}

}  // namespace

Runner add_bench(CLI::App& root) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = root.add_subcommand(
      "bench", "Time the forward pass and measure its memory over batch sizes x sequence lengths, as tables, CSV, "
               "JSON and plots (with no model named: the efficient-attention comparisons, into ./bench-results/)");
  cmd->add_option("--model", o->model, "Model folder (no tokenizer needed: token ids are seeded)")->type_name("DIR");
  cmd->add_option("--config", o->config, "Built-in configuration with seeded random weights, with overrides: "
                                         "NAME[:KEY=VALUE,...], e.g. longformer-base-4096:attention_window=4")
      ->type_name("SPEC");
  cmd->add_option("--models", o->models, "Several models in one run: [LABEL=]SPEC,... (SPEC: a built-in or folder "
                                         "with overrides; KEY attention=... picks its mechanism)")
      ->type_name("LIST");
  cmd->add_option("--attention", o->attention, "Attention mechanism for every layer of every model, e.g. exact or "
                                               "sliding:window=256+global:first=1 (default: each model's own)")
      ->type_name("SPEC");
  cmd->add_flag("--attention-only", o->attention_only, "Time one attention layer alone on seeded random Q, K, V "
                                                       "(needs --attention; no model)");
  cmd->add_option("--heads", o->heads, "--attention-only: heads (default 12)")->type_name("N");
  cmd->add_option("--head-dim", o->head_dim, "--attention-only: dimensions per head (default 64)")->type_name("N");
  o->batch_sizes_flag = cmd->add_option("--batch-sizes", o->batch_sizes, "Comma-separated batch sizes (default 1,8; "
                                                                          "default run and --attention-only: 1)")
                            ->type_name("N,N,...");
  o->seq_lens_flag = cmd->add_option("--seq-lens", o->seq_lens, "Comma-separated sequence lengths (default 128,512; "
                                                                "default run: 128 ... 4096; --attention-only: 512 ... 4096)")
                         ->type_name("N,N,...");
  o->runs_flag = cmd->add_option("--runs", o->runs, "Timed forward passes per cell (default 10; default run: 5)")->type_name("N");
  o->warmup_flag = cmd->add_option("--warmup", o->warmup, "Untimed forward passes before them, after the first one "
                                                          "that measures memory (default 2; default run: 0)")
                       ->type_name("N");
  o->time_limit_flag = cmd->add_option("--time-limit", o->time_limit, "Seconds a cell may take: fewer runs past it, N/A "
                                                                      "when one forward alone is longer (default none; "
                                                                      "default run: 60)")
                           ->type_name("SECONDS");
  cmd->add_option("--max-memory", o->max_memory, "Most activation memory a cell may hold, e.g. 8G; a cell needing "
                                                 "more is reported N/A (default: 3/4 of the machine's memory)")
      ->type_name("SIZE");
  cmd->add_flag("--training", o->training, "Time training steps instead of forward passes: forward, MSE loss, "
                                           "backward and AdamW update (full attention, float weights)");
  cmd->add_flag("--checkpoint-activations", o->checkpoint_activations,
                "--training: keep only each layer's input and recompute the layer in the backward");
  cmd->add_option("--output-dir", o->output_dir, "Write report.txt, results.json, results.csv and the speed and "
                                                 "memory plots (.png, .svg) here (default run: a new folder in "
                                                 "./bench-results/)")
      ->type_name("DIR");
  cmd->add_flag("--no-plots", o->no_plots, "Write no plots (no gnuplot needed)");
  cmd->add_option("--json", o->json, "Write the records as JSON (atomically)")->type_name("FILE");
  cmd->add_option("--csv", o->csv, "Write the records as CSV (atomically)")->type_name("FILE");
  add_threads_flag(cmd, &o->threads)->description("Threads for the kernels (default: one per available core)");
  const Runner compare = add_bench_compare(cmd);
  return [o, cmd, compare] {
    if (cmd->got_subcommand("compare")) return compare();
    return o->attention_only ? run_attention_only(*o) : run_models(*o);
  };
}

}  // namespace slimcli
