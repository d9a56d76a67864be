// slimformer: the command-line tool. Each subcommand lives in its own file (cmd_*.cc); this file
// parses the command line and turns every failure into one line on stderr and exit code 2.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "kernels/cpu/isa.h"
#include "slimformer/error.h"
#include "slimformer/threads.h"

namespace {

const std::vector<std::string> kCommands = {"embed", "tokenize", "inspect", "eval", "bench", "attention-pattern",
                                           "prune", "quantize", "export", "distill", "serve"};

std::string command_list() {
  std::string s;
  for (const auto& c : kCommands) s += (s.empty() ? "" : ", ") + c;
  return s;
}

int fail(std::string message) {
  for (char& ch : message) {
    if (ch == '\n' || ch == '\r') ch = ' ';   // always exactly one line
  }
  std::fprintf(stderr, "slimformer: error: %s\n", message.c_str());
  return 2;
}

int run(int argc, char** argv) {
  // SLIMFORMER_ISA is checked before anything runs: a typo or a target this CPU lacks is one
  // error line (InputError, caught in main), not a crash on the first kernel, and oneDNN is
  // capped to match before any command creates a primitive.
  (void)slimformer::kernels::active_isa();
  CLI::App app{"slimformer: run, shrink and benchmark transformer encoders", "slimformer"};
  app.set_version_flag("--version", std::string("slimformer ") + SLIM_VERSION);
  app.require_subcommand(0, 1);
  std::vector<std::pair<std::string, slimcli::Runner>> runners = {
      {"embed", slimcli::add_embed(app)},
      {"tokenize", slimcli::add_tokenize(app)},
      {"inspect", slimcli::add_inspect(app)},
      {"eval", slimcli::add_eval(app)},
      {"bench", slimcli::add_bench(app)},
      {"attention-pattern", slimcli::add_attention_pattern(app)},
      {"prune", slimcli::add_prune(app)},
      {"quantize", slimcli::add_quantize(app)},
      {"export", slimcli::add_export(app)},
      {"distill", slimcli::add_distill(app)},
      {"serve", slimcli::add_serve(app)},
  };
  // Named before CLI11 sees it: CLI11 would call an unknown subcommand an "unexpected argument".
  if (argc >= 2 && argv[1][0] != '-') {
    const std::string first = argv[1];
    bool known = false;
    for (const auto& c : kCommands) known = known || c == first;
    if (!known) return fail("unknown subcommand '" + first + "' (expected one of: " + command_list() + ")");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {   // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const CLI::App* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
    return fail((sub ? sub->get_name() + ": " : std::string()) + e.what());
  }
  for (auto& [name, runner] : runners) {
    if (app.got_subcommand(name)) return runner();
  }
  return fail("a subcommand is required (one of: " + command_list() + "); see slimformer --help");
}

}  // namespace

namespace slimcli {

void add_threads_flag(CLI::App* cmd, std::string* text) {
  cmd->add_option("--threads", *text, "Threads for the kernels (default: one per core)")->type_name("N");
}

void apply_threads(const std::string& text) {
  slimformer::set_num_threads(text.empty() ? 0 : static_cast<int>(parse_int("--threads", text, 1, 4096)));
}

}  // namespace slimcli

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {   // slimformer::Error and everything else
    return fail(e.what());
  } catch (...) {
    return fail("unexpected failure");
  }
}
