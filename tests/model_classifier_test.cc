// SequenceClassifier: the head on Hugging Face's own encoder outputs (the fixtures' pooler_output
// and last_hidden_state, through the head in double), and text pairs in batches against the
// encoder run by hand, one pair at a time.
#include <gtest/gtest.h>

#include <algorithm>

#include "classifier_test_util.h"
#include "fixture_util.h"
#include "slimformer/encoder.h"

using namespace slimformer;
using nlohmann::json;

namespace {

constexpr int64_t kTinyHidden = 64;   // bert-tiny, roberta-tiny
constexpr int64_t kStHidden = 16;     // st-bert-uncased, st-roberta

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " [" << i << "]";
}

// bert-tiny under "bert." with a (labels, 64) classifier stored as `dtype`; config edited by `edits`.
struct BertTinyHead {
  Tensor w, b;
  std::string dir;
  BertTinyHead(int64_t labels, const json& edits, DType dtype = DType::F32) {
    auto tensors = slimtest::prefixed_tensors("bert-tiny", "bert.");
    w = slimtest::random_tensor({labels, kTinyHidden}, 11, 0.5f, dtype);
    b = slimtest::random_tensor({labels}, 12, 0.5f, dtype);
    tensors["classifier.weight"] = w;
    tensors["classifier.bias"] = b;
    json e = {{"architectures", {"BertForSequenceClassification"}}};
    e.merge_patch(edits);
    dir = slimtest::write_model_folder(slimtest::fixture_config("bert-tiny", e), tensors, "");
  }
};

// logits on the fixture's inputs == Hugging Face's pooler_output through the classifier (double).
void check_bert_tiny(const BertTinyHead& m, int64_t labels) {
  SequenceClassifier clf(m.dir);
  EXPECT_EQ(clf.architecture(), "BertForSequenceClassification");
  ASSERT_EQ(clf.num_labels(), labels);
  const SafetensorsFile out(slimtest::fixtures_dir() + "/outputs/bert-tiny.safetensors");
  const Batch batch = slimtest::fixture_batch(out);
  const Tensor got = clf.logits(batch);
  ASSERT_EQ(got.shape(), (Shape{batch.batch, labels}));
  const auto want = slimtest::reference_linear(slimtest::rows_of(out.get("pooler_output")), batch.batch, m.w, m.b);
  expect_near_all(slimtest::rows_of(got), want, 1e-5, m.dir);
}

// st-bert-uncased (real bert-base-uncased tokenizer) under "bert." with a 3-label classifier.
struct StBertHead {
  Tensor w = slimtest::random_tensor({3, kStHidden}, 21);
  Tensor b = slimtest::random_tensor({3}, 22);
  std::string dir;
  StBertHead() {
    auto tensors = slimtest::prefixed_tensors("st-bert-uncased", "bert.");
    tensors["classifier.weight"] = w;
    tensors["classifier.bias"] = b;
    const json edits = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", 3}};
    dir = slimtest::write_model_folder(slimtest::fixture_config("st-bert-uncased", edits), tensors, "st-bert-uncased");
  }
};

const std::vector<std::string> kFirst = {
    "A man is playing a guitar.",   "A woman is slicing an onion.", "Two dogs run on the beach.",
    "The cat sleeps.",              "A plane is taking off.",       "Someone is cooking pasta in a big pot.",
    "Kids play football outside."};
const std::vector<std::string> kSecond = {
    "A person plays an instrument.", "Someone cuts vegetables.", "Dogs are running by the sea.",
    "A kitten is asleep on the sofa.", "An airplane departs.", "A man eats.", "Children are playing a game."};

// Per pair, batch of one: the encoder by hand on tok.encode_pair(), its pooler through the head in double.
std::vector<double> by_hand(const SequenceClassifier& clf, const StBertHead& m, const std::vector<std::string>& a,
                            const std::vector<std::string>& b, int64_t max_length = 0) {
  EncodeOptions opt;
  opt.max_length = max_length;
  std::vector<double> all;
  for (size_t i = 0; i < a.size(); ++i) {
    const Encoding e = clf.tokenizer().encode_pair(a[i], b[i], opt);
    const Batch batch = make_batch({e}, clf.tokenizer().pad_id());
    const Tensor pooled = clf.encoder().forward(batch).pooler_output;
    const auto row = slimtest::reference_linear(slimtest::rows_of(pooled), 1, m.w, m.b);
    all.insert(all.end(), row.begin(), row.end());
  }
  return all;
}

}  // namespace

TEST(ModelClassifier, BertTwoLabelsMatchHfPoolerThroughClassifier) {
  check_bert_tiny(BertTinyHead(2, {{"num_labels", 2}}), 2);
}

TEST(ModelClassifier, BertThreeLabelsFromId2labelInHalfPrecision) {
  const json id2label = {{"0", "contradiction"}, {"1", "entailment"}, {"2", "neutral"}};
  check_bert_tiny(BertTinyHead(3, {{"id2label", id2label}}, DType::F16), 3);
  check_bert_tiny(BertTinyHead(3, {{"id2label", id2label}, {"num_labels", 3}}, DType::BF16), 3);
}

TEST(ModelClassifier, BertDefaultsToTwoLabels) { check_bert_tiny(BertTinyHead(2, json::object()), 2); }

TEST(ModelClassifier, ParameterCountIsEncoderPlusHead) {
  const BertTinyHead m(2, {{"num_labels", 2}});
  const SequenceClassifier clf(m.dir);
  const Encoder plain(std::make_shared<Checkpoint>(slimtest::fixture_model("bert-tiny")));
  EXPECT_EQ(clf.encoder().parameter_count(), plain.parameter_count());
  EXPECT_EQ(clf.parameter_count(), plain.parameter_count() + 2 * kTinyHidden + 2);
  EXPECT_EQ(clf.max_length(), 128);
}

TEST(ModelClassifier, HeadIsNamedInConfig) {
  EXPECT_EQ(sequence_classification_head(BertTinyHead(2, json::object()).dir), "BertForSequenceClassification");
  EXPECT_EQ(sequence_classification_head(slimtest::fixture_model("bert-tiny")), "");
}

TEST(ModelClassifier, PairsMatchEncoderByHandForEveryBatchSize) {
  const StBertHead m;
  const SequenceClassifier clf(m.dir);
  const std::vector<double> want = by_hand(clf, m, kFirst, kSecond);
  for (int64_t bs : {1, 3, 32}) {
    std::vector<std::pair<int64_t, int64_t>> calls;
    const Tensor got = clf.logits(kFirst, kSecond, bs, 0, [&](int64_t d, int64_t t) { calls.emplace_back(d, t); });
    ASSERT_EQ(got.shape(), (Shape{7, 3}));
    expect_near_all(slimtest::rows_of(got), want, 1e-5, "batch size " + std::to_string(bs));
    ASSERT_EQ(calls.size(), static_cast<size_t>((7 + bs - 1) / bs)) << bs;
    EXPECT_EQ(calls.back(), std::make_pair(int64_t{7}, int64_t{7}));
    for (size_t i = 0; i + 1 < calls.size(); ++i) EXPECT_EQ(calls[i].first, static_cast<int64_t>(i + 1) * bs);
  }
}

TEST(ModelClassifier, PairTypeIdsMarkTheSecondText) {
  const StBertHead m;
  const SequenceClassifier clf(m.dir);
  const Encoding e = clf.tokenizer().encode_pair("a dog", "a cat");
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "a", "dog", "[SEP]", "a", "cat", "[SEP]"}));
  EXPECT_EQ(e.type_ids, (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1}));
  // Swapping the texts changes the logits: the second text is seen as such.
  const Tensor ab = clf.logits({"a dog runs"}, {"a cat sleeps"});
  const Tensor ba = clf.logits({"a cat sleeps"}, {"a dog runs"});
  double diff = 0;
  for (int64_t k = 0; k < 3; ++k) diff = std::max(diff, std::fabs(double(ab.data<float>()[k]) - ba.data<float>()[k]));
  EXPECT_GT(diff, 1e-6);
}

TEST(ModelClassifier, LongPairsAreTruncatedWithOneWarning) {
  const StBertHead m;
  const SequenceClassifier clf(m.dir);
  const std::string long_a = "a man is playing a guitar while a woman sings a song on the stage tonight";
  const std::string long_b = "the crowd listens quietly and then claps loudly for a very long time";
  const std::vector<std::string> a = {"short one", long_a, long_a, "hi"};
  const std::vector<std::string> b = {"short two", long_b, "tiny", "there"};
  testing::internal::CaptureStderr();
  const Tensor got = clf.logits(a, b, 3, 12);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("2 pair(s) longer than 12 tokens were truncated"), std::string::npos) << err;
  EXPECT_NE(err.find("first: pair 2"), std::string::npos) << err;
  EncodeOptions opt;
  opt.max_length = 12;
  EXPECT_EQ(clf.tokenizer().encode_pair(long_a, long_b, opt).ids.size(), 12u);
  expect_near_all(slimtest::rows_of(got), by_hand(clf, m, a, b, 12), 1e-5, "truncated");
}

TEST(ModelClassifier, NoPairsGiveNoRows) {
  const StBertHead m;
  const SequenceClassifier clf(m.dir);
  bool called = false;
  const Tensor got = clf.logits({}, {}, 32, 0, [&](int64_t, int64_t) { called = true; });
  EXPECT_EQ(got.shape(), (Shape{0, 3}));
  EXPECT_FALSE(called);
}

// RoBERTa's head reads the first token's state: Hugging Face's last_hidden_state[:, 0] through
// classifier.dense, tanh and classifier.out_proj, in double.
TEST(ModelClassifier, RobertaMatchesHfFirstTokenThroughHead) {
  auto tensors = slimtest::prefixed_tensors("roberta-tiny", "roberta.");
  const Tensor dw = slimtest::random_tensor({kTinyHidden, kTinyHidden}, 31, 0.2f);
  const Tensor db = slimtest::random_tensor({kTinyHidden}, 32);
  const Tensor ow = slimtest::random_tensor({2, kTinyHidden}, 33);
  const Tensor ob = slimtest::random_tensor({2}, 34);
  tensors["classifier.dense.weight"] = dw;
  tensors["classifier.dense.bias"] = db;
  tensors["classifier.out_proj.weight"] = ow;
  tensors["classifier.out_proj.bias"] = ob;
  const json edits = {{"architectures", {"RobertaForSequenceClassification"}}, {"num_labels", 2}};
  // The tokenizer only lets the folder load: this test feeds the fixture's own ids.
  const std::string dir = slimtest::write_model_folder(slimtest::fixture_config("roberta-tiny", edits), tensors, "st-roberta");
  const SequenceClassifier clf(dir);
  EXPECT_EQ(clf.architecture(), "RobertaForSequenceClassification");
  EXPECT_EQ(clf.parameter_count(), clf.encoder().parameter_count() + dw.numel() + db.numel() + ow.numel() + ob.numel());
  const SafetensorsFile out(slimtest::fixtures_dir() + "/outputs/roberta-tiny.safetensors");
  const Batch batch = slimtest::fixture_batch(out);
  const Tensor hidden = out.get("last_hidden_state");
  const int64_t T = hidden.dim(1);
  std::vector<double> first;
  for (int64_t r = 0; r < batch.batch; ++r) {
    const float* p = hidden.data<float>() + r * T * kTinyHidden;
    first.insert(first.end(), p, p + kTinyHidden);
  }
  const auto want = slimtest::reference_linear(slimtest::reference_linear(first, batch.batch, dw, db, true), batch.batch, ow, ob);
  expect_near_all(slimtest::rows_of(clf.logits(batch)), want, 1e-5, "roberta-tiny");
}

TEST(ModelClassifier, RobertaPairsMatchEncoderByHand) {
  auto tensors = slimtest::prefixed_tensors("st-roberta", "roberta.");
  const Tensor dw = slimtest::random_tensor({kStHidden, kStHidden}, 41);
  const Tensor db = slimtest::random_tensor({kStHidden}, 42);
  const Tensor ow = slimtest::random_tensor({2, kStHidden}, 43);
  const Tensor ob = slimtest::random_tensor({2}, 44);
  tensors["classifier.dense.weight"] = dw;
  tensors["classifier.dense.bias"] = db;
  tensors["classifier.out_proj.weight"] = ow;
  tensors["classifier.out_proj.bias"] = ob;
  const json edits = {{"architectures", {"RobertaForSequenceClassification"}}};
  const std::string dir = slimtest::write_model_folder(slimtest::fixture_config("st-roberta", edits), tensors, "st-roberta");
  const SequenceClassifier clf(dir);
  const Tensor got = clf.logits(kFirst, kSecond, 3);
  for (size_t i = 0; i < kFirst.size(); ++i) {
    const Batch batch = make_batch({clf.tokenizer().encode_pair(kFirst[i], kSecond[i])}, clf.tokenizer().pad_id());
    const Tensor h = clf.encoder().forward(batch).last_hidden_state;
    const std::vector<double> first(h.data<float>(), h.data<float>() + kStHidden);
    const auto want = slimtest::reference_linear(slimtest::reference_linear(first, 1, dw, db, true), 1, ow, ob);
    expect_near_all(slimtest::rows_of(got, static_cast<int64_t>(i)), want, 1e-5, kFirst[i]);
  }
}
