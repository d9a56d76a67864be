// llama.cpp's golden tokenizations (made with Hugging Face fast tokenizers, no special tokens):
// the bge file uses the bert-base-uncased vocabulary, the roberta file roberta-base's.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "slimformer/tokenizer.h"
#include "test_util.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The .inp file: strings each followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_inputs(const std::string& path) {
  const std::string text = read_all(path), sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t start = 0, at;
  while ((at = text.find(sep, start)) != std::string::npos) {
    out.push_back(text.substr(start, at - start));
    start = at + sep.size();
  }
  return out;
}

std::vector<std::vector<int64_t>> read_outputs(const std::string& path) {
  std::vector<std::vector<int64_t>> out;
  std::istringstream in(read_all(path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int64_t> ids;
    for (int64_t id; ls >> id;) ids.push_back(id);
    out.push_back(ids);
  }
  return out;
}

void check_golden(const slimformer::Tokenizer& tok, const std::string& stem) {
  const std::string dir = slimtest::shared_dir() + "/data/golden-tokenization/";
  const auto inputs = read_inputs(dir + stem + ".inp");
  const auto outputs = read_outputs(dir + stem + ".out");
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(outputs.size(), inputs.size());
  slimformer::EncodeOptions plain;
  plain.add_special_tokens = false;
  int bad = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = tok.encode(inputs[i], plain).ids;
    if (got == outputs[i]) continue;
    if (++bad <= 5) {
      std::string g, w;
      for (auto id : got) g += " " + std::to_string(id);
      for (auto id : outputs[i]) w += " " + std::to_string(id);
      ADD_FAILURE() << stem << " case " << i + 1 << " \"" << inputs[i] << "\"\n  got " << g << "\n want " << w;
    }
  }
  EXPECT_EQ(bad, 0) << bad << " of " << inputs.size() << " golden cases differ";
}

TEST(TokenizerGolden, BertBgeUncasedVocab) {
  check_golden(*slimformer::load_tokenizer(slimtest::shared_dir() + "/data/tokenizers/bert-base-uncased"),
               "ggml-vocab-bert-bge.gguf");
}

TEST(TokenizerGolden, BertBgeMiniLmTokenizerJson) {
  check_golden(*slimformer::load_tokenizer(slimtest::shared_dir() + "/data/tokenizers/all-MiniLM-L6-v2"),
               "ggml-vocab-bert-bge.gguf");
}

TEST(TokenizerGolden, RobertaTokenizerJson) {
  check_golden(*slimformer::load_tokenizer(slimtest::shared_dir() + "/data/tokenizers/roberta-base"),
               "ggml-vocab-roberta-bpe.gguf");
}

TEST(TokenizerGolden, RobertaVocabJsonMerges) {
  const std::string d = slimtest::shared_dir() + "/data/tokenizers/roberta-base/";
  check_golden(*slimformer::load_bpe_files(d + "vocab.json", d + "merges.txt"), "ggml-vocab-roberta-bpe.gguf");
}

}  // namespace
