// slimformer tokenize against the Hugging Face tokenizations of bert-base-uncased (the tokenizer
// st-bert-uncased carries), and slimformer inspect on known folders.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

using namespace slimtest;

namespace {

const std::string kSt = model_dir("st-bert-uncased");

std::vector<nlohmann::json> fixture_rows() {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_file(fixtures_dir() + "/tokenization/bert-base-uncased.jsonl"));
  std::string line;
  while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// Up to n rows of one kind whose texts fit on one input line.
std::vector<nlohmann::json> pick(const std::string& kind, size_t n) {
  std::vector<nlohmann::json> out;
  for (const auto& r : fixture_rows()) {
    const bool is_pair = r.contains("text_pair"), is_trunc = r.contains("max_length");
    if ((kind == "pair") != is_pair || (kind == "trunc") != is_trunc) continue;
    if (is_trunc && r["max_length"] != 16) continue;
    std::string t = r["text"].get<std::string>() + (is_pair ? r["text_pair"].get<std::string>() : "");
    if (t.find_first_of("\n\r\t") != std::string::npos) continue;
    out.push_back(r);
    if (out.size() == n) break;
  }
  return out;
}

std::vector<nlohmann::json> output_lines(const CommandResult& r) {
  std::vector<nlohmann::json> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST(CliTokenize, SingleTextsMatchHuggingFace) {
  const auto rows = pick("single", 12);
  ASSERT_EQ(rows.size(), 12u);
  std::string input;
  for (const auto& r : rows) input += r["text"].get<std::string>() + "\n";
  const CommandResult r = run_cli("tokenize --model " + q(kSt), input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = output_lines(r);
  ASSERT_EQ(got.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(got[i].at("ids"), rows[i]["ids"]) << rows[i]["text"];
    EXPECT_EQ(got[i].at("tokens"), rows[i]["tokens"]) << rows[i]["text"];
    EXPECT_FALSE(got[i].contains("type_ids"));
  }
  const auto plain = output_lines(run_cli("tokenize --no-special-tokens --model " + q(kSt), input));
  ASSERT_EQ(plain.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(plain[i].at("ids"), rows[i]["ids_no_special"]) << rows[i]["text"];
}

TEST(CliTokenize, PairsAndTruncationMatchHuggingFace) {
  const auto pairs = pick("pair", 5);
  ASSERT_EQ(pairs.size(), 5u);
  std::string input;
  for (const auto& p : pairs) input += p["text"].get<std::string>() + "\t" + p["text_pair"].get<std::string>() + "\r\n";
  const CommandResult r = run_cli("tokenize --pair --model " + q(kSt), input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = output_lines(r);
  ASSERT_EQ(got.size(), pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(got[i].at("ids"), pairs[i]["ids"]);
    EXPECT_EQ(got[i].at("type_ids"), pairs[i]["type_ids"]);
  }
  const auto trunc = pick("trunc", 4);
  ASSERT_FALSE(trunc.empty());
  input.clear();
  for (const auto& t : trunc) input += t["text"].get<std::string>() + "\n";
  const auto cut = output_lines(run_cli("tokenize --max-length 16 --model " + q(kSt), input));
  ASSERT_EQ(cut.size(), trunc.size());
  for (size_t i = 0; i < trunc.size(); ++i) EXPECT_EQ(cut[i].at("ids"), trunc[i]["ids"]);
}

TEST(CliTokenize, EmptyInputAndEmptyLine) {
  const CommandResult none = run_cli("tokenize --model " + q(kSt), "");
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  const CommandResult empty = run_cli("tokenize --model " + q(kSt), "\n");
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out,
            "{\"ids\":[101,102],\"tokens\":[\"[CLS]\",\"[SEP]\"],\"attention_mask\":[1,1],\"offsets\":[[0,0],[0,0]]}\n");
}

// Offsets count characters of each token's own text, as Hugging Face reports them, for every
// single text of the BERT and RoBERTa fixtures that fits on a line.
TEST(CliTokenize, OffsetsAndMaskMatchHuggingFace) {
  for (const auto& [model, jsonl] : {std::pair<std::string, std::string>{kSt, "bert-base-uncased"},
                                     {shared_dir() + "/data/tokenizers/roberta-base", "roberta-base"}}) {
    std::vector<nlohmann::json> rows;
    std::istringstream file(read_file(fixtures_dir() + "/tokenization/" + jsonl + ".jsonl"));
    std::string input;
    for (std::string line; std::getline(file, line);) {
      const nlohmann::json r = nlohmann::json::parse(line);
      const std::string t = r["text"];
      if (r.contains("text_pair") || r.contains("max_length") || !r.contains("offsets")) continue;
      if (t.find_first_of("\n\r") != std::string::npos) continue;
      rows.push_back(r);
      input += t + "\n";
    }
    ASSERT_GT(rows.size(), 100u) << jsonl;
    const CommandResult r = run_cli("tokenize --model " + q(model), input);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto got = output_lines(r);
    ASSERT_EQ(got.size(), rows.size()) << jsonl;
    size_t wrong = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (got[i].at("offsets") != rows[i]["offsets"] && wrong++ < 5) {
        ADD_FAILURE() << jsonl << " " << rows[i]["text"] << "\n got  " << got[i].at("offsets") << "\n want "
                      << rows[i]["offsets"];
      }
      EXPECT_EQ(got[i].at("attention_mask"), nlohmann::json(std::vector<int>(rows[i]["ids"].size(), 1)));
    }
    EXPECT_EQ(wrong, 0u) << jsonl;
  }
  // A pair: each text's tokens count in that text (here: "café" is 4 characters, 5 bytes; "lait" is "lai" "##t").
  const auto pair = output_lines(run_cli("tokenize --pair --model " + q(kSt), "café au lait\tgood day\n"));
  ASSERT_EQ(pair.size(), 1u);
  EXPECT_EQ(pair[0].at("offsets"), nlohmann::json::parse("[[0,0],[0,4],[5,7],[8,11],[11,12],[0,0],[0,4],[5,8],[0,0]]"))
      << pair[0];
}

TEST(CliInspect, BertTiny) {
  const CommandResult r = run_cli("inspect --model " + q(model_dir("bert-tiny")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Independent figures: 39 F32 tensors, 176576 parameters (python: sum of numel in the
  // safetensors header), the file's size on disk, max_position_embeddings 128, no tokenizer.
  const std::string file_size = std::to_string(std::filesystem::file_size(model_dir("bert-tiny") + "/model.safetensors"));
  for (const std::string& s : std::vector<std::string>{"architecture:  bert\n", "parameters:    176576\n",
                              "tensors F32:   39 tensors, 706304 bytes (0.7 MiB)\n",
                              "file size:     " + file_size + " bytes", "tokenizer:     none\n", "max length:    128\n"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing '" << s << "' in\n" << r.out;
  }
}

TEST(CliInspect, SentenceTransformersFolder) {
  const CommandResult r = run_cli("inspect --model " + q(model_dir("st-roberta")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string s : {"architecture:  roberta\n", "tokenizer:     bpe (vocab 50265)\n", "pooling:       mean, normalized\n"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing '" << s << "' in\n" << r.out;
  }
}
