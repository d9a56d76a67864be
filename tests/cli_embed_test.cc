// slimformer embed: the library's embeddings (and Hugging Face's), in input order, with the
// defined behaviours for empty input, empty lines, trailing newlines, CRLF and long texts.
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "slimformer/encoder.h"

using namespace slimtest;

namespace {

const std::string kSt = model_dir("st-bert-uncased");

std::vector<std::vector<float>> parse_embeddings(const std::string& out) {
  std::vector<std::vector<float>> rows;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j.size(), 1u) << line;
    rows.push_back(j.at("embedding").get<std::vector<float>>());
  }
  return rows;
}

double max_diff(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& want) {
  EXPECT_EQ(got.size(), want.size());
  double m = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    EXPECT_EQ(got[i].size(), want[i].size());
    for (size_t j = 0; j < std::min(got[i].size(), want[i].size()); ++j) {
      m = std::max(m, std::abs(double(got[i][j]) - want[i][j]));
    }
  }
  return m;
}

std::vector<std::vector<float>> library(const std::vector<std::string>& texts, bool no_normalize = false) {
  const slimformer::SentenceEncoder enc(kSt);
  const slimformer::Tensor e = enc.embed(texts, 32, 0, no_normalize);
  std::vector<std::vector<float>> rows;
  for (int64_t i = 0; i < e.dim(0); ++i) rows.emplace_back(e.data<float>() + i * e.dim(1), e.data<float>() + (i + 1) * e.dim(1));
  return rows;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

}  // namespace

TEST(CliEmbed, MatchesLibraryAndHuggingFaceInInputOrder) {
  const nlohmann::json fx = nlohmann::json::parse(read_file(fixtures_dir() + "/outputs/st-bert-uncased.json"));
  const auto texts = fx.at("sentences").get<std::vector<std::string>>();
  const auto hf = fx.at("embeddings").get<std::vector<std::vector<float>>>();
  // A batch size that splits the input unevenly: order must survive the length-sorted batching.
  const CommandResult r = run_cli("embed --batch-size 5 --model " + q(kSt), join_lines(texts));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto got = parse_embeddings(r.out);
  EXPECT_LT(max_diff(got, library(texts)), 1e-6);   // floats are written so they read back exactly
  EXPECT_LT(max_diff(got, hf), 1e-4);
}

TEST(CliEmbed, OutputFileAndNoNormalize) {
  const std::vector<std::string> texts = {"a small test", "another one, a bit longer than the first"};
  const std::string out = make_temp_dir() + "/e.jsonl";
  const CommandResult r = run_cli("embed --no-normalize --model " + q(kSt) + " --output " + q(out), join_lines(texts));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const auto got = parse_embeddings(read_file(out));
  EXPECT_LT(max_diff(got, library(texts, true)), 1e-6);
  double norm = 0;
  for (float v : got[0]) norm += double(v) * v;
  EXPECT_GT(std::abs(std::sqrt(norm) - 1.0), 1e-3);   // really not normalized
}

TEST(CliEmbed, EmptyInputGivesNoOutput) {
  const CommandResult r = run_cli("embed --model " + q(kSt), "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  const std::string out = make_temp_dir() + "/e.jsonl";
  EXPECT_EQ(run_cli("embed --model " + q(kSt) + " --output " + q(out), "").exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(out));
  EXPECT_EQ(read_file(out), "");
}

TEST(CliEmbed, EmptyLineIsTheEmptyText) {
  const CommandResult r = run_cli("embed --model " + q(kSt), "first\n\nthird\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(max_diff(parse_embeddings(r.out), library({"first", "", "third"})), 1e-6);
}

TEST(CliEmbed, TrailingNewlineAndCrlf) {
  const auto unix_lines = run_cli("embed --model " + q(kSt), "one\ntwo\n");
  const auto no_final = run_cli("embed --model " + q(kSt), "one\ntwo");
  const auto crlf = run_cli("embed --model " + q(kSt), "one\r\ntwo\r\n");
  ASSERT_EQ(unix_lines.exit_code, 0) << unix_lines.err;
  EXPECT_EQ(parse_embeddings(unix_lines.out).size(), 2u);
  EXPECT_EQ(no_final.out, unix_lines.out);
  EXPECT_EQ(crlf.out, unix_lines.out);
  EXPECT_EQ(run_cli("embed --model " + q(kSt), "one\r\ntwo\r").out, unix_lines.out);
  // A carriage return inside a line is text.
  EXPECT_NE(run_cli("embed --model " + q(kSt), "one\rx\ntwo\n").out, unix_lines.out);
  // Only a single newline is one empty line.
  EXPECT_EQ(parse_embeddings(run_cli("embed --model " + q(kSt), "\n").out).size(), 1u);
}

TEST(CliEmbed, LongTextIsTruncatedWithOneWarning) {
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  const CommandResult r = run_cli("embed --model " + q(kSt), long_text + "\nshort\n" + long_text + "x\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_embeddings(r.out).size(), 3u);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  // --max-length truncates further, and changes the result.
  const CommandResult shorter = run_cli("embed --max-length 8 --model " + q(kSt), "one two three four five six seven eight nine\n");
  ASSERT_EQ(shorter.exit_code, 0) << shorter.err;
  const CommandResult full = run_cli("embed --model " + q(kSt), "one two three four five six seven eight nine\n");
  EXPECT_GT(max_diff(parse_embeddings(shorter.out), parse_embeddings(full.out)), 1e-3);
}
