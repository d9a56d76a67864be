// slimformer bench --training end to end: training-step records in JSON and CSV, the tables'
// titles, and the one-line refusals of what does not train.
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

using namespace slimtest;

TEST(CliBenchTraining, FolderWritesTrainingRecords) {
  const std::string dir = make_temp_dir();
  const std::string model = model_dir("bert-tiny");
  const std::string grid = " --batch-sizes 2 --seq-lens 8,16 --runs 1 --warmup 0 --threads 1 --no-plots";
  for (const std::string variant : {"", " --checkpoint-activations"}) {
    const CommandResult r = run_cli("bench --training --model " + q(model) + grid + variant + " --json " +
                                    q(dir + "/r.json") + " --csv " + q(dir + "/r.csv"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("TRAINING STEP - SPEED - RESULT"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TRAINING STEP - MEMORY - RESULT"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("forward + backward + AdamW"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;   // progress lines
    const std::string mode = variant.empty() ? "training" : "training-checkpointed";
    const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/r.json"));
    ASSERT_EQ(j.at("records").size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const auto& rec = j["records"][i];
      EXPECT_EQ(rec.at("mode"), mode);
      EXPECT_EQ(rec.at("attention"), "full");
      EXPECT_EQ(rec.at("model"), model);
      EXPECT_EQ(rec.at("batch"), 2);
      EXPECT_EQ(rec.at("seq"), i == 0 ? 8 : 16);
      EXPECT_EQ(rec.at("runs"), 1);
      EXPECT_GT(rec.at("median_ms").get<double>(), 0.0);
      EXPECT_GT(rec.at("peak_activation_bytes").get<uint64_t>(), 0u);
      EXPECT_GT(rec.at("weights_bytes").get<uint64_t>(), 0u);
      EXPECT_TRUE(rec.at("na_reason").is_null());
    }
    const std::string csv = read_file(dir + "/r.csv");
    EXPECT_EQ(csv.rfind("model,config,attention,mode,batch,seq,", 0), 0u) << csv;
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
    EXPECT_NE(csv.find(",full," + mode + ",2,16,"), std::string::npos) << csv;
  }
}

TEST(CliBenchTraining, RefusalsAreOneLine) {
  const std::string grid = " --batch-sizes 1 --seq-lens 8 --runs 1 --no-plots";
  const std::string tiny = " --model " + q(model_dir("bert-tiny"));
  expect_one_line_error(run_cli("bench --training --model " + q(model_dir("longformer-tiny")) + grid),
                        {"--model", "longformer-tiny", "Longformer", "full attention"});
  expect_one_line_error(run_cli("bench --training --model " + q(model_dir("bigbird-tiny-block_sparse")) + grid),
                        {"--model", "bigbird-tiny-block_sparse", "block_sparse", "full attention"});
  expect_one_line_error(run_cli("bench --training --config reformer-shaped" + grid),
                        {"--config", "reformer-shaped", "lsh", "full attention"});
  expect_one_line_error(run_cli("bench --training --models " + q("a=" + model_dir("bert-tiny") + ":attention=exact") + grid),
                        {"--models", "attention 'exact", "full attention"});
  expect_one_line_error(run_cli("bench --training --attention sliding:window=4" + tiny + grid),
                        {"--attention", "sliding:window=4", "--training", "full attention"});
  expect_one_line_error(run_cli("bench --checkpoint-activations" + tiny + grid), {"--checkpoint-activations", "--training"});
  expect_one_line_error(run_cli("bench --training" + grid), {"--training", "--model"});
  expect_one_line_error(run_cli("bench --training --attention-only --attention full" + grid),
                        {"--training", "--attention-only"});
  expect_one_line_error(run_cli("bench --checkpoint-activations --attention-only --attention full" + grid),
                        {"--checkpoint-activations", "--attention-only"});
  // int8 weights: quantized first, then refused by name.
  const std::string dir = make_temp_dir();
  ASSERT_EQ(run_cli("quantize --dtype int8" + tiny + " --out " + q(dir + "/q8")).exit_code, 0);
  expect_one_line_error(run_cli("bench --training --model " + q(dir + "/q8") + grid), {"--model", "q8", "int8", "f32"});
}
