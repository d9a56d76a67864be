// Benchmark plots drawn with gnuplot: four files, real PNGs of the size asked and SVGs holding the
// labels and legend; nothing left behind when gnuplot is missing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cli_test_util.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"
#include "slimformer/plot.h"

using namespace slimformer;
using namespace slimformer::bench;
namespace fs = std::filesystem;

namespace {

BenchRecord rec(const std::string& model, int64_t batch, int64_t seq, double ms, size_t peak_bytes) {
  BenchRecord r;
  r.model = model;
  r.config = model;
  r.attention = "exact:tile=256";
  r.batch = batch;
  r.seq = seq;
  r.median_ms = r.min_ms = r.max_ms = ms;
  r.peak_activation_bytes = peak_bytes;
  return r;
}

BenchRecord na(const std::string& model, int64_t batch, int64_t seq) {
  BenchRecord r = rec(model, batch, seq, 0, 0);
  r.na_reason = "out of memory";
  return r;
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

uint32_t big_endian32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

void expect_png(const std::string& path, uint32_t width, uint32_t height) {
  const std::string bytes = slimtest::read_file(path);
  ASSERT_GT(bytes.size(), 24u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(bytes.substr(12, 4), "IHDR") << path;   // the first chunk, after its 4-byte length
  EXPECT_EQ(big_endian32(bytes, 16), width) << path;
  EXPECT_EQ(big_endian32(bytes, 20), height) << path;
}

void expect_svg(const std::string& path, std::initializer_list<std::string> texts) {
  const std::string svg = slimtest::read_file(path);
  EXPECT_NE(svg.find("<svg"), std::string::npos) << path;
  const size_t end = svg.rfind("</svg>");
  ASSERT_NE(end, std::string::npos) << path;
  EXPECT_EQ(svg.find_first_not_of(" \t\r\n", end + 6), std::string::npos) << path;   // nothing after it
  for (const std::string& t : texts) EXPECT_NE(svg.find(t), std::string::npos) << "'" << t << "' not in " << path;
}

bool have_gnuplot() { return !plot::find_gnuplot().empty(); }

}  // namespace

TEST(BenchPlot, FourFiguresWithLabelsAndLegend) {
  ASSERT_TRUE(have_gnuplot()) << "gnuplot is a dependency (scripts/install-deps.sh installs gnuplot-nox)";
  const std::string dir = slimtest::make_temp_dir();
  const std::vector<BenchRecord> records = {
      rec("bert_tiny", 1, 512, 20, 40 << 20), rec("bert_tiny", 1, 128, 4, 10 << 20),   // drawn in seq order
      rec("bert_tiny", 8, 128, 30, 80 << 20), na("bert_tiny", 8, 512),
      rec("longformer, \"base\"", 1, 4096, 900, 300 << 20),
      na("only-na", 1, 128),   // no measured cell: no line, no legend entry
  };
  const std::vector<std::string> paths = write_plots(records, dir, "exact attention, 2 threads");
  const std::vector<std::string> expected = {dir + "/speed.png", dir + "/speed.svg", dir + "/memory.png", dir + "/memory.svg"};
  EXPECT_EQ(paths, expected);
  // The four figures and nothing else: the temporary folder is gone.
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"memory.png", "memory.svg", "speed.png", "speed.svg"}));
  expect_png(dir + "/speed.png", 900, 600);
  expect_png(dir + "/memory.png", 900, 600);
  // Names as written (no enhanced-text subscript for '_'), a comma and a quote passed through.
  expect_svg(dir + "/speed.svg", {"sequence length (tokens)", "time (s)", "bert_tiny, batch 1", "bert_tiny, batch 8",
                                  "longformer, ", "base", ", batch 1", "exact attention, 2 threads"});
  expect_svg(dir + "/memory.svg", {"sequence length (tokens)", "peak activation memory (MB)", "bert_tiny, batch 1"});
  EXPECT_EQ(slimtest::read_file(dir + "/speed.svg").find("only-na"), std::string::npos);
}

TEST(BenchPlot, NoMeasuredCellStillDrawsWithANote) {
  ASSERT_TRUE(have_gnuplot()) << "gnuplot is a dependency (scripts/install-deps.sh installs gnuplot-nox)";
  const std::string dir = slimtest::make_temp_dir();
  const auto paths = write_plots({na("bert", 1, 128), na("bert", 1, 512)}, dir, "all out of memory");
  ASSERT_EQ(paths.size(), 4u);
  expect_png(paths[0], 900, 600);
  expect_svg(paths[1], {"all out of memory", "no cell was measured", "time (s)"});
  expect_svg(paths[3], {"no cell was measured", "peak activation memory (MB)"});
  EXPECT_EQ(write_plots({}, dir, "").size(), 4u);   // no record at all: the same
}

TEST(BenchPlot, MissingGnuplotLeavesNothingBehind) {
  const std::string dir = slimtest::make_temp_dir();
  const slimtest::ScopedEnv env("SLIMFORMER_GNUPLOT", dir + "/no-such-gnuplot");
  try {
    write_plots({rec("bert", 1, 128, 4, 1 << 20)}, dir, "t");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing(dir).empty());
}

TEST(BenchPlot, FailingGnuplotLeavesNothingBehind) {
  // A "gnuplot" that fails after the temporary folder is made: the error says so, no figure
  // appears and the temporary folder is removed.
  const std::string dir = slimtest::make_temp_dir(), tools = slimtest::make_temp_dir();
  slimtest::write_file(tools + "/gnuplot", "#!/bin/sh\necho 'line 1: broken' >&2\nexit 3\n");
  fs::permissions(tools + "/gnuplot", fs::perms::owner_all);
  const slimtest::ScopedEnv env("SLIMFORMER_GNUPLOT", tools + "/gnuplot");
  try {
    write_plots({rec("bert", 1, 128, 4, 1 << 20)}, dir, "t");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("line 1: broken"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing(dir).empty());
}

TEST(BenchPlot, TargetMustBeAFolder) {
  const std::string dir = slimtest::make_temp_dir();
  EXPECT_THROW(write_plots({}, dir + "/missing", "t"), IoError);
}
