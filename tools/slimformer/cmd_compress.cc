// slimformer prune / quantize / export: a new model folder from a model folder. Every option is
// checked before the model is read; the output is written whole or not at all.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "commands.h"
#include "slimformer/builtin.h"
#include "slimformer/compress.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

using slimformer::InputError;
namespace compress = slimformer::compress;

const char* const kDenseHelp =
    "Store zeros as zeros: a larger file Hugging Face can load (default: tensors at least 25% zero "
    "are stored as a bitmask and their nonzeros, docs/formats.md)";

struct PruneCliOptions {
  std::string model, out, method, amount, scope, iterative, heads, norm, keep, drop, data, data_limit;
  bool global = false;
  bool dense = false;   // store zeros densely (Hugging Face loads the file)
};

double parse_amount(const std::string& text) {
  char* end = nullptr;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0.0 && v < 1.0)) {
    throw InputError("--amount: '" + text + "' is not a fraction in [0, 1) (the share of weights, heads or neurons to remove)");
  }
  return v;
}

// "0:1,0:3,2:0" -> {0: [1, 3], 2: [0]}
std::map<int64_t, std::vector<int64_t>> parse_heads(const std::string& text) {
  std::map<int64_t, std::vector<int64_t>> heads;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos) {
      throw InputError("--heads: '" + item + "' is not LAYER:HEAD (expected a list such as 0:1,0:3,2:0)");
    }
    heads[parse_int("--heads", item.substr(0, colon), 0)].push_back(parse_int("--heads", item.substr(colon + 1), 0));
  }
  if (heads.empty()) throw InputError("--heads: no heads listed (expected LAYER:HEAD,...)");
  return heads;
}

std::string mib(size_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

size_t weight_bytes(const std::string& dir) {
  return slimformer::Checkpoint(dir).file_bytes();
}

// Options given to a method that does not use them are refused rather than ignored.
void refuse_unused(const PruneCliOptions& o, const std::vector<std::pair<std::string, bool>>& flags) {
  for (const auto& [flag, given] : flags) {
    if (given) throw InputError(flag + " does not apply to the " + o.method + " method");
  }
}

void finish(const compress::ModelState& m, const PruneCliOptions& o, const std::string& what,
            const std::map<std::string, std::string>& metadata) {
  const compress::SavedModel saved = compress::save_model(
      m, o.model, o.out, metadata, o.dense ? compress::Storage::Dense : compress::Storage::Sparse);
  const std::string input = o.model.empty() ? "" : " (input " + mib(weight_bytes(o.model)) + ")";
  write_stdout(what + "\nwrote '" + o.out + "': weights " + mib(saved.weights_bytes) + input + "\n");
}

// The pairs --data holds, every reading error restated as what --data must hold.
std::vector<slimformer::StsPair> read_data_pairs(const std::string& path) {
  try {
    return slimformer::read_sts(path);
  } catch (const slimformer::Error& e) {
    throw InputError(std::string("--data: ") + e.what() +
                     " (--data must hold scored sentence pairs: an STS Benchmark sts-*.csv or GLUE STS-B .tsv file)");
  }
}

// heads --amount: by gradient importance on --data's pairs, else by weight norm. `score` names
// the choice for the summary line.
std::map<int64_t, std::vector<int64_t>> heads_to_remove(compress::ModelState& m, const PruneCliOptions& o,
                                                        std::string& score) {
  const double amount = parse_amount(o.amount);
  if (o.data.empty()) {
    if (!o.data_limit.empty()) throw InputError("--data-limit needs --data FILE (the pairs to score heads on)");
    score = " (the lowest weight norms)";
    return compress::heads_by_importance(m, amount);
  }
  compress::HeadGradientOptions g;
  if (!o.data_limit.empty()) g.max_pairs = parse_int("--data-limit", o.data_limit, 1);
  const compress::HeadImportance importance =
      compress::head_importance_by_gradient(o.model, read_data_pairs(o.data), g);
  score = " (gradient importance on " + std::to_string(importance.pairs) + " pairs)";
  return compress::heads_by_importance(m, importance.scores, amount);
}

int run_prune(const PruneCliOptions& o) {
  require_model_dir("--model", o.model);
  refuse_outputs_onto_inputs({{"--model", o.model, PathArg::Folder}, {"--data", o.data, PathArg::File}},
                             {{"--out", o.out, PathArg::ReplacedFolder}});
  compress::check_output_folder(o.model, o.out);
  const std::string& method = o.method;
  if (method != "l1-unstructured" && method != "heads" && method != "ffn" && method != "layers") {
    throw InputError("prune: '" + method + "' is not a method (expected l1-unstructured, heads, ffn or layers)");
  }
  compress::ModelState m = compress::state_of(slimformer::Checkpoint(o.model));
  char line[512];
  if (method != "heads") refuse_unused(o, {{"--data", !o.data.empty()}, {"--data-limit", !o.data_limit.empty()}});
  if (method == "l1-unstructured") {
    refuse_unused(o, {{"--heads", !o.heads.empty()}, {"--norm", !o.norm.empty()}, {"--keep", !o.keep.empty()},
                      {"--drop", !o.drop.empty()}});
    compress::UnstructuredPruning p;
    p.amount = parse_amount(o.amount);
    p.global = o.global;
    if (o.scope.empty() || o.scope == "linear") {
      p.scope = compress::PruneScope::Linear;
    } else if (o.scope == "every-weight") {
      p.scope = compress::PruneScope::EveryWeight;
    } else {
      throw InputError("--scope: '" + o.scope + "' is not a scope (expected linear or every-weight)");
    }
    p.steps = o.iterative.empty() ? 1 : parse_int("--iterative", o.iterative, 1, 1000);
    const compress::PruneSummary s = compress::prune_l1_unstructured(m, p);
    std::snprintf(line, sizeof line, "pruned: %lld of %lld weights set to zero (%.1f%%) in %zu tensors, %s%s%s",
                  static_cast<long long>(s.zeros), static_cast<long long>(s.weights),
                  s.weights ? 100.0 * static_cast<double>(s.zeros) / static_cast<double>(s.weights) : 0.0,
                  s.tensors.size(), p.global ? "one global ranking" : "each tensor ranked on its own",
                  p.steps > 1 ? (", in " + std::to_string(p.steps) + " steps").c_str() : "",
                  p.scope == compress::PruneScope::Linear
                      ? "; LayerNorm, biases and embeddings spared (--scope every-weight includes them)"
                      : "; every weight, LayerNorm and embeddings included");
    finish(m, o, line, {{"slimformer.pruned", "l1-unstructured"}});
    return 0;
  }
  refuse_unused(o, {{"--global", o.global}, {"--scope", !o.scope.empty()}, {"--iterative", !o.iterative.empty()}});
  if (method == "heads") {
    refuse_unused(o, {{"--norm", !o.norm.empty()}, {"--keep", !o.keep.empty()}, {"--drop", !o.drop.empty()}});
    if (o.amount.empty() == o.heads.empty()) throw InputError("heads: give either --amount F or --heads L:H,... (one of them)");
    if (!o.heads.empty() && (!o.data.empty() || !o.data_limit.empty())) {
      throw InputError("--data and --data-limit rank heads for --amount; --heads lists them instead (give one)");
    }
    std::string score;
    const auto heads = o.heads.empty() ? heads_to_remove(m, o, score) : parse_heads(o.heads);
    compress::remove_heads(m, heads);
    int64_t count = 0;
    for (const auto& [layer, h] : heads) count += static_cast<int64_t>(h.size());
    std::snprintf(line, sizeof line, "pruned: %lld attention heads removed%s", static_cast<long long>(count),
                  score.c_str());
    finish(m, o, line, {{"slimformer.pruned", "heads"}});
  } else if (method == "ffn") {
    refuse_unused(o, {{"--heads", !o.heads.empty()}, {"--keep", !o.keep.empty()}, {"--drop", !o.drop.empty()}});
    const int norm = o.norm.empty() ? 2 : static_cast<int>(parse_int("--norm", o.norm, 1, 2));
    const auto neurons = compress::ffn_neurons_by_norm(m, parse_amount(o.amount), norm);
    int64_t count = 0;
    for (const auto& [layer, n] : neurons) count += static_cast<int64_t>(n.size());
    compress::remove_ffn_neurons(m, neurons);
    std::snprintf(line, sizeof line, "pruned: %lld FFN neurons removed (lowest L%d norm of their input weights)",
                  static_cast<long long>(count), norm);
    finish(m, o, line, {{"slimformer.pruned", "ffn"}});
  } else {
    refuse_unused(o, {{"--heads", !o.heads.empty()}, {"--norm", !o.norm.empty()}, {"--amount", !o.amount.empty()}});
    if (o.keep.empty() == o.drop.empty()) throw InputError("layers: give either --keep L,... or --drop N (one of them)");
    std::vector<int64_t> keep;
    const int64_t layers = m.config.num_layers;
    if (!o.keep.empty()) {
      std::stringstream items(o.keep);
      std::string item;
      while (std::getline(items, item, ',')) keep.push_back(parse_int("--keep", item, 0, layers - 1));
    } else {
      const int64_t drop = parse_int("--drop", o.drop, 1, layers - 1);
      for (int64_t l = 0; l < layers - drop; ++l) keep.push_back(l);   // the top layers go
    }
    compress::keep_layers(m, keep);
    std::snprintf(line, sizeof line, "pruned: %lld of %lld layers kept", static_cast<long long>(keep.size()),
                  static_cast<long long>(layers));
    finish(m, o, line, {{"slimformer.pruned", "layers"}});
  }
  return 0;
}

struct QuantizeCliOptions {
  std::string model, out, dtype, embeddings, skip;
  bool dense = false;
};

int run_quantize(const QuantizeCliOptions& o) {
  require_model_dir("--model", o.model);
  refuse_outputs_onto_inputs({{"--model", o.model, PathArg::Folder}}, {{"--out", o.out, PathArg::ReplacedFolder}});
  compress::check_output_folder(o.model, o.out);
  compress::Quantization q;
  if (o.dtype == "int8") q.dtype = compress::WeightDType::Int8;
  else if (o.dtype == "fp16") q.dtype = compress::WeightDType::F16;
  else if (o.dtype == "bf16") q.dtype = compress::WeightDType::BF16;
  else throw InputError("--dtype: '" + o.dtype + "' is not a dtype (expected int8, fp16 or bf16)");
  if (o.embeddings.empty()) q.embeddings = compress::EmbeddingDType::Same;
  else if (o.embeddings == "keep") q.embeddings = compress::EmbeddingDType::Keep;
  else if (o.embeddings == "int8") q.embeddings = compress::EmbeddingDType::Int8;
  else if (o.embeddings == "fp16") q.embeddings = compress::EmbeddingDType::F16;
  else if (o.embeddings == "bf16") q.embeddings = compress::EmbeddingDType::BF16;
  else throw InputError("--embeddings: '" + o.embeddings + "' is not a choice (expected int8, fp16, bf16 or keep)");
  std::stringstream items(o.skip);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (!item.empty()) q.skip.push_back(item);
  }
  compress::ModelState m = compress::state_of(slimformer::Checkpoint(o.model));
  const compress::QuantizeSummary s = compress::quantize(m, q);
  const std::string what = "quantized: " + std::to_string(s.changed.size()) + " tensors to " + o.dtype +
                           (s.skipped.empty() ? "" : ", " + std::to_string(s.skipped.size()) + " skipped");
  PruneCliOptions paths;
  paths.model = o.model;
  paths.out = o.out;
  paths.dense = o.dense;
  finish(m, paths, what, {{"slimformer.quantized", o.dtype}});
  return 0;
}

struct ExportCliOptions {
  std::string model, config, out, dtype;
};

int run_export(const ExportCliOptions& o) {
  if (o.model.empty() == o.config.empty()) throw InputError("export: give either --model DIR or --config NAME");
  if (!o.model.empty()) require_model_dir("--model", o.model);
  refuse_outputs_onto_inputs({{"--model", o.model, PathArg::Folder}}, {{"--out", o.out, PathArg::ReplacedFolder}});
  if (!o.config.empty() && !slimformer::is_builtin_config(o.config)) {
    std::string names;
    for (const std::string& n : slimformer::builtin_config_names()) names += (names.empty() ? "" : ", ") + n;
    throw InputError("--config: '" + o.config + "' is not a built-in configuration (expected one of " + names + ")");
  }
  compress::check_output_folder(o.model, o.out);
  if (o.dtype != "f32") throw InputError("--dtype: '" + o.dtype + "' is not an export dtype (expected f32)");
  const std::shared_ptr<const slimformer::Checkpoint> source =
      o.model.empty() ? slimformer::builtin_checkpoint(o.config) : std::make_shared<const slimformer::Checkpoint>(o.model);
  compress::ModelState m = compress::state_of(*source);
  compress::to_dense_f32(m);
  PruneCliOptions paths;
  paths.model = o.model;
  paths.out = o.out;
  paths.dense = true;
  finish(m, paths, "exported: dense f32, every layer at full shape (Hugging Face loads it)", {});
  return 0;
}

}  // namespace

Runner add_export(CLI::App& root) {
  auto o = std::make_shared<ExportCliOptions>();
  CLI::App* cmd = root.add_subcommand("export", "Write the dense f32 model a compressed folder computes, for Hugging Face");
  cmd->add_option("--model", o->model, "Model folder (only read)")->type_name("DIR");
  cmd->add_option("--config", o->config,
                  "Instead of --model: a built-in configuration's seeded random weights (a subject for "
                  "benchmarks of compressed models at real sizes)")
      ->type_name("NAME");
  cmd->add_option("--out", o->out, "New model folder (absent or empty)")->type_name("DIR")->required();
  cmd->add_option("--dtype", o->dtype, "f32")->type_name("DTYPE")->required();
  return [o] { return run_export(*o); };
}

Runner add_prune(CLI::App& root) {
  auto o = std::make_shared<PruneCliOptions>();
  CLI::App* cmd = root.add_subcommand("prune", "Remove weights, heads, FFN neurons or layers; write a smaller model folder");
  cmd->add_option("method", o->method, "l1-unstructured, heads, ffn or layers")->type_name("METHOD")->required();
  cmd->add_option("--model", o->model, "Model folder to prune (only read)")->type_name("DIR")->required();
  cmd->add_option("--out", o->out, "New model folder (absent or empty)")->type_name("DIR")->required();
  cmd->add_option("--amount", o->amount, "Share to remove, in [0, 1)")->type_name("F");
  cmd->add_flag("--global", o->global, "l1-unstructured: one ranking over every tensor in scope");
  cmd->add_option("--scope", o->scope, "l1-unstructured: linear (default) or every-weight")->type_name("SCOPE");
  cmd->add_option("--iterative", o->iterative, "l1-unstructured: reach --amount in N equal steps")->type_name("N");
  cmd->add_option("--heads", o->heads, "heads: the heads to remove, LAYER:HEAD,...")->type_name("LIST");
  cmd->add_option("--data", o->data,
                  "heads --amount: rank heads by gradient importance (Michel et al. 2019) on these STS-B "
                  "scored pairs instead of by weight norm")
      ->type_name("FILE");
  cmd->add_option("--data-limit", o->data_limit, "heads --data: use the first N pairs (default 2000)")->type_name("N");
  cmd->add_option("--norm", o->norm, "ffn: rank neurons by the L1 or L2 (default) norm")->type_name("1|2");
  cmd->add_option("--keep", o->keep, "layers: the layers to keep, e.g. 0,2")->type_name("LIST");
  cmd->add_option("--drop", o->drop, "layers: remove the top N layers")->type_name("N");
  cmd->add_flag("--dense", o->dense, kDenseHelp);
  return [o] { return run_prune(*o); };
}

Runner add_quantize(CLI::App& root) {
  auto o = std::make_shared<QuantizeCliOptions>();
  CLI::App* cmd = root.add_subcommand("quantize", "Store weights as int8, fp16 or bf16; write a smaller model folder");
  cmd->add_option("--model", o->model, "Model folder to quantize (only read)")->type_name("DIR")->required();
  cmd->add_option("--out", o->out, "New model folder (absent or empty)")->type_name("DIR")->required();
  cmd->add_option("--dtype", o->dtype, "int8 (per output channel, activations at run time), fp16 or bf16")
      ->type_name("DTYPE")->required();
  cmd->add_option("--embeddings", o->embeddings, "int8, fp16, bf16 or keep (default: keep for int8, else --dtype)")
      ->type_name("DTYPE");
  cmd->add_option("--skip", o->skip, "Tensors to leave as they are, NAME,...")->type_name("LIST");
  cmd->add_flag("--dense", o->dense, kDenseHelp);
  return [o] { return run_quantize(*o); };
}

}  // namespace slimcli
