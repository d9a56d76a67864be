// slimformer inspect: what a model folder holds, without building the encoder.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "commands.h"
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

std::string pooling_name(slimformer::PoolingMode m) {
  switch (m) {
    case slimformer::PoolingMode::Mean: return "mean";
    case slimformer::PoolingMode::Cls: return "cls";
    case slimformer::PoolingMode::Max: return "max";
    case slimformer::PoolingMode::MeanSqrtLen: return "mean_sqrt_len";
  }
  return "?";
}

int run_inspect(const std::string& dir) {
  require_model_dir("--model", dir);
  const slimformer::Checkpoint ckpt(dir);
  const slimformer::EncoderConfig& c = ckpt.config();
  const slimformer::SentenceConfig sc = slimformer::read_sentence_config(dir);
  const std::string tokenizer = tokenizer_line(dir);

  int64_t params = 0;
  std::map<std::string, DTypeTotals> by_dtype;
  for (const auto& name : ckpt.names()) {
    const slimformer::Tensor t = ckpt.get(name);
    params += t.numel();
    DTypeTotals& d = by_dtype[slimformer::dtype_name(t.dtype())];
    d.count += 1;
    d.bytes += t.nbytes();
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
  line("heads", std::to_string(c.num_heads));
  line("intermediate", std::to_string(c.intermediate_size));
  line("vocab size", std::to_string(c.vocab_size));
  line("parameters", std::to_string(params));
  for (const auto& [dtype, d] : by_dtype) {
    line("tensors " + dtype, std::to_string(d.count) + " tensors, " + mib(d.bytes));
  }
  line("file size", mib(ckpt.file_bytes()));
  line("tokenizer", tokenizer);
  line("max length", std::to_string(max_len));
  line("pooling", sc.is_sentence_transformers
                      ? pooling_name(sc.pooling) + (sc.normalize ? ", normalized" : "")
                      : "mean (not a sentence-transformers folder)");
  Output o("", "");
  o.write(out);
  o.commit();
  return 0;
}

}  // namespace

Runner add_inspect(CLI::App& root) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand("inspect", "Describe a model folder: architecture, parameters, tensors, tokenizer");
  cmd->add_option("--model", *dir, "Model folder")->type_name("DIR")->required();
  return [dir] { return run_inspect(*dir); };
}

}  // namespace slimcli
