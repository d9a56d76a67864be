// The encoder against Hugging Face's outputs on the tiny fixture models: every hidden state and
// the pooler, on the positions the attention mask keeps.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/memory.h"
#include "fixture_util.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::fixture_batch;
using slimtest::masked_max_diff;

namespace {

void check_model(const std::string& name, bool expect_pooler) {
  const std::string dir = slimtest::fixtures_dir();
  auto ckpt = std::make_shared<Checkpoint>(dir + "/models/" + name);
  Encoder enc(ckpt);
  EXPECT_EQ(enc.has_pooler(), expect_pooler);
  SafetensorsFile out(dir + "/outputs/" + name + ".safetensors");
  const Batch batch = fixture_batch(out);
  ASSERT_GT(std::count(batch.mask.begin(), batch.mask.end(), 0), 0) << "fixture batch should be padded";
  ForwardOptions opt;
  opt.keep_all_hidden_states = true;
  const ForwardResult r = enc.forward(batch, opt);
  ASSERT_EQ(r.hidden_states.size(), static_cast<size_t>(enc.config().num_layers + 1));
  for (size_t i = 0; i < r.hidden_states.size(); ++i) {
    EXPECT_LE(masked_max_diff(r.hidden_states[i], out.get("hidden_states." + std::to_string(i)), batch.mask), 1e-4)
        << name << " hidden_states." << i;
  }
  EXPECT_LE(masked_max_diff(r.last_hidden_state, out.get("last_hidden_state"), batch.mask), 1e-4) << name;
  if (expect_pooler) {
    const Tensor want = out.get("pooler_output");
    const std::vector<int64_t> all(static_cast<size_t>(want.dim(0)), 1);
    EXPECT_LE(masked_max_diff(r.pooler_output.reshaped({want.dim(0), 1, want.dim(1)}),
                              want.reshaped({want.dim(0), 1, want.dim(1)}), all),
              1e-4)
        << name << " pooler_output";
  }
}

}  // namespace

TEST(ModelEncoder, BertTinyMatchesHuggingFace) { check_model("bert-tiny", true); }
TEST(ModelEncoder, RobertaTinyMatchesHuggingFace) { check_model("roberta-tiny", true); }
TEST(ModelEncoder, DistilbertTinyMatchesHuggingFace) { check_model("distilbert-tiny", false); }

TEST(ModelEncoder, PaddingDoesNotChangeTokens) {
  // One sentence alone and the same sentence padded in a batch give the same states.
  auto ckpt = std::make_shared<Checkpoint>(slimtest::fixtures_dir() + "/models/roberta-tiny");
  Encoder enc(ckpt);
  Batch one{1, 4, {0, 17, 42, 2}, {1, 1, 1, 1}, {}, {}};
  Batch two{2, 6, {0, 17, 42, 2, 1, 1, 0, 5, 6, 7, 8, 2}, {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, {}, {}};
  const Tensor a = enc.forward(one).last_hidden_state, b = enc.forward(two).last_hidden_state;
  const int64_t H = enc.config().hidden_size;
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t j = 0; j < H; ++j) EXPECT_NEAR(a.data<float>()[t * H + j], b.data<float>()[t * H + j], 1e-5);
}

TEST(ModelEncoder, WeightsAreUsedInPlaceAndCounted) {
  auto ckpt = std::make_shared<Checkpoint>(slimtest::fixtures_dir() + "/models/bert-tiny");
  const size_t before = live_bytes();
  Encoder enc(ckpt);
  EXPECT_EQ(live_bytes(), before) << "F32 weights must be views of the mapped file, not copies";
  // bert-tiny: embeddings (1000+128+2)*64 + 2*64, 2 layers of 4*(64*64+64) + 2*64*256+256+64 + 4*64, pooler.
  const int64_t layer = 4 * (64 * 64 + 64) + (256 * 64 + 256) + (64 * 256 + 64) + 4 * 64;
  EXPECT_EQ(enc.parameter_count(), (1000 + 128 + 2) * 64 + 2 * 64 + 2 * layer + 64 * 64 + 64);
  EXPECT_EQ(enc.weights_bytes(), static_cast<size_t>(enc.parameter_count()) * 4);
}

TEST(ModelEncoder, EmptyBatch) {
  auto ckpt = std::make_shared<Checkpoint>(slimtest::fixtures_dir() + "/models/bert-tiny");
  Encoder enc(ckpt);
  const ForwardResult r = enc.forward(Batch{0, 0, {}, {}, {}, {}});
  EXPECT_EQ(r.last_hidden_state.shape(), (Shape{0, 0, 64}));
}
