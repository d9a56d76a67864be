// The training harness: cells of whole training steps on a small model folder, what they record,
// activation checkpointing's smaller peak, the models the trainable encoder refuses, and the mode
// field in the writers and the reader.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"

using namespace slimformer;
using namespace slimformer::bench;

namespace {

BenchModel folder_model(const std::string& name, const std::string& attention = "") {
  ModelSpec spec = parse_model_spec(slimtest::model_dir(name));
  spec.attention = attention;
  return resolve_model(spec);
}

BenchGrid small_grid(bool checkpoint) {
  BenchGrid g;
  g.batch_sizes = {2};
  g.seq_lens = {8, 64};
  g.runs = 1;
  g.warmup = 0;
  g.training = true;
  g.checkpoint_activations = checkpoint;
  return g;
}

// bert-tiny's trainable parameters (no pooler): embeddings 1000x64 + 128x64 + 2x64 + LayerNorm
// 2x64, and per layer Q, K, V, O (64x64 + 64 each), LayerNorm, FFN 64->256->64, LayerNorm.
constexpr size_t kBertTinyParams = (1000 + 128 + 2 + 2) * 64 + 2 * (4 * (64 * 64 + 64) + 2 * 64 + (64 * 256 + 256) +
                                                                     (256 * 64 + 64) + 2 * 64);

}  // namespace

TEST(BenchTraining, CellsOfTrainingStepsAndCheckpointingsSmallerPeak) {
  const std::vector<BenchModel> models = {folder_model("bert-tiny")};
  std::vector<BenchRecord> recs[2];
  for (bool checkpoint : {false, true}) {
    size_t seen = 0;
    recs[checkpoint] = run_models(models, small_grid(checkpoint), [&](const BenchRecord&, const RunProgress&) { ++seen; });
    EXPECT_EQ(seen, 2u);
    ASSERT_EQ(recs[checkpoint].size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const BenchRecord& r = recs[checkpoint][i];
      EXPECT_EQ(r.na_reason, "");
      EXPECT_EQ(r.mode, checkpoint ? "training-checkpointed" : "training");
      EXPECT_EQ(r.attention, "full");
      EXPECT_EQ(r.model, models[0].spec.label);
      EXPECT_EQ(r.batch, 2);
      EXPECT_EQ(r.seq, i == 0 ? 8 : 64);
      EXPECT_EQ(r.runs, 1);
      EXPECT_EQ(r.warmup, 0);
      EXPECT_GT(r.min_ms, 0.0);
      EXPECT_LE(r.min_ms, r.median_ms);
      EXPECT_LE(r.median_ms, r.max_ms);
      EXPECT_GT(r.peak_activation_bytes, 0u);
      EXPECT_EQ(r.weights_bytes, kBertTinyParams * 4);
      EXPECT_GT(r.peak_rss_bytes, r.weights_bytes);
    }
    // A longer input holds more activations.
    EXPECT_GT(recs[checkpoint][1].peak_activation_bytes, recs[checkpoint][0].peak_activation_bytes);
  }
  // At 64 tokens one layer's activations (Q, K, V, 4 x 64 x 64 attention probabilities, the FFN's
  // 256 wide) far outweigh the layer inputs checkpointing keeps instead: with two layers, keeping
  // one layer's activations at a time must hold less.
  EXPECT_LT(recs[1][1].peak_activation_bytes, recs[0][1].peak_activation_bytes);
}

TEST(BenchTraining, OutOfMemoryAndTooLongCellsAreNA) {
  BenchGrid g = small_grid(false);
  g.batch_sizes = {1, 4};
  g.seq_lens = {8, 200};   // bert-tiny has 128 positions
  g.max_activation_bytes = 1;   // no step fits
  const auto recs = run_training_grid(load_checkpoint(folder_model("bert-tiny")), "tiny", g);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].na_reason.rfind("out of memory", 0), 0u) << recs[0].na_reason;
  EXPECT_EQ(recs[1].na_reason, "longer than the model's limit of 128 tokens");
  EXPECT_EQ(recs[2].na_reason, "skipped: batch 1 x 8 tokens already ran out of memory");
  for (const BenchRecord& r : recs) {
    EXPECT_EQ(r.mode, "training");
    EXPECT_EQ(r.weights_bytes, kBertTinyParams * 4);   // known without running
  }
  g.max_activation_bytes = 0;
  g.seq_lens = {8};
  g.time_limit_s = 1e-9;   // every step passes it
  const auto slow = run_training_grid(load_checkpoint(folder_model("bert-tiny")), "tiny", g);
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(slow[0].na_reason.rfind("time limit: one training step took", 0), 0u) << slow[0].na_reason;
  EXPECT_EQ(slow[1].na_reason, "skipped: batch 1 x 8 tokens already passed the time limit");
}

TEST(BenchTraining, RefusesWhatTheTrainableEncoderCannotRun) {
  EXPECT_EQ(training_refusal(folder_model("bert-tiny")), "");
  EXPECT_EQ(training_refusal(folder_model("bert-tiny", "full")), "");
  EXPECT_NE(training_refusal(folder_model("longformer-tiny")).find("Longformer"), std::string::npos);
  EXPECT_NE(training_refusal(folder_model("bigbird-tiny-block_sparse")).find("block_sparse"), std::string::npos);
  EXPECT_NE(training_refusal(folder_model("bert-tiny", "exact")).find("attention 'exact"), std::string::npos);
  EXPECT_EQ(training_refusal(folder_model("bigbird-tiny-original_full")), "");
  // A built-in whose own mechanism is not full (the Reformer-shaped model runs LSH).
  EXPECT_NE(training_refusal(resolve_model(parse_model_spec("reformer-shaped"))).find("lsh"), std::string::npos);
  EXPECT_THROW(run_training_grid(load_checkpoint(folder_model("longformer-tiny")), "lf", small_grid(false)), ModelError);
}

TEST(BenchTraining, ModeInWritersAndReader) {
  BenchRecord inference, training;
  inference.model = training.model = "m";
  training.mode = "training";
  EXPECT_EQ(format_table({inference}).find(" mode "), std::string::npos);   // inference tables as before
  EXPECT_NE(format_table({inference, training}).find(" mode "), std::string::npos);
  EXPECT_EQ(format_csv({}).rfind("model,config,attention,mode,batch,", 0), 0u);
  const std::string tables = format_result_tables({training});
  EXPECT_NE(tables.find("TRAINING STEP - SPEED - RESULT"), std::string::npos) << tables;
  EXPECT_NE(tables.find("forward + backward + AdamW"), std::string::npos) << tables;
  EXPECT_EQ(format_result_tables({inference}).find("TRAINING"), std::string::npos);

  // Written and read back exactly; a file from before the field reads as inference.
  const std::string dir = slimtest::make_temp_dir();
  write_json(dir + "/r.json", {inference, training});
  const auto back = read_records_json(dir + "/r.json");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].mode, "inference");
  EXPECT_EQ(back[1].mode, "training");
  nlohmann::json old = nlohmann::json::parse(slimtest::read_file(dir + "/r.json"));
  for (auto& r : old["records"]) r.erase("mode");
  slimtest::write_file(dir + "/old.json", old.dump());
  const auto old_back = read_records_json(dir + "/old.json");
  ASSERT_EQ(old_back.size(), 2u);
  EXPECT_EQ(old_back[1].mode, "inference");
  std::filesystem::remove_all(dir);
}
