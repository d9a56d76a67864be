// slimformer embed --format: the .npy and raw f32 outputs hold exactly the floats the JSON lines
// do, in a layout read here from the NumPy format's specification.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_util.h"

using namespace slimtest;
namespace fs = std::filesystem;

namespace {

const std::string kSt = model_dir("st-bert-uncased");
const std::string kTexts = "a man plays a guitar\nthe cat sleeps\n\nrain falls on the city\n";

std::vector<float> jsonl_floats(const std::string& out, size_t& rows) {
  std::vector<float> all;
  std::istringstream in(out);
  rows = 0;
  for (std::string line; std::getline(in, line); ++rows) {
    for (float v : nlohmann::json::parse(line).at("embedding").get<std::vector<float>>()) all.push_back(v);
  }
  return all;
}

std::vector<float> floats_of(const std::string& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

struct Scratch {
  fs::path root = fs::temp_directory_path() / ("slimformer-embed-formats-" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(root); }
  ~Scratch() { fs::remove_all(root); }
  std::string at(const std::string& name) const { return (root / name).string(); }
};

}  // namespace

TEST(CliEmbedFormats, NpyAndF32HoldTheJsonLinesFloats) {
  Scratch s;
  const CommandResult json = run_cli("embed --model " + q(kSt), kTexts);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  size_t rows = 0;
  const std::vector<float> want = jsonl_floats(json.out, rows);
  ASSERT_EQ(rows, 4u);
  const size_t cols = want.size() / rows;

  // .npy: magic, version 1.0, a u16 header length, the header dict, data 64-byte aligned.
  ASSERT_EQ(run_cli("embed --model " + q(kSt) + " --format npy --output " + q(s.at("e.npy")), kTexts).exit_code, 0);
  const std::string npy = read_file(s.at("e.npy"));
  ASSERT_GT(npy.size(), 10u);
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = static_cast<unsigned char>(npy[8]) | static_cast<unsigned char>(npy[9]) << 8;
  EXPECT_EQ((10 + header) % 64, 0u);
  const std::string dict = npy.substr(10, header);
  EXPECT_NE(dict.find("'descr': '<f4'"), std::string::npos) << dict;
  EXPECT_NE(dict.find("'fortran_order': False"), std::string::npos) << dict;
  EXPECT_NE(dict.find("'shape': (4, " + std::to_string(cols) + ")"), std::string::npos) << dict;
  EXPECT_EQ(dict.back(), '\n');
  EXPECT_EQ(floats_of(npy.substr(10 + header)), want);

  // f32: the floats alone; the shape on stderr.
  const CommandResult raw = run_cli("embed --model " + q(kSt) + " --format f32 --output " + q(s.at("e.f32")), kTexts);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_NE(raw.err.find("4 x " + std::to_string(cols) + " float32"), std::string::npos) << raw.err;
  EXPECT_EQ(floats_of(read_file(s.at("e.f32"))), want);

  // No input: an empty (0, H) array.
  ASSERT_EQ(run_cli("embed --model " + q(kSt) + " --format npy --output " + q(s.at("empty.npy")), "").exit_code, 0);
  const std::string empty = read_file(s.at("empty.npy"));
  EXPECT_NE(empty.find("'shape': (0, " + std::to_string(cols) + ")"), std::string::npos);
  EXPECT_EQ(empty.size() % 64, 0u);   // the header and nothing after it
}

TEST(CliEmbedFormats, AnUnknownFormatIsOneLine) {
  expect_one_line_error(run_cli("embed --model " + q(kSt) + " --format csv", "x\n"), {"--format", "'csv'", "npy"});
}
