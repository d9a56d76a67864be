// Scoring models end to end: the fixture model's STS-B dev numbers against sentence-transformers
// + scipy, bert-mini-sts's published dev and test Spearman, the size and dtype columns on a
// float16 copy, and MRPC's threshold path against the same steps done by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"
#include "test_util.h"

using namespace slimformer;
namespace fs = std::filesystem;

namespace {

std::string fixture_model(const std::string& name) { return slimtest::fixtures_dir() + "/models/" + name; }
std::string sts_file(const std::string& split) { return slimtest::shared_dir() + "/data/stsbenchmark/sts-" + split + ".csv"; }

// A copy of a model folder with every tensor stored as float16 (the tokenizer and configs copied).
std::string float16_copy(const std::string& src) {
  const std::string dir = slimtest::make_temp_dir() + "/f16";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.path().filename() != "model.safetensors") fs::copy(e.path(), dir / e.path().filename(), fs::copy_options::recursive);
  }
  const Checkpoint ckpt(src);
  std::map<std::string, Tensor> tensors;
  for (const std::string& name : ckpt.names()) {
    const Tensor t = ckpt.get(name).to_f32();
    Tensor h = Tensor::empty(t.shape(), DType::F16);
    for (int64_t i = 0; i < t.numel(); ++i) h.data<uint16_t>()[i] = f32_to_f16(t.data<float>()[i]);
    tensors[name] = h;
  }
  write_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

// MRPC-layout pairs made up here (the corpus itself stays outside the project): paraphrases are
// the same sentence with one word changed, non-paraphrases unrelated sentences.
std::vector<LabelledPair> made_up_pairs() {
  const std::vector<std::string> s = {"A man is playing a guitar.", "A woman is slicing an onion.",
                                      "The cat sleeps on the warm sofa.", "Two dogs run across the field.",
                                      "A child is riding a red bicycle.", "The chef cooks pasta in a large pot.",
                                      "Stocks fell sharply on Monday.", "The council approved the new budget."};
  std::vector<LabelledPair> pairs;
  for (size_t i = 0; i < s.size(); ++i) {
    std::string changed = s[i];
    changed.replace(changed.find(' '), 1, " really ");
    pairs.push_back({std::to_string(2 * i), std::to_string(2 * i + 1), 1, s[i], changed});
    pairs.push_back({std::to_string(100 + i), std::to_string(200 + i), 0, s[i], s[(i + 3) % s.size()]});
  }
  return pairs;
}

}  // namespace

TEST(EvalRun, StsbDevMatchesSentenceTransformersAndScipy) {
  const auto j = nlohmann::json::parse(read_text_file(slimtest::fixtures_dir() + "/outputs/stsb-dev-st-bert-uncased.json"));
  const std::vector<StsPair> pairs = read_sts(sts_file("dev"));
  const EvalRow r = evaluate_stsb(fixture_model("st-bert-uncased"), pairs, {});
  EXPECT_NEAR(r.pearson, j["cosine"]["pearson"].get<double>(), 1e-4);
  EXPECT_NEAR(r.spearman, j["cosine"]["spearman"].get<double>(), 1e-4);
  EXPECT_NEAR(r.angular_pearson, j["angular_1_minus_arccos_over_pi"]["pearson"].get<double>(), 1e-4);
  EXPECT_NEAR(r.angular_spearman, j["angular_1_minus_arccos_over_pi"]["spearman"].get<double>(), 1e-4);
  EXPECT_EQ(r.scored_by, "cosine");
  EXPECT_EQ(r.inputs, 3000);
  EXPECT_GT(r.encode_seconds, 0.0);
  EXPECT_TRUE(std::isnan(r.threshold));
  // The size column is the file on disk; the dtype bytes add up to every tensor's bytes.
  EXPECT_EQ(r.file_bytes, fs::file_size(fixture_model("st-bert-uncased") + "/model.safetensors"));
  ASSERT_EQ(r.dtype_bytes.size(), 1u);
  EXPECT_EQ(r.dtype_bytes[0].first, "F32");
  EXPECT_EQ(r.dtype_bytes[0].second, static_cast<size_t>(r.parameters) * 4);   // no head, no extra tensor
}

TEST(EvalRun, BertMiniStsDevAndTestSlow) {
  const std::string model = slimtest::shared_dir() + "/models/bert-mini-sts";
  const EvalRow dev = evaluate_stsb(model, read_sts(sts_file("dev")), {});
  EXPECT_NEAR(dev.spearman, 0.8118, 0.0005);
  EXPECT_NEAR(dev.pearson, 0.8094, 0.0005);
  const EvalRow test = evaluate_stsb(model, read_sts(sts_file("test")), {});
  EXPECT_NEAR(test.spearman, 0.7222, 0.0005);
  EXPECT_NEAR(test.pearson, 0.7332, 0.0005);
  EXPECT_EQ(test.parameters, 11006464);
}

TEST(EvalRun, Float16FilesShowTheirOwnSizeAndDtype) {
  const std::string f16 = float16_copy(fixture_model("st-bert-uncased"));
  std::vector<StsPair> pairs = read_sts(sts_file("dev"));
  pairs.resize(200);
  const EvalRow full = evaluate_stsb(fixture_model("st-bert-uncased"), pairs, {});
  const EvalRow half = evaluate_stsb(f16, pairs, {});
  EXPECT_EQ(half.file_bytes, fs::file_size(f16 + "/model.safetensors"));
  EXPECT_LT(half.file_bytes, full.file_bytes * 6 / 10);
  ASSERT_EQ(half.dtype_bytes.size(), 1u);
  EXPECT_EQ(half.dtype_bytes[0].first, "F16");
  EXPECT_EQ(half.dtype_bytes[0].second, full.dtype_bytes[0].second / 2);
  EXPECT_EQ(half.parameters, full.parameters);
  EXPECT_NEAR(half.spearman, full.spearman, 0.01);   // float16 weights barely move the scores
}

TEST(EvalRun, MrpcThresholdIsChosenOnTrainAndAppliedToData) {
  const std::string model = fixture_model("st-bert-uncased");
  const std::vector<LabelledPair> pairs = made_up_pairs();
  const std::vector<LabelledPair> train(pairs.begin(), pairs.begin() + 10), data(pairs.begin() + 10, pairs.end());
  EvalOptions o;
  o.batch_size = 3;
  int64_t last_done = 0, last_total = 0;
  o.progress = [&](int64_t done, int64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  const EvalRow r = evaluate_mrpc(model, train, data, o);
  EXPECT_EQ(last_total, 2 * 16);   // train and data sentences, one count
  EXPECT_EQ(last_done, last_total);
  // The same steps by hand.
  const SentenceEncoder enc(model);
  const auto cosines = [&](const std::vector<LabelledPair>& ps, std::vector<int>& gold) {
    std::vector<std::string> a, b;
    for (const auto& p : ps) {
      a.push_back(p.sentence1);
      b.push_back(p.sentence2);
      gold.push_back(p.label);
    }
    return row_cosines(enc.embed(a), enc.embed(b));
  };
  std::vector<int> train_gold, data_gold;
  const ThresholdChoice c = choose_threshold(cosines(train, train_gold), train_gold);
  const BinaryScores s = binary_scores(apply_threshold(cosines(data, data_gold), c.threshold), data_gold);
  EXPECT_NEAR(r.threshold, c.threshold, 1e-6);
  EXPECT_DOUBLE_EQ(r.train_accuracy, c.accuracy);
  EXPECT_DOUBLE_EQ(r.accuracy, s.accuracy);
  EXPECT_DOUBLE_EQ(r.f1, s.f1);
  EXPECT_EQ(r.inputs, 12);
  EXPECT_TRUE(std::isnan(r.pearson));
}

TEST(EvalRun, SentenceModelOnMrpcNeedsTrainPairs) {
  try {
    evaluate_mrpc(fixture_model("st-bert-uncased"), {}, made_up_pairs(), {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--train"), std::string::npos) << e.what();
  }
}
