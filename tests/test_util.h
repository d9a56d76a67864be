// Helpers shared by the tests: where the shared fixtures live, temp folders, running the CLI.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

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
// The same with `dir` as the working folder (for outputs the tool places relative to it).
CommandResult run_cli_in(const std::string& dir, const std::string& args);

// n normally distributed floats (mean 0, std `scale`), the same for the same seed.
inline std::vector<float> random_vec(int64_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(gen);
  return v;
}

// The message of the E that f throws; a test failure (and "") if it throws nothing or another
// exception.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "another exception than expected: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

// Sets an environment variable for what a test runs (commands included), and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

}  // namespace slimtest
