// BigBird checkpoints against Hugging Face's outputs (BigBirdModel in eval mode, transformers
// 5.17.0): original_full and block_sparse, every hidden state and the pooler; the short-sequence
// fallback to full attention and its one warning.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "io_test_util.h"
#include "fixture_util.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::fixture_batch;
using slimtest::masked_max_diff;

namespace {

std::string model_dir(const std::string& name) { return slimtest::fixtures_dir() + "/models/" + name; }
std::string output_file(const std::string& name) { return slimtest::fixtures_dir() + "/outputs/" + name + ".safetensors"; }

// Every hidden state, the last one and the pooler against the fixture; returns the largest gap.
double fixture_gap(const Encoder& enc, const std::string& name) {
  SafetensorsFile out(output_file(name));
  const Batch batch = fixture_batch(out);
  ForwardOptions opt;
  opt.keep_all_hidden_states = true;
  const ForwardResult r = enc.forward(batch, opt);
  EXPECT_EQ(r.hidden_states.size(), static_cast<size_t>(enc.config().num_layers + 1));
  double gap = 0.0;
  for (size_t i = 0; i < r.hidden_states.size(); ++i) {
    const double d = masked_max_diff(r.hidden_states[i], out.get("hidden_states." + std::to_string(i)), batch.mask);
    EXPECT_LE(d, 1e-4) << name << " hidden_states." << i;
    gap = std::max(gap, d);
  }
  gap = std::max(gap, masked_max_diff(r.last_hidden_state, out.get("last_hidden_state"), batch.mask));
  const std::vector<int64_t> all(static_cast<size_t>(batch.batch), 1);
  EXPECT_TRUE(enc.has_pooler());
  gap = std::max(gap, masked_max_diff(r.pooler_output, out.get("pooler_output"), all));
  return gap;
}

std::shared_ptr<Checkpoint> load(const std::string& name) { return std::make_shared<Checkpoint>(model_dir(name)); }

}  // namespace

TEST(ModelBigBird, ConfigSelectsTheMechanism) {
  const auto sparse = load("bigbird-tiny-block_sparse");
  EXPECT_EQ(sparse->config().model_type, "big_bird");
  EXPECT_EQ(sparse->config().attention_type, "block_sparse");
  EXPECT_EQ(sparse->config().block_size, 8);
  EXPECT_EQ(sparse->config().num_random_blocks, 2);
  EXPECT_EQ(sparse->config().activation, Activation::GeluTanh);
  EXPECT_EQ(default_attention(sparse->config()).str(), "bigbird:block_size=8,num_random_blocks=2,random=first_block");
  const auto full = load("bigbird-tiny-original_full");
  EXPECT_EQ(full->config().attention_type, "original_full");
  EXPECT_EQ(default_attention(full->config()).str(), "exact");
}

TEST(ModelBigBird, OriginalFullMatchesHuggingFace) {
  Encoder enc(load("bigbird-tiny-original_full"));
  EXPECT_EQ(enc.attention().describe(), "exact:tile=256");
  const double g = fixture_gap(enc, "bigbird-tiny-original_full");
  EXPECT_LE(g, 1e-4);
  std::cout << "bigbird-tiny-original_full: largest gap to Hugging Face " << g << "\n";
}

TEST(ModelBigBird, BlockSparseMatchesHuggingFace) {
  Encoder enc(load("bigbird-tiny-block_sparse"));
  EXPECT_EQ(enc.attention().describe(), "bigbird:block_size=8,num_random_blocks=2,seed=0,random=first_block");
  testing::internal::CaptureStderr();
  const double g = fixture_gap(enc, "bigbird-tiny-block_sparse");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << "128 tokens are past the sparse minimum of 72";
  EXPECT_LE(g, 1e-4);
  std::cout << "bigbird-tiny-block_sparse: largest gap to Hugging Face " << g << "\n";
}

// The fixture's 128 tokens are long enough for the pattern to matter: full attention, or
// random blocks drawn from a seed, give other outputs than Hugging Face's eval-mode pattern.
TEST(ModelBigBird, BlockSparseFixtureTellsPatternsApart) {
  const auto ckpt = load("bigbird-tiny-block_sparse");
  for (const char* spec : {"full", "bigbird:block_size=8,num_random_blocks=2,seed=0",
                           "bigbird:block_size=8,num_random_blocks=0,random=first_block"}) {
    Encoder enc(ckpt, AttentionSpec::parse(spec));
    SafetensorsFile out(output_file("bigbird-tiny-block_sparse"));
    const Batch batch = fixture_batch(out);
    const ForwardResult r = enc.forward(batch);
    const double g = masked_max_diff(r.last_hidden_state, out.get("last_hidden_state"), batch.mask);
    EXPECT_GT(g, 1e-3) << spec;
    std::cout << spec << ": last_hidden_state " << g << " from Hugging Face's block_sparse\n";
  }
}

// Hugging Face switches to original_full when seq <= (5 + 2 * num_random_blocks) * block_size
// (72 here) and says so; slimformer does the same, once per encoder however many layers and
// forwards run.
TEST(ModelBigBird, ShortSequencesFallBackToFullWithOneWarning) {
  const auto ckpt = load("bigbird-tiny-block_sparse");
  Encoder sparse(ckpt);
  Encoder full(ckpt, AttentionSpec::parse("full"));
  Batch b;
  b.batch = 2;
  b.seq = 72;
  for (int64_t i = 0; i < b.batch * b.seq; ++i) {
    b.ids.push_back(5 + (i * 37) % 900);
    b.mask.push_back(i < b.seq + 50 ? 1 : 0);   // second row: 50 tokens, then padding
  }
  testing::internal::CaptureStderr();
  const ForwardResult got = sparse.forward(b);
  const ForwardResult again = sparse.forward(b);
  const std::string err = testing::internal::GetCapturedStderr();
  const ForwardResult want = full.forward(b);
  EXPECT_LE(masked_max_diff(got.last_hidden_state, want.last_hidden_state, b.mask), 1e-6);
  EXPECT_LE(masked_max_diff(again.last_hidden_state, want.last_hidden_state, b.mask), 1e-6);
  const std::string line = "sequence length 72 <= (5 + 2 * num_random_blocks) * block_size = 72";
  ASSERT_NE(err.find(line), std::string::npos) << err;
  EXPECT_EQ(err.find(line, err.find(line) + 1), std::string::npos) << "warned more than once:\n" << err;
  EXPECT_NE(err.find("full attention"), std::string::npos) << err;

  // One more token and the sparse pattern applies: no warning.
  Encoder other(ckpt);
  b.seq = 73;
  b.ids.resize(static_cast<size_t>(b.batch * b.seq), 7);
  b.mask.assign(static_cast<size_t>(b.batch * b.seq), 1);
  testing::internal::CaptureStderr();
  other.forward(b);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(ModelBigBird, ConfigRefusals) {
  const std::string path = slimtest::make_temp_dir() + "/config.json";
  const std::string head = R"({"model_type": "big_bird", "vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 1,
    "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64)";
  auto read = [&](const std::string& extra) {
    iotest::write_bytes(path, head + extra + "}");
    return read_encoder_config(path);
  };
  const EncoderConfig defaults = read("");
  EXPECT_EQ(defaults.attention_type, "block_sparse");
  EXPECT_EQ(defaults.block_size, 64);
  EXPECT_EQ(defaults.num_random_blocks, 3);
  EXPECT_EQ(defaults.activation, Activation::GeluTanh);
  EXPECT_EQ(defaults.position_offset, 0);
  iotest::expect_error<ModelError>([&] { read(R"(, "attention_type": "sparse")"); }, {path, "'sparse'", "original_full"});
  iotest::expect_error<FormatError>([&] { read(R"(, "block_size": 0)"); }, {path, "block_size", "positive"});
  iotest::expect_error<FormatError>([&] { read(R"(, "num_random_blocks": -1)"); }, {path, "num_random_blocks"});
  iotest::expect_error<ModelError>([&] { read(R"(, "use_bias": false)"); }, {path, "use_bias"});
  EXPECT_EQ(defaults.word_embedding_scale, 1.0f);
  EXPECT_EQ(read(R"(, "rescale_embeddings": true)").word_embedding_scale, 4.0f);   // sqrt(16)
  iotest::expect_error<ModelError>([&] { read(R"(, "position_embedding_type": "relative_key")"); }, {path, "relative_key"});
}

// rescale_embeddings multiplies the word embeddings (only) by sqrt(hidden_size): the same as a
// checkpoint whose word table was multiplied ahead.
TEST(ModelBigBird, RescaledEmbeddingsScaleTheWordTable) {
  const auto fixture = load("bigbird-tiny-original_full");
  std::map<std::string, Tensor> plain, prescaled;
  const float scale = 8.0f;   // sqrt(64)
  for (const std::string& name : fixture->names()) {
    const Tensor t = fixture->get(name);
    plain[name] = t;
    Tensor copy = Tensor::empty(t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) {
      copy.data<float>()[i] = t.data<float>()[i] * (name == "embeddings.word_embeddings.weight" ? scale : 1.0f);
    }
    prescaled[name] = copy;
  }
  EncoderConfig rescaled = fixture->config();
  rescaled.word_embedding_scale = scale;
  Encoder a(std::make_shared<Checkpoint>(rescaled, plain));
  Encoder b(std::make_shared<Checkpoint>(fixture->config(), prescaled));
  Batch batch;
  batch.batch = 1;
  batch.seq = 20;
  for (int64_t i = 0; i < batch.seq; ++i) {
    batch.ids.push_back(5 + i * 41 % 900);
    batch.mask.push_back(1);
  }
  const ForwardResult ra = a.forward(batch), rb = b.forward(batch);
  const ForwardResult unscaled = Encoder(fixture).forward(batch);
  EXPECT_LE(masked_max_diff(ra.last_hidden_state, rb.last_hidden_state, batch.mask), 1e-6);
  EXPECT_GT(masked_max_diff(ra.last_hidden_state, unscaled.last_hidden_state, batch.mask), 1e-3);
}
