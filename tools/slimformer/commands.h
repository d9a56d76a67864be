// The subcommands. Each registers its flags on the root app and returns its runner.
#pragma once
#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "output_guard.h"

namespace slimcli {

Runner add_embed(CLI::App& root);
Runner add_tokenize(CLI::App& root);
Runner add_inspect(CLI::App& root);
Runner add_eval(CLI::App& root);
Runner add_bench(CLI::App& root);
// `bench compare OLD.json NEW.json`, a subcommand of `bench`; add_bench runs its runner when given.
Runner add_bench_compare(CLI::App* bench);
Runner add_attention_pattern(CLI::App& root);
Runner add_prune(CLI::App& root);
Runner add_quantize(CLI::App& root);
Runner add_export(CLI::App& root);
Runner add_distill(CLI::App& root);
Runner add_serve(CLI::App& root);

// --threads N on `cmd`: the text is parsed by apply_threads (empty: the fair default of
// slimformer/threads.h) or apply_bench_threads (empty: one thread per available core, fixed, so
// that every timed run of a benchmark uses the same count).
CLI::Option* add_threads_flag(CLI::App* cmd, std::string* text);
void apply_threads(const std::string& text);
void apply_bench_threads(const std::string& text);

}  // namespace slimcli
