// Dense modules in modules.json: their config.json read in order, and every refusal naming the file.
#include <gtest/gtest.h>

#include <filesystem>

#include "io_test_util.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {
using namespace slimformer;
using iotest::expect_error;
namespace fs = std::filesystem;

std::string entry(int idx, const std::string& path, const std::string& type) {
  return "{\"idx\": " + std::to_string(idx) + ", \"name\": \"" + std::to_string(idx) + "\", \"path\": \"" + path +
         "\", \"type\": \"sentence_transformers.models." + type + "\"}";
}

class IoSentenceDense : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = slimtest::make_temp_dir();
    fs::create_directory(dir_ + "/1_Pooling");
    iotest::write_bytes(dir_ + "/1_Pooling/config.json", R"({"pooling_mode": "mean"})");
  }
  // modules.json listing `entries` after the Transformer.
  void modules(const std::vector<std::string>& entries) {
    std::string m = "[" + entry(0, "", "Transformer");
    for (const std::string& e : entries) m += ", " + e;
    iotest::write_bytes(dir_ + "/modules.json", m + "]");
  }
  // The folder `sub` with a Dense config.json of this text.
  std::string dense(const std::string& sub, const std::string& config) {
    fs::create_directories(dir_ + "/" + sub);
    iotest::write_bytes(dir_ + "/" + sub + "/config.json", config);
    return dir_ + "/" + sub + "/config.json";
  }
  std::string dir_;
};

TEST_F(IoSentenceDense, DenseModulesAreReadInOrder) {
  dense("2_Dense", R"({"in_features": 16, "out_features": 8, "bias": true,
                      "activation_function": "torch.nn.modules.activation.Tanh"})");
  dense("3_Dense", R"({"in_features": 8, "out_features": 4, "bias": false,
                      "activation_function": "torch.nn.modules.linear.Identity"})");
  modules({entry(1, "1_Pooling", "Pooling"), entry(2, "2_Dense", "Dense"), entry(3, "3_Dense", "Dense"),
           entry(4, "4_Normalize", "Normalize")});
  const SentenceConfig c = read_sentence_config(dir_);
  ASSERT_EQ(c.dense.size(), 2u);
  EXPECT_TRUE(c.normalize);
  EXPECT_EQ(fs::path(c.dense[0].dir), fs::path(dir_) / "2_Dense");
  EXPECT_EQ(c.dense[0].in_features, 16);
  EXPECT_EQ(c.dense[0].out_features, 8);
  EXPECT_TRUE(c.dense[0].bias);
  EXPECT_EQ(c.dense[0].activation, DenseActivation::Tanh);
  EXPECT_EQ(fs::path(c.dense[1].dir), fs::path(dir_) / "3_Dense");
  EXPECT_EQ(c.dense[1].out_features, 4);
  EXPECT_FALSE(c.dense[1].bias);
  EXPECT_EQ(c.dense[1].activation, DenseActivation::Identity);
}

TEST_F(IoSentenceDense, ActivationsAndDefaults) {
  modules({entry(1, "1_Pooling", "Pooling"), entry(2, "2_Dense", "Dense")});
  const std::pair<const char*, DenseActivation> known[] = {
      {"torch.nn.modules.linear.Identity", DenseActivation::Identity},
      {"torch.nn.modules.activation.Tanh", DenseActivation::Tanh},
      {"torch.nn.modules.activation.ReLU", DenseActivation::Relu},
      {"torch.nn.modules.activation.Sigmoid", DenseActivation::Sigmoid},
      {"torch.nn.modules.activation.GELU", DenseActivation::Gelu}};
  for (const auto& [name, activation] : known) {
    dense("2_Dense", std::string(R"({"in_features": 16, "out_features": 3, "activation_function": ")") + name + "\"}");
    const SentenceConfig c = read_sentence_config(dir_);
    ASSERT_EQ(c.dense.size(), 1u);
    EXPECT_EQ(c.dense[0].activation, activation) << name;
    EXPECT_TRUE(c.dense[0].bias) << "bias defaults to true";
  }
  // sentence-transformers' own defaults when the keys are absent: Tanh, with bias.
  dense("2_Dense", R"({"in_features": 16, "out_features": 3})");
  EXPECT_EQ(read_sentence_config(dir_).dense.at(0).activation, DenseActivation::Tanh);
}

TEST_F(IoSentenceDense, UnknownActivationNamesTheFile) {
  modules({entry(1, "1_Pooling", "Pooling"), entry(2, "2_Dense", "Dense")});
  for (const char* name : {"torch.nn.modules.activation.Softmax", "Tanh", "mymodule.Tanh"}) {
    const std::string file =
        dense("2_Dense", std::string(R"({"in_features": 16, "out_features": 3, "activation_function": ")") + name + "\"}");
    expect_error<ModelError>([&] { read_sentence_config(dir_); }, {file, std::string("'") + name + "'", "not supported"});
  }
}

TEST_F(IoSentenceDense, ChainedWidthsMustMatch) {
  dense("2_Dense", R"({"in_features": 16, "out_features": 8})");
  const std::string second = dense("3_Dense", R"({"in_features": 7, "out_features": 4})");
  modules({entry(1, "1_Pooling", "Pooling"), entry(2, "2_Dense", "Dense"), entry(3, "3_Dense", "Dense")});
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {second, "in_features 7", "out_features 8"});
}

TEST_F(IoSentenceDense, DenseBeforePoolingIsRefused) {
  dense("1_Dense", R"({"in_features": 16, "out_features": 8})");
  modules({entry(1, "1_Dense", "Dense"), entry(2, "1_Pooling", "Pooling")});
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {dir_ + "/modules.json", "1_Dense", "before"});
}

TEST_F(IoSentenceDense, DenseAfterNormalizeIsRefused) {
  dense("3_Dense", R"({"in_features": 16, "out_features": 8})");
  modules({entry(1, "1_Pooling", "Pooling"), entry(2, "2_Normalize", "Normalize"), entry(3, "3_Dense", "Dense")});
  expect_error<ModelError>([&] { read_sentence_config(dir_); }, {dir_ + "/modules.json", "3_Dense", "after Normalize"});
}

TEST_F(IoSentenceDense, BadFeatureCountsNameTheKey) {
  modules({entry(1, "1_Pooling", "Pooling"), entry(2, "2_Dense", "Dense")});
  std::string file = dense("2_Dense", R"({"in_features": 16})");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {file, "out_features"});
  file = dense("2_Dense", R"({"in_features": 0, "out_features": 4})");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {file, "positive"});
  file = dense("2_Dense", R"({"in_features": 16, "out_features": 4, "bias": "yes"})");
  expect_error<FormatError>([&] { read_sentence_config(dir_); }, {file, "bias"});
  fs::remove(file);
  expect_error<IoError>([&] { read_sentence_config(dir_); }, {file});
}

}  // namespace
