// bert-mini-sts: the encoder + mean pooling reproduce the reference embeddings its training run
// recorded (results.json: token ids in, mean-pooled vectors out), batched with padding.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "test_util.h"

using namespace slimformer;

TEST(ModelBertMini, ReferenceEmbeddingsFromIds) {
  const std::string dir = slimtest::shared_dir() + "/models/bert-mini-sts";
  const auto j = nlohmann::json::parse(read_text_file(dir + "/results.json"))["reference_embeddings"];
  const auto ids = j["input_ids"].get<std::vector<std::vector<int64_t>>>();
  const auto want = j["mean_pooled"].get<std::vector<std::vector<float>>>();
  ASSERT_EQ(ids.size(), want.size());
  size_t T = 0;
  for (const auto& row : ids) T = std::max(T, row.size());
  Batch b;
  b.batch = static_cast<int64_t>(ids.size());
  b.seq = static_cast<int64_t>(T);
  for (const auto& row : ids) {   // right-padded with id 0 as Hugging Face pads
    for (size_t t = 0; t < T; ++t) {
      b.ids.push_back(t < row.size() ? row[t] : 0);
      b.mask.push_back(t < row.size() ? 1 : 0);
    }
  }
  b.type_ids.assign(b.ids.size(), 0);
  Encoder enc(std::make_shared<Checkpoint>(dir));
  const Tensor pooled = pool(enc.forward(b).last_hidden_state, b.mask, PoolingMode::Mean);
  const int64_t H = pooled.dim(1);
  ASSERT_EQ(static_cast<size_t>(H), want[0].size());
  for (size_t i = 0; i < want.size(); ++i) {
    double m = 0.0;
    for (int64_t k = 0; k < H; ++k) m = std::max(m, std::fabs(double(pooled.data<float>()[i * H + k]) - want[i][k]));
    EXPECT_LE(m, 1e-4) << "sentence " << i;
  }
}
