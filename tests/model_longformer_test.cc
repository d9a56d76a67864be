// Longformer checkpoints against Hugging Face's LongformerModel on the tiny fixture: per-layer
// windows [8, 16], global tokens from global_attention_mask with the separate global projections,
// a padded batch (Hugging Face also pads to a multiple of the window inside; outputs at tokens
// must not depend on that). Plus the config's attention_window rules.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "fixture_util.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::fixture_batch;
using slimtest::masked_max_diff;

namespace {

const std::string kModel = "longformer-tiny";

}  // namespace

TEST(ModelLongformer, TinyMatchesHuggingFace) {
  const std::string dir = slimtest::fixtures_dir();
  Encoder enc(std::make_shared<Checkpoint>(dir + "/models/" + kModel));
  EXPECT_EQ(enc.attention().describe(), "sliding:window=[8,16],dilation=1+global:first=0");
  SafetensorsFile out(dir + "/outputs/" + kModel + ".safetensors");
  const Batch batch = fixture_batch(out);
  ASSERT_GT(std::count(batch.mask.begin(), batch.mask.end(), 0), 0) << "the fixture batch should be padded";
  ASSERT_GT(std::count(batch.global_mask.begin(), batch.global_mask.end(), 1), 1) << "and have global tokens";
  ForwardOptions opt;
  opt.keep_all_hidden_states = true;
  const ForwardResult r = enc.forward(batch, opt);
  ASSERT_EQ(r.hidden_states.size(), 3u);
  for (size_t i = 0; i < r.hidden_states.size(); ++i) {
    EXPECT_LE(masked_max_diff(r.hidden_states[i], out.get("hidden_states." + std::to_string(i)), batch.mask), 1e-4)
        << "hidden_states." << i;
  }
  EXPECT_LE(masked_max_diff(r.last_hidden_state, out.get("last_hidden_state"), batch.mask), 1e-4);
  const std::vector<int64_t> rows(static_cast<size_t>(batch.batch), 1);
  EXPECT_LE(masked_max_diff(r.pooler_output, out.get("pooler_output"), rows), 1e-4) << "pooler_output";
}

TEST(ModelLongformer, GlobalTokensMatter) {
  // Without the global mask the outputs move well past the tolerance: the fixture really
  // exercises the global path (and the windows: one window for both layers moves them too).
  const std::string dir = slimtest::fixtures_dir();
  SafetensorsFile out(dir + "/outputs/" + kModel + ".safetensors");
  Encoder enc(std::make_shared<Checkpoint>(dir + "/models/" + kModel));
  Batch batch = fixture_batch(out);
  batch.global_mask.clear();
  EXPECT_GT(masked_max_diff(enc.forward(batch).last_hidden_state, out.get("last_hidden_state"), batch.mask), 1e-3);
  Encoder one_window(std::make_shared<Checkpoint>(dir + "/models/" + kModel),
                     AttentionSpec::parse("sliding:window=8+global:first=0"));
  const Batch with_global = fixture_batch(out);
  EXPECT_GT(masked_max_diff(one_window.forward(with_global).last_hidden_state, out.get("last_hidden_state"), batch.mask),
            1e-3);
}

TEST(ModelLongformer, SpecGlobalTokensUseTheGlobalProjections) {
  // global:first=1 without a global_attention_mask must run exactly as a mask marking the first
  // token: both use query_global/key_global/value_global for that row.
  const std::string dir = slimtest::fixtures_dir();
  SafetensorsFile out(dir + "/outputs/" + kModel + ".safetensors");
  auto ckpt = std::make_shared<Checkpoint>(dir + "/models/" + kModel);
  Encoder by_spec(ckpt, AttentionSpec::parse("sliding:window=[8,16]+global:first=1"));
  EXPECT_TRUE(by_spec.attention().adds_global_tokens());
  Encoder by_mask(ckpt);
  EXPECT_FALSE(by_mask.attention().adds_global_tokens());
  Batch plain = fixture_batch(out);
  plain.global_mask.clear();
  Batch first_marked = fixture_batch(out);
  for (int64_t b = 0; b < first_marked.batch; ++b) {
    for (int64_t t = 0; t < first_marked.seq; ++t) first_marked.global_mask[b * first_marked.seq + t] = t == 0;
  }
  const Tensor a = by_spec.forward(plain).last_hidden_state;
  const Tensor b = by_mask.forward(first_marked).last_hidden_state;
  EXPECT_LT(masked_max_diff(a, b, plain.mask), 1e-6);
}

TEST(ModelLongformer, AttentionWindowConfig) {
  const std::string tmp = slimtest::make_temp_dir();
  std::ifstream in(slimtest::fixtures_dir() + "/models/" + kModel + "/config.json");
  const std::string base((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string window_list = "\"attention_window\": [\n    8,\n    16\n  ]";
  ASSERT_NE(base.find(window_list), std::string::npos);
  auto read_with = [&](const std::string& window) {
    std::string text = base;
    text.replace(text.find(window_list), window_list.size(), "\"attention_window\": " + window);
    const std::string path = tmp + "/config.json";
    std::ofstream(path) << text;
    return read_encoder_config(path);
  };
  EXPECT_EQ(read_with("32").attention_window, (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(read_with("[4, 6]").attention_window, (std::vector<int64_t>{4, 6}));
  EXPECT_THROW(read_with("[4]"), FormatError);
  EXPECT_THROW(read_with("[4, 6, 8]"), FormatError);
  EXPECT_THROW(read_with("[4, 0]"), FormatError);
  EXPECT_THROW(read_with("-2"), FormatError);
  EXPECT_THROW(read_with("\"wide\""), FormatError);
  EXPECT_THROW(read_with("[4, \"x\"]"), FormatError);
}
