// slimformer bench end to end: the table on stdout and the JSON/CSV records, for a built-in
// configuration and for a model folder without a tokenizer.
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

using namespace slimtest;

namespace {

void expect_record(const nlohmann::json& r, const std::string& model, int64_t batch, int64_t seq) {
  EXPECT_EQ(r.at("model"), model);
  EXPECT_EQ(r.at("batch"), batch);
  EXPECT_EQ(r.at("seq"), seq);
  EXPECT_EQ(r.at("runs"), 2);
  EXPECT_EQ(r.at("warmup"), 1);
  EXPECT_EQ(r.at("threads"), 1);
  const double med = r.at("median_ms"), lo = r.at("min_ms"), hi = r.at("max_ms");
  EXPECT_GT(lo, 0);
  EXPECT_LE(lo, med);
  EXPECT_LE(med, hi);
  EXPECT_GT(r.at("peak_activation_bytes").get<uint64_t>(), 0u);
  EXPECT_GT(r.at("weights_bytes").get<uint64_t>(), 0u);
  EXPECT_GE(r.at("peak_rss_bytes").get<uint64_t>(), r.at("weights_bytes").get<uint64_t>());
}

}  // namespace

TEST(CliBench, BuiltinConfigWritesJsonSlow) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --config minilm-l6 --seq-lens 8 --batch-sizes 1 --runs 2 --warmup 1 "
                                  "--threads 1 --json " + q(dir + "/r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("model ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("minilm-l6"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/r.json"));
  ASSERT_EQ(j.at("records").size(), 1u);
  const auto& rec = j["records"][0];
  expect_record(rec, "minilm-l6", 1, 8);
  // MiniLM-L6's f32 weights: 22 713 216 parameters x 4 bytes.
  EXPECT_EQ(rec.at("weights_bytes").get<uint64_t>(), 22713216ull * 4);
  EXPECT_EQ(rec.size(), 15u);
  EXPECT_EQ(rec.at("attention"), "exact:tile=256");   // the model's own mechanism (dense models: exact)
  EXPECT_TRUE(rec.at("na_reason").is_null());
}

TEST(CliBench, FolderWithoutTokenizerGridAndCsv) {
  const std::string dir = make_temp_dir();
  const std::string model = model_dir("bert-tiny");
  const CommandResult r = run_cli("bench --model " + q(model) + " --seq-lens 3,17 --batch-sizes 1,2 --runs 2 "
                                  "--warmup 1 --threads 1 --json " + q(dir + "/r.json") + " --csv " + q(dir + "/r.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/r.json"));
  ASSERT_EQ(j.at("records").size(), 4u);
  expect_record(j["records"][0], model, 1, 3);
  expect_record(j["records"][1], model, 1, 17);
  expect_record(j["records"][2], model, 2, 3);
  expect_record(j["records"][3], model, 2, 17);
  // bert-tiny: 176 576 f32 parameters.
  EXPECT_EQ(j["records"][0].at("weights_bytes").get<uint64_t>(), 176576u * 4);
  const std::string csv = read_file(dir + "/r.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_EQ(csv.rfind("model,config,attention,batch,seq,", 0), 0u);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << r.out;   // header + 4 rows
}
