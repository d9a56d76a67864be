// Helpers shared by the tests: where the shared fixtures live, temp folders, running the CLI.
#pragma once
#include <string>

namespace slimtest {

// ../shared (fixtures, data, models), as configured at build time.
inline std::string shared_dir() { return SLIM_SHARED_DIR; }
inline std::string fixtures_dir() { return shared_dir() + "/fixtures/hf"; }
inline std::string binary() { return SLIM_BINARY; }

// A fresh empty folder under the system temp dir, removed at process exit.
std::string make_temp_dir();

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs `slimformer <args>` (args are passed to /bin/sh, so quote them), optional stdin text.
CommandResult run_cli(const std::string& args, const std::string& stdin_text = "");

}  // namespace slimtest
