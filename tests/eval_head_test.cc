// Models with a sequence-classification head in eval: a 1-label head scores STS-B pairs, a
// 2-label head classifies MRPC pairs by its argmax; each checked against the same steps done by
// hand with SequenceClassifier (whose head tests/model_classifier_test.cc checks against
// Hugging Face's pooler outputs), and the head/task mismatches refused.
#include <gtest/gtest.h>

#include "classifier_test_util.h"
#include "slimformer/encoder.h"
#include "slimformer/eval.h"

using namespace slimformer;

namespace {

// st-bert-uncased (real tokenizer, with pooler) under "bert." with a seeded `labels`-label head.
std::string head_model(int64_t labels) {
  auto tensors = slimtest::prefixed_tensors("st-bert-uncased", "bert.");
  tensors["classifier.weight"] = slimtest::random_tensor({labels, 16}, 31);
  tensors["classifier.bias"] = slimtest::random_tensor({labels}, 32);
  const nlohmann::json edits = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", labels}};
  return slimtest::write_model_folder(slimtest::fixture_config("st-bert-uncased", edits), tensors, "st-bert-uncased");
}

std::vector<StsPair> dev_pairs(size_t n) {
  std::vector<StsPair> p = read_sts(slimtest::shared_dir() + "/data/stsbenchmark/sts-dev.csv");
  p.resize(n);
  return p;
}

// Pairs made up here in MRPC's shape (the corpus stays outside the project).
std::vector<LabelledPair> made_up_pairs() {
  return {{"1", "2", 1, "A man is playing a guitar.", "A man plays the guitar."},
          {"3", "4", 0, "A man is playing a guitar.", "Stocks fell sharply on Monday."},
          {"5", "6", 1, "The cat sleeps on the sofa.", "The cat is asleep on the sofa."},
          {"7", "8", 0, "The cat sleeps on the sofa.", "The council approved the budget."},
          {"9", "10", 1, "Two dogs run across the field.", "Two dogs are running through a field."}};
}

template <typename Pair>
Tensor logits_by_hand(const std::string& dir, const std::vector<Pair>& pairs, int64_t batch_size = 1) {
  std::vector<std::string> a, b;
  for (const Pair& p : pairs) {
    a.push_back(p.sentence1);
    b.push_back(p.sentence2);
  }
  return SequenceClassifier(dir).logits(a, b, batch_size);
}

}  // namespace

TEST(EvalHead, RegressionHeadScoresStsb) {
  const std::string dir = head_model(1);
  const std::vector<StsPair> pairs = dev_pairs(30);
  EvalOptions o;
  o.batch_size = 4;
  const EvalRow r = evaluate_stsb(dir, pairs, o);
  // The same batches as eval's: a seeded head's scores lie close together, so a last-bit
  // difference between batch shapes (the GEMM's blocking on some ISAs) would move the correlation.
  const Tensor want = logits_by_hand(dir, pairs, o.batch_size);
  std::vector<double> score(want.data<float>(), want.data<float>() + want.numel()), gold;
  for (const StsPair& p : pairs) gold.push_back(p.score);
  EXPECT_NEAR(r.pearson, pearson(score, gold), 1e-6);
  EXPECT_NEAR(r.spearman, spearman(score, gold), 1e-6);
  EXPECT_TRUE(std::isnan(r.angular_pearson)) << "a head's output is no cosine";
  EXPECT_EQ(r.scored_by, "regression head");
  EXPECT_EQ(r.inputs, 30);
  EXPECT_EQ(r.parameters, SequenceClassifier(dir).parameter_count());
  EXPECT_EQ(r.parameters, SequenceClassifier(dir).encoder().parameter_count() + 16 + 1);
}

TEST(EvalHead, ClassifierHeadScoresMrpcWithoutTrainPairs) {
  const std::string dir = head_model(2);
  const std::vector<LabelledPair> pairs = made_up_pairs();
  const EvalRow r = evaluate_mrpc(dir, {}, pairs, {});
  const Tensor want = logits_by_hand(dir, pairs);
  std::vector<int> predicted, gold;
  for (size_t i = 0; i < pairs.size(); ++i) {
    predicted.push_back(want.data<float>()[2 * i + 1] > want.data<float>()[2 * i] ? 1 : 0);
    gold.push_back(pairs[i].label);
  }
  const BinaryScores s = binary_scores(predicted, gold);
  EXPECT_DOUBLE_EQ(r.accuracy, s.accuracy);
  EXPECT_DOUBLE_EQ(r.f1, s.f1);
  EXPECT_TRUE(std::isnan(r.threshold));
  EXPECT_EQ(r.scored_by, "classifier head");
  EXPECT_EQ(r.inputs, 5);
}

TEST(EvalHead, HeadAndTaskMismatchesAreRefused) {
  const std::string two = head_model(2), one = head_model(1);
  const std::string m1 = slimtest::message_of<InputError>([&] { evaluate_stsb(two, dev_pairs(5), {}); });
  EXPECT_NE(m1.find("2-label BertForSequenceClassification head"), std::string::npos) << m1;
  EXPECT_NE(m1.find("STS-B"), std::string::npos) << m1;
  const std::string m2 = slimtest::message_of<InputError>([&] { evaluate_mrpc(one, {}, made_up_pairs(), {}); });
  EXPECT_NE(m2.find("1-label"), std::string::npos) << m2;
  EXPECT_NE(m2.find("MRPC"), std::string::npos) << m2;
}
