// Distilling a sequence classifier: the pair reader, a short KD run whose student (a model folder
// with the teacher's head) moves towards the teacher's logits and resumes bit for bit, and the
// requests that do not fit a classifier teacher.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "classifier_test_util.h"
#include "io_test_util.h"
#include "slimformer/distill.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"

using namespace slimformer;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

// st-bert-uncased (2 layers, hidden 16, the real bert-base-uncased tokenizer) with a 2-label head.
std::string classifier_teacher(int64_t labels = 2) {
  auto tensors = slimtest::prefixed_tensors("st-bert-uncased", "bert.");
  tensors["classifier.weight"] = slimtest::random_tensor({labels, 16}, 7, 1.0f);
  tensors["classifier.bias"] = slimtest::random_tensor({labels}, 8, 0.2f);
  const json edits = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", labels}};
  return slimtest::write_model_folder(slimtest::fixture_config("st-bert-uncased", edits), tensors, "st-bert-uncased");
}

const char* kPairs =
    "a man is playing a guitar\tsomeone plays music\t1\nthe cat sleeps on the sofa\ta dog barks\t0\n"
    "children run in the park\tkids are playing outside\t1\na woman slices an onion\tthe train leaves\t0\n"
    "the train leaves at noon\ta train departs at midday\t1\ntwo dogs chase a ball\tit is raining\t0\n"
    "rain falls on the city\tit rains in town\t1\nhe reads a long book\tshe sings a song\t0\n";

// Mean over pairs of KL(softmax(teacher) || softmax(student)) at temperature 1.
double mean_kl(const Tensor& teacher, const Tensor& student) {
  const int64_t N = teacher.dim(0), L = teacher.dim(1);
  double sum = 0;
  for (int64_t r = 0; r < N; ++r) {
    const float* t = teacher.data<float>() + r * L;
    const float* s = student.data<float>() + r * L;
    double zt = 0, zs = 0;
    for (int64_t j = 0; j < L; ++j) zt += std::exp(double(t[j])), zs += std::exp(double(s[j]));
    for (int64_t j = 0; j < L; ++j) {
      const double pt = std::exp(double(t[j])) / zt;
      sum += pt * (std::log(pt) - (double(s[j]) - std::log(zs)));
    }
  }
  return sum / static_cast<double>(N);
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST(CompressDistillKd, PairsFromTsvMrpcAndStsFiles) {
  const fs::path dir = slimtest::make_temp_dir();
  const compress::DistillPairs p = compress::read_distill_pairs(write_text(dir / "a.tsv", "x\ty\t1\n\nz\tw\r\n"));
  EXPECT_EQ(p.first, (std::vector<std::string>{"x", "z"}));
  EXPECT_EQ(p.second, (std::vector<std::string>{"y", "w"}));
  EXPECT_EQ(p.labels, (std::vector<int64_t>{1, -1}));
  const compress::DistillPairs m = compress::read_distill_pairs(
      write_text(dir / "m.tsv", "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\tleft\tright\n"));
  EXPECT_EQ(m.first, (std::vector<std::string>{"left"}));
  EXPECT_EQ(m.labels, (std::vector<int64_t>{0}));
  const compress::DistillPairs s =
      compress::read_distill_pairs(write_text(dir / "s.csv", "g\tf\t2012\t1\t5.0\tleft one\tright one\n"));
  EXPECT_EQ(s.second, (std::vector<std::string>{"right one"}));
  EXPECT_EQ(s.labels, (std::vector<int64_t>{-1}));
  iotest::expect_error<InputError>([&] { compress::read_distill_pairs(write_text(dir / "b.txt", "one sentence\n")); },
                                   {"line 1", "text pairs"});
  iotest::expect_error<InputError>([&] { compress::read_distill_pairs(write_text(dir / "c.tsv", "a\tb\tyes\n")); },
                                   {"line 1", "'yes'", "class number"});
  iotest::expect_error<InputError>([&] { compress::read_distill_pairs(write_text(dir / "d.tsv", "\n")); },
                                   {"no text pairs"});
  iotest::expect_error<IoError>([&] { compress::read_distill_pairs((dir / "absent").string()); }, {"absent"});
  fs::remove_all(dir);
}

TEST(CompressDistillKd, StudentLearnsTheTeachersLogitsAndResumesBitForBit) {
  const std::string teacher_dir = classifier_teacher();
  const fs::path dir = slimtest::make_temp_dir();
  compress::DistillOptions o;
  o.teacher_dir = teacher_dir;
  o.data_path = write_text(dir / "pairs.tsv", kPairs);
  o.student_layers = 1;
  o.init = compress::StudentInit::Random;   // far from the teacher, so that there is a way to go
  o.hard_label_weight = 0;                  // the teacher's logits alone
  o.batch_size = 3;
  o.lr = 2e-3;
  o.warmup_fraction = 0;
  o.epochs = 4;
  o.eval_mrpc = write_text(dir / "dev.tsv",
                           "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\ta man plays\tsomeone plays\n"
                           "0\t3\t4\tthe cat sleeps\tit rains\n");
  o.out_dir = (dir / "whole").string();
  const std::vector<compress::DistillEpoch> whole = compress::distill(o);
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_LT(whole.back().mean_loss, whole.front().mean_loss);
  EXPECT_GE(whole.back().accuracy, 0.0);
  EXPECT_LE(whole.back().accuracy, 1.0);

  // The student is a classifier folder; its logits are closer to the teacher's than those of
  // the same student before training.
  const compress::DistillPairs pairs = compress::read_distill_pairs(o.data_path);
  const Tensor teacher = SequenceClassifier(teacher_dir).logits(pairs.first, pairs.second);
  const SequenceClassifier student(o.out_dir);
  EXPECT_EQ(student.encoder().config().num_layers, 1);
  const compress::ModelState init = compress::make_student(compress::state_of(Checkpoint(teacher_dir)), 1,
                                                           compress::StudentInit::Random, o.seed);
  const fs::path init_dir = dir / "init";
  compress::save_model(init, teacher_dir, init_dir.string());
  const double before = mean_kl(teacher, SequenceClassifier(init_dir.string()).logits(pairs.first, pairs.second));
  const double after = mean_kl(teacher, student.logits(pairs.first, pairs.second));
  EXPECT_LT(after, 0.5 * before) << "KL before " << before << ", after " << after;

  // Interrupted in its third epoch, then resumed: the same student, head included, bit for bit.
  o.out_dir = (dir / "split").string();
  o.progress = [](int64_t epoch, int64_t, int64_t, double, double) {
    if (epoch == 3) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(compress::distill(o), std::runtime_error);
  o.progress = nullptr;
  o.resume = true;
  ASSERT_EQ(compress::distill(o).size(), 2u);
  const Checkpoint a((dir / "whole").string()), b((dir / "split").string());
  EXPECT_TRUE(a.contains("classifier.weight"));
  for (const std::string& name : a.names()) EXPECT_TRUE(same_bytes(a.get(name), b.get(name))) << name;
  fs::remove_all(dir);
  fs::remove_all(teacher_dir);
}

TEST(CompressDistillKd, RequestsThatDoNotFitAClassifierAreRefused) {
  const std::string teacher_dir = classifier_teacher();
  const fs::path dir = slimtest::make_temp_dir();
  compress::DistillOptions o;
  o.teacher_dir = teacher_dir;
  o.data_path = write_text(dir / "pairs.tsv", kPairs);
  o.student_layers = 1;
  o.out_dir = (dir / "out").string();
  o.loss = compress::DistillLoss::Cosine;
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"cosine", "is a classifier", "--loss kd"});
  o.loss = compress::DistillLoss::Kd;
  o.temperature = -1;
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"--temperature", "positive"});
  o.temperature = 0;
  o.hard_label_weight = 2;
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"--hard-label-weight", "[0, 1]"});
  o.hard_label_weight = -1;
  o.eval_stsb = write_text(dir / "sts.csv", "g\tf\t2012\t1\t5.0\ta\tb\n");
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"--eval-stsb", "regression head"});
  o.eval_stsb.clear();
  o.data_path = write_text(dir / "bad.tsv", "a\tb\t2\n");
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"label 2", "classes 0..1"});
  // A student folder without a head cannot learn logits.
  o.data_path = write_text(dir / "pairs2.tsv", kPairs);
  o.student_layers = 0;
  o.student_dir = slimtest::fixtures_dir() + "/models/st-bert-uncased";
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"student", "no sequence-classification head"});
  fs::remove_all(dir);
  fs::remove_all(teacher_dir);
}
