// Reading the shared Hugging Face fixture models: every safetensors file, every supported config,
// and the sentence-transformers folders.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace {
using namespace slimformer;
namespace fs = std::filesystem;

std::string model_dir(const std::string& name) { return slimtest::fixtures_dir() + "/models/" + name; }

TEST(IoFixtures, EverySafetensorsFileOpens) {
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(slimtest::fixtures_dir())) {
    if (e.path().extension() != ".safetensors") continue;
    SafetensorsFile f(e.path().string());
    EXPECT_FALSE(f.names().empty()) << e.path();
    for (const auto& n : f.names()) {
      Tensor t = f.get(n);
      EXPECT_TRUE(t.defined()) << n;
    }
    ++files;
  }
  EXPECT_GE(files, 8);
}

TEST(IoFixtures, BertTinyConfigAndTensors) {
  Checkpoint ck(model_dir("bert-tiny"));
  const EncoderConfig& c = ck.config();
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.vocab_size, 1000);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.intermediate_size, 256);
  EXPECT_EQ(c.max_position_embeddings, 128);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.position_offset, 0);
  EXPECT_FLOAT_EQ(c.layer_norm_eps, 1e-12f);
  EXPECT_EQ(c.activation, Activation::Gelu);
  Tensor emb = ck.get("embeddings.word_embeddings.weight");
  EXPECT_EQ(emb.shape(), (Shape{1000, 64}));
  EXPECT_EQ(emb.dtype(), DType::F32);
  EXPECT_EQ(ck.files().size(), 1u);
  EXPECT_EQ(ck.file_bytes(), fs::file_size(model_dir("bert-tiny") + "/model.safetensors"));
  // Values read independently with numpy from the same file.
  const float* w = emb.data<float>();
  EXPECT_EQ(w[0], 0.0f);                                 // padding row
  EXPECT_EQ(w[64 + 0], 0.01277241762727499f);
  EXPECT_EQ(w[64 + 1], -0.042688511312007904f);
  EXPECT_EQ(w[64 + 2], 0.020208915695548058f);
  EXPECT_EQ(w[999 * 64 + 63], 0.02314247563481331f);
  double sum = 0;
  for (int64_t i = 0; i < emb.numel(); ++i) sum += w[i];
  EXPECT_NEAR(sum, -7.62920927332172, 1e-9);
  EXPECT_EQ(ck.names().size(), 39u);   // 40 header keys less __metadata__
}

TEST(IoFixtures, RobertaPositionsStartAfterPadding) {
  Checkpoint ck(model_dir("roberta-tiny"));
  EXPECT_EQ(ck.config().model_type, "roberta");
  EXPECT_EQ(ck.config().pad_token_id, 1);
  EXPECT_EQ(ck.config().position_offset, 2);
  EXPECT_EQ(ck.config().type_vocab_size, 1);
  EXPECT_EQ(ck.get("embeddings.position_embeddings.weight").shape(), (Shape{130, 64}));
}

TEST(IoFixtures, DistilbertConfig) {
  Checkpoint ck(model_dir("distilbert-tiny"));
  const EncoderConfig& c = ck.config();
  EXPECT_EQ(c.model_type, "distilbert");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.intermediate_size, 256);
  EXPECT_EQ(c.type_vocab_size, 0);
  EXPECT_EQ(c.position_offset, 0);
  EXPECT_TRUE(ck.contains("transformer.layer.0.attention.q_lin.weight"));
}

TEST(IoFixtures, LongformerConfig) {
  Checkpoint ck(model_dir("longformer-tiny"));
  const EncoderConfig& c = ck.config();
  EXPECT_EQ(c.model_type, "longformer");
  EXPECT_EQ(c.attention_window, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(c.position_offset, 2);   // pad_token_id 1 + 1, as RoBERTa
  EXPECT_EQ(c.type_vocab_size, 1);
  EXPECT_TRUE(ck.contains("encoder.layer.0.attention.self.query_global.weight"));
}

TEST(IoFixtures, SentenceTransformersFolders) {
  for (const char* name : {"st-bert-uncased", "st-roberta"}) {
    SentenceConfig s = read_sentence_config(model_dir(name));
    EXPECT_TRUE(s.is_sentence_transformers) << name;
    EXPECT_EQ(s.pooling, PoolingMode::Mean) << name;
    EXPECT_TRUE(s.normalize) << name;
  }
  SentenceConfig plain = read_sentence_config(model_dir("bert-tiny"));
  EXPECT_FALSE(plain.is_sentence_transformers);
  EXPECT_EQ(plain.pooling, PoolingMode::Mean);
  EXPECT_FALSE(plain.normalize);
  EXPECT_EQ(plain.max_seq_length, 0);
}

TEST(IoFixtures, BertMiniSts) {
  const std::string dir = slimtest::shared_dir() + "/models/bert-mini-sts";
  Checkpoint ck(dir);
  EXPECT_EQ(ck.config().hidden_size, 256);
  EXPECT_EQ(ck.config().num_layers, 4);
  SentenceConfig s = read_sentence_config(dir);
  EXPECT_TRUE(s.is_sentence_transformers);
  EXPECT_EQ(s.pooling, PoolingMode::Mean);
  EXPECT_FALSE(s.normalize);
  EXPECT_EQ(s.max_seq_length, 128);
}

}  // namespace
