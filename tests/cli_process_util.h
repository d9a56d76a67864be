// Helpers for the CLI tests that need more than run_cli: a shell line of their own (redirections
// such as > /dev/full, ulimit), a run started in the background to be signalled, and the files a
// folder holds.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_util.h"

extern char** environ;

namespace slimtest {

// Runs `sh -c line` (the line names the binary itself, e.g. via binary()); stderr is captured, stdout
// goes wherever the line sends it.
inline CommandResult run_shell(const std::string& line) {
  const std::string dir = make_temp_dir();
  const std::string err = dir + "/stderr";
  const int status = std::system(("{ " + line + " ; } 2>'" + err + "'").c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = read_file(err);
  return r;
}

// Starts `slimformer args...` with stdout and stderr into files and SIGINT/SIGTERM at their default
// action (a test runner started in the background may have them ignored, and that is inherited).
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> argv_text = {binary()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv_text[0].c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

// Polls `ready` every 20 ms for up to `seconds`.
inline bool wait_until(const std::function<bool()>& ready, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

// Every entry under `dir`, as paths relative to it, sorted.
inline std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    names.push_back(std::filesystem::relative(it->path(), dir).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The entries of listing(dir) whose name starts with '.': temporary files and folders.
inline std::vector<std::string> hidden_entries(const std::string& dir) {
  std::vector<std::string> hidden;
  for (const std::string& name : listing(dir)) {
    if (std::filesystem::path(name).filename().string().rfind('.', 0) == 0) hidden.push_back(name);
  }
  return hidden;
}

}  // namespace slimtest
