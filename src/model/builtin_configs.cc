// Built-in configurations: the config.json of well-known checkpoints (sizes and attention settings
// only), read by the same reader as a model folder's, so overrides of their keys are checked
// exactly as a folder's config.json is. Weights come from random_checkpoint (random_checkpoint.cc).
#include <nlohmann/json.hpp>

#include "slimformer/builtin.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

using Json = nlohmann::ordered_json;

struct Builtin {
  const char* name;
  const char* about;
  const char* attention;   // default mechanism when not the config's own ("" = default_attention)
  Json config;
};

Json bert_like(int64_t layers, int64_t hidden, int64_t heads, int64_t ffn) {
  return {{"model_type", "bert"},       {"vocab_size", 30522},        {"hidden_size", hidden},
          {"num_hidden_layers", layers}, {"num_attention_heads", heads}, {"intermediate_size", ffn},
          {"hidden_act", "gelu"},        {"max_position_embeddings", 512}, {"type_vocab_size", 2},
          {"pad_token_id", 0},           {"layer_norm_eps", 1e-12}};
}

Json roberta_like(const char* model_type, int64_t vocab, int64_t positions) {
  Json c = bert_like(12, 768, 12, 3072);
  c["model_type"] = model_type;
  c["vocab_size"] = vocab;
  c["max_position_embeddings"] = positions;
  c["type_vocab_size"] = 1;
  c["pad_token_id"] = 1;
  c["layer_norm_eps"] = 1e-5;
  return c;
}

std::vector<Builtin> make_builtins() {
  std::vector<Builtin> v;
  v.push_back({"bert-base", "bert-base-uncased: 12 layers, 768 wide, 12 heads, 512 positions", "",
               bert_like(12, 768, 12, 3072)});
  Json distil = {{"model_type", "distilbert"}, {"vocab_size", 30522}, {"dim", 768}, {"n_layers", 6},
                 {"n_heads", 12}, {"hidden_dim", 3072}, {"activation", "gelu"},
                 {"max_position_embeddings", 512}, {"pad_token_id", 0}};
  v.push_back({"distilbert-base", "distilbert-base-uncased: 6 layers, 768 wide", "", distil});
  v.push_back({"minilm-l6", "all-MiniLM-L6-v2: 6 layers, 384 wide, 12 heads", "", bert_like(6, 384, 12, 1536)});
  v.push_back({"roberta-base", "roberta-base: 12 layers, 768 wide, 514 positions", "",
               roberta_like("roberta", 50265, 514)});

  Json longformer = roberta_like("longformer", 50265, 4098);
  longformer["attention_window"] = Json::array();
  for (int i = 0; i < 12; ++i) longformer["attention_window"].push_back(512);
  v.push_back({"longformer-base-4096", "allenai/longformer-base-4096: roberta-base with 4096 positions, "
               "sliding window 512 per layer", "", longformer});

  Json bigbird = bert_like(12, 768, 12, 3072);
  bigbird["model_type"] = "big_bird";
  bigbird["vocab_size"] = 50358;
  bigbird["hidden_act"] = "gelu_new";
  bigbird["max_position_embeddings"] = 4096;
  bigbird["attention_type"] = "block_sparse";
  bigbird["block_size"] = 64;
  bigbird["num_random_blocks"] = 3;
  bigbird["rescale_embeddings"] = false;
  v.push_back({"bigbird-roberta-base", "google/bigbird-roberta-base: 12 layers, 768 wide, 4096 positions, "
               "block-sparse attention (blocks of 64, 3 random)", "", bigbird});

  // ReformerConfig's default widths (hidden 256, feed-forward 512, 6 layers, vocab 320, 4096
  // positions, relu) in the BERT layout: heads of 64 filling the width (4; ReformerConfig's
  // 12 x 64 projections are wider than its hidden size, which this encoder does not model), and
  // learned positions instead of axial ones. LSH attention with ReformerConfig's chunk of 64 and
  // one hash round.
  Json reformer = bert_like(6, 256, 4, 512);
  reformer["vocab_size"] = 320;
  reformer["hidden_act"] = "relu";
  reformer["max_position_embeddings"] = 4096;
  v.push_back({"reformer-shaped", "ReformerConfig's default widths (6 layers, 256 wide, 4 heads of 64, "
               "4096 positions) in BERT's layout, LSH attention", "lsh:n_hashes=1,chunk_length=64", reformer});
  return v;
}

const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> v = make_builtins();
  return v;
}

const Builtin& find_builtin(const std::string& name) {
  for (const Builtin& b : builtins()) {
    if (name == b.name) return b;
  }
  std::string known;
  for (const auto& n : builtin_config_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown built-in configuration '" + name + "' (known: " + known + ")");
}

}  // namespace

const std::vector<std::string>& builtin_config_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Builtin& b : builtins()) n.emplace_back(b.name);
    return n;
  }();
  return names;
}

bool is_builtin_config(const std::string& name) {
  for (const Builtin& b : builtins()) {
    if (name == b.name) return true;
  }
  return false;
}

std::string builtin_config_json(const std::string& name) { return find_builtin(name).config.dump(2) + "\n"; }

std::string builtin_default_attention(const std::string& name) { return find_builtin(name).attention; }

std::string builtin_config_about(const std::string& name) { return find_builtin(name).about; }

EncoderConfig builtin_config(const std::string& name) {
  return encoder_config_from_json_text(builtin_config_json(name), "built-in configuration '" + name + "'");
}

std::shared_ptr<const Checkpoint> builtin_checkpoint(const std::string& name, uint64_t seed) {
  return random_checkpoint(builtin_config(name), seed);
}

}  // namespace slimformer
