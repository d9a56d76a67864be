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
  // stdout: the environment block and the two tables; stderr: one progress line per cell.
  EXPECT_EQ(r.out.rfind("ENVIRONMENT\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("INFERENCE - SPEED - RESULT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("INFERENCE - MEMORY - RESULT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("minilm-l6"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.rfind("[1/1] minilm-l6, batch 1, 8 tokens: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("elapsed"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/r.json"));
  ASSERT_EQ(j.at("records").size(), 1u);
  const auto& rec = j["records"][0];
  expect_record(rec, "minilm-l6", 1, 8);
  // MiniLM-L6's f32 weights: 22 713 216 parameters x 4 bytes.
  EXPECT_EQ(rec.at("weights_bytes").get<uint64_t>(), 22713216ull * 4);
  EXPECT_EQ(rec.size(), 16u);
  EXPECT_EQ(rec.at("mode"), "inference");
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
  EXPECT_EQ(csv.rfind("model,config,attention,mode,batch,seq,", 0), 0u);
  // Each cell is a row of both tables, named by the folder.
  size_t rows = 0;
  for (size_t at = r.out.find(model); at != std::string::npos; at = r.out.find(model, at + 1)) ++rows;
  EXPECT_EQ(rows, 8u) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 4) << r.err;   // progress lines
}

namespace {

bool is_png(const std::string& bytes) { return bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0; }
bool is_svg(const std::string& text) {
  return text.find("<svg") != std::string::npos && text.find("</svg>") != std::string::npos;
}

// A small grid on bert-tiny, fast enough for every test run.
const std::string kFastGrid = " --seq-lens 4,8 --batch-sizes 1 --runs 1 --warmup 0 --threads 1";

}  // namespace

TEST(CliBench, SeveralModelsIntoAnOutputFolder) {
  const std::string dir = make_temp_dir() + "/results";
  const std::string model = model_dir("bert-tiny");
  const CommandResult r = run_cli("bench --models " + q("full=" + model + ":attention=full,exact=" + model) + kFastGrid +
                                  " --output-dir " + q(dir));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("results in " + dir + "/ (report.txt, results.json, results.csv, speed.png, speed.svg, "
                       "memory.png, memory.svg)"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/results.json"));
  EXPECT_TRUE(j.at("environment").contains("cpu"));
  EXPECT_TRUE(j.at("environment").contains("slimformer"));
  ASSERT_EQ(j.at("records").size(), 4u);
  EXPECT_EQ(j["records"][0].at("model"), "full");
  EXPECT_EQ(j["records"][0].at("config"), model + ":attention=full");
  EXPECT_EQ(j["records"][0].at("attention"), "full");
  EXPECT_EQ(j["records"][2].at("model"), "exact");
  EXPECT_EQ(j["records"][2].at("attention"), "exact:tile=256");
  const std::string report = read_file(dir + "/report.txt");
  for (const char* part : {"ENVIRONMENT", "INFERENCE - SPEED - RESULT", "INFERENCE - MEMORY - RESULT", "ALL FIELDS"}) {
    EXPECT_NE(report.find(part), std::string::npos) << part;
  }
  const std::string csv = read_file(dir + "/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  for (const char* png : {"/speed.png", "/memory.png"}) EXPECT_TRUE(is_png(read_file(dir + png))) << png;
  for (const char* svg : {"/speed.svg", "/memory.svg"}) {
    const std::string text = read_file(dir + svg);
    EXPECT_TRUE(is_svg(text)) << svg;
    EXPECT_NE(text.find("full, batch 1"), std::string::npos) << svg;
    EXPECT_NE(text.find("exact, batch 1"), std::string::npos) << svg;
  }
}

TEST(CliBench, FolderWithOverrides) {
  const std::string dir = make_temp_dir();
  const std::string model = model_dir("bert-tiny");
  const CommandResult r = run_cli("bench --model " + q(model + ":num_hidden_layers=1,attention=full") + kFastGrid +
                                  " --json " + q(dir + "/r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json rec = nlohmann::json::parse(read_file(dir + "/r.json")).at("records")[0];
  EXPECT_EQ(rec.at("config"), model + ":num_hidden_layers=1,attention=full");
  EXPECT_EQ(rec.at("attention"), "full");
  // One of bert-tiny's two layers: embeddings (1000 + 128 + 2 rows of 64, LayerNorm), one layer
  // (4 x 64 x 64 + 2 x 64 x 256 + biases and LayerNorms) and the pooler.
  const uint64_t params = (1000 + 128 + 2) * 64 + 2 * 64 + (4 * (64 * 64 + 64) + 2 * 2 * 64 + 64 * 256 + 256 + 256 * 64 + 64) +
                          64 * 64 + 64;
  EXPECT_EQ(rec.at("weights_bytes").get<uint64_t>(), params * 4);
  expect_one_line_error(run_cli("bench --model " + q(model + "-missing:attention=full") + kFastGrid), {"--model", "-missing"});
}

TEST(CliBench, CellsPastTheTimeLimitAreNA) {
  const std::string dir = make_temp_dir();
  const CommandResult r = run_cli("bench --model " + q(model_dir("bert-tiny")) + kFastGrid + " --time-limit 0.000001 --json " +
                                  q(dir + "/r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json recs = nlohmann::json::parse(read_file(dir + "/r.json")).at("records");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].at("na_reason").get<std::string>().rfind("time limit: one forward took ", 0), 0u);
  EXPECT_EQ(recs[1].at("na_reason"), "skipped: batch 1 x 4 tokens already passed the time limit");
  EXPECT_TRUE(recs[0].at("median_ms").is_null());
  EXPECT_NE(r.out.find("N/A cells:"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("N/A (time limit"), std::string::npos) << r.err;
}

// With no model named: the default comparisons, into a new folder in ./bench-results/ (here with
// one short length and one run, to keep the test quick; the real grid is in docs/benchmarks/).
TEST(CliBench, DefaultRunIntoBenchResultsSlow) {
  const std::string cwd = make_temp_dir();
  const CommandResult r = run_cli_in(cwd, "bench --seq-lens 32 --runs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string where = r.err.substr(r.err.find("results in ") + 11);
  EXPECT_EQ(where.rfind("bench-results/", 0), 0u) << r.err;
  const std::string folder = cwd + "/" + where.substr(0, where.find("/ ("));
  const nlohmann::json recs = nlohmann::json::parse(read_file(folder + "/results.json")).at("records");
  ASSERT_EQ(recs.size(), 7u);
  const std::vector<std::string> labels = {"longformer window 512", "longformer window 4", "bigbird sparse", "bigbird full",
                                           "reformer lsh", "reformer full", "bert-base exact"};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(recs[i].at("model"), labels[i]);
    EXPECT_TRUE(recs[i].at("na_reason").is_null()) << recs[i].dump();
  }
  EXPECT_TRUE(is_png(read_file(folder + "/memory.png")));
  // A second run never overwrites the first.
  const CommandResult again = run_cli_in(cwd, "bench --seq-lens 32 --runs 1 --no-plots");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("results in " + where.substr(0, where.find("/ ("))), std::string::npos) << again.err;
}

TEST(CliBench, BadRequestsGetOneLine) {
  const std::string m = " --model " + q(model_dir("bert-tiny"));
  expect_one_line_error(run_cli("bench --checkpoint-activations --config bert-base"), {"--checkpoint-activations", "--training"});
  expect_one_line_error(run_cli("bench --config bert-huge"), {"--config", "bert-huge", "longformer-base-4096"});
  expect_one_line_error(run_cli("bench --config bert-base:attention_windw=4"),
                        {"--config", "unknown key 'attention_windw'", "num_hidden_layers"});
  expect_one_line_error(run_cli("bench --config longformer-base-4096:attention_window=0"), {"attention_window", "positive"});
  expect_one_line_error(run_cli("bench --models " + q("a=bert-base,a=minilm-l6")), {"--models", "'a' names two models"});
  expect_one_line_error(run_cli("bench --config bert-base --models minilm-l6"), {"one of --model, --config or --models"});
  expect_one_line_error(run_cli("bench" + m + " --seq-lens ''"), {"--seq-lens"});
  expect_one_line_error(run_cli("bench" + m + " --batch-sizes 0"), {"--batch-sizes"});
  expect_one_line_error(run_cli("bench" + m + " --seq-lens 4096"), {"4096", "every model's limit", "128"});
  expect_one_line_error(run_cli("bench" + m + " --time-limit -1"), {"--time-limit", "'-1'"});
  expect_one_line_error(run_cli("bench" + m + " --time-limit soon"), {"--time-limit", "'soon'"});
  expect_one_line_error(run_cli("bench" + m + " --attention sliding:window=0"), {"window"});
  expect_one_line_error(run_cli("bench" + m + " --heads 4"), {"--heads", "--attention-only"});
  expect_one_line_error(run_cli("bench" + m + kFastGrid + " --output-dir /proc/no-such-folder"), {"--output-dir"});
  expect_one_line_error(run_cli("bench --models " + q("x=bert-base:layers")), {"--models", "'layers' is not KEY=VALUE"});
  expect_one_line_error(run_cli("bench --config " + q("bert-base:attention=[exact")), {"--config", "'[' without ']'"});
  {
    const ScopedEnv env("SLIMFORMER_GNUPLOT", "/no/such/gnuplot");   // plots asked for, no gnuplot: before the run
    expect_one_line_error(run_cli("bench" + m + kFastGrid + " --output-dir " + q(make_temp_dir() + "/out")),
                          {"gnuplot was not found", "--no-plots"});
  }
  const std::string file = make_temp_dir() + "/a-file";
  write_file(file, "x");
  expect_one_line_error(run_cli("bench" + m + kFastGrid + " --output-dir " + q(file)), {"--output-dir", "a-file"});
}
