// Built-in configurations: the Encoder loads every one (names and shapes right), the parameter
// counts match the published model sizes, and the random weights follow Hugging Face's init.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "slimformer/attention.h"
#include "slimformer/builtin.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/threads.h"

using namespace slimformer;

namespace {

EncoderConfig tiny(const std::string& type) {
  EncoderConfig c;
  c.model_type = type;
  c.vocab_size = 101;
  c.hidden_size = 32;
  c.num_layers = 2;
  c.num_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 40;
  c.type_vocab_size = type == "distilbert" ? 0 : 2;
  const bool roberta_like = type == "roberta" || type == "longformer";
  c.pad_token_id = roberta_like ? 1 : 0;
  c.position_offset = roberta_like ? 2 : 0;
  return c;
}

int64_t total_params(const Checkpoint& c) {
  int64_t n = 0;
  for (const auto& name : c.names()) n += c.get(name).numel();
  return n;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST(BenchBuiltin, NamesAndUnknownName) {
  const auto& names = builtin_config_names();
  EXPECT_EQ(names, (std::vector<std::string>{"bert-base", "distilbert-base", "minilm-l6", "roberta-base",
                                             "longformer-base-4096", "bigbird-roberta-base", "reformer-shaped"}));
  for (const auto& n : names) {
    EXPECT_TRUE(is_builtin_config(n));
    EXPECT_FALSE(builtin_config_about(n).empty());
  }
  EXPECT_FALSE(is_builtin_config("bert-huge"));
  EXPECT_THROW(builtin_config_json("bert-huge"), InputError);
  try {
    builtin_config("bert-huge");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bert-huge"), std::string::npos) << msg;
    for (const auto& n : names) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

TEST(BenchBuiltin, ConfigsAreTheDocumentedShapes) {
  const EncoderConfig m = builtin_config("minilm-l6");
  EXPECT_EQ(m.model_type, "bert");
  EXPECT_EQ(m.num_layers, 6);
  EXPECT_EQ(m.hidden_size, 384);
  EXPECT_EQ(m.num_heads, 12);
  EXPECT_EQ(m.intermediate_size, 1536);
  EXPECT_EQ(m.vocab_size, 30522);
  const EncoderConfig r = builtin_config("roberta-base");
  EXPECT_EQ(r.model_type, "roberta");
  EXPECT_EQ(r.vocab_size, 50265);
  EXPECT_EQ(r.max_position_embeddings, 514);
  EXPECT_EQ(r.pad_token_id, 1);
  EXPECT_EQ(r.position_offset, 2);
  const EncoderConfig d = builtin_config("distilbert-base");
  EXPECT_EQ(d.model_type, "distilbert");
  EXPECT_EQ(d.type_vocab_size, 0);
  EXPECT_EQ(d.num_layers, 6);
  const EncoderConfig l = builtin_config("longformer-base-4096");
  EXPECT_EQ(l.model_type, "longformer");
  EXPECT_EQ(l.max_position_embeddings, 4098);
  EXPECT_EQ(l.position_offset, 2);
  EXPECT_EQ(l.attention_window, std::vector<int64_t>(12, 512));
  EXPECT_EQ(default_attention(l).str(), "sliding:window=[512,512,512,512,512,512,512,512,512,512,512,512]+global:first=0");
  const EncoderConfig b = builtin_config("bigbird-roberta-base");
  EXPECT_EQ(b.model_type, "big_bird");
  EXPECT_EQ(b.vocab_size, 50358);
  EXPECT_EQ(b.max_position_embeddings, 4096);
  EXPECT_EQ(b.attention_type, "block_sparse");
  EXPECT_EQ(b.block_size, 64);
  EXPECT_EQ(b.num_random_blocks, 3);
  EXPECT_EQ(b.activation, Activation::GeluTanh);
  EXPECT_EQ(builtin_default_attention("bigbird-roberta-base"), "");   // its config's own: bigbird
  const EncoderConfig f = builtin_config("reformer-shaped");
  EXPECT_EQ(f.hidden_size, 256);
  EXPECT_EQ(f.num_heads, 4);
  EXPECT_EQ(f.num_layers, 6);
  EXPECT_EQ(f.intermediate_size, 512);
  EXPECT_EQ(f.max_position_embeddings, 4096);
  EXPECT_EQ(f.activation, Activation::Relu);
  EXPECT_EQ(builtin_default_attention("reformer-shaped").rfind("lsh:", 0), 0u);
}

TEST(BenchBuiltin, EncoderLoadsEveryArchitectureAndRuns) {
  for (const std::string type : {"bert", "roberta", "distilbert", "longformer", "big_bird"}) {
    SCOPED_TRACE(type);
    EncoderConfig c = tiny(type);
    if (type == "longformer") c.attention_window.assign(2, 4);
    if (type == "big_bird") c.attention_type = "original_full";
    const auto ckpt = random_checkpoint(c, 7);
    const Encoder enc(ckpt);
    EXPECT_EQ(enc.parameter_count(), total_params(*ckpt));   // every tensor is used
    EXPECT_EQ(enc.has_pooler(), type != "distilbert");
    Batch b;
    b.batch = 2;
    b.seq = 5;
    b.ids = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    b.mask.assign(10, 1);
    const ForwardResult r = enc.forward(b);
    ASSERT_EQ(r.last_hidden_state.shape(), (Shape{2, 5, 32}));
    for (int64_t i = 0; i < r.last_hidden_state.numel(); ++i) {
      ASSERT_TRUE(std::isfinite(r.last_hidden_state.data<float>()[i]));
    }
  }
}

TEST(BenchBuiltin, WeightsFollowHuggingFaceInit) {
  const auto ckpt = random_checkpoint(tiny("roberta"), 3);
  const Tensor w = ckpt->get("encoder.layer.0.intermediate.dense.weight");   // 2048 values
  double sum = 0, sq = 0;
  const float* p = w.data<float>();
  for (int64_t i = 0; i < w.numel(); ++i) {
    sum += p[i];
    sq += double(p[i]) * p[i];
  }
  const double mean = sum / w.numel(), sd = std::sqrt(sq / w.numel() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);            // 3 standard errors of the mean: 0.02 / sqrt(2048) * 3
  EXPECT_NEAR(sd, 0.02, 0.001);
  const Tensor g = ckpt->get("encoder.layer.1.output.LayerNorm.weight");
  const Tensor bias = ckpt->get("encoder.layer.1.output.LayerNorm.bias");
  const Tensor lin_bias = ckpt->get("encoder.layer.1.attention.self.query.bias");
  for (int64_t i = 0; i < 32; ++i) {
    EXPECT_EQ(g.data<float>()[i], 1.0f);
    EXPECT_EQ(bias.data<float>()[i], 0.0f);
    EXPECT_EQ(lin_bias.data<float>()[i], 0.0f);
  }
  // The padding rows (word and, for RoBERTa, position) are zero as nn.Embedding(padding_idx) makes them.
  const Tensor word = ckpt->get("embeddings.word_embeddings.weight");
  const Tensor pos = ckpt->get("embeddings.position_embeddings.weight");
  for (int64_t i = 0; i < 32; ++i) {
    EXPECT_EQ(word.data<float>()[1 * 32 + i], 0.0f);
    EXPECT_EQ(pos.data<float>()[1 * 32 + i], 0.0f);
  }
  EXPECT_NE(word.data<float>()[2 * 32], 0.0f);
}

// The generator's distribution against the normal's: the fractions inside 1, 2 and 3 standard
// deviations and beyond the ziggurat's tail start (3.4426 sd), which exercises its tail path.
TEST(BenchBuiltin, WeightsAreNormallyDistributed) {
  EncoderConfig c = tiny("bert");
  c.vocab_size = 1 << 15;
  c.hidden_size = 32;   // word embeddings: 2^20 values
  const auto ckpt = random_checkpoint(c, 5);
  const Tensor w = ckpt->get("embeddings.word_embeddings.weight");
  const int64_t n = w.numel() - 32;   // the zero padding row is row 0
  const float* p = w.data<float>() + 32;
  int64_t in1 = 0, in2 = 0, in3 = 0, tail = 0, positive = 0;
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = p[i] / 0.02;
    const double a = std::abs(z);
    in1 += a < 1;
    in2 += a < 2;
    in3 += a < 3;
    tail += a > 3.442619855899;
    positive += z > 0;
    sq += z * z;
  }
  const double N = static_cast<double>(n);
  // Expected fractions from the normal CDF; bounds are about 5 binomial standard errors.
  EXPECT_NEAR(in1 / N, 0.682689, 0.0025);
  EXPECT_NEAR(in2 / N, 0.954500, 0.0011);
  EXPECT_NEAR(in3 / N, 0.997300, 0.00027);
  EXPECT_NEAR(tail / N, 5.7618e-4, 1.2e-4);
  EXPECT_NEAR(positive / N, 0.5, 0.0025);
  EXPECT_NEAR(sq / N, 1.0, 0.007);
}

TEST(BenchBuiltin, SeedDecidesTheWeightsNotTheThreadCount) {
  EncoderConfig c = tiny("bert");
  c.vocab_size = 5000;   // 160 000 values: several parallel chunks
  const int before = num_threads();
  set_num_threads(1);
  const auto one = random_checkpoint(c, 11);
  set_num_threads(2);
  const auto two = random_checkpoint(c, 11);
  set_num_threads(before);
  const auto other = random_checkpoint(c, 12);
  const std::string name = "embeddings.word_embeddings.weight";
  EXPECT_TRUE(same_bytes(one->get(name), two->get(name)));
  EXPECT_FALSE(same_bytes(one->get(name), other->get(name)));
  // Different tensors of one checkpoint get different streams.
  EXPECT_FALSE(same_bytes(one->get("encoder.layer.0.attention.self.query.weight"),
                          one->get("encoder.layer.0.attention.self.key.weight")));
}

// Published parameter counts of bert-base-uncased, roberta-base, distilbert-base-uncased and
// all-MiniLM-L6-v2 (pooler included where the model has one).
TEST(BenchBuiltin, ParameterCountsMatchThePublishedModelsSlow) {
  EXPECT_EQ(total_params(*builtin_checkpoint("bert-base")), 109482240);
  EXPECT_EQ(total_params(*builtin_checkpoint("roberta-base")), 124645632);
  EXPECT_EQ(total_params(*builtin_checkpoint("distilbert-base")), 66362880);
  EXPECT_EQ(total_params(*builtin_checkpoint("minilm-l6")), 22713216);
  // longformer-base-4096's published 148 659 456: roberta-base's 124 645 632, 3584 more positions
  // (4098 - 514) x 768, and 12 layers x 3 global projections of 768 x 768 + 768.
  EXPECT_EQ(total_params(*builtin_checkpoint("longformer-base-4096")), 148659456);
  EXPECT_EQ(124645632 + 3584 * 768 + 12 * 3 * (768 * 768 + 768), 148659456);
}
