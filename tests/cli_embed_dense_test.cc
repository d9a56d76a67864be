// slimformer embed and inspect on sentence-transformers folders with Dense modules and the
// weightedmean / lasttoken poolings; a Dense module's refusal as one error line.
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_util.h"
#include "sentence_folder_util.h"

using namespace slimtest;

namespace {

const std::string kInput = "A man is playing a guitar.\nshort\n\nTwo dogs run through a field of tall grass.\n";

std::vector<std::vector<double>> embeddings_of(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<double>> rows;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line).at("embedding").get<std::vector<double>>());
  return rows;
}

}  // namespace

TEST(CliEmbedDense, EmbedProjectsThePooledVectorAndInspectShowsTheWidth) {
  const std::string root = make_temp_dir();
  const DenseModuleFiles dense = random_dense(16, 5, 21);
  const std::string with = write_sentence_folder(root + "/with", "mean", {dense});
  const std::string without = write_sentence_folder(root + "/without", "mean");
  const auto got = embeddings_of(run_cli("embed --model " + q(with), kInput));
  const auto pooled = embeddings_of(run_cli("embed --model " + q(without), kInput));
  ASSERT_EQ(got.size(), 4u);
  ASSERT_EQ(pooled.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) {
    const std::vector<double> want =
        reference_dense(pooled[i], dense.tensors.at("linear.weight"), dense.tensors.at("linear.bias"), "Tanh");
    ASSERT_EQ(got[i].size(), 5u);
    for (size_t j = 0; j < want.size(); ++j) EXPECT_NEAR(got[i][j], want[j], 1e-5) << "text " << i;
  }
  const CommandResult r = run_cli("inspect --model " + q(with));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string s : {"hidden size:   16\n", "pooling:       mean\n", "dense:         16 -> 5, tanh\n",
                              "embedding dim: 5\n"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing '" << s << "' in\n" << r.out;
  }
}

TEST(CliEmbedDense, InspectNamesTheNewPoolings) {
  const std::string root = make_temp_dir();
  for (const std::string mode : {"weightedmean", "lasttoken"}) {
    const std::string dir = write_sentence_folder(root + "/" + mode, mode, {}, /*normalize=*/true);
    const CommandResult r = run_cli("inspect --model " + q(dir));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("pooling:       " + mode + ", normalized\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("embedding dim"), std::string::npos) << "no Dense module, no line: " << r.out;
    EXPECT_EQ(embeddings_of(run_cli("embed --model " + q(dir), kInput)).size(), 4u);
  }
}

TEST(CliEmbedDense, PickleWeightsAreOneErrorLine) {
  DenseModuleFiles dense = random_dense(16, 5, 21);
  dense.tensors.clear();
  const std::string dir = write_sentence_folder(make_temp_dir() + "/pickle", "mean", {dense});
  write_file(dir + "/2_Dense/pytorch_model.bin", "not read");
  expect_one_line_error(run_cli("embed --model " + q(dir), kInput), {dir + "/2_Dense/pytorch_model.bin", "pickle"});
}
