// Model specs for bench (--config, --models): parsing, config overrides checked by the config.json
// reader, the mechanism each model runs, and the default run's models.
#include <gtest/gtest.h>

#include "slimformer/bench.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
using namespace slimformer::bench;

namespace {

std::string bert_tiny() { return slimtest::fixtures_dir() + "/models/bert-tiny"; }

// The InputError's message, or "" when none is thrown.
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BenchModelSpec, LabelSourceOverridesAndAttention) {
  const ModelSpec m = parse_model_spec("w4=longformer-base-4096:attention_window=4,attention=[sliding:window=[4,8],dilation=2]");
  EXPECT_EQ(m.label, "w4");
  EXPECT_EQ(m.text, "longformer-base-4096:attention_window=4,attention=[sliding:window=[4,8],dilation=2]");
  EXPECT_EQ(m.source, "longformer-base-4096");
  ASSERT_EQ(m.overrides.size(), 1u);
  EXPECT_EQ(m.overrides[0], (std::pair<std::string, std::string>{"attention_window", "4"}));
  EXPECT_EQ(m.attention, "sliding:window=[4,8],dilation=2");

  const ModelSpec plain = parse_model_spec("bert-base");
  EXPECT_EQ(plain.label, "bert-base");   // no label: the spec itself
  EXPECT_EQ(plain.source, "bert-base");
  EXPECT_TRUE(plain.overrides.empty());
  EXPECT_EQ(plain.attention, "");

  const ModelSpec list = parse_model_spec("longformer-base-4096:attention_window=[2,4,6,8,10,12,2,4,6,8,10,12]");
  EXPECT_EQ(list.overrides[0].second, "[2,4,6,8,10,12,2,4,6,8,10,12]");
}

TEST(BenchModelSpec, BadSpecsSayWhatIsWrong) {
  EXPECT_NE(input_error([] { parse_model_spec("=bert-base"); }).find("empty label"), std::string::npos);
  EXPECT_NE(input_error([] { parse_model_spec("x="); }).find("no built-in configuration or folder"), std::string::npos);
  EXPECT_NE(input_error([] { parse_model_spec("bert-base:layers"); }).find("'layers' is not KEY=VALUE"), std::string::npos);
  EXPECT_NE(input_error([] { parse_model_spec("bert-base:a=[1,2"); }).find("'[' without ']'"), std::string::npos);
  EXPECT_NE(input_error([] { parse_model_spec("bert-base:a=1]"); }).find("']' without '['"), std::string::npos);
}

TEST(BenchModelSpec, ListsSplitBetweenModelsNotBetweenKeys) {
  const auto specs = parse_model_list("a=longformer-base-4096:attention_window=4,num_hidden_layers=2,b=bert-base,"
                                      "bert-base:attention=[exact:tile=64]");
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].label, "a");
  EXPECT_EQ(specs[0].overrides.size(), 2u);
  EXPECT_EQ(specs[0].overrides[1].first, "num_hidden_layers");
  EXPECT_EQ(specs[1].label, "b");
  EXPECT_EQ(specs[1].source, "bert-base");
  EXPECT_EQ(specs[2].label, "bert-base:attention=[exact:tile=64]");
  EXPECT_EQ(specs[2].attention, "exact:tile=64");

  EXPECT_NE(input_error([] { parse_model_list("bert-base,bert-base"); }).find("names two models"), std::string::npos);
  EXPECT_NE(input_error([] { parse_model_list("bert-base,,minilm-l6"); }).find("empty entry"), std::string::npos);
  EXPECT_NE(input_error([] { parse_model_list(""); }).find("empty entry"), std::string::npos);
}

TEST(BenchModelSpec, OverridesGoThroughTheConfigReader) {
  const BenchModel w4 = resolve_model(parse_model_spec("longformer-base-4096:attention_window=4"));
  EXPECT_TRUE(w4.builtin);
  EXPECT_EQ(w4.config.attention_window, std::vector<int64_t>(12, 4));
  EXPECT_TRUE(w4.attention.empty());   // the config's own: sliding with the new window
  EXPECT_EQ(default_attention(w4.config).str(), "sliding:window=[4,4,4,4,4,4,4,4,4,4,4,4]+global:first=0");

  const BenchModel small = resolve_model(parse_model_spec("bert-base:num_hidden_layers=2,max_position_embeddings=4096"));
  EXPECT_EQ(small.config.num_layers, 2);
  EXPECT_EQ(small.config.max_position_embeddings, 4096);
  EXPECT_EQ(small.config.hidden_size, 768);

  // Bad values get the reader's own message, naming the spec where a file's path would be.
  try {
    resolve_model(parse_model_spec("longformer-base-4096:attention_window=0"));
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("attention_window"), std::string::npos) << msg;
    EXPECT_NE(msg.find("longformer-base-4096:attention_window=0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("must be positive"), std::string::npos) << msg;
  }
  EXPECT_THROW(resolve_model(parse_model_spec("bigbird-roberta-base:attention_type=sparse")), ModelError);
  EXPECT_THROW(resolve_model(parse_model_spec("bert-base:num_attention_heads=7")), ModelError);   // 768 % 7
}

TEST(BenchModelSpec, UnknownKeysAndSourcesAreRefused) {
  const std::string key = input_error([] { resolve_model(parse_model_spec("bert-base:attention_window=4")); });
  EXPECT_NE(key.find("unknown key 'attention_window' for model_type bert"), std::string::npos) << key;
  EXPECT_NE(key.find("num_hidden_layers"), std::string::npos) << key;   // lists what it knows
  // DistilBERT's config spells its keys its own way.
  EXPECT_NO_THROW(resolve_model(parse_model_spec("distilbert-base:n_layers=2")));
  EXPECT_NE(input_error([] { resolve_model(parse_model_spec("distilbert-base:num_hidden_layers=2")); }).find("unknown key"),
            std::string::npos);
  const std::string source = input_error([] { resolve_model(parse_model_spec("bert-huge")); });
  EXPECT_NE(source.find("'bert-huge' is neither a built-in configuration"), std::string::npos) << source;
  EXPECT_NE(source.find("longformer-base-4096"), std::string::npos) << source;
  const std::string mech = input_error([] { resolve_model(parse_model_spec("bert-base:attention=sliding:window=0")); });
  EXPECT_NE(mech.find("model 'bert-base:attention=sliding:window=0'"), std::string::npos) << mech;
  EXPECT_NE(mech.find("window"), std::string::npos) << mech;
}

TEST(BenchModelSpec, MechanismPrecedence) {
  // A built-in's own choice (reformer-shaped: LSH), unless the spec names one.
  EXPECT_EQ(resolve_model(parse_model_spec("reformer-shaped")).attention.parts.at(0).name, "lsh");
  EXPECT_EQ(resolve_model(parse_model_spec("reformer-shaped:attention=full")).attention.str(), "full");
  EXPECT_TRUE(resolve_model(parse_model_spec("bigbird-roberta-base")).attention.empty());   // its config's bigbird
}

TEST(BenchModelSpec, FolderWithOverridesKeepsItsWeights) {
  const BenchModel m = resolve_model(parse_model_spec("tiny=" + bert_tiny() + ":num_hidden_layers=1,attention=full"));
  EXPECT_FALSE(m.builtin);
  EXPECT_EQ(m.spec.source, bert_tiny());
  const auto ckpt = load_checkpoint(m);
  EXPECT_EQ(ckpt->dir(), bert_tiny());
  EXPECT_EQ(ckpt->config().num_layers, 1);   // the first layer of two
  const Checkpoint original(bert_tiny());
  EXPECT_EQ(ckpt->names(), original.names());
  const Encoder enc(ckpt, m.attention);
  EXPECT_EQ(enc.attention().describe(), "full");
  EXPECT_LT(enc.parameter_count(), Encoder(std::make_shared<const Checkpoint>(bert_tiny())).parameter_count());
  // An override the weights cannot follow fails on the tensor, naming it and both shapes.
  const BenchModel longer = resolve_model(parse_model_spec(bert_tiny() + ":max_position_embeddings=512"));
  try {
    Encoder bad(load_checkpoint(longer));
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("position_embeddings"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected [512, 64]"), std::string::npos) << e.what();
  }
  // A folder path alone (no label, no keys) is the folder.
  EXPECT_EQ(parse_model_spec(bert_tiny()).source, bert_tiny());
}

TEST(BenchModelSpec, DefaultRunResolves) {
  const auto specs = default_bench_models();
  ASSERT_EQ(specs.size(), 7u);
  std::vector<std::string> mechanisms;
  for (const ModelSpec& s : specs) {
    const BenchModel m = resolve_model(s);
    EXPECT_GE(m.config.max_position_embeddings - m.config.position_offset, 4096) << s.label;
    mechanisms.push_back(make_attention(m.attention.empty() ? default_attention(m.config) : m.attention,
                                        attention_context(m.config))->describe());
  }
  EXPECT_EQ(mechanisms[0].rfind("sliding:window=[512,", 0), 0u) << mechanisms[0];
  EXPECT_EQ(mechanisms[1].rfind("sliding:window=[4,", 0), 0u) << mechanisms[1];
  EXPECT_EQ(mechanisms[2].rfind("bigbird:", 0), 0u) << mechanisms[2];
  EXPECT_EQ(mechanisms[3], "full");
  EXPECT_EQ(mechanisms[4].rfind("lsh:", 0), 0u) << mechanisms[4];
  EXPECT_EQ(mechanisms[5], "full");
  EXPECT_EQ(mechanisms[6].rfind("exact", 0), 0u) << mechanisms[6];
  const BenchGrid g = default_bench_grid();
  EXPECT_EQ(g.seq_lens, (std::vector<int64_t>{128, 256, 512, 1024, 2048, 4096}));
  EXPECT_EQ(g.batch_sizes, (std::vector<int64_t>{1}));
  EXPECT_GT(g.time_limit_s, 0);
}
