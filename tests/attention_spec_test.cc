// AttentionSpec parsing/printing, the registry's checks and the model default mechanism.
#include <gtest/gtest.h>

#include "slimformer/attention.h"
#include "slimformer/encoder.h"
#include "test_util.h"
#include "slimformer/error.h"

using namespace slimformer;

TEST(AttentionSpec, ParsesNameKeysAndLists) {
  const AttentionSpec s = AttentionSpec::parse(" sliding:window=[8, 16],dilation=2 + global:first=1 ");
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(s.parts[0].name, "sliding");
  EXPECT_EQ(s.parts[0].ints("window", {}), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(s.parts[0].integer("dilation", 1), 2);
  EXPECT_EQ(s.parts[0].integer("absent", 7), 7);
  EXPECT_EQ(s.parts[1].name, "global");
  EXPECT_EQ(s.parts[1].integer("first", 0), 1);
  EXPECT_EQ(s.str(), "sliding:window=[8, 16],dilation=2+global:first=1");
  EXPECT_EQ(AttentionSpec::parse(s.str()).str(), s.str());
  ASSERT_NE(s.find("global"), nullptr);
  EXPECT_EQ(s.find("lsh"), nullptr);
}

TEST(AttentionSpec, SingleValueListAndReals) {
  const AttentionSpec s = AttentionSpec::parse("performer:features=64,redraw=true,eps=0.5,window=512");
  EXPECT_EQ(s.parts[0].ints("window", {}), (std::vector<int64_t>{512}));
  EXPECT_DOUBLE_EQ(s.parts[0].real("eps", 0), 0.5);
  EXPECT_EQ(s.parts[0].text("redraw", "false"), "true");
}

TEST(AttentionSpec, BadSyntaxIsAnInputErrorNamingTheProblem) {
  auto message = [](const char* text) {
    try {
      AttentionSpec::parse(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("").find("empty"), std::string::npos);
  EXPECT_NE(message("sliding:window").find("not key=value"), std::string::npos);
  EXPECT_NE(message("sliding:window=").find("no value"), std::string::npos);
  EXPECT_NE(message("sliding:window=[8,16").find("unbalanced"), std::string::npos);
  EXPECT_NE(message("sliding+").find("empty part"), std::string::npos);
  EXPECT_NE(message("sliding:window=1,window=2").find("given twice"), std::string::npos);
  EXPECT_NE(message("sliding+sliding").find("appears twice"), std::string::npos);
  EXPECT_NE(message(":window=2").find("mechanism name"), std::string::npos);
}

TEST(AttentionSpec, BadValuesNameTheKey) {
  const AttentionPart p = AttentionSpec::parse("x:k=abc,w=[1,b],r=1e999").parts[0];
  EXPECT_THROW(p.integer("k", 0), InputError);
  EXPECT_THROW(p.ints("w", {}), InputError);
  EXPECT_THROW(p.real("r", 0), InputError);
  try {
    p.integer("k", 0);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("k=abc is not an integer"), std::string::npos) << e.what();
  }
}

TEST(AttentionRegistry, UnknownNamesAndKeysAreRefused) {
  const AttentionContext ctx{2, 4, 16, 128};
  try {
    make_attention(AttentionSpec::parse("nosuch"), ctx);
    FAIL() << "unknown mechanism accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected one of: full"), std::string::npos) << e.what();
  }
  try {
    make_attention(AttentionSpec::parse("full:tile=3"), ctx);
    FAIL() << "unknown key accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'tile'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_attention(AttentionSpec::parse("full+full2"), ctx), InputError);
  EXPECT_THROW(make_attention(AttentionSpec{}, ctx), InputError);
  EXPECT_EQ(make_attention(AttentionSpec::parse("full"), ctx)->describe(), "full");
  EXPECT_EQ(attention_names().front(), "full");
}

TEST(AttentionRegistry, ModelDefaults) {
  EncoderConfig bert;
  bert.model_type = "bert";
  EXPECT_EQ(default_attention(bert).str(), "exact");
  EncoderConfig lf;
  lf.model_type = "longformer";
  lf.attention_window = {8, 16};
  EXPECT_EQ(default_attention(lf).str(), "sliding:window=[8,16]+global:first=0");
  EncoderConfig bb;
  bb.model_type = "big_bird";
  bb.attention_type = "block_sparse";
  bb.block_size = 8;
  bb.num_random_blocks = 2;
  EXPECT_EQ(default_attention(bb).str(), "bigbird:block_size=8,num_random_blocks=2,random=first_block");
  bb.attention_type = "original_full";
  EXPECT_EQ(default_attention(bb).str(), default_attention(bert).str());
}

TEST(AttentionScratch, GrowsAndIsCounted) {
  AttentionScratch s;
  float* a = s.floats(10);
  EXPECT_GE(s.bytes(), 40u);
  EXPECT_EQ(s.floats(5), a) << "a smaller request reuses the buffer";
  s.floats(1000);
  EXPECT_GE(s.bytes(), 4000u);
  s.release();
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(AttentionRegistry, EncoderRunsTheGivenMechanismOrRefusesABadOne) {
  auto ckpt = std::make_shared<Checkpoint>(slimtest::fixtures_dir() + "/models/bert-tiny");
  EXPECT_THROW(Encoder(ckpt, AttentionSpec::parse("nosuch")), InputError);
  const Encoder enc(ckpt, AttentionSpec::parse("full"));
  EXPECT_EQ(enc.attention().describe(), "full");
}

TEST(AttentionSpec, SeedDefaultsToZeroAndRefusesNegatives) {
  EXPECT_EQ(AttentionSpec::parse("random").parts[0].seed(), 0u);
  EXPECT_EQ(AttentionSpec::parse("random:seed=42").parts[0].seed(), 42u);
  try {
    AttentionSpec::parse("performer:seed=-2").parts[0].seed();
    FAIL() << "negative seed accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("attention performer: seed=-2 is negative"), std::string::npos) << e.what();
  }
}
