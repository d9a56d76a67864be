// SentenceEncoder end to end: text in, sentence-transformers' embedding out, and STS-B dev scores.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/eval.h"
#include "test_util.h"

using namespace slimformer;

namespace {

nlohmann::json load_json(const std::string& path) { return nlohmann::json::parse(read_text_file(path)); }

double cosine(const float* a, const float* b, int64_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

void check_sentence_fixture(const std::string& model) {
  const std::string dir = slimtest::fixtures_dir();
  const auto j = load_json(dir + "/outputs/" + model + ".json");
  const auto sentences = j["sentences"].get<std::vector<std::string>>();
  const auto want = j["embeddings"].get<std::vector<std::vector<float>>>();
  SentenceEncoder enc(dir + "/models/" + model);
  EXPECT_TRUE(enc.sentence_config().normalize);
  const Tensor got = enc.embed(sentences, 5);   // odd batch size: several padded batches
  const int64_t H = got.dim(1);
  ASSERT_EQ(got.dim(0), static_cast<int64_t>(sentences.size()));
  for (size_t i = 0; i < sentences.size(); ++i) {
    ASSERT_EQ(want[i].size(), static_cast<size_t>(H));
    EXPECT_GE(cosine(got.data<float>() + i * H, want[i].data(), H), 0.9999) << model << ": " << sentences[i];
    double norm = 0;
    for (int64_t k = 0; k < H; ++k) norm += double(got.data<float>()[i * H + k]) * got.data<float>()[i * H + k];
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

struct StsScores {
  double pearson, spearman;
  std::vector<double> cosines;
};

StsScores score_sts_dev(const SentenceEncoder& enc) {
  const auto pairs = read_sts(slimtest::shared_dir() + "/data/stsbenchmark/sts-dev.csv");
  std::vector<std::string> a, b;
  std::vector<double> gold;
  for (const auto& p : pairs) {
    a.push_back(p.sentence1);
    b.push_back(p.sentence2);
    gold.push_back(p.score);
  }
  const std::vector<double> cos = row_cosines(enc.embed(a, 64), enc.embed(b, 64));
  return {pearson(cos, gold), spearman(cos, gold), cos};
}

}  // namespace

TEST(ModelSentence, StBertUncasedMatchesSentenceTransformers) { check_sentence_fixture("st-bert-uncased"); }
TEST(ModelSentence, StRobertaMatchesSentenceTransformers) { check_sentence_fixture("st-roberta"); }

TEST(ModelSentence, StsbDevStBertUncasedMatchesScipy) {
  const auto j = load_json(slimtest::fixtures_dir() + "/outputs/stsb-dev-st-bert-uncased.json");
  SentenceEncoder enc(slimtest::fixtures_dir() + "/models/st-bert-uncased");
  const StsScores s = score_sts_dev(enc);
  EXPECT_NEAR(s.pearson, j["cosine"]["pearson"].get<double>(), 1e-4);
  EXPECT_NEAR(s.spearman, j["cosine"]["spearman"].get<double>(), 1e-4);
  const auto first = j["first_predictions_cosine"].get<std::vector<double>>();
  for (size_t i = 0; i < first.size(); ++i) EXPECT_NEAR(s.cosines[i], first[i], 1e-4) << "pair " << i;
}

TEST(ModelSentence, BertMiniStsDevSlow) {
  SentenceEncoder enc(slimtest::shared_dir() + "/models/bert-mini-sts");
  EXPECT_FALSE(enc.sentence_config().normalize);
  EXPECT_EQ(enc.max_length(), 128);
  const StsScores s = score_sts_dev(enc);
  EXPECT_NEAR(s.spearman, 0.8118, 0.0005);
  EXPECT_NEAR(s.pearson, 0.8094, 0.0005);
}

TEST(ModelSentence, LongTextIsTruncatedWithOneWarning) {
  SentenceEncoder enc(slimtest::fixtures_dir() + "/models/st-bert-uncased");
  const std::string long_text = "a man is playing a guitar while a woman sings a song on the stage tonight";
  testing::internal::CaptureStderr();
  const Tensor got = enc.embed({long_text, "short one", long_text}, 32, 8);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  // Same as running the tokenizer's own truncation to 8 tokens by hand.
  EncodeOptions opt;
  opt.max_length = 8;
  const Encoding e = enc.tokenizer().encode(long_text, opt);
  ASSERT_EQ(e.ids.size(), 8u);
  const Batch b = make_batch({e}, enc.tokenizer().pad_id());
  Tensor want = pool(enc.encoder().forward(b).last_hidden_state, b.mask, PoolingMode::Mean);
  l2_normalize_rows(want);
  const int64_t H = got.dim(1);
  for (int64_t k = 0; k < H; ++k) {
    EXPECT_NEAR(got.data<float>()[k], want.data<float>()[k], 1e-6);
    EXPECT_NEAR(got.data<float>()[2 * H + k], want.data<float>()[k], 1e-6);
  }
}

TEST(ModelSentence, NormalizeCanBeTurnedOff) {
  SentenceEncoder enc(slimtest::fixtures_dir() + "/models/st-bert-uncased");
  const Tensor raw = enc.embed({"A woman is playing the flute."}, 1, 0, true);
  const Tensor unit = enc.embed({"A woman is playing the flute."});
  double norm = 0;
  for (int64_t k = 0; k < raw.dim(1); ++k) norm += double(raw.data<float>()[k]) * raw.data<float>()[k];
  EXPECT_GT(std::fabs(std::sqrt(norm) - 1.0), 1e-3);
  for (int64_t k = 0; k < raw.dim(1); ++k) EXPECT_NEAR(raw.data<float>()[k] / std::sqrt(norm), unit.data<float>()[k], 1e-6);
}

TEST(ModelSentence, EmptyInputGivesNoRows) {
  SentenceEncoder enc(slimtest::fixtures_dir() + "/models/st-bert-uncased");
  EXPECT_EQ(enc.embed({}).shape(), (Shape{0, enc.encoder().config().hidden_size}));
}
