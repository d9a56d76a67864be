// slimformer distill end to end: a short run prints each epoch and writes a folder that embeds;
// every bad option is one line with exit code 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "classifier_test_util.h"
#include "cli_test_util.h"

using namespace slimtest;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  fs::path root;
  Scratch() : root(fs::temp_directory_path() / ("slimformer-cli-distill-" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::create_directories(root);
    std::ofstream(root / "data.txt") << "a dog runs\nthe sky is blue\ntwo men talk\nshe sings\nit rains today\n";
  }
  ~Scratch() { fs::remove_all(root); }
  std::string at(const std::string& p) const { return (root / p).string(); }
};

}  // namespace

TEST(CliDistill, ShortRunPrintsEachEpochAndWritesAStudent) {
  Scratch s;
  const std::string teacher = model_dir("st-bert-uncased");
  const CommandResult r = run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("data.txt")) +
                                  " --student-layers 1 --epochs 2 --batch-size 2 --lr 1e-3 --out " + q(s.at("student")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch 1: mean loss"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch 2: mean loss"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("distill: epoch 2/2 step 3/3"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(s.at("student/training_state.safetensors")));
  EXPECT_TRUE(fs::exists(s.at("student/tokenizer.json")));
  EXPECT_EQ(run_cli("embed --model " + q(s.at("student")), "a small test\n").exit_code, 0);
  // the folder is taken now: a second run refuses it rather than overwrite
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("data.txt")) +
                                " --student-layers 1 --out " + q(s.at("student"))),
                        {"not empty"});
}

// A classifier teacher: KD on its logits by default, scored on an MRPC-format file each epoch.
TEST(CliDistill, ClassifierTeacherIsDistilledOnItsLogits) {
  Scratch s;
  auto tensors = prefixed_tensors("st-bert-uncased", "bert.");
  tensors["classifier.weight"] = random_tensor({2, 16}, 3);
  tensors["classifier.bias"] = random_tensor({2}, 4);
  const nlohmann::json edits = {{"architectures", {"BertForSequenceClassification"}}, {"num_labels", 2}};
  const std::string teacher = write_model_folder(fixture_config("st-bert-uncased", edits), tensors, "st-bert-uncased");
  std::ofstream(s.root / "pairs.tsv") << "a dog runs\ta dog is running\t1\nthe sky is blue\tshe sings\t0\n";
  std::ofstream(s.root / "dev.tsv") << "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\ta dog runs\ta dog runs\n";
  const CommandResult r = run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("pairs.tsv")) +
                                  " --student-layers 1 --temperature 3 --eval-mrpc " + q(s.at("dev.tsv")) + " --out " +
                                  q(s.at("student")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch 1: mean loss"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MRPC accuracy"), std::string::npos) << r.out;
  const CommandResult e = run_cli("eval --task mrpc --data " + q(s.at("dev.tsv")) + " --model " + q(s.at("student")));
  EXPECT_EQ(e.exit_code, 0) << e.err;
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("data.txt")) +
                                " --student-layers 1 --out " + q(s.at("o"))),
                        {"line 1", "text pairs"});
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("pairs.tsv")) +
                                " --student-layers 1 --loss cosine --out " + q(s.at("o"))),
                        {"cosine", "is a classifier"});
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("pairs.tsv")) +
                                " --student-layers 1 --hard-label-weight 1.5 --out " + q(s.at("o"))),
                        {"--hard-label-weight", "[0, 1]"});
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --data " + q(s.at("pairs.tsv")) +
                                " --student-layers 1 --eval-stsb " + q(s.at("data.txt")) + " --out " + q(s.at("o"))),
                        {"--eval-stsb", "regression head"});
  fs::remove_all(teacher);
}

TEST(CliDistill, BadOptionsAreOneLineAndExitTwo) {
  Scratch s;
  const std::string base = "distill --teacher " + q(model_dir("st-bert-uncased")) + " --data " + q(s.at("data.txt")) +
                           " --out " + q(s.at("o"));
  expect_one_line_error(run_cli(base), {"--student-layers N or --student DIR"});
  expect_one_line_error(run_cli(base + " --student-layers 3"), {"--student-layers", "[1, 2]"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --student-init middle"), {"--student-init", "'middle'"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --loss kd"), {"--loss kd", "no sequence-classification head"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --temperature 3"), {"--temperature", "sentence-embedding model"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --hard-label-weight 0.2"),
                        {"--hard-label-weight", "sentence-embedding model"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --eval-mrpc " + q(s.at("data.txt"))),
                        {"--eval-mrpc", "sentence-embedding model", "--eval-stsb"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --loss l2"), {"--loss", "'l2'"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --epochs 0"), {"--epochs"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --dropout 1"), {"--dropout", "[0, 1)"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --lr -1"), {"--lr"});
  expect_one_line_error(run_cli(base + " --student-layers 1 --resume"), {"--resume", "training_state"});
  expect_one_line_error(run_cli("distill --teacher " + q(s.at("none")) + " --data x --student-layers 1 --out " + q(s.at("o"))),
                        {"--teacher"});
  expect_one_line_error(run_cli("distill --teacher " + q(model_dir("st-bert-uncased")) + " --data " + q(s.at("absent.txt")) +
                                " --student-layers 1 --out " + q(s.at("o"))),
                        {"absent.txt"});
  EXPECT_FALSE(fs::exists(s.at("o")));
  // the student folder is an input too: --out inside it is refused
  const std::string student = model_dir("st-bert-uncased");
  expect_one_line_error(run_cli("distill --teacher " + q(student) + " --data " + q(s.at("data.txt")) + " --student " +
                                q(student) + " --out " + q(student + "/trained")),
                        {"input model folder"});
  EXPECT_FALSE(fs::exists(student + "/trained"));
}
