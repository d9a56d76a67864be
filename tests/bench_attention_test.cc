// The attention-only harness, the counting allocator's limit that turns a cell too large into an
// N/A record, and the pattern figure's reduction and gnuplot writer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>

#include "slimformer/bench.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"
#include "slimformer/plot.h"
#include "test_util.h"

using namespace slimformer;
using namespace slimformer::bench;

namespace {

// A limit of `bytes` above what is live, lifted again at the end of the test.
class ScopedLimit {
 public:
  explicit ScopedLimit(size_t bytes) { set_live_limit_bytes(live_bytes() + bytes); }
  ~ScopedLimit() { set_live_limit_bytes(0); }
};

std::unique_ptr<Attention> full_for(const AttentionGrid& g) {
  return make_attention(AttentionSpec::parse("full"), attention_only_context(g));
}

AttentionGrid small_grid() {
  AttentionGrid g;
  g.batch_sizes = {1, 2};
  g.seq_lens = {5, 17};
  g.heads = 3;
  g.head_dim = 4;
  g.runs = 2;
  g.warmup = 1;
  return g;
}

}  // namespace

TEST(MemoryLimit, RefusesAboveTheLimitAndKeepsTheCountExact) {
  const size_t live = live_bytes();
  {
    ScopedLimit limit(4096);
    Tensor a = Tensor::empty({512});   // 2048 bytes: fits
    EXPECT_EQ(live_bytes(), live + 2048);
    EXPECT_THROW(Tensor::empty({600}), std::bad_alloc);   // 2400 more would pass 4096
    EXPECT_EQ(live_bytes(), live + 2048);                 // the refused bytes were not counted
    EXPECT_THROW(Tensor::empty({int64_t{1} << 40}), std::bad_alloc);   // 4 TiB: refused, not overcommitted
    Tensor b = Tensor::empty({512});   // exactly at the limit
    EXPECT_EQ(live_bytes(), live + 4096);
  }
  EXPECT_EQ(live_bytes(), live);
  EXPECT_EQ(live_limit_bytes(), 0u);
  Tensor c = Tensor::empty({1 << 20});   // no limit: granted
  EXPECT_GT(available_memory_bytes(), size_t{1} << 26);
}

TEST(AttentionHarness, GridRecordsEveryCellWithItsMechanism) {
  const AttentionGrid g = small_grid();
  const auto attention = full_for(g);
  std::vector<int64_t> seen;
  const auto recs = run_attention_grid(*attention, g, [&](const BenchRecord& r) { seen.push_back(r.seq); });
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 17, 5, 17}));
  for (const BenchRecord& r : recs) {
    EXPECT_EQ(r.model, "attention-only 3x4");
    EXPECT_EQ(r.attention, "full");
    EXPECT_EQ(r.runs, 2);
    EXPECT_EQ(r.warmup, 1);
    EXPECT_TRUE(r.na_reason.empty());
    EXPECT_LE(r.min_ms, r.median_ms);
    EXPECT_LE(r.median_ms, r.max_ms);
    // Q/K/V and output: batch x seq rows of 4 x 12 floats; full's scores: 3 heads x seq x seq.
    const size_t floats = static_cast<size_t>(r.batch * r.seq * 48 + 3 * r.seq * r.seq);
    EXPECT_GE(r.peak_activation_bytes, floats * sizeof(float));
    EXPECT_EQ(r.weights_bytes, 0u);
  }
  EXPECT_EQ(recs[2].batch, 2);
}

// The peak is taken from nothing each time: a second measurement of a cell gives the same bytes,
// whatever scratch an earlier cell left.
TEST(AttentionHarness, PeakIsTakenFromNothing) {
  const AttentionGrid g = small_grid();
  const auto attention = full_for(g);
  const BenchRecord a = run_attention_cell(*attention, g, 2, 17);
  run_attention_cell(*attention, g, 1, 5);
  const BenchRecord b = run_attention_cell(*attention, g, 2, 17);
  EXPECT_EQ(a.peak_activation_bytes, b.peak_activation_bytes);
}

TEST(AttentionHarness, CellOverTheLimitIsNAAndTheGridGoesOn) {
  AttentionGrid g = small_grid();
  g.batch_sizes = {1};
  g.seq_lens = {8, 512, 8};
  g.heads = 4;
  const auto attention = full_for(g);
  const size_t live = live_bytes();
  ScopedLimit limit(1 << 20);   // 512 tokens need 4 x 512 x 512 floats of scores: 4 MiB
  const auto recs = run_attention_grid(*attention, g);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_TRUE(recs[0].na_reason.empty());
  EXPECT_EQ(recs[1].na_reason, "out of memory (limit 1.0 MiB)");
  EXPECT_EQ(recs[1].seq, 512);
  EXPECT_EQ(recs[1].attention, "full");
  EXPECT_TRUE(recs[2].na_reason.empty());
  EXPECT_EQ(recs[0].peak_activation_bytes, recs[2].peak_activation_bytes);
  EXPECT_EQ(live_bytes(), live);   // nothing of the failed cell is left
}

TEST(AttentionHarness, GridChecksNameTheField) {
  auto message = [](AttentionGrid g) {
    try {
      check_attention_grid(g);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  AttentionGrid g;
  EXPECT_EQ(message(g), "");
  g.seq_lens = {};
  EXPECT_NE(message(g).find("sequence length"), std::string::npos);
  g = AttentionGrid();
  g.heads = 0;
  EXPECT_NE(message(g).find("heads"), std::string::npos);
  g = AttentionGrid();
  g.head_dim = -1;
  EXPECT_NE(message(g).find("head dim"), std::string::npos);
  g = AttentionGrid();
  g.batch_sizes = {int64_t{1} << 40};
  g.seq_lens = {int64_t{1} << 20};
  EXPECT_NE(message(g).find("too large"), std::string::npos);
  EXPECT_EQ(attention_only_context(AttentionGrid()).max_seq, 4096);
}

TEST(PatternImage, SmallPatternsAreKeptAsTheyAre) {
  const std::vector<uint8_t> p = {1, 0, 0,   //
                                  1, 1, 0,   //
                                  0, 1, 1};
  const plot::PatternImage img = plot::downsample_pattern(p, 3, 8);
  EXPECT_EQ(img.n, 3);
  EXPECT_EQ(img.factor, 1);
  EXPECT_EQ(img.cells, 3);
  EXPECT_EQ(img.data, p);
}

// 5 tokens at most 2 cells a side: 3 tokens a cell, the last cell covers tokens 3..4 only; a cell
// is 1 when any pair in it is.
TEST(PatternImage, LongPatternsMarkACellWhenAnyPairAttends) {
  std::vector<uint8_t> p(25, 0);
  p[0 * 5 + 0] = 1;   // cell (0, 0)
  p[4 * 5 + 2] = 1;   // query 4, key 2: cell (1, 0)
  p[3 * 5 + 4] = 1;   // cell (1, 1)
  const plot::PatternImage img = plot::downsample_pattern(p, 5, 2);
  EXPECT_EQ(img.factor, 3);
  EXPECT_EQ(img.cells, 2);
  EXPECT_EQ(img.data, (std::vector<uint8_t>{1, 0, 1, 1}));
  const plot::PatternImage big = plot::downsample_pattern(std::vector<uint8_t>(4096 * 4096, 0), 4096, 1024);
  EXPECT_EQ(big.factor, 4);
  EXPECT_EQ(big.cells, 1024);
  EXPECT_THROW(plot::downsample_pattern(p, 4, 2), InputError);   // 25 entries are not 4 x 4
}

TEST(PatternPlot, WritesTheFigureAtomically) {
  const std::string dir = slimtest::make_temp_dir();
  {
    plot::PatternPlot figure(dir + "/p.png");
    EXPECT_FALSE(std::filesystem::exists(dir + "/p.png"));   // nothing at the target before write()
    figure.write(plot::downsample_pattern(std::vector<uint8_t>(9, 1), 3), "title with \"quotes\" and a_b");
  }
  std::ifstream in(dir + "/p.png", std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);   // the temporary folder is gone
  EXPECT_THROW(plot::PatternPlot(dir + "/p.gif"), InputError);
  std::filesystem::create_directory(dir + "/folder.png");
  EXPECT_THROW(plot::PatternPlot{dir + "/folder.png"}, IoError);
  EXPECT_FALSE(plot::find_gnuplot().empty());
}
