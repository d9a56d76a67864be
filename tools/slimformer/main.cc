// slimformer: the command-line tool. Each subcommand lives in its own file (cmd_*.cc); this file
// parses the command line and turns every failure into one line on stderr and exit code 2.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "io/signal_cleanup.h"
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
  } catch (const CLI::Success& e) {   // --help, --version: through the checked stdout writer
    std::ostringstream out, err;
    const int code = app.exit(e, out, err);
    slimcli::write_stdout(out.str());
    std::fputs(err.str().c_str(), stderr);
    return code;
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

CLI::Option* add_threads_flag(CLI::App* cmd, std::string* text) {
  return cmd->add_option("--threads", *text,
                         "Threads for the kernels (default: the cores other processes leave free, re-checked before each batch)")
      ->type_name("N");
}

void apply_threads(const std::string& text) {
  slimformer::set_num_threads(text.empty() ? 0 : static_cast<int>(parse_int("--threads", text, 1, 4096)));
}

void apply_bench_threads(const std::string& text) {
  slimformer::set_num_threads(text.empty() ? slimformer::available_cores()
                                           : static_cast<int>(parse_int("--threads", text, 1, 4096)));
}

}  // namespace slimcli

namespace {

// stdout is buffered: a full disk or a closed descriptor may show only when it is flushed and
// closed, so a run succeeds only once both have.
int finish_stdout(int status) {
  if (status != 0) return status;   // its error line is out already
  errno = 0;
  std::cout.flush();   // flushes stdout itself (synced with stdio): its errno is the reason
  const int stream_errno = std::cout ? 0 : errno;
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout) || std::fclose(stdout) != 0) {
    const int err = stream_errno ? stream_errno : errno;
    return fail(std::string("writing standard output: ") + (err ? std::strerror(err) : "write error"));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any temporary file exists: a run ended by Ctrl-C or kill leaves none behind.
  slimformer::io::install_cleanup_handlers();
  try {
    return finish_stdout(run(argc, argv));
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {   // slimformer::Error and everything else
    return fail(e.what());
  } catch (...) {
    return fail("unexpected failure");
  }
}
