// config.json and sentence-transformers files: every supported architecture's keys, and every
// refusal naming the file and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io_test_util.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {
using namespace slimformer;
using iotest::expect_error;
namespace fs = std::filesystem;

const char* kBert = R"({"model_type": "bert", "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
  "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2,
  "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0})";

class IoEncoderConfig : public ::testing::Test {
 protected:
  void SetUp() override { path_ = slimtest::make_temp_dir() + "/config.json"; }
  EncoderConfig read(const std::string& text) {
    iotest::write_bytes(path_, text);
    return read_encoder_config(path_);
  }
  // kBert with `key` set to the JSON `value` (or removed when value is empty).
  EncoderConfig read_bert_with(const std::string& key, const std::string& value) {
    auto j = nlohmann::json::parse(kBert);
    if (value.empty()) j.erase(key); else j[key] = nlohmann::json::parse(value);
    return read(j.dump());
  }
  std::string path_;
};

TEST_F(IoEncoderConfig, BertKeys) {
  EncoderConfig c = read(kBert);
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, 384);
  EXPECT_EQ(c.num_layers, 6);
  EXPECT_EQ(c.num_heads, 12);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.position_offset, 0);
  EXPECT_EQ(c.activation, Activation::Gelu);
}

TEST_F(IoEncoderConfig, Activations) {
  EXPECT_EQ(read_bert_with("hidden_act", "\"gelu_new\"").activation, Activation::GeluTanh);
  EXPECT_EQ(read_bert_with("hidden_act", "\"gelu_pytorch_tanh\"").activation, Activation::GeluTanh);
  EXPECT_EQ(read_bert_with("hidden_act", "\"relu\"").activation, Activation::Relu);
  expect_error<ModelError>([&] { read_bert_with("hidden_act", "\"swish\""); }, {path_, "'swish'", "gelu_new"});
}

TEST_F(IoEncoderConfig, RobertaAndXlmRobertaPositionsStartAfterPadding) {
  for (const char* type : {"\"roberta\"", "\"xlm-roberta\""}) {
    auto j = nlohmann::json::parse(kBert);
    j["model_type"] = nlohmann::json::parse(type);
    j["pad_token_id"] = 1;
    j["max_position_embeddings"] = 514;
    j["layer_norm_eps"] = 1e-5;
    EncoderConfig c = read(j.dump());
    EXPECT_EQ(c.pad_token_id, 1) << type;
    EXPECT_EQ(c.position_offset, 2) << type;
    EXPECT_FLOAT_EQ(c.layer_norm_eps, 1e-5f) << type;
  }
}

TEST_F(IoEncoderConfig, DistilbertKeys) {
  EncoderConfig c = read(R"({"model_type": "distilbert", "vocab_size": 30522, "dim": 768, "n_layers": 6,
    "n_heads": 12, "hidden_dim": 3072, "max_position_embeddings": 512, "activation": "relu",
    "pad_token_id": 0, "sinusoidal_pos_embds": false})");
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_layers, 6);
  EXPECT_EQ(c.num_heads, 12);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.type_vocab_size, 0);
  EXPECT_FLOAT_EQ(c.layer_norm_eps, 1e-12f);
  EXPECT_EQ(c.activation, Activation::Relu);
  expect_error<ModelError>([&] {
    read(R"({"model_type": "distilbert", "vocab_size": 10, "dim": 8, "n_layers": 1, "n_heads": 2,
             "hidden_dim": 16, "max_position_embeddings": 8, "sinusoidal_pos_embds": true})");
  }, {path_, "sinusoidal_pos_embds"});
}

TEST_F(IoEncoderConfig, NotJson) {
  expect_error<FormatError>([&] { read("{\"model_type\": "); }, {path_, "not valid JSON"});
  expect_error<FormatError>([&] { read("[1]"); }, {path_, "object"});
  expect_error<IoError>([&] { read_encoder_config(path_ + ".missing"); }, {path_ + ".missing"});
}

TEST_F(IoEncoderConfig, MissingOrMistypedKeysNameKeyAndFile) {
  for (const char* key : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "intermediate_size", "max_position_embeddings"}) {
    expect_error<FormatError>([&] { read_bert_with(key, ""); }, {path_, std::string("'") + key + "'"});
    expect_error<FormatError>([&] { read_bert_with(key, "\"64\""); }, {path_, key, "integer", "string"});
    expect_error<FormatError>([&] { read_bert_with(key, "64.5"); }, {path_, key, "integer"});
    expect_error<FormatError>([&] { read_bert_with(key, "0"); }, {path_, key, "positive"});
  }
  expect_error<FormatError>([&] { read_bert_with("layer_norm_eps", "\"tiny\""); }, {path_, "layer_norm_eps", "number"});
  expect_error<FormatError>([&] { read_bert_with("hidden_act", "3"); }, {path_, "hidden_act", "string"});
  expect_error<FormatError>([&] { read_bert_with("pad_token_id", "40000"); }, {path_, "pad_token_id"});
  expect_error<FormatError>([&] { read_bert_with("model_type", "7"); }, {path_, "model_type"});
}

TEST_F(IoEncoderConfig, HeadsMustDivideHidden) {
  expect_error<ModelError>([&] { read_bert_with("num_attention_heads", "7"); }, {path_, "384", "divisible", "7"});
}

TEST_F(IoEncoderConfig, UnsupportedOrMissingModelTypeListsSupported) {
  expect_error<ModelError>([&] { read_bert_with("model_type", "\"gpt2\""); },
                           {path_, "'gpt2'", "bert, roberta, xlm-roberta, distilbert"});
  expect_error<ModelError>([&] { read_bert_with("model_type", ""); }, {path_, "model_type", "bert, roberta"});
  expect_error<ModelError>([&] { read_bert_with("position_embedding_type", "\"relative_key\""); },
                           {path_, "relative_key"});
  EXPECT_EQ(supported_model_types(),
            (std::vector<std::string>{"bert", "roberta", "xlm-roberta", "distilbert", "big_bird", "longformer"}));
}

class IoSentenceConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = slimtest::make_temp_dir();
    fs::create_directory(dir_ + "/1_Pooling");
  }
  void modules(bool normalize, const std::string& extra = "") {
    std::string m = R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
      {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"})";
    if (normalize) m += R"(, {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})";
    iotest::write_bytes(dir_ + "/modules.json", m + extra + "]");
  }
  void pooling(const std::string& json) { iotest::write_bytes(dir_ + "/1_Pooling/config.json", json); }
  std::string flags(const std::string& on) {
    std::string s = "{";
    for (const char* f : {"cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken"}) {
      s += std::string(s.size() > 1 ? ", " : "") + "\"pooling_mode_" + f + "\": " + (on == f ? "true" : "false");
    }
    return s + "}";
  }
  std::string dir_;
};

TEST_F(IoSentenceConfig, PoolingFlagsAndNames) {
  modules(true);
  const std::pair<const char*, PoolingMode> cases[] = {{"cls_token", PoolingMode::Cls}, {"mean_tokens", PoolingMode::Mean},
      {"max_tokens", PoolingMode::Max}, {"mean_sqrt_len_tokens", PoolingMode::MeanSqrtLen},
      {"weightedmean_tokens", PoolingMode::WeightedMean}, {"lasttoken", PoolingMode::LastToken}};
  for (const auto& [flag, mode] : cases) {
    pooling(flags(flag));
    SentenceConfig s = read_sentence_config(dir_);
    EXPECT_TRUE(s.is_sentence_transformers);
    EXPECT_TRUE(s.normalize);
    EXPECT_EQ(s.pooling, mode) << flag;
  }
  const std::pair<const char*, PoolingMode> named[] = {{"cls", PoolingMode::Cls}, {"mean", PoolingMode::Mean},
      {"max", PoolingMode::Max}, {"mean_sqrt_len_tokens", PoolingMode::MeanSqrtLen},
      {"weightedmean", PoolingMode::WeightedMean}, {"lasttoken", PoolingMode::LastToken}};
  for (const auto& [name, mode] : named) {
    pooling(std::string(R"({"embedding_dimension": 16, "pooling_mode": ")") + name + "\"}");
    EXPECT_EQ(read_sentence_config(dir_).pooling, mode) << name;
  }
}

TEST_F(IoSentenceConfig, UnsupportedPoolingNamesTheFile) {
  modules(false);
  const std::string file = dir_ + "/1_Pooling/config.json";
  pooling(R"({"pooling_mode": "attention"})");
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {file, "'attention'", "not supported", "lasttoken"});
  pooling(flags("none"));
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {file, "found 0"});
  pooling(R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true})");
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {file, "found 2"});
  pooling(R"({"pooling_mode_cls_token": "yes"})");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {file, "pooling_mode_cls_token"});
}

TEST_F(IoSentenceConfig, ModulesAndMaxSeqLength) {
  modules(false);
  pooling(flags("mean_tokens"));
  iotest::write_bytes(dir_ + "/sentence_bert_config.json", R"({"max_seq_length": 256, "do_lower_case": false})");
  SentenceConfig s = read_sentence_config(dir_);
  EXPECT_FALSE(s.normalize);
  EXPECT_EQ(s.max_seq_length, 256);
  iotest::write_bytes(dir_ + "/sentence_bert_config.json", R"({"max_seq_length": "long"})");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {"sentence_bert_config.json", "max_seq_length"});
  modules(false, R"(, {"idx": 2, "name": "2", "path": "2_CNN", "type": "sentence_transformers.models.CNN"})");
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {dir_ + "/modules.json", "CNN", "Dense"});
  iotest::write_bytes(dir_ + "/modules.json", "[{");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {dir_ + "/modules.json", "not valid JSON"});
  iotest::write_bytes(dir_ + "/modules.json", R"([{"path": "1_Pooling"}])");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {dir_ + "/modules.json", "'type'"});
  modules(false);
  fs::remove(dir_ + "/1_Pooling/config.json");
  expect_error<IoError>([&] { read_sentence_config(dir_); }, {dir_ + "/1_Pooling/config.json"});
}

TEST_F(IoSentenceConfig, PlainFolderAndMissingFolder) {
  SentenceConfig s = read_sentence_config(dir_);
  EXPECT_FALSE(s.is_sentence_transformers);
  EXPECT_EQ(s.pooling, PoolingMode::Mean);
  EXPECT_FALSE(s.normalize);
  expect_error<IoError>([&] { read_sentence_config(dir_ + "/nope"); }, {dir_ + "/nope"});
}

}  // namespace
