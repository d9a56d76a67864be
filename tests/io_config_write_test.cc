// config.json writing (encoder_config_json) and the per-layer shape keys (pruned_heads,
// intermediate_sizes): every family's fixture config round-trips, unknown keys survive.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io_test_util.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {
using namespace slimformer;
using iotest::expect_error;

void expect_same(const EncoderConfig& a, const EncoderConfig& b, const std::string& what) {
  EXPECT_EQ(a.model_type, b.model_type) << what;
  EXPECT_EQ(a.vocab_size, b.vocab_size) << what;
  EXPECT_EQ(a.hidden_size, b.hidden_size) << what;
  EXPECT_EQ(a.num_layers, b.num_layers) << what;
  EXPECT_EQ(a.num_heads, b.num_heads) << what;
  EXPECT_EQ(a.intermediate_size, b.intermediate_size) << what;
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings) << what;
  EXPECT_EQ(a.type_vocab_size, b.type_vocab_size) << what;
  EXPECT_EQ(a.pad_token_id, b.pad_token_id) << what;
  EXPECT_EQ(a.position_offset, b.position_offset) << what;
  EXPECT_EQ(a.layer_norm_eps, b.layer_norm_eps) << what;
  EXPECT_EQ(a.word_embedding_scale, b.word_embedding_scale) << what;
  EXPECT_EQ(a.activation, b.activation) << what;
  EXPECT_EQ(a.attention_window, b.attention_window) << what;
  EXPECT_EQ(a.attention_type, b.attention_type) << what;
  EXPECT_EQ(a.block_size, b.block_size) << what;
  EXPECT_EQ(a.num_random_blocks, b.num_random_blocks) << what;
  EXPECT_EQ(a.pruned_heads, b.pruned_heads) << what;
  EXPECT_EQ(a.intermediate_sizes, b.intermediate_sizes) << what;
}

const char* kBert = R"({"model_type": "bert", "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 3,
  "num_attention_heads": 4, "intermediate_size": 128, "max_position_embeddings": 32, "hidden_act": "gelu"})";

EncoderConfig bert_with(const std::string& key, const std::string& value) {
  auto j = nlohmann::json::parse(kBert);
  j[key] = nlohmann::json::parse(value);
  return encoder_config_from_json_text(j.dump(), "cfg.json");
}

}  // namespace

TEST(IoConfigWrite, EveryFixtureConfigRoundTripsKeepingOtherKeys) {
  for (const char* name : {"bert-tiny", "roberta-tiny", "distilbert-tiny", "longformer-tiny", "bigbird-tiny-block_sparse",
                           "bigbird-tiny-original_full", "st-bert-uncased", "st-roberta"}) {
    const std::string path = slimtest::fixtures_dir() + "/models/" + name + "/config.json";
    const std::string text = read_text_file(path);
    const EncoderConfig c = read_encoder_config(path);
    const std::string written = encoder_config_json(c, text);
    expect_same(encoder_config_from_json_text(written, "written"), c, name);
    const auto before = nlohmann::json::parse(text), after = nlohmann::json::parse(written);
    for (const auto& [key, value] : before.items()) {
      ASSERT_TRUE(after.contains(key)) << name << ": " << key << " lost";
      if (key != "layer_norm_eps") {
        EXPECT_EQ(after[key], value) << name << ": " << key;
      }
    }
    // Without a base: the keys slimformer reads, enough to load again.
    expect_same(encoder_config_from_json_text(encoder_config_json(c), "fresh"), c, std::string(name) + " (fresh)");
  }
}

TEST(IoConfigWrite, PerLayerShapesRoundTrip) {
  EncoderConfig c = bert_with("pruned_heads", R"({"2": [3, 1, 1], "0": [0]})");
  EXPECT_EQ(c.pruned_heads, (std::map<int64_t, std::vector<int64_t>>{{0, {0}}, {2, {1, 3}}}));
  EXPECT_EQ(layer_shape(c, 0).heads, 3);
  EXPECT_EQ(layer_shape(c, 1).heads, 4);
  EXPECT_EQ(layer_shape(c, 2).heads, 2);
  c.intermediate_sizes = {128, 7, 0};
  const EncoderConfig back = encoder_config_from_json_text(encoder_config_json(c), "written");
  expect_same(back, c, "per-layer");
  EXPECT_EQ(layer_shape(back, 1).intermediate, 7);
  const auto j = nlohmann::json::parse(encoder_config_json(c));
  EXPECT_EQ(j["pruned_heads"]["2"], nlohmann::json::parse("[1, 3]"));   // Hugging Face's spelling
}

TEST(IoConfigWrite, BadPerLayerShapesAreRefused) {
  expect_error<FormatError>([] { bert_with("pruned_heads", "[1]"); }, {"cfg.json", "pruned_heads", "object"});
  expect_error<FormatError>([] { bert_with("pruned_heads", R"({"3": [0]})"); }, {"layer '3'", "[0, 3)"});
  expect_error<FormatError>([] { bert_with("pruned_heads", R"({"x": [0]})"); }, {"layer 'x'"});
  expect_error<FormatError>([] { bert_with("pruned_heads", R"({"0": [4]})"); }, {"head 4", "[0, 4)"});
  expect_error<FormatError>([] { bert_with("pruned_heads", R"({"0": [0, 1, 2, 3]})"); }, {"all 4 heads"});
  expect_error<FormatError>([] { bert_with("intermediate_sizes", "[1, 2]"); }, {"intermediate_sizes", "3 integers"});
  expect_error<FormatError>([] { bert_with("intermediate_sizes", "[1, -2, 3]"); }, {"intermediate_sizes", "-2"});
  auto j = nlohmann::json::parse(kBert);
  j["model_type"] = "longformer";
  j["pruned_heads"] = nlohmann::json::parse(R"({"0": [1]})");
  expect_error<ModelError>([&] { encoder_config_from_json_text(j.dump(), "lf.json"); }, {"lf.json", "pruned_heads", "longformer"});
}
