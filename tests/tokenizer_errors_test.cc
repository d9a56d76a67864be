// Bad input to the tokenizers: invalid UTF-8, missing files, bad JSON, unsupported tokenizer.json
// parts, inconsistent vocabularies. Each gets its Error subclass and a message naming the culprit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io_test_util.h"
#include "slimformer/error.h"
#include "slimformer/tokenizer.h"
#include "test_util.h"

namespace {

using iotest::expect_error;
using iotest::write_bytes;
using nlohmann::json;
using slimformer::FormatError;
using slimformer::InputError;
using slimformer::IoError;

// A small valid WordPiece tokenizer.json; tests change one part of it.
json tiny_wordpiece() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 0, "content": "[PAD]", "special": true, "normalized": false,
                      "single_word": false, "lstrip": false, "rstrip": false}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                   "strip_accents": null, "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
    "decoder": null,
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6}}
  })");
}

class TokenizerErrors : public ::testing::Test {
 protected:
  std::string dir_ = slimtest::make_temp_dir();
  std::string path_ = dir_ + "/tokenizer.json";
  void load(const json& j) {
    write_bytes(path_, j.dump());
    slimformer::load_tokenizer_json(path_);
  }
};

TEST_F(TokenizerErrors, TinyTokenizerJsonWorks) {
  write_bytes(path_, tiny_wordpiece().dump());
  auto tok = slimformer::load_tokenizer(dir_);
  EXPECT_EQ(tok->encode("Hello worlds zzz").ids, (std::vector<int64_t>{2, 4, 5, 6, 1, 3}));
}

TEST_F(TokenizerErrors, CheckUtf8NamesWhereAndByte) {
  EXPECT_NO_THROW(slimformer::check_utf8("plain ascii, ß, 日本, 😀", "line 1"));
  expect_error<InputError>([] { slimformer::check_utf8("ab\xff" "cd", "line 3"); },
                           {"invalid UTF-8 in line 3 at byte 2"});
  expect_error<InputError>([] { slimformer::check_utf8("abc\xe2\x82", "x"); }, {"at byte 3"});  // cut short
  expect_error<InputError>([] { slimformer::check_utf8("\xc0\xaf", "x"); }, {"at byte 0"});     // overlong
  expect_error<InputError>([] { slimformer::check_utf8("a\xed\xa0\x80", "x"); }, {"at byte 1"}); // surrogate
  expect_error<InputError>([] { slimformer::check_utf8("\x80", "x"); }, {"at byte 0"});         // lone continuation
}

TEST_F(TokenizerErrors, EncodeRefusesInvalidUtf8) {
  write_bytes(path_, tiny_wordpiece().dump());
  auto tok = slimformer::load_tokenizer_json(path_);
  expect_error<InputError>([&] { tok->encode("hello \xfe"); }, {"invalid UTF-8", "at byte 6"});
  expect_error<InputError>([&] { tok->encode_pair("hello", "wor\xc3"); }, {"second text", "at byte 3"});
}

TEST_F(TokenizerErrors, MissingFiles) {
  expect_error<IoError>([&] { slimformer::load_tokenizer(dir_); }, {dir_, "tokenizer.json", "vocab.txt"});
  write_bytes(dir_ + "/vocab.json", "{}");   // merges.txt missing: still nothing to load
  expect_error<IoError>([&] { slimformer::load_tokenizer(dir_); }, {"merges.txt"});
  expect_error<IoError>([&] { slimformer::load_tokenizer_json(dir_ + "/absent.json"); }, {"absent.json"});
  expect_error<IoError>([&] { slimformer::load_wordpiece_vocab(dir_ + "/absent.txt", true); }, {"absent.txt"});
  expect_error<IoError>([&] { slimformer::load_bpe_files(dir_ + "/vocab.json", dir_ + "/none.txt"); },
                        {"none.txt"});
}

TEST_F(TokenizerErrors, BadJson) {
  write_bytes(path_, "{\"model\": ");
  expect_error<FormatError>([&] { slimformer::load_tokenizer(dir_); }, {path_, "not valid JSON"});
  write_bytes(path_, "[1, 2]");
  expect_error<FormatError>([&] { slimformer::load_tokenizer_json(path_); }, {path_, "object"});
  json j = tiny_wordpiece();
  j.erase("model");
  expect_error<FormatError>([&] { load(j); }, {path_, "model"});
  j = tiny_wordpiece();
  j["model"]["vocab"] = json::array({"a", "b"});
  expect_error<FormatError>([&] { load(j); }, {"vocab must be an object"});
  j = tiny_wordpiece();
  j["added_tokens"][0].erase("content");
  expect_error<FormatError>([&] { load(j); }, {"added_tokens[0]", "content"});
}

TEST_F(TokenizerErrors, UnsupportedPartsAreNamed) {
  json j = tiny_wordpiece();
  j["normalizer"] = {{"type", "Nmt"}};
  expect_error<FormatError>([&] { load(j); },
                            {"tokenizer.json: normalizer type \"Nmt\" is not supported", "BertNormalizer", "Precompiled"});
  j = tiny_wordpiece();
  j["pre_tokenizer"] = {{"type", "Punctuation"}};
  expect_error<FormatError>([&] { load(j); }, {"pre_tokenizer type \"Punctuation\"", "ByteLevel", "Metaspace"});
  j = tiny_wordpiece();
  j["pre_tokenizer"] = nullptr;
  expect_error<FormatError>([&] { load(j); }, {"pre_tokenizer type \"null\""});
  j = tiny_wordpiece();
  j["model"]["type"] = "WordLevel";
  expect_error<FormatError>([&] { load(j); }, {"model type \"WordLevel\"", "WordPiece, BPE", "Unigram"});
  j = tiny_wordpiece();
  j["post_processor"] = {{"type", "ByteLevel"}, {"trim_offsets", true}};
  expect_error<FormatError>([&] { load(j); }, {"post_processor type \"ByteLevel\"", "TemplateProcessing"});
  j = tiny_wordpiece();
  j["model"].erase("type");
  j["model"].erase("max_input_chars_per_word");
  j["model"].erase("continuing_subword_prefix");
  expect_error<FormatError>([&] { load(j); }, {"neither WordPiece nor BPE"});
}

TEST_F(TokenizerErrors, InconsistentVocabularies) {
  json j = tiny_wordpiece();
  j["model"]["unk_token"] = "<unk>";
  expect_error<FormatError>([&] { load(j); }, {"unk_token \"<unk>\"", "not in the vocabulary"});
  j = tiny_wordpiece();
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", json::parse(R"([{"SpecialToken": {"id": "[CLS]", "type_id": 0}}])")},
                         {"pair", json::array()},
                         {"special_tokens", json::object()}};
  expect_error<FormatError>([&] { load(j); }, {"\"[CLS]\"", "special_tokens does not define"});

  write_bytes(dir_ + "/vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  write_bytes(dir_ + "/merges.txt", "#version: 0.2\na b\nab c\n");
  expect_error<FormatError>([&] { slimformer::load_bpe_files(dir_ + "/vocab.json", dir_ + "/merges.txt"); },
                            {"merge 2", "\"ab c\"", "not in the vocabulary"});
  write_bytes(dir_ + "/merges.txt", "#version: 0.2\na b c\n");
  expect_error<FormatError>([&] { slimformer::load_bpe_files(dir_ + "/vocab.json", dir_ + "/merges.txt"); },
                            {"merges.txt", "line 2"});
  write_bytes(dir_ + "/vocab.json", R"({"a": -4})");
  expect_error<FormatError>([&] { slimformer::load_bpe_files(dir_ + "/vocab.json", dir_ + "/merges.txt"); },
                            {"vocab.json", "\"a\""});
  write_bytes(dir_ + "/vocab.txt", "[PAD]\nhello\n");   // no [UNK], [CLS], [SEP]
  expect_error<FormatError>([&] { slimformer::load_wordpiece_vocab(dir_ + "/vocab.txt", true); },
                            {"vocab.txt", "[UNK]"});
}

TEST_F(TokenizerErrors, MaxLengthTooSmallForSpecials) {
  write_bytes(path_, tiny_wordpiece().dump());
  auto tok = slimformer::load_tokenizer_json(path_);
  slimformer::EncodeOptions opt;
  opt.max_length = 1;
  expect_error<InputError>([&] { tok->encode("hello", opt); }, {"max_length 1", "2 special tokens"});
  opt.max_length = -3;
  expect_error<InputError>([&] { tok->encode("hello", opt); }, {"max_length"});
  opt.add_special_tokens = false;
  opt.max_length = 1;
  EXPECT_EQ(tok->encode("hello world", opt).ids, (std::vector<int64_t>{4}));
}

}  // namespace
