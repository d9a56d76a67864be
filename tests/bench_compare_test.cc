// Reading bench records back from JSON (exact round trip, errors naming file, record and field),
// and the before/after comparison table on known records.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"

using namespace slimformer;
using namespace slimformer::bench;

namespace {

constexpr size_t kMiB = 1024 * 1024;

std::vector<BenchRecord> known_records() {
  BenchRecord a;
  a.model = "minilm-l6";
  a.config = "minilm-l6";
  a.attention = "exact:tile=256";
  a.batch = 1;
  a.seq = 128;
  a.threads = 2;
  a.runs = 5;
  a.warmup = 1;
  a.median_ms = 12.345;
  a.min_ms = 0.1;   // no short decimal in binary: must come back bit for bit
  a.max_ms = 20.25;
  a.peak_activation_bytes = 3 * kMiB;
  a.weights_bytes = 90 * kMiB + 512 * 1024;
  a.peak_rss_bytes = 200 * kMiB;
  BenchRecord b = a;
  b.model = "dir,with \"quotes\"";
  b.config = "/models/a \"b\",c\\d";
  b.attention = "sliding:window=[8,16]+global:first=1";
  b.batch = 16;
  b.seq = 512;
  b.median_ms = 1234.5;
  b.min_ms = 1000;
  b.max_ms = 2000.125;
  b.peak_activation_bytes = 5000000000ull;   // beyond 32 bits
  BenchRecord c = a;                        // not measured
  c.seq = 4096;
  c.median_ms = c.min_ms = c.max_ms = 0;
  c.peak_activation_bytes = 0;
  c.na_reason = "out of memory (limit 64.0 MiB)";
  return {a, b, c};
}

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = slimtest::make_temp_dir() + "/" + name;
  slimtest::write_file(path, text);
  return path;
}

// The message of the FormatError that reading `text` gives ("no error" if none).
std::string read_error(const std::string& text, std::string* path_out = nullptr) {
  const std::string path = temp_file("r.json", text);
  if (path_out) *path_out = path;
  try {
    read_records_json(path);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

// format_json of the known records with one change made to the parsed document.
std::string edited(const std::function<void(nlohmann::ordered_json&)>& edit) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(format_json(known_records()));
  edit(j);
  return j.dump(2);
}

void expect_has(const std::string& text, std::initializer_list<std::string> parts) {
  for (const std::string& p : parts) EXPECT_NE(text.find(p), std::string::npos) << "'" << p << "' not in: " << text;
}

}  // namespace

TEST(BenchRecordsJson, RoundTripIsExact) {
  const std::vector<BenchRecord> recs = known_records();
  const std::string path = slimtest::make_temp_dir() + "/r.json";
  write_json(path, recs);
  const std::vector<BenchRecord> back = read_records_json(path);
  ASSERT_EQ(back.size(), recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(back[i].model, recs[i].model);
    EXPECT_EQ(back[i].config, recs[i].config);
    EXPECT_EQ(back[i].attention, recs[i].attention);
    EXPECT_EQ(back[i].batch, recs[i].batch);
    EXPECT_EQ(back[i].seq, recs[i].seq);
    EXPECT_EQ(back[i].threads, recs[i].threads);
    EXPECT_EQ(back[i].runs, recs[i].runs);
    EXPECT_EQ(back[i].warmup, recs[i].warmup);
    EXPECT_EQ(back[i].median_ms, recs[i].median_ms);   // exact, not near
    EXPECT_EQ(back[i].min_ms, recs[i].min_ms);
    EXPECT_EQ(back[i].max_ms, recs[i].max_ms);
    EXPECT_EQ(back[i].peak_activation_bytes, recs[i].peak_activation_bytes);
    EXPECT_EQ(back[i].weights_bytes, recs[i].weights_bytes);
    EXPECT_EQ(back[i].peak_rss_bytes, recs[i].peak_rss_bytes);
    EXPECT_EQ(back[i].na_reason, recs[i].na_reason);
  }
  EXPECT_EQ(format_json(back), format_json(recs));
  EXPECT_TRUE(read_records_json(temp_file("empty.json", format_json({}))).empty());
}

TEST(BenchRecordsJson, IgnoresOtherTopLevelKeysAndUnknownFields) {
  const std::string text = edited([](nlohmann::ordered_json& j) {
    j["environment"] = {{"cpu", "x"}, {"threads", 2}};
    j["records"][0]["later_field"] = {1, 2};
  });
  EXPECT_EQ(format_json(read_records_json(temp_file("r.json", text))), format_json(known_records()));
}

TEST(BenchRecordsJson, BadFilesNameThePathRecordAndField) {
  std::string path;
  std::string m = read_error("{\"records\": [", &path);
  expect_has(m, {path, "not valid JSON"});
  m = read_error("[]", &path);
  expect_has(m, {path, "\"records\""});
  m = read_error("{\"environment\": {}}", &path);
  expect_has(m, {path, "\"records\""});
  m = read_error("{\"records\": {}}", &path);
  expect_has(m, {path, "\"records\" must be a list"});
  m = read_error("{\"records\": [3]}", &path);
  expect_has(m, {path, "records[0] must be a JSON object"});

  // One bad field of the second or third record: its index and name, and what was expected.
  m = read_error(edited([](auto& j) { j["records"][1]["batch"] = -1; }), &path);
  expect_has(m, {path, "records[1].batch", "non-negative integer", "-1"});
  m = read_error(edited([](auto& j) { j["records"][1]["seq"] = 1.5; }));
  expect_has(m, {"records[1].seq", "non-negative integer"});
  m = read_error(edited([](auto& j) { j["records"][0]["peak_activation_bytes"] = -5; }));
  expect_has(m, {"records[0].peak_activation_bytes", "non-negative integer"});
  m = read_error(edited([](auto& j) { j["records"][0]["threads"] = 1ull << 40; }));
  expect_has(m, {"records[0].threads", "up to 2147483647"});
  m = read_error(edited([](auto& j) { j["records"][1]["median_ms"] = "fast"; }));
  expect_has(m, {"records[1].median_ms", "number", "string"});
  m = read_error(edited([](auto& j) { j["records"][1]["min_ms"] = -1.0; }));
  expect_has(m, {"records[1].min_ms", "non-negative number"});
  m = read_error(edited([](auto& j) { j["records"][0]["model"] = 7; }));
  expect_has(m, {"records[0].model", "a string", "integer"});
  m = read_error(edited([](auto& j) { j["records"][2].erase("seq"); }));
  expect_has(m, {"records[2].seq", "missing"});
  m = read_error(edited([](auto& j) { j["records"][0]["weights_bytes"] = nullptr; }));
  expect_has(m, {"records[0].weights_bytes", "null"});
  // A measured record may not leave a measurement out; an N/A one (with an na_reason) must.
  m = read_error(edited([](auto& j) { j["records"][0]["median_ms"] = nullptr; }));
  expect_has(m, {"records[0].median_ms", "na_reason"});
  m = read_error(edited([](auto& j) { j["records"][2]["na_reason"] = 3; }));
  expect_has(m, {"records[2].na_reason", "a string"});
}

TEST(BenchRecordsJson, UnreadableFileIsIoError) {
  const std::string dir = slimtest::make_temp_dir();
  try {
    read_records_json(dir + "/missing.json");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/missing.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_records_json(dir), IoError);   // a folder
}

namespace {

BenchRecord cell(const std::string& attention, int64_t batch, int64_t seq, double ms, size_t peak_mib) {
  BenchRecord r;
  r.model = "bert";
  r.config = "bert-base";
  r.attention = attention;
  r.batch = batch;
  r.seq = seq;
  r.median_ms = r.min_ms = r.max_ms = ms;
  r.peak_activation_bytes = peak_mib * kMiB;
  return r;
}

BenchRecord na_cell(const std::string& attention, int64_t batch, int64_t seq) {
  BenchRecord r = cell(attention, batch, seq, 0, 0);
  r.na_reason = "out of memory (limit 1.0 GiB)";
  return r;
}

}  // namespace

TEST(BenchCompare, RowsRatiosAndGeometricMeans) {
  const std::vector<BenchRecord> before = {
      cell("full", 1, 128, 10, 8),    cell("full", 1, 512, 40, 32), na_cell("full", 8, 512),
      cell("full", 1, 2048, 200, 128),
      cell("full", 1, 128, 99, 99),   // the same cell again: the first counts
  };
  const std::vector<BenchRecord> after = {
      cell("exact", 1, 128, 4, 3),    // another mechanism: another cell
      cell("full", 1, 512, 50, 72),   cell("full", 8, 512, 100, 64), cell("full", 1, 128, 5, 4),
      cell("full", 1, 4096, 300, 256),
  };
  const std::string expected =
      "model  attention  batch   seq  before ms  after ms   time  before MiB  after MiB  memory  note\n"
      "bert   full           1   128      10.00      5.00  0.50x         8.0        4.0   0.50x\n"
      "bert   full           1   512      40.00     50.00  1.25x        32.0       72.0   2.25x\n"
      "bert   full           8   512        N/A    100.00      -         N/A       64.0       -  before N/A: out of memory (limit 1.0 GiB)\n"
      "bert   full           1  2048     200.00         -      -       128.0          -       -  only before\n"
      "bert   exact          1   128          -      4.00      -           -        3.0       -  only after\n"
      "bert   full           1  4096          -    300.00      -           -      256.0       -  only after\n"
      // sqrt(0.5 * 1.25) = 0.7906 (the arithmetic mean would be 0.875); sqrt(0.5 * 2.25) = 1.0607.
      "geometric mean of after/before over 2 cells measured on both sides: time 0.79x, memory 1.06x\n";
  EXPECT_EQ(format_comparison(before, after), expected);
}

TEST(BenchCompare, NoCellOnBothSides) {
  const std::string text = format_comparison({cell("full", 1, 128, 10, 8)}, {na_cell("full", 1, 128)});
  const std::string expected =
      "model  attention  batch  seq  before ms  after ms  time  before MiB  after MiB  memory  note\n"
      "bert   full           1  128      10.00       N/A     -         8.0        N/A       -  after N/A: out of memory (limit 1.0 GiB)\n"
      "no cell was measured on both sides: no ratio to average\n";
  EXPECT_EQ(text, expected);
  EXPECT_EQ(format_comparison({}, {}),
            "model  attention  batch  seq  before ms  after ms  time  before MiB  after MiB  memory\n"
            "no cell was measured on both sides: no ratio to average\n");
}

TEST(BenchCompare, ThreeCellsAndAZeroPeak) {
  // Time ratios 2, 4 and 8: geometric mean 4 (arithmetic 4.67). Peaks 0 -> 0 have no ratio, so
  // the memory mean is over the two others: sqrt(1 * 0.25) = 0.5.
  const std::vector<BenchRecord> before = {cell("full", 1, 1, 1, 4), cell("full", 1, 2, 1, 4), cell("full", 1, 3, 1, 0)};
  const std::vector<BenchRecord> after = {cell("full", 1, 1, 2, 4), cell("full", 1, 2, 4, 1), cell("full", 1, 3, 8, 0)};
  const std::string text = format_comparison(before, after);
  expect_has(text, {" 2.00x", " 0.25x", " 8.00x",
                    "over 3 cells measured on both sides: time 4.00x, memory 0.50x (over 2 cells, the others having a zero)\n"});
}

TEST(BenchCompare, TrainingStepsAndForwardPassesAreNotPaired) {
  BenchRecord train = cell("full", 1, 128, 30, 8), checkpointed = cell("full", 1, 128, 40, 4);
  train.mode = "training";
  checkpointed.mode = "training-checkpointed";
  EXPECT_THROW(format_comparison({cell("full", 1, 128, 10, 8)}, {train}), slimformer::InputError);
  EXPECT_THROW(format_comparison({train}, {cell("full", 1, 128, 10, 8)}), slimformer::InputError);
  expect_has(format_comparison({train}, {checkpointed}), {" 1.33x", " 0.50x"});
}
