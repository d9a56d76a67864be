// Every line of the Hugging Face tokenization fixtures, through every way of loading each tokenizer.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "slimformer/tokenizer.h"
#include "test_util.h"

namespace {

using Json = nlohmann::json;
using slimformer::EncodeOptions;
using slimformer::Encoding;
using slimformer::Tokenizer;

std::string fixture(const std::string& name) { return slimtest::fixtures_dir() + "/tokenization/" + name; }
std::string data(const std::string& name) { return slimtest::shared_dir() + "/data/tokenizers/" + name; }

// Byte offset of every char boundary of `s` (fixture offsets count Python chars).
std::vector<int64_t> char_to_byte(const std::string& s) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(static_cast<int64_t>(i));
  out.push_back(static_cast<int64_t>(s.size()));
  return out;
}

template <class T>
std::string show(const std::vector<T>& v) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << v[i];
  return o.str() + "]";
}
std::string show(const std::vector<std::pair<int64_t, int64_t>>& v) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << "(" << v[i].first << "," << v[i].second << ")";
  return o.str() + "]";
}

struct Checker {
  std::vector<std::string> mismatches;
  int checked = 0;
  template <class T>
  void check(int line, const Json& row, const char* what, const T& got, const T& want) {
    ++checked;
    if (got == want) return;
    mismatches.push_back("line " + std::to_string(line) + " " + what + " for " + row["text"].dump() +
                         (row.contains("text_pair") ? " + " + row["text_pair"].dump() : "") +
                         "\n    got  " + show(got) + "\n    want " + show(want));
  }
};

// Runs one .jsonl file through `tok`; returns the mismatches (empty when all lines agree).
void check_file(const Tokenizer& tok, const std::string& jsonl, bool check_offsets) {
  std::ifstream in(jsonl);
  ASSERT_TRUE(in) << "cannot open " << jsonl;
  Checker c;
  std::string text;
  int line = 0, singles = 0, pairs = 0, truncations = 0;
  while (std::getline(in, text)) {
    ++line;
    const Json row = Json::parse(text);
    const std::string t = row["text"];
    const auto want_ids = row["ids"].get<std::vector<int64_t>>();
    if (row.contains("text_pair")) {
      ++pairs;
      const Encoding e = tok.encode_pair(t, row["text_pair"].get<std::string>());
      c.check(line, row, "pair ids", e.ids, want_ids);
      c.check(line, row, "pair type_ids", e.type_ids, row["type_ids"].get<std::vector<int64_t>>());
    } else if (row.contains("max_length")) {
      ++truncations;
      EncodeOptions opt;
      opt.max_length = row["max_length"];
      c.check(line, row, "truncated ids", tok.encode(t, opt).ids, want_ids);
    } else {
      ++singles;
      const Encoding e = tok.encode(t);
      c.check(line, row, "ids", e.ids, want_ids);
      c.check(line, row, "tokens", e.tokens, row["tokens"].get<std::vector<std::string>>());
      EncodeOptions plain;
      plain.add_special_tokens = false;
      c.check(line, row, "ids_no_special", tok.encode(t, plain).ids,
              row["ids_no_special"].get<std::vector<int64_t>>());
      if (check_offsets) {
        const std::vector<int64_t> b = char_to_byte(t);
        std::vector<std::pair<int64_t, int64_t>> want;
        for (const auto& o : row["offsets"]) want.emplace_back(b.at(o[0].get<size_t>()), b.at(o[1].get<size_t>()));
        c.check(line, row, "byte offsets", e.offsets, want);
      }
    }
  }
  EXPECT_GT(singles, 300);
  EXPECT_EQ(pairs, 40);
  EXPECT_EQ(truncations, 40);
  std::string report;
  for (size_t i = 0; i < c.mismatches.size() && i < 8; ++i) report += c.mismatches[i] + "\n";
  EXPECT_TRUE(c.mismatches.empty()) << c.mismatches.size() << " of " << c.checked << " checks differ in "
                                    << jsonl << "; the first ones:\n" << report;
}

TEST(TokenizerFixtures, BertUncasedTokenizerJson) {
  auto tok = slimformer::load_tokenizer_json(fixture("bert-base-uncased.tokenizer.json"));
  EXPECT_EQ(tok->kind(), "wordpiece");
  check_file(*tok, fixture("bert-base-uncased.jsonl"), true);
}

TEST(TokenizerFixtures, BertUncasedVocabTxt) {
  auto tok = slimformer::load_tokenizer(data("bert-base-uncased"));   // no tokenizer_config: lowercase
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->vocab_size(), 30522);
  check_file(*tok, fixture("bert-base-uncased.jsonl"), true);
}

TEST(TokenizerFixtures, BertCasedTokenizerJson) {
  check_file(*slimformer::load_tokenizer_json(fixture("bert-base-cased.tokenizer.json")),
             fixture("bert-base-cased.jsonl"), true);
}

TEST(TokenizerFixtures, BertCasedVocabTxt) {
  check_file(*slimformer::load_wordpiece_vocab(data("bert-base-cased/vocab.txt"), false),
             fixture("bert-base-cased.jsonl"), true);
}

TEST(TokenizerFixtures, MiniLmTokenizerJson) {
  check_file(*slimformer::load_tokenizer(data("all-MiniLM-L6-v2")), fixture("all-MiniLM-L6-v2.jsonl"), true);
}

TEST(TokenizerFixtures, RobertaTokenizerJson) {
  auto tok = slimformer::load_tokenizer(data("roberta-base"));
  EXPECT_EQ(tok->kind(), "bpe");
  EXPECT_EQ(tok->pad_id(), 1);
  EXPECT_EQ(tok->vocab_size(), 50265);
  check_file(*tok, fixture("roberta-base.jsonl"), true);
}

TEST(TokenizerFixtures, RobertaVocabJsonMerges) {
  auto tok = slimformer::load_bpe_files(data("roberta-base/vocab.json"), data("roberta-base/merges.txt"));
  EXPECT_EQ(tok->pad_id(), 1);
  check_file(*tok, fixture("roberta-base.jsonl"), true);
}

}  // namespace

namespace {

// The sentence-transformers fixture folders hold re-saves (transformers 5) of the same tokenizer
// objects the .jsonl lines came from; st-roberta's file writes merges as ["a", "b"] pairs.
TEST(TokenizerFixtures, SentenceTransformersResavedFiles) {
  const std::string models = slimtest::fixtures_dir() + "/models/";
  check_file(*slimformer::load_tokenizer(models + "st-bert-uncased"), fixture("bert-base-uncased.jsonl"), true);
  check_file(*slimformer::load_tokenizer(models + "st-roberta"), fixture("roberta-base.jsonl"), true);
}

}  // namespace
