// Checkpoint folders: single file, sharded with an index, loose *.safetensors files, and the
// errors for missing folders, files and tensors; plus the in-memory form.
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

const char* kConfig = R"({"model_type": "bert", "vocab_size": 10, "hidden_size": 4, "num_hidden_layers": 1,
  "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 16})";

Tensor filled(const Shape& shape, float v) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v + static_cast<float>(i);
  return t;
}

class IoCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = slimtest::make_temp_dir();
    iotest::write_bytes(dir_ + "/config.json", kConfig);
  }
  std::string dir_;
};

TEST_F(IoCheckpoint, SingleFile) {
  write_safetensors(dir_ + "/model.safetensors", {{"a", filled({2, 3}, 1)}, {"b", filled({5}, 10)}});
  // A stray extra file is ignored when model.safetensors is present.
  write_safetensors(dir_ + "/other.safetensors", {{"a", filled({1}, 0)}});
  Checkpoint ck(dir_);
  EXPECT_EQ(ck.dir(), dir_);
  EXPECT_EQ(ck.config().hidden_size, 4);
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ck.files().size(), 1u);
  EXPECT_EQ(ck.file_bytes(), fs::file_size(dir_ + "/model.safetensors"));
  EXPECT_FLOAT_EQ(ck.get("a").data<float>()[5], 6.0f);
  EXPECT_FLOAT_EQ(ck.get("b").data<float>()[4], 14.0f);
}

TEST_F(IoCheckpoint, ShardsFromIndex) {
  write_safetensors(dir_ + "/model-00001-of-00002.safetensors", {{"a", filled({3}, 1)}});
  write_safetensors(dir_ + "/model-00002-of-00002.safetensors", {{"b", filled({2}, 7)}, {"c", filled({1}, 9)}});
  write_safetensors(dir_ + "/unrelated.safetensors", {{"z", filled({1}, 0)}});
  iotest::write_bytes(dir_ + "/model.safetensors.index.json", R"({"metadata": {"total_size": 24}, "weight_map": {
    "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
    "c": "model-00002-of-00002.safetensors"}})");
  Checkpoint ck(dir_);
  EXPECT_EQ(ck.files().size(), 2u);
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(ck.contains("z"));
  EXPECT_FLOAT_EQ(ck.get("b").data<float>()[1], 8.0f);
  EXPECT_EQ(ck.file_bytes(), fs::file_size(dir_ + "/model-00001-of-00002.safetensors") +
                                 fs::file_size(dir_ + "/model-00002-of-00002.safetensors"));
}

TEST_F(IoCheckpoint, BadIndex) {
  const std::string index = dir_ + "/model.safetensors.index.json";
  iotest::write_bytes(index, R"({"weight_map": {"a": "gone.safetensors"}})");
  expect_error<IoError>([&] { Checkpoint ck(dir_); }, {dir_ + "/gone.safetensors"});
  write_safetensors(dir_ + "/s1.safetensors", {{"a", filled({1}, 0)}});
  iotest::write_bytes(index, R"({"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}})");
  expect_error<FormatError>([&] { Checkpoint ck(dir_); }, {index, "'b'", "s1.safetensors", "does not hold it"});
  iotest::write_bytes(index, R"({"weight_map": {"a": "../escape.safetensors"}})");
  expect_error<FormatError>([&] { Checkpoint ck(dir_); }, {index, "../escape.safetensors"});
  iotest::write_bytes(index, R"({"metadata": {}})");
  expect_error<FormatError>([&] { Checkpoint ck(dir_); }, {index, "'weight_map'"});
  iotest::write_bytes(index, R"({"weight_map": )");
  expect_error<FormatError>([&] { Checkpoint ck(dir_); }, {index, "not valid JSON"});
}

TEST_F(IoCheckpoint, EverySafetensorsFileWithoutIndex) {
  write_safetensors(dir_ + "/part1.safetensors", {{"a", filled({3}, 1)}});
  write_safetensors(dir_ + "/part2.safetensors", {{"b", filled({2}, 7)}});
  Checkpoint ck(dir_);
  EXPECT_EQ(ck.files().size(), 2u);
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(IoCheckpoint, TensorInTwoFilesIsFormatError) {
  write_safetensors(dir_ + "/part1.safetensors", {{"a", filled({3}, 1)}});
  write_safetensors(dir_ + "/part2.safetensors", {{"a", filled({3}, 1)}});
  expect_error<FormatError>([&] { Checkpoint ck(dir_); }, {"'a'", "part1.safetensors", "part2.safetensors"});
}

TEST_F(IoCheckpoint, MissingPieces) {
  expect_error<IoError>([&] { Checkpoint ck(dir_ + "/absent"); }, {dir_ + "/absent"});
  expect_error<IoError>([&] { Checkpoint ck(dir_); }, {dir_, "no *.safetensors"});
  fs::remove(dir_ + "/config.json");
  write_safetensors(dir_ + "/model.safetensors", {{"a", filled({1}, 0)}});
  expect_error<IoError>([&] { Checkpoint ck(dir_); }, {dir_ + "/config.json"});
  iotest::write_bytes(dir_ + "/config.json", R"({"model_type": "gpt2"})");
  expect_error<ModelError>([&] { Checkpoint ck(dir_); }, {dir_ + "/config.json", "gpt2"});
}

TEST_F(IoCheckpoint, AbsentTensorNamesTensorAndFolder) {
  write_safetensors(dir_ + "/model.safetensors", {{"a", filled({1}, 0)}});
  Checkpoint ck(dir_);
  expect_error<ModelError>([&] { ck.get("encoder.layer.0.missing"); }, {"'encoder.layer.0.missing'", dir_});
}

TEST_F(IoCheckpoint, CorruptWeightsNameTheFile) {
  iotest::write_bytes(dir_ + "/model.safetensors", iotest::safetensors_bytes("{not json", ""));
  expect_error<FormatError>([&] { Checkpoint ck(dir_); }, {dir_ + "/model.safetensors"});
}

TEST(IoCheckpointInMemory, GetContainsNames) {
  EncoderConfig c;
  c.model_type = "bert";
  c.hidden_size = 4;
  Checkpoint ck(c, {{"w", filled({2, 2}, 3)}});
  EXPECT_TRUE(ck.dir().empty());
  EXPECT_EQ(ck.config().hidden_size, 4);
  EXPECT_TRUE(ck.contains("w"));
  EXPECT_FALSE(ck.contains("v"));
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"w"}));
  EXPECT_FLOAT_EQ(ck.get("w").data<float>()[3], 6.0f);
  EXPECT_EQ(ck.file_bytes(), 0u);
  EXPECT_TRUE(ck.files().empty());
  expect_error<ModelError>([&] { ck.get("v"); }, {"'v'", "in-memory"});
}

}  // namespace
