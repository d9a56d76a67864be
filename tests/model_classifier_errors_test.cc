// SequenceClassifier refuses folders it cannot run, and bad input, with errors that name the
// folder, the tensor or the key and say what was expected.
#include <gtest/gtest.h>

#include "classifier_test_util.h"
#include "slimformer/encoder.h"

using namespace slimformer;
using nlohmann::json;
using slimtest::message_of;

namespace {

// bert-tiny under "bert." with a 2-label classifier; `edits` go into config.json, `drop` names
// tensors left out, `extra` adds or replaces some.
std::string bert_tiny_folder(const json& edits, const std::vector<std::string>& drop = {},
                             const std::map<std::string, Tensor>& extra = {}) {
  auto tensors = slimtest::prefixed_tensors("bert-tiny", "bert.");
  tensors["classifier.weight"] = slimtest::random_tensor({2, 64}, 1);
  tensors["classifier.bias"] = slimtest::random_tensor({2}, 2);
  for (const auto& name : drop) tensors.erase(name);
  for (const auto& [name, t] : extra) tensors[name] = t;
  json e = {{"architectures", {"BertForSequenceClassification"}}};
  if (edits.is_object()) e.merge_patch(edits);
  return slimtest::write_model_folder(slimtest::fixture_config("bert-tiny", e), tensors, "");
}

void expect_has(const std::string& msg, const std::vector<std::string>& parts) {
  for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
}

}  // namespace

TEST(ModelClassifierErrors, UnsupportedHeadListsTheSupportedOnes) {
  for (const char* head : {"DistilBertForSequenceClassification", "XLNetForSequenceClassification"}) {
    const std::string dir = bert_tiny_folder({{"architectures", {head}}});
    EXPECT_EQ(sequence_classification_head(dir), head);
    const std::string msg = message_of<ModelError>([&] { SequenceClassifier clf(dir); });
    expect_has(msg, {dir, head, "not supported", "BertForSequenceClassification", "RobertaForSequenceClassification"});
  }
}

TEST(ModelClassifierErrors, FolderWithoutHeadIsRefused) {
  for (const std::string& dir : {slimtest::fixture_model("bert-tiny"), bert_tiny_folder({{"architectures", nullptr}})}) {
    const std::string msg = message_of<ModelError>([&] { SequenceClassifier clf(dir); });
    expect_has(msg, {dir, "no sequence-classification head", "BertForSequenceClassification"});
  }
}

TEST(ModelClassifierErrors, MissingClassifierTensorIsNamed) {
  const std::string dir = bert_tiny_folder(json::object(), {"classifier.weight"});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(dir); }),
             {"'classifier.weight'", "[2, 64]", "missing", dir});
  const std::string no_bias = bert_tiny_folder(json::object(), {"classifier.bias"});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(no_bias); }), {"'classifier.bias'", "missing"});
}

TEST(ModelClassifierErrors, NumLabelsMustMatchTheClassifier) {
  const std::string dir = bert_tiny_folder({{"num_labels", 3}});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(dir); }),
             {"'classifier.weight'", "[2, 64]", "expected [3, 64]", "num_labels 3"});
  const json three = {{"0", "a"}, {"1", "b"}, {"2", "c"}};
  const std::string by_map = bert_tiny_folder({{"id2label", three}});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(by_map); }), {"'classifier.weight'", "num_labels 3"});
}

TEST(ModelClassifierErrors, MisshapenBiasIsNamed) {
  const std::string dir = bert_tiny_folder(json::object(), {}, {{"classifier.bias", slimtest::random_tensor({3}, 5)}});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(dir); }), {"'classifier.bias'", "[3]", "expected [2]"});
}

TEST(ModelClassifierErrors, NonFloatHeadIsNamed) {
  Tensor ints = Tensor::zeros({2}, DType::I64);
  const std::string dir = bert_tiny_folder(json::object(), {}, {{"classifier.bias", ints}});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(dir); }), {"'classifier.bias'", "I64", "F32"});
}

TEST(ModelClassifierErrors, Id2labelDisagreeingWithNumLabelsIsRefused) {
  const std::string dir = bert_tiny_folder({{"num_labels", 2}, {"id2label", {{"0", "a"}, {"1", "b"}, {"2", "c"}}}});
  expect_has(message_of<FormatError>([&] { SequenceClassifier clf(dir); }), {"num_labels 2", "id2label", "config.json"});
  const std::string bad = bert_tiny_folder({{"num_labels", "two"}});
  expect_has(message_of<FormatError>([&] { SequenceClassifier clf(bad); }), {"num_labels", "config.json"});
  const std::string zero = bert_tiny_folder({{"num_labels", 0}});
  expect_has(message_of<FormatError>([&] { SequenceClassifier clf(zero); }), {"num_labels", "positive"});
}

TEST(ModelClassifierErrors, BertHeadNeedsAPooler) {
  const std::string dir = bert_tiny_folder(json::object(), {"bert.pooler.dense.weight", "bert.pooler.dense.bias"});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(dir); }), {dir, "no pooler", "BertForSequenceClassification"});
}

TEST(ModelClassifierErrors, HeadMustFitTheModelType) {
  const std::string dir = bert_tiny_folder({{"architectures", {"RobertaForSequenceClassification"}}});
  expect_has(message_of<ModelError>([&] { SequenceClassifier clf(dir); }),
             {dir, "RobertaForSequenceClassification", "model_type 'bert'", "'roberta'"});
}

TEST(ModelClassifierErrors, BadArchitecturesIsAFormatError) {
  const std::string dir = bert_tiny_folder({{"architectures", "BertForSequenceClassification"}});
  expect_has(message_of<FormatError>([&] { sequence_classification_head(dir); }), {"architectures", "array"});
}

TEST(ModelClassifierErrors, BadInputIsRefused) {
  const SequenceClassifier clf(bert_tiny_folder(json::object()));
  expect_has(message_of<InputError>([&] { clf.logits({"a", "b"}, {"c"}); }), {"2", "1"});
  expect_has(message_of<InputError>([&] { clf.logits({"a"}, {"b"}, 0); }), {"batch_size", "0"});
  expect_has(message_of<InputError>([&] { clf.logits({"a"}, {"b"}, 1, -1); }), {"max_length", "-1"});
  // Too small for [CLS] a [SEP] b [SEP]: the tokenizer says why.
  expect_has(message_of<InputError>([&] { clf.logits({"a b c"}, {"d e f"}, 1, 2); }), {"max_length 2", "special tokens"});
}
