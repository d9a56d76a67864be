// The run machinery: a cell's forwards under a time limit, cells skipped after a failure, lengths
// past a model's limit, several models in one run with their progress, the result tables and the
// environment block.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "bench/cell_timing.h"
#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"

using namespace slimformer;
using namespace slimformer::bench;

namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

BenchRecord record(const std::string& model, int64_t batch, int64_t seq, double median_ms, size_t peak_mib) {
  BenchRecord r;
  r.model = model;
  r.config = model;
  r.attention = "exact:tile=256";
  r.batch = batch;
  r.seq = seq;
  r.threads = 2;
  r.runs = 3;
  r.median_ms = median_ms;
  r.min_ms = median_ms - 1;
  r.max_ms = median_ms + 1;
  r.peak_activation_bytes = peak_mib << 20;
  r.weights_bytes = size_t(100) << 20;
  r.peak_rss_bytes = size_t(300) << 20;
  return r;
}

// A tiny random model (one layer) to run cells on quickly.
BenchModel tiny_model(const std::string& label, const std::string& attention = "") {
  ModelSpec spec = parse_model_spec(label + "=minilm-l6:num_hidden_layers=1,max_position_embeddings=64");
  spec.attention = attention;
  return resolve_model(spec);
}

}  // namespace

TEST(BenchRun, CellWithoutLimitRunsEverything) {
  int first = 0, repeat = 0;
  const CellTiming t = time_cell([&] { ++first; }, [&] { ++repeat; }, 4, 2, 0);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(repeat, 6);
  EXPECT_EQ(t.warmup_done, 2);
  EXPECT_EQ(t.run_ms.size(), 4u);
  EXPECT_EQ(t.na_reason, "");
}

TEST(BenchRun, CellPastTheLimitIsNAAfterOneForward) {
  int repeat = 0;
  const CellTiming t = time_cell([] { sleep_ms(60); }, [&] { ++repeat; }, 3, 1, 0.02);
  EXPECT_EQ(repeat, 0);
  EXPECT_TRUE(t.run_ms.empty());
  EXPECT_EQ(t.na_reason.rfind("time limit: one forward took 0.", 0), 0u) << t.na_reason;
  EXPECT_NE(t.na_reason.find("(limit 0.0 s)"), std::string::npos) << t.na_reason;
}

// Forwards of >= 100 ms under a 250 ms limit: warm-ups are dropped first, then runs, and the
// cell always gets one timed forward.
TEST(BenchRun, CellNearTheLimitDropsWarmupsThenRuns) {
  int repeat = 0;
  const CellTiming t = time_cell([] { sleep_ms(100); }, [&] { sleep_ms(100); ++repeat; }, 10, 5, 0.25);
  EXPECT_EQ(t.na_reason, "");
  EXPECT_EQ(t.warmup_done, 0);   // 100 done + 2 x 100 would pass 250
  EXPECT_EQ(t.run_ms.size(), 1u);   // the one timed forward; a second would end past 250
  EXPECT_EQ(repeat, 1);
  EXPECT_GE(t.run_ms[0], 100.0);
}

TEST(BenchRun, FailedCellsRuleOutLargerOnes) {
  FailedCells f;
  EXPECT_EQ(f.skip_reason(8, 4096), "");
  f.add(2, 1024, "out of memory (limit 1.0 GiB)");
  f.add(1, 4096, "time limit: one forward took 70.0 s (limit 60.0 s)");
  EXPECT_EQ(f.skip_reason(1, 2048), "");
  EXPECT_EQ(f.skip_reason(2, 512), "");
  EXPECT_EQ(f.skip_reason(4, 1024), "skipped: batch 2 x 1024 tokens already ran out of memory");
  EXPECT_EQ(f.skip_reason(1, 8192), "skipped: batch 1 x 4096 tokens already passed the time limit");
}

TEST(BenchRun, GridPastTheTimeLimitAndTheModelsLength) {
  const BenchModel m = tiny_model("tiny");
  const Encoder enc(load_checkpoint(m), m.attention);
  BenchGrid g;
  g.batch_sizes = {1, 2};
  g.seq_lens = {8, 100};   // 100 > the model's 64 positions
  g.runs = 2;
  g.warmup = 0;
  auto recs = run_grid(enc, "tiny", g);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].na_reason, "");
  EXPECT_EQ(recs[1].na_reason, "longer than the model's limit of 64 tokens");
  EXPECT_EQ(recs[3].na_reason, "longer than the model's limit of 64 tokens");
  EXPECT_EQ(recs[1].weights_bytes, enc.weights_bytes());   // known without running

  g.seq_lens = {8, 16};
  g.time_limit_s = 1e-9;   // every forward passes it
  recs = run_grid(enc, "tiny", g);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].na_reason.rfind("time limit: one forward took", 0), 0u) << recs[0].na_reason;
  EXPECT_EQ(recs[0].runs, 0);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(recs[i].na_reason, "skipped: batch 1 x 8 tokens already passed the time limit");
  g.time_limit_s = -1;
  EXPECT_THROW(run_grid(enc, "tiny", g), InputError);
}

TEST(BenchRun, SeveralModelsInOneRunWithProgress) {
  const std::vector<BenchModel> models = {tiny_model("one"), tiny_model("two", "full")};
  BenchGrid g;
  g.batch_sizes = {1};
  g.seq_lens = {4, 9, 16};
  g.runs = 2;
  g.warmup = 1;
  std::vector<RunProgress> seen;
  const auto recs = run_models(models, g, [&](const BenchRecord&, const RunProgress& p) { seen.push_back(p); });
  ASSERT_EQ(recs.size(), 6u);
  ASSERT_EQ(seen.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(recs[i].model, i < 3 ? "one" : "two");
    EXPECT_EQ(recs[i].config, "minilm-l6:num_hidden_layers=1,max_position_embeddings=64");
    EXPECT_EQ(recs[i].seq, g.seq_lens[i % 3]);
    EXPECT_EQ(recs[i].na_reason, "");
    EXPECT_EQ(seen[i].cell, i + 1);
    EXPECT_EQ(seen[i].cells, 6u);
    EXPECT_GE(seen[i].left_s, 0.0);   // a measured cell gives a rate
    if (i > 0) {
      EXPECT_GE(seen[i].elapsed_s, seen[i - 1].elapsed_s);
    }
  }
  EXPECT_EQ(seen.back().left_s, 0.0);
  EXPECT_EQ(recs[0].attention.rfind("exact", 0), 0u);
  EXPECT_EQ(recs[3].attention, "full");
  // A length past every model's limit is refused before anything runs; past some, N/A there.
  g.seq_lens = {65};
  EXPECT_THROW(check_grid(g, std::vector<EncoderConfig>{models[0].config, models[1].config}), InputError);
  g.seq_lens = {64};
  EXPECT_NO_THROW(check_grid(g, std::vector<EncoderConfig>{models[0].config, builtin_config("bert-base")}));
  g.seq_lens = {};
  EXPECT_THROW(check_grid(g, std::vector<EncoderConfig>{models[0].config}), InputError);
}

TEST(BenchRun, ResultTablesInHuggingFacesLayout) {
  std::vector<BenchRecord> recs = {record("longformer w4", 1, 128, 68.85, 5), record("longformer w4", 1, 4096, 2499, 110)};
  BenchRecord na = record("bigbird full", 8, 4096, 0, 0);
  na.na_reason = "out of memory (limit 1.0 GiB)";
  recs.push_back(na);
  const std::string t = format_result_tables(recs);
  const std::string expected =
      "===================================       INFERENCE - SPEED - RESULT       ===================================\n"
      "--------------------------------------------------------------------------------------------------------------\n"
      "          Model Name             Batch Size      Seq Length      Time in s        Min in s        Max in s\n"
      "--------------------------------------------------------------------------------------------------------------\n"
      "        longformer w4                1              128           0.06885         0.06785         0.06985\n"
      "        longformer w4                1              4096           2.499           2.498            2.5\n"
      "         bigbird full                8              4096            N/A             N/A             N/A\n"
      "--------------------------------------------------------------------------------------------------------------\n";
  EXPECT_EQ(t.substr(0, expected.size()), expected) << t;
  EXPECT_NE(t.find("INFERENCE - MEMORY - RESULT"), std::string::npos);
  EXPECT_NE(t.find("Memory in MB"), std::string::npos);
  EXPECT_NE(t.find("        longformer w4                1              4096           110.0           100.0           300.0\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("         bigbird full                8              4096            N/A            100.0           300.0\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("N/A cells:\n  bigbird full, batch 8, 4096 tokens: out of memory (limit 1.0 GiB)\n"), std::string::npos) << t;
}

TEST(BenchRun, EnvironmentNamesMachineBuildAndLibraries) {
  const Environment env = collect_environment();
  std::vector<std::string> names;
  for (const auto& [name, value] : env) {
    names.push_back(name);
    EXPECT_FALSE(value.empty()) << name;
  }
  for (const char* n : {"slimformer", "date", "cpu", "cores", "threads", "isa", "memory", "os", "libraries", "compiler", "gnuplot"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  EXPECT_NE(env[0].second.find("(commit "), std::string::npos) << env[0].second;
  const std::string text = format_environment({{"cpu", "X"}, {"threads", "2"}});
  EXPECT_EQ(text, "ENVIRONMENT\n  cpu:     X\n  threads: 2\n");
}

// --max-memory counts from each model's loaded weights: a limit far below the weights (47 MB of
// MiniLM's embeddings) still measures cells that fit it, and one below a cell's needs is N/A.
TEST(BenchRun, ActivationLimitCountsFromTheLoadedWeights) {
  BenchGrid g;
  g.batch_sizes = {1};
  g.seq_lens = {8};
  g.runs = 1;
  g.warmup = 0;
  g.max_activation_bytes = size_t(8) << 20;
  auto recs = run_models({tiny_model("fits")}, g);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].na_reason, "");
  EXPECT_GT(recs[0].weights_bytes, g.max_activation_bytes);
  EXPECT_LT(recs[0].peak_activation_bytes, g.max_activation_bytes);
  g.max_activation_bytes = 1024;
  recs = run_models({tiny_model("too small")}, g);
  EXPECT_EQ(recs[0].na_reason, "out of memory (limit 1.0 KiB)");
  EXPECT_EQ(live_limit_bytes(), 0u);   // the limit ends with the grid
}

// A built-in's drawn weights are freed once the encoder has packed them: the process holds them
// once, not twice.
TEST(BenchRun, EncoderDoesNotKeepTheDrawnCheckpoint) {
  const BenchModel m = tiny_model("tiny");
  const size_t before = live_bytes();
  std::shared_ptr<const Checkpoint> ckpt = load_checkpoint(m);
  const size_t drawn = live_bytes() - before;
  std::weak_ptr<const Checkpoint> weak = ckpt;
  Encoder enc(ckpt, m.attention);
  EXPECT_GT(drawn, 40u << 20);   // MiniLM's embeddings and one layer
  ckpt.reset();
  EXPECT_TRUE(weak.expired());
  // What is left of the drawn tensors is what the encoder reads in place (embeddings, norms,
  // biases); the layer's linear weights (4 x 384^2 + 2 x 384 x 1536 floats) are gone.
  const size_t linear = size_t(4 * 384 * 384 + 2 * 384 * 1536) * 4;
  EXPECT_LE(live_bytes() - before, drawn - linear);
  Batch b;
  b.batch = 1;
  b.seq = 4;
  b.ids = {5, 6, 7, 8};
  b.mask.assign(4, 1);
  EXPECT_EQ(enc.forward(b).last_hidden_state.shape(), (Shape{1, 4, 384}));
}
