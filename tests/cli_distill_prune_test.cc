// slimformer distill --prune movement:amount=F: a short run writes a sparse student that embeds;
// every malformed spec is one line with exit code 2 and writes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_test_util.h"
#include "slimformer/checkpoint.h"

using namespace slimtest;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  fs::path root;
  Scratch() : root(fs::temp_directory_path() / ("slimformer-cli-movement-" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::create_directories(root);
    std::ofstream(root / "data.txt") << "a dog runs\nthe sky is blue\ntwo men talk\nshe sings\nit rains today\n";
  }
  ~Scratch() { fs::remove_all(root); }
  std::string at(const std::string& p) const { return (root / p).string(); }
};

}  // namespace

TEST(CliDistillPrune, MovementRunWritesASparseStudent) {
  Scratch s;
  const CommandResult r = run_cli("distill --teacher " + q(model_dir("st-bert-uncased")) + " --data " + q(s.at("data.txt")) +
                                  " --student-layers 1 --epochs 2 --batch-size 2 --lr 1e-3 --prune movement:amount=0.5 --out " +
                                  q(s.at("student")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch 2: mean loss"), std::string::npos) << r.out;
  const slimformer::Checkpoint c(s.at("student"));
  EXPECT_TRUE(c.is_decoded("encoder.layer.0.intermediate.dense.weight"));   // stored sparse
  EXPECT_EQ(run_cli("embed --model " + q(s.at("student")), "a small test\n").exit_code, 0);

  // --dense: the same zeros in a plain file (Hugging Face's loader reads it).
  const CommandResult d = run_cli("distill --teacher " + q(model_dir("st-bert-uncased")) + " --data " +
                                  q(s.at("data.txt")) + " --student-layers 1 --epochs 2 --batch-size 2 --lr 1e-3 " +
                                  "--prune movement:amount=0.5 --dense --out " + q(s.at("dense")));
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const slimformer::Checkpoint plain(s.at("dense"));
  const std::string w = "encoder.layer.0.intermediate.dense.weight";
  EXPECT_FALSE(plain.is_decoded(w));
  const slimformer::Tensor a = plain.get(w), b = c.get(w);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
}

TEST(CliDistillPrune, BadSpecsAreOneLineAndExitTwo) {
  Scratch s;
  const std::string base = "distill --teacher " + q(model_dir("st-bert-uncased")) + " --data " + q(s.at("data.txt")) +
                           " --student-layers 1 --out " + q(s.at("o")) + " --prune ";
  expect_one_line_error(run_cli(base + "l1-unstructured:amount=0.5"), {"--prune", "'l1-unstructured'", "movement:amount=F"});
  expect_one_line_error(run_cli(base + "movement"), {"--prune", "needs an amount"});
  expect_one_line_error(run_cli(base + "movement:amount=1.5"), {"--prune", "'1.5'", "(0, 1)"});
  expect_one_line_error(run_cli(base + "movement:amount=half"), {"--prune", "'half'"});
  expect_one_line_error(run_cli(base + "movement:amount=0.5,lr=3"), {"--prune", "unknown key", "'lr=3'"});
  expect_one_line_error(run_cli("distill --teacher " + q(model_dir("st-bert-uncased")) + " --data " +
                                q(s.at("data.txt")) + " --student-layers 1 --dense --out " + q(s.at("o"))),
                        {"--dense", "--prune movement"});
  EXPECT_FALSE(fs::exists(s.at("o")));
}
