// Helpers for the CLI tests: paths quoted for the shell, and the one-line error check.
#pragma once
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "test_util.h"

namespace slimtest {

inline std::string q(const std::string& s) { return "'" + s + "'"; }
inline std::string model_dir(const std::string& name) { return fixtures_dir() + "/models/" + name; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Exit code 2, nothing on stdout, exactly one "slimformer: error: " line on stderr holding every
// one of `names`.
inline void expect_one_line_error(const CommandResult& r, std::initializer_list<std::string> names) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("slimformer: error: ", 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n') << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& n : names) EXPECT_NE(r.err.find(n), std::string::npos) << "'" << n << "' not in: " << r.err;
}

}  // namespace slimtest
