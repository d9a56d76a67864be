// Benchmark writers on known records, and the harness's statistics and inputs.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
using namespace slimformer::bench;

namespace {

std::vector<BenchRecord> known_records() {
  BenchRecord a;
  a.model = "minilm-l6";
  a.attention = "full";
  a.batch = 1;
  a.seq = 128;
  a.threads = 2;
  a.runs = 5;
  a.warmup = 1;
  a.median_ms = 12.345;
  a.min_ms = 11.5;
  a.max_ms = 20.25;
  a.peak_activation_bytes = 3 * 1024 * 1024;
  a.weights_bytes = 90 * 1024 * 1024 + 512 * 1024;
  a.peak_rss_bytes = 200ull * 1024 * 1024;
  BenchRecord b = a;
  b.model = "dir,with \"quotes\"";
  b.attention = "sliding:window=[8,16]";
  b.batch = 16;
  b.seq = 512;
  b.median_ms = 1234.5;
  b.min_ms = 1000;
  b.max_ms = 2000.125;
  b.peak_activation_bytes = 5000000000ull;   // beyond 32 bits
  return {a, b};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(BenchReport, TableIsAlignedAndHuman) {
  const std::string t = format_table(known_records());
  const std::string expected =
      "model              attention              batch  seq  threads  runs  warmup  median ms   min ms   max ms  peak act MiB  weights MiB  peak RSS MiB\n"
      "minilm-l6          full                       1  128        2     5       1      12.35    11.50    20.25           3.0         90.5         200.0\n"
      "dir,with \"quotes\"  sliding:window=[8,16]     16  512        2     5       1    1234.50  1000.00  2000.12        4768.4         90.5         200.0\n";
  EXPECT_EQ(t, expected);
}

TEST(BenchReport, CsvQuotesAndKeepsFullPrecision) {
  const std::string c = format_csv(known_records());
  const std::string expected =
      "model,config,attention,mode,batch,seq,threads,runs,warmup,median_ms,min_ms,max_ms,peak_activation_bytes,"
      "weights_bytes,peak_rss_bytes,na_reason\n"
      "minilm-l6,,full,inference,1,128,2,5,1,12.345,11.5,20.25,3145728,94896128,209715200,\n"
      "\"dir,with \"\"quotes\"\"\",,\"sliding:window=[8,16]\",inference,16,512,2,5,1,1234.5,1000,2000.125,5000000000,"
      "94896128,209715200,\n";
  EXPECT_EQ(c, expected);
}

TEST(BenchReport, JsonHoldsEveryFieldOfEveryRecord) {
  const auto recs = known_records();
  const nlohmann::json j = nlohmann::json::parse(format_json(recs));
  ASSERT_TRUE(j.at("records").is_array());
  ASSERT_EQ(j["records"].size(), 2u);
  const auto& r = j["records"][1];
  EXPECT_EQ(r.at("model"), "dir,with \"quotes\"");
  EXPECT_EQ(r.at("attention"), "sliding:window=[8,16]");
  EXPECT_EQ(r.at("batch"), 16);
  EXPECT_EQ(r.at("seq"), 512);
  EXPECT_EQ(r.at("threads"), 2);
  EXPECT_EQ(r.at("runs"), 5);
  EXPECT_EQ(r.at("warmup"), 1);
  EXPECT_DOUBLE_EQ(r.at("median_ms").get<double>(), 1234.5);
  EXPECT_DOUBLE_EQ(r.at("min_ms").get<double>(), 1000);
  EXPECT_DOUBLE_EQ(r.at("max_ms").get<double>(), 2000.125);
  EXPECT_EQ(r.at("peak_activation_bytes").get<uint64_t>(), 5000000000ull);
  EXPECT_EQ(r.at("weights_bytes").get<uint64_t>(), 94896128u);
  EXPECT_EQ(r.at("peak_rss_bytes").get<uint64_t>(), 209715200u);
  EXPECT_TRUE(r.at("na_reason").is_null());
  EXPECT_EQ(r.at("mode"), "inference");
  EXPECT_EQ(r.size(), 16u);
}

// A cell that could not be measured: its times and peak are N/A in every writer, the reason is
// given, and the fields that do not depend on the run are kept.
TEST(BenchReport, NotMeasuredCellsAreNA) {
  std::vector<BenchRecord> recs = known_records();
  recs[1].na_reason = "out of memory (limit 64.0 MiB)";
  const std::string t = format_table(recs);
  const std::string expected =
      "model              attention              batch  seq  threads  runs  warmup  median ms  min ms  max ms  peak act MiB  weights MiB  peak RSS MiB  N/A reason\n"
      "minilm-l6          full                       1  128        2     5       1      12.35   11.50   20.25           3.0         90.5         200.0\n"
      "dir,with \"quotes\"  sliding:window=[8,16]     16  512        2     5       1        N/A     N/A     N/A           N/A         90.5         200.0  out of memory (limit 64.0 MiB)\n";
  EXPECT_EQ(t, expected);
  const std::string c = format_csv(recs);
  EXPECT_NE(c.find(",16,512,2,5,1,,,,,94896128,209715200,out of memory (limit 64.0 MiB)\n"), std::string::npos) << c;
  const nlohmann::json j = nlohmann::json::parse(format_json(recs));
  const auto& r = j["records"][1];
  for (const char* k : {"median_ms", "min_ms", "max_ms", "peak_activation_bytes"}) EXPECT_TRUE(r.at(k).is_null()) << k;
  EXPECT_EQ(r.at("weights_bytes").get<uint64_t>(), 94896128u);
  EXPECT_EQ(r.at("na_reason"), "out of memory (limit 64.0 MiB)");
  EXPECT_EQ(j["records"][0].at("median_ms").get<double>(), 12.345);
}

TEST(BenchReport, EmptyRecordsStillWellFormed) {
  EXPECT_EQ(nlohmann::json::parse(format_json({})).at("records").size(), 0u);
  EXPECT_EQ(format_csv({}), "model,config,attention,mode,batch,seq,threads,runs,warmup,median_ms,min_ms,max_ms,"
                            "peak_activation_bytes,weights_bytes,peak_rss_bytes,na_reason\n");
}

TEST(BenchReport, WritesAtomicallyAndRefusesBadPaths) {
  const std::string dir = slimtest::make_temp_dir();
  write_json(dir + "/r.json", known_records());
  EXPECT_EQ(slurp(dir + "/r.json"), format_json(known_records()));
  write_csv(dir + "/r.csv", known_records());
  EXPECT_EQ(slurp(dir + "/r.csv"), format_csv(known_records()));
  EXPECT_THROW(write_json(dir + "/missing/r.json", known_records()), IoError);
}

TEST(BenchHarness, SummarizeMedianMinMax) {
  const TimingStats odd = summarize({5, 1, 3});
  EXPECT_EQ(odd.median, 3);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 5);
  const TimingStats even = summarize({4, 1, 3, 10});
  EXPECT_EQ(even.median, 3.5);
  EXPECT_EQ(summarize({}).median, 0);
  EXPECT_EQ(summarize({2}).median, 2);
}

TEST(BenchHarness, RandomBatchIsSeededInRangeAndAvoidsPad) {
  EncoderConfig c = builtin_config("roberta-base");
  c.vocab_size = 3;   // ids 0..2, pad 1: only 0 and 2 may appear
  const Batch a = random_batch(c, 4, 50, 9), b = random_batch(c, 4, 50, 9), d = random_batch(c, 4, 50, 10);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_NE(a.ids, d.ids);
  ASSERT_EQ(a.ids.size(), 200u);
  EXPECT_EQ(a.mask, std::vector<int64_t>(200, 1));
  EXPECT_TRUE(a.type_ids.empty());
  int zeros = 0;
  for (int64_t id : a.ids) {
    EXPECT_TRUE(id == 0 || id == 2) << id;
    zeros += id == 0;
  }
  EXPECT_GT(zeros, 20);
  EXPECT_LT(zeros, 180);
}

TEST(BenchHarness, GridChecksNameTheField) {
  const EncoderConfig c = builtin_config("bert-base");
  auto message = [&](BenchGrid g) {
    try {
      check_grid(g, c);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BenchGrid g;
  EXPECT_NO_THROW(check_grid(g, c));
  g.seq_lens = {513};
  EXPECT_NE(message(g).find("sequence length 513 exceeds the model's limit of 512"), std::string::npos);
  g.seq_lens = {};
  EXPECT_NE(message(g).find("sequence length"), std::string::npos);
  g = BenchGrid{};
  g.batch_sizes = {1, 0};
  EXPECT_NE(message(g).find("batch size 0"), std::string::npos);
  g = BenchGrid{};
  g.batch_sizes = {INT64_MAX / 512};
  EXPECT_NE(message(g).find("too large"), std::string::npos);
  g = BenchGrid{};
  g.runs = 0;
  EXPECT_NE(message(g).find("runs"), std::string::npos);
  g = BenchGrid{};
  g.warmup = -1;
  EXPECT_NE(message(g).find("warmup"), std::string::npos);
  // RoBERTa's limit is max_position_embeddings minus the position offset.
  BenchGrid r;
  r.seq_lens = {512};
  EXPECT_NO_THROW(check_grid(r, builtin_config("roberta-base")));
  r.seq_lens = {513};
  EXPECT_THROW(check_grid(r, builtin_config("roberta-base")), InputError);
}

TEST(BenchHarness, GridRunsEveryCellInOrderWithMemory) {
  EncoderConfig c = builtin_config("minilm-l6");
  c.num_layers = 1;
  c.vocab_size = 1000;
  const Encoder enc(random_checkpoint(c, 1));
  BenchGrid g;
  g.batch_sizes = {1, 3};
  g.seq_lens = {4, 17};
  g.runs = 3;
  g.warmup = 1;
  int seen = 0;
  const auto recs = run_grid(enc, "tiny", g, [&](const BenchRecord&) { ++seen; });
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(seen, 4);
  const std::vector<std::pair<int64_t, int64_t>> cells = {{1, 4}, {1, 17}, {3, 4}, {3, 17}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(recs[i].batch, cells[i].first);
    EXPECT_EQ(recs[i].seq, cells[i].second);
    EXPECT_EQ(recs[i].model, "tiny");
    EXPECT_EQ(recs[i].runs, 3);
    EXPECT_LE(recs[i].min_ms, recs[i].median_ms);
    EXPECT_LE(recs[i].median_ms, recs[i].max_ms);
    EXPECT_GT(recs[i].min_ms, 0);
    EXPECT_EQ(recs[i].weights_bytes, enc.weights_bytes());
    // At least the (B, T, H) output plus the per-forward scratch the encoder keeps between
    // forwards: stacked q/k/v (3H), context (H), FFN intermediate (I) per token (the default
    // `exact` attention adds its tiles, not a (T, T) matrix).
    const int64_t B = cells[i].first, T = cells[i].second, H = c.hidden_size, I = c.intermediate_size;
    const int64_t floats = B * T * (H + 3 * H + H + I);
    EXPECT_GE(recs[i].peak_activation_bytes, size_t(floats * 4));
    EXPECT_GT(recs[i].peak_rss_bytes, 0u);
  }
  EXPECT_GT(recs[3].peak_activation_bytes, recs[0].peak_activation_bytes);
}

// The config column says what was built; the table shows it only when it says more than the
// model column (a labelled model).
TEST(BenchReport, TableShowsConfigOnlyForLabelledModels) {
  std::vector<BenchRecord> recs = known_records();
  for (BenchRecord& r : recs) r.config = r.model;
  EXPECT_EQ(format_table(recs).find("config"), std::string::npos);
  recs[1].config = "longformer-base-4096:attention_window=4";
  const std::string t = format_table(recs);
  EXPECT_EQ(t.rfind("model              config ", 0), 0u) << t;
  EXPECT_NE(t.find("longformer-base-4096:attention_window=4"), std::string::npos) << t;
}
