// The trainable classification head: its backward against central differences of a double
// forward, and encoder + head equal to the inference SequenceClassifier for BERT and RoBERTa.
#include <gtest/gtest.h>

#include <random>

#include "classifier_test_util.h"
#include "io_test_util.h"
#include "slimformer/encoder.h"
#include "train/classifier_head.h"
#include "train/reference.h"
#include "train/trainable_encoder.h"

using namespace slimformer;
namespace ref = slimformer::train::ref;
using json = nlohmann::json;

namespace {

ref::Vec values(const Tensor& t) { return ref::Vec(t.data<float>(), t.data<float>() + t.numel()); }

Tensor tensor_of(const ref::Vec& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = static_cast<float>(v[i]);
  return t;
}

// logits = Wo tanh(Wd x + bd) + bo, in double.
ref::Vec head_reference(const ref::Vec& x, const ref::Vec& wd, const ref::Vec& bd, const ref::Vec& wo,
                        const ref::Vec& bo, int64_t B, int64_t H, int64_t L) {
  ref::Vec h = ref::linear(x, wd, bd, B, H, H);
  for (double& v : h) v = std::tanh(v);
  return ref::linear(h, wo, bo, B, L, H);
}

}  // namespace

TEST(TrainClassifierHead, GradientsMatchFiniteDifferences) {
  const int64_t B = 3, H = 5, L = 3;
  EncoderConfig config;
  config.hidden_size = H;
  std::map<std::string, Tensor> tensors = {
      {"classifier.dense.weight", slimtest::random_tensor({H, H}, 1)},
      {"classifier.dense.bias", slimtest::random_tensor({H}, 2)},
      {"classifier.out_proj.weight", slimtest::random_tensor({L, H}, 3)},
      {"classifier.out_proj.bias", slimtest::random_tensor({L}, 4)}};
  const Checkpoint ckpt(config, tensors);
  train::ClassifierHead head(ckpt, "RobertaForSequenceClassification");
  ASSERT_EQ(head.num_labels(), L);
  const Tensor x = slimtest::random_tensor({B, H}, 5, 1.0f);
  const ref::Vec upstream = values(slimtest::random_tensor({B, L}, 6, 1.0f));
  const Tensor logits = head.forward(x);
  auto& p = head.parameters();
  const ref::Vec want_logits = head_reference(values(x), values(p[0].value), values(p[1].value), values(p[2].value),
                                              values(p[3].value), B, H, L);
  EXPECT_LT(ref::max_rel_error(logits.data<float>(), want_logits), 1e-5);

  const Tensor dx = head.backward(tensor_of(upstream, {B, L}));
  std::vector<ref::Vec> args = {values(x), values(p[0].value), values(p[1].value), values(p[2].value), values(p[3].value)};
  for (size_t which = 0; which < args.size(); ++which) {
    const ref::Vec want = ref::numeric_gradient(
        [&](const ref::Vec& v) {
          std::vector<ref::Vec> a = args;
          a[which] = v;
          return ref::weighted_sum(upstream, head_reference(a[0], a[1], a[2], a[3], a[4], B, H, L));
        },
        args[which]);
    const float* got = which == 0 ? dx.data<float>() : p[which - 1].grad.data<float>();
    EXPECT_LT(ref::max_rel_error(got, want), 1e-4) << "argument " << which;
  }
}

// The student's forward for KD: TrainableEncoder's first-token states through the head give the
// logits SequenceClassifier computes, for both head layouts.
TEST(TrainClassifierHead, EncoderAndHeadEqualTheInferenceClassifier) {
  struct Case {
    std::string model, prefix, architecture;
    std::vector<std::pair<std::string, Shape>> head;
  };
  const int64_t H = 16;
  const std::vector<Case> cases = {
      {"st-bert-uncased", "bert.", "BertForSequenceClassification", {{"classifier.weight", {3, H}}, {"classifier.bias", {3}}}},
      {"st-roberta", "roberta.", "RobertaForSequenceClassification",
       {{"classifier.dense.weight", {H, H}}, {"classifier.dense.bias", {H}}, {"classifier.out_proj.weight", {3, H}},
        {"classifier.out_proj.bias", {3}}}}};
  for (const Case& c : cases) {
    auto tensors = slimtest::prefixed_tensors(c.model, c.prefix);
    unsigned seed = 40;
    for (const auto& [name, shape] : c.head) tensors[name] = slimtest::random_tensor(shape, seed++, 0.5f);
    const json edits = {{"architectures", {c.architecture}}, {"num_labels", 3}};
    const std::string dir = slimtest::write_model_folder(slimtest::fixture_config(c.model, edits), tensors, c.model);
    const SequenceClassifier clf(dir);
    const Checkpoint ckpt(dir);
    train::TrainableEncoder encoder(ckpt);
    train::ClassifierHead head(ckpt, c.architecture);
    std::vector<Encoding> enc = {clf.tokenizer().encode_pair("a man plays a guitar", "someone plays music"),
                                 clf.tokenizer().encode_pair("the cat sleeps", "a dog barks at the postman loudly")};
    const Batch batch = make_batch(enc, clf.tokenizer().pad_id());
    const Tensor got = head.forward(encoder.forward(batch, PoolingMode::Cls));
    const Tensor want = clf.logits(batch);
    ASSERT_EQ(got.shape(), want.shape()) << c.model;
    for (int64_t i = 0; i < got.numel(); ++i) {
      EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-4) << c.model << " [" << i << "]";
    }
    std::filesystem::remove_all(dir);
  }
}

TEST(TrainClassifierHead, RefusesWhatItCannotTrain) {
  EncoderConfig config;
  config.hidden_size = 4;
  const Checkpoint empty(config, {});
  iotest::expect_error<ModelError>([&] { train::ClassifierHead(empty, "DistilBertForSequenceClassification"); },
                                   {"DistilBertForSequenceClassification", "supported"});
  iotest::expect_error<ModelError>([&] { train::ClassifierHead(empty, "RobertaForSequenceClassification"); },
                                   {"classifier.dense.weight", "missing"});
  const Checkpoint wrong(config, {{"classifier.dense.weight", slimtest::random_tensor({4, 3}, 1)}});
  iotest::expect_error<ModelError>([&] { train::ClassifierHead(wrong, "RobertaForSequenceClassification"); },
                                   {"classifier.dense.weight", "[4, 3]", "expected [4, 4]"});
}
