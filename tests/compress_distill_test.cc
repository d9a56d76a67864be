// Distillation: students made from a teacher's layers, the data readers, a short run that lowers
// the loss and writes a folder that embeds, and a resumed run equal bit for bit to an
// uninterrupted one. (The full bert-mini-sts recipe is bench/distill_bert_mini.sh, docs/distill.md.)
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "io_test_util.h"
#include "slimformer/distill.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
namespace fs = std::filesystem;

namespace {

const std::string kDir = slimtest::fixtures_dir();

fs::path scratch(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("slimformer-distill-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

const char* kSentences =
    "a man is playing a guitar\nthe cat sleeps on the sofa\nchildren run in the park\n"
    "a woman slices an onion\nthe train leaves at noon\ntwo dogs chase a ball\n"
    "rain falls on the city\nhe reads a long book\nthe sun sets over the sea\nshe plays the piano\n";

}  // namespace

TEST(CompressDistill, StudentsKeepTheTeachersLayers) {
  const compress::ModelState t = compress::state_of(Checkpoint(kDir + "/models/bert-tiny"));
  const std::string q0 = "encoder.layer.0.attention.self.query.weight", q1 = "encoder.layer.1.attention.self.query.weight";
  const compress::ModelState every = compress::make_student(t, 1, compress::StudentInit::EveryOther, 1);
  EXPECT_EQ(every.config.num_layers, 1);
  EXPECT_TRUE(same_bytes(every.tensors.at(q0), t.tensors.at(q0)));
  EXPECT_EQ(every.tensors.count(q1), 0u);
  const compress::ModelState all = compress::make_student(t, 2, compress::StudentInit::EveryOther, 1);
  EXPECT_TRUE(same_bytes(all.tensors.at(q1), t.tensors.at(q1)));   // more than half: the top ones
  const compress::ModelState random = compress::make_student(t, 1, compress::StudentInit::Random, 1);
  EXPECT_FALSE(same_bytes(random.tensors.at(q0), t.tensors.at(q0)));
  EXPECT_EQ(random.tensors.at("embeddings.LayerNorm.weight").data<float>()[0], 1.0f);
  EXPECT_TRUE(same_bytes(compress::make_student(t, 1, compress::StudentInit::Random, 1).tensors.at(q0), random.tensors.at(q0)));
  iotest::expect_error<InputError>([&] { compress::make_student(t, 3, compress::StudentInit::First, 1); }, {"[1, 2]"});
  iotest::expect_error<InputError>([&] { compress::make_student(t, 0, compress::StudentInit::First, 1); }, {"--student-layers"});
}

TEST(CompressDistill, SentencesFromTextPairsAndStsFiles) {
  const fs::path dir = scratch("data");
  EXPECT_EQ(compress::read_distill_sentences(write_text(dir / "a.txt", "one\n\ntwo\r\n")),
            (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(compress::read_distill_sentences(write_text(dir / "bom.txt", "\xEF\xBB\xBFone\n")),
            std::vector<std::string>{"one"});
  EXPECT_EQ(compress::read_distill_sentences(write_text(dir / "b.tsv", "x\ty\nz\n")),
            (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(compress::read_distill_sentences(write_text(dir / "c.csv", "g\tf\t2012\t1\t5.0\tleft one\tright one\n")),
            (std::vector<std::string>{"left one", "right one"}));
  iotest::expect_error<InputError>([&] { compress::read_distill_sentences(write_text(dir / "d.tsv", "a\tb\tc\n")); },
                                   {"line 1", "3 tab-separated fields"});
  iotest::expect_error<InputError>([&] { compress::read_distill_sentences(write_text(dir / "e.txt", "\n\n")); },
                                   {"no sentences"});
  iotest::expect_error<IoError>([&] { compress::read_distill_sentences((dir / "absent").string()); }, {"absent"});
  fs::remove_all(dir);
}

TEST(CompressDistill, ShortRunLowersTheLossAndResumesBitForBit) {
  const fs::path dir = scratch("run");
  compress::DistillOptions o;
  o.teacher_dir = kDir + "/models/st-bert-uncased";
  o.data_path = write_text(dir / "data.txt", kSentences);
  o.student_layers = 1;
  o.batch_size = 4;
  o.lr = 1e-3;
  o.warmup_fraction = 0;
  o.epochs = 4;
  o.out_dir = (dir / "whole").string();
  const std::vector<compress::DistillEpoch> whole = compress::distill(o);
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_LT(whole.back().mean_loss, whole.front().mean_loss);
  // The student is a model folder that embeds like any other.
  const SentenceEncoder student(o.out_dir);
  EXPECT_EQ(student.encoder().config().num_layers, 1);
  EXPECT_EQ(student.embed({"a small test"}).dim(1), 16);

  // With dropout, interrupted in its third epoch (as by Ctrl-C): the folder holds epoch 2, and
  // --resume continues from there, drawing the masks an uninterrupted run draws (keyed by step).
  o.dropout = 0.1;
  o.out_dir = (dir / "whole-dropout").string();
  compress::distill(o);
  o.out_dir = (dir / "split").string();
  o.progress = [](int64_t epoch, int64_t, int64_t, double, double) {
    if (epoch == 3) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(compress::distill(o), std::runtime_error);
  o.progress = nullptr;
  o.resume = true;
  const std::vector<compress::DistillEpoch> rest = compress::distill(o);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest.front().epoch, 3);
  const Checkpoint a((dir / "whole-dropout").string()), b((dir / "split").string());
  for (const std::string& name : a.names()) EXPECT_TRUE(same_bytes(a.get(name), b.get(name))) << name;
  const std::string q0 = "encoder.layer.0.attention.self.query.weight";
  EXPECT_FALSE(same_bytes(a.get(q0), Checkpoint((dir / "whole").string()).get(q0)));   // dropout did act
  fs::remove_all(dir);
}

TEST(CompressDistill, BadRequestsAreRefused) {
  const fs::path dir = scratch("bad");
  compress::DistillOptions o;
  o.teacher_dir = kDir + "/models/st-bert-uncased";
  o.data_path = write_text(dir / "data.txt", kSentences);
  o.out_dir = (dir / "out").string();
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"--student-layers N or --student DIR"});
  o.student_layers = 1;
  o.resume = true;
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"--resume", "no training_state"});
  o.resume = false;
  o.out_dir = o.teacher_dir;
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"input model folder"});
  o.resume = true;   // a folder to continue is still never an input
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"input model folder"});
  o.resume = false;
  o.student_layers = 0;
  o.student_dir = kDir + "/models/bert-tiny";
  o.out_dir = o.student_dir + "/student";
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"input model folder", "bert-tiny"});
  EXPECT_FALSE(fs::exists(o.out_dir));
  fs::remove_all(dir);
}
