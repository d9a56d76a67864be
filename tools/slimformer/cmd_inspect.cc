// slimformer inspect: what a model folder holds, without building the encoder.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "commands.h"
#include "model/weights.h"
#include "pooling_name.h"
#include "slimformer/checkpoint.h"
#include "slimformer/tokenizer.h"

namespace slimcli {
namespace {

struct DTypeTotals {
  int64_t count = 0;
  size_t bytes = 0;
};

std::string mib(size_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu bytes (%.1f MiB)", bytes, static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// "wordpiece (vocab 30522)" or "none" when the folder has no tokenizer files at all; a present
// but unreadable tokenizer is an error, as it would be for embed.
std::string tokenizer_line(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  const bool present = fs::exists(d / "tokenizer.json") || fs::exists(d / "vocab.txt") ||
                       (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt"));
  if (!present) return "none";
  const auto tok = slimformer::load_tokenizer(dir);
  return tok->kind() + " (vocab " + std::to_string(tok->vocab_size()) + ")";
}

// What each tensor is for, from the architecture's names: the totals by kind.
std::map<std::string, std::string> kinds_of(const slimformer::Checkpoint& ckpt) {
  std::map<std::string, std::string> kind;
  const slimformer::model::TensorNames n = slimformer::model::tensor_names_for(ckpt);
  for (const std::string* e : {&n.word, &n.position, &n.token_type}) kind[*e] = "embeddings";
  kind[n.emb_ln_g] = kind[n.emb_ln_b] = "norms";
  for (const auto& l : n.layers) {
    for (const std::string* w : {&l.q_w, &l.k_w, &l.v_w, &l.q_global_w, &l.k_global_w, &l.v_global_w, &l.attn_out_w,
                                 &l.ffn_in_w, &l.ffn_out_w}) kind[*w] = "linear";
    for (const std::string* b : {&l.q_b, &l.k_b, &l.v_b, &l.q_global_b, &l.k_global_b, &l.v_global_b, &l.attn_out_b,
                                 &l.ffn_in_b, &l.ffn_out_b}) kind[*b] = "biases";
    for (const std::string* g : {&l.attn_ln_g, &l.attn_ln_b, &l.ffn_ln_g, &l.ffn_ln_b}) kind[*g] = "norms";
  }
  kind[n.pooler_w] = "linear";
  kind[n.pooler_b] = "biases";
  kind.erase("");
  for (const std::string& name : ckpt.names()) {
    const std::string suffix = slimformer::kInt8ScaleSuffix;
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      kind[name] = "int8 scales";
    }
  }
  return kind;
}

// Elements equal to zero (exact zeros: what pruning leaves; codes of 0 for int8).
int64_t zero_count(const slimformer::Tensor& t) {
  if (t.dtype() == slimformer::DType::I8) {
    return std::count(t.data<int8_t>(), t.data<int8_t>() + t.numel(), int8_t{0});
  }
  if (t.dtype() == slimformer::DType::I32 || t.dtype() == slimformer::DType::I64) return 0;
  const slimformer::Tensor f = t.to_f32();
  return std::count(f.data<float>(), f.data<float>() + f.numel(), 0.0f);
}

std::string shape_text(const slimformer::Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

std::string percent(int64_t part, int64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}


const char* activation_name(slimformer::DenseActivation a) {
  switch (a) {
    case slimformer::DenseActivation::Identity: return "identity";
    case slimformer::DenseActivation::Tanh: return "tanh";
    case slimformer::DenseActivation::Relu: return "relu";
    case slimformer::DenseActivation::Sigmoid: return "sigmoid";
    case slimformer::DenseActivation::Gelu: return "gelu";
  }
  return "?";
}

struct KindTotals {
  int64_t count = 0, elements = 0, zeros = 0;
  size_t bytes = 0;
  std::map<std::string, int64_t> dtypes;
};

int run_inspect(const std::string& dir, bool list_tensors) {
  require_model_dir("--model", dir);
  const slimformer::Checkpoint ckpt(dir);
  const slimformer::EncoderConfig& c = ckpt.config();
  const slimformer::SentenceConfig sc = slimformer::read_sentence_config(dir);
  const std::string tokenizer = tokenizer_line(dir);

  int64_t params = 0;
  std::map<std::string, DTypeTotals> by_dtype;
  std::map<std::string, KindTotals> by_kind;
  const std::map<std::string, std::string> kinds = kinds_of(ckpt);
  std::string tensor_lines;
  for (const auto& name : ckpt.names()) {
    const slimformer::Tensor t = ckpt.get(name);
    const auto kind = kinds.find(name);
    KindTotals& k = by_kind[kind == kinds.end() ? "other" : kind->second];
    if (kind == kinds.end() || kind->second != "int8 scales") params += t.numel();
    const size_t stored = ckpt.stored_bytes(name);   // a sparse-stored tensor: its mask and values
    DTypeTotals& d = by_dtype[slimformer::dtype_name(t.dtype())];
    d.count += 1;
    d.bytes += stored;
    const int64_t zeros = zero_count(t);
    k.count += 1;
    k.elements += t.numel();
    k.zeros += zeros;
    k.bytes += stored;
    k.dtypes[slimformer::dtype_name(t.dtype())] += 1;
    if (list_tensors) {
      char buf[512];
      std::snprintf(buf, sizeof buf, "  %-60s %-5s %-14s %12zu bytes  zeros %s%s\n", name.c_str(),
                    slimformer::dtype_name(t.dtype()), shape_text(t.shape()).c_str(), stored,
                    percent(zeros, t.numel()).c_str(), ckpt.is_decoded(name) ? "  (stored sparse)" : "");
      tensor_lines += buf;
    }
  }
  const int64_t model_limit = c.max_position_embeddings - c.position_offset;
  const int64_t max_len = sc.max_seq_length > 0 ? std::min(sc.max_seq_length, model_limit) : model_limit;

  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out += key + ":" + std::string(key.size() < 14 ? 14 - key.size() : 1, ' ') + value + "\n";
  };
  line("model", dir);
  line("architecture", c.model_type);
  line("layers", std::to_string(c.num_layers));
  line("hidden size", std::to_string(c.hidden_size));
  // Pruned models: what each layer keeps.
  auto per_layer = [&c](bool heads) {
    std::string s;
    for (int64_t l = 0; l < c.num_layers; ++l) {
      const slimformer::LayerShape shape = slimformer::layer_shape(c, l);
      s += (l ? "," : "") + std::to_string(heads ? shape.heads : shape.intermediate);
    }
    return s;
  };
  line("heads", c.pruned_heads.empty() ? std::to_string(c.num_heads)
                                       : std::to_string(c.num_heads) + " (kept per layer: " + per_layer(true) + ")");
  line("intermediate", c.intermediate_sizes.empty()
                           ? std::to_string(c.intermediate_size)
                           : "per layer " + per_layer(false));
  line("vocab size", std::to_string(c.vocab_size));
  line("parameters", std::to_string(params));
  for (const auto& [dtype, d] : by_dtype) {
    line("tensors " + dtype, std::to_string(d.count) + " tensors, " + mib(d.bytes));
  }
  for (const auto& [kind, k] : by_kind) {
    std::string dtypes;
    for (const auto& [dt, n] : k.dtypes) dtypes += (dtypes.empty() ? "" : "+") + dt;
    line(kind, std::to_string(k.count) + " tensors " + dtypes + ", " + mib(k.bytes) + ", zeros " +
                   percent(k.zeros, k.elements));
  }
  line("file size", mib(ckpt.file_bytes()));
  line("tokenizer", tokenizer);
  line("max length", std::to_string(max_len));
  line("pooling", sc.is_sentence_transformers
                      ? pooling_name(sc.pooling) + (sc.normalize ? ", normalized" : "")
                      : "mean (not a sentence-transformers folder)");
  // Dense modules project the pooled vector: the embedding is the last one's width.
  for (const slimformer::DenseModuleConfig& d : sc.dense) {
    line("dense", std::to_string(d.in_features) + " -> " + std::to_string(d.out_features) + ", " +
                      activation_name(d.activation) + (d.bias ? "" : ", no bias"));
  }
  if (!sc.dense.empty()) line("embedding dim", std::to_string(sc.dense.back().out_features));
  if (list_tensors) out += "tensors:\n" + tensor_lines;
  Output o("", "");
  o.write(out);
  o.commit();
  return 0;
}

}  // namespace

Runner add_inspect(CLI::App& root) {
  auto dir = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  CLI::App* cmd = root.add_subcommand("inspect", "Describe a model folder: architecture, parameters, tensors, tokenizer");
  cmd->add_option("--model", *dir, "Model folder")->type_name("DIR")->required();
  cmd->add_flag("--tensors", *list, "Also list every tensor: dtype, shape, bytes, share of zeros");
  return [dir, list] { return run_inspect(*dir, *list); };
}

}  // namespace slimcli
