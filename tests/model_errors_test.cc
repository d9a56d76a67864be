// The encoder refuses bad checkpoints and bad input with errors that name the problem.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::message_of;

namespace {

EncoderConfig tiny_config() {
  EncoderConfig c;
  c.model_type = "bert";
  c.vocab_size = 10;
  c.hidden_size = 4;
  c.num_layers = 1;
  c.num_heads = 2;
  c.intermediate_size = 8;
  c.max_position_embeddings = 6;
  c.type_vocab_size = 2;
  return c;
}

Tensor random_tensor(const Shape& s, unsigned seed) {
  Tensor t = Tensor::empty(s);
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 0.1f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(gen);
  return t;
}

std::map<std::string, Tensor> tiny_tensors() {
  const std::string l = "encoder.layer.0.";
  const std::map<std::string, Shape> shapes = {
      {"embeddings.word_embeddings.weight", {10, 4}},     {"embeddings.position_embeddings.weight", {6, 4}},
      {"embeddings.token_type_embeddings.weight", {2, 4}}, {"embeddings.LayerNorm.weight", {4}},
      {"embeddings.LayerNorm.bias", {4}},
      {l + "attention.self.query.weight", {4, 4}},         {l + "attention.self.query.bias", {4}},
      {l + "attention.self.key.weight", {4, 4}},           {l + "attention.self.key.bias", {4}},
      {l + "attention.self.value.weight", {4, 4}},         {l + "attention.self.value.bias", {4}},
      {l + "attention.output.dense.weight", {4, 4}},       {l + "attention.output.dense.bias", {4}},
      {l + "attention.output.LayerNorm.weight", {4}},      {l + "attention.output.LayerNorm.bias", {4}},
      {l + "intermediate.dense.weight", {8, 4}},           {l + "intermediate.dense.bias", {8}},
      {l + "output.dense.weight", {4, 8}},                 {l + "output.dense.bias", {4}},
      {l + "output.LayerNorm.weight", {4}},                {l + "output.LayerNorm.bias", {4}}};
  std::map<std::string, Tensor> t;
  unsigned seed = 1;
  for (const auto& [name, shape] : shapes) t[name] = random_tensor(shape, seed++);
  return t;
}

Batch batch_of(std::vector<int64_t> ids, std::vector<int64_t> types = {}) {
  Batch b;
  b.batch = 1;
  b.seq = static_cast<int64_t>(ids.size());
  b.mask.assign(ids.size(), 1);
  b.ids = std::move(ids);
  b.type_ids = std::move(types);
  return b;
}

}  // namespace

TEST(ModelErrors, TinyInMemoryCheckpointRuns) {
  Encoder enc(std::make_shared<Checkpoint>(tiny_config(), tiny_tensors()));
  EXPECT_FALSE(enc.has_pooler());
  const ForwardResult r = enc.forward(batch_of({1, 2, 3}, {0, 0, 1}));
  EXPECT_EQ(r.last_hidden_state.shape(), (Shape{1, 3, 4}));
}

TEST(ModelErrors, MissingTensorIsNamed) {
  auto t = tiny_tensors();
  t.erase("encoder.layer.0.intermediate.dense.weight");
  const std::string msg = message_of<ModelError>([&] { Encoder(std::make_shared<Checkpoint>(tiny_config(), t)); });
  EXPECT_NE(msg.find("encoder.layer.0.intermediate.dense.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[8, 4]"), std::string::npos) << msg;
}

TEST(ModelErrors, WrongShapeIsNamed) {
  auto t = tiny_tensors();
  t["encoder.layer.0.output.dense.weight"] = random_tensor({8, 4}, 99);   // transposed
  const std::string msg = message_of<ModelError>([&] { Encoder(std::make_shared<Checkpoint>(tiny_config(), t)); });
  EXPECT_NE(msg.find("encoder.layer.0.output.dense.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 8]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[8, 4]"), std::string::npos) << msg;
}

TEST(ModelErrors, UnsupportedDtypeIsNamed) {
  auto t = tiny_tensors();
  t["embeddings.LayerNorm.bias"] = Tensor::zeros({4}, DType::I32);
  const std::string msg = message_of<ModelError>([&] { Encoder(std::make_shared<Checkpoint>(tiny_config(), t)); });
  EXPECT_NE(msg.find("embeddings.LayerNorm.bias"), std::string::npos) << msg;
}

TEST(ModelErrors, HalfPrecisionWeightsAreConvertedOnce) {
  auto t = tiny_tensors();
  auto half = t;
  for (auto& [name, x] : half) {
    Tensor h = Tensor::empty(x.shape(), DType::BF16);
    for (int64_t i = 0; i < x.numel(); ++i) h.data<uint16_t>()[i] = f32_to_bf16(x.data<float>()[i]);
    x = h;
  }
  Encoder a(std::make_shared<Checkpoint>(tiny_config(), t)), b(std::make_shared<Checkpoint>(tiny_config(), half));
  const Tensor ya = a.forward(batch_of({4, 5, 6})).last_hidden_state;
  const Tensor yb = b.forward(batch_of({4, 5, 6})).last_hidden_state;
  for (int64_t i = 0; i < ya.numel(); ++i) EXPECT_NEAR(ya.data<float>()[i], yb.data<float>()[i], 0.05);
}

TEST(ModelErrors, BadInputIsRefused) {
  Encoder enc(std::make_shared<Checkpoint>(tiny_config(), tiny_tensors()));
  std::string msg = message_of<InputError>([&] { enc.forward(batch_of({1, 2, 3, 4, 5, 6, 7})); });
  EXPECT_NE(msg.find("sequence length 7"), std::string::npos) << msg;
  msg = message_of<InputError>([&] { enc.forward(batch_of({1, 10, 3})); });
  EXPECT_NE(msg.find("token id 10"), std::string::npos) << msg;
  msg = message_of<InputError>([&] { enc.forward(batch_of({1, -1, 3})); });
  EXPECT_NE(msg.find("token id -1"), std::string::npos) << msg;
  msg = message_of<InputError>([&] { enc.forward(batch_of({1, 2, 3}, {0, 2, 0})); });
  EXPECT_NE(msg.find("token type id 2"), std::string::npos) << msg;
  Batch b = batch_of({1, 2, 3});
  b.ids.pop_back();
  message_of<InputError>([&] { enc.forward(b); });
}

TEST(ModelErrors, RobertaLimitCountsTheOffset) {
  EncoderConfig c = tiny_config();
  c.model_type = "roberta";
  c.pad_token_id = 1;
  c.position_offset = 2;   // 6 positions, 2 reserved: 4 tokens at most
  Encoder enc(std::make_shared<Checkpoint>(c, tiny_tensors()));
  EXPECT_NO_THROW(enc.forward(batch_of({0, 5, 6, 2})));
  EXPECT_THROW(enc.forward(batch_of({0, 5, 6, 7, 2})), InputError);
}
