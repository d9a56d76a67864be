// Folders with Dense modules through compression: a saved model keeps the modules' weights, and
// the training paths that see only the pooled vector refuse them.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "cli_test_util.h"
#include "sentence_folder_util.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"

using namespace slimformer;
using namespace slimtest;
namespace fs = std::filesystem;

TEST(CompressDense, SavedModelKeepsTheDenseModules) {
  const std::string root = make_temp_dir();
  const std::string src = write_sentence_folder(root + "/src", "lasttoken", {random_dense(16, 6, 31)}, true);
  compress::ModelState m = compress::state_of(Checkpoint(src));
  compress::save_model(m, src, root + "/out");
  EXPECT_TRUE(fs::exists(root + "/out/2_Dense/model.safetensors"));
  const std::vector<std::string> texts = {"a small test", "another, longer sentence to embed"};
  const Tensor before = SentenceEncoder(src).embed(texts);
  const Tensor after = SentenceEncoder(root + "/out").embed(texts);
  ASSERT_EQ(after.shape(), (Shape{2, 6}));
  EXPECT_EQ(std::memcmp(before.raw(), after.raw(), before.nbytes()), 0);
}

TEST(CompressDense, DistillRefusesADenseTeacher) {
  const std::string root = make_temp_dir();
  const std::string teacher = write_sentence_folder(root + "/teacher", "mean", {random_dense(16, 6, 31)});
  write_file(root + "/data.txt", "a small test\nanother one\n");
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --data " + q(root + "/data.txt") +
                                " --student-layers 1 --epochs 1 --out " + q(root + "/student")),
                        {"teacher", "Dense"});
  EXPECT_FALSE(fs::exists(root + "/student"));
}

TEST(CompressDense, DistillRefusesADenseStudent) {
  const std::string root = make_temp_dir();
  const std::string teacher = write_sentence_folder(root + "/teacher", "mean");
  const std::string student = write_sentence_folder(root + "/student-in", "mean", {random_dense(16, 16, 32)});
  write_file(root + "/data.txt", "a small test\nanother one\n");
  expect_one_line_error(run_cli("distill --teacher " + q(teacher) + " --student " + q(student) + " --data " +
                                q(root + "/data.txt") + " --epochs 1 --out " + q(root + "/student")),
                        {"student", "Dense"});
}

TEST(CompressDense, GradientHeadImportanceRefusesDenseModules) {
  const std::string dir = write_sentence_folder(make_temp_dir() + "/m", "mean", {random_dense(16, 6, 31)});
  StsPair pair;
  pair.score = 3.0;
  pair.sentence1 = "a man plays";
  pair.sentence2 = "a man is playing";
  EXPECT_NE(message_of<InputError>([&] { compress::head_importance_by_gradient(dir, {pair}); }).find("Dense"),
            std::string::npos);
}
