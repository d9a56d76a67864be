// What every fuzz target shares: the input written to a file for the loaders that read paths, and
// the rule that only slimformer::Error may escape a parser (anything else, a crash, a leak, an
// over-large allocation or a timeout is a finding, reported by libFuzzer).
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "slimformer/error.h"

namespace slimfuzz {

// A folder of this process's own, made once and emptied at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* shm = "/dev/shm";
    std::filesystem::path base = std::filesystem::exists(shm) ? shm : std::filesystem::temp_directory_path();
    auto d = base / ("slimformer-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

// Writes the input to `name` inside the scratch folder and returns its path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::filesystem::path p = scratch_dir() / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                               static_cast<std::streamsize>(size));
  return p.string();
}

// Runs f; a slimformer::Error is the clean answer to a bad input and is swallowed.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const slimformer::Error&) {
  }
}

}  // namespace slimfuzz
