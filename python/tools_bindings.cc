// The library's tools as functions: eval_stsb / eval_mrpc, bench, prune, quantize, distill. Each
// returns a dict of what it did (the figures the CLI prints or writes as JSON) and runs with the
// GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <filesystem>

#include "bindings.h"
#include "slimformer/bench.h"
#include "slimformer/compress.h"
#include "slimformer/distill.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace py = pybind11;
namespace compress = slimformer::compress;
namespace bench = slimformer::bench;
using slimformer::InputError;

namespace slimpy {
namespace {

// NaN (a figure that does not apply) becomes None, as the CLI's JSON writes null.
py::object number(double v) { return std::isnan(v) ? py::object(py::none()) : py::object(py::float_(v)); }

void require_positive(const char* name, int64_t v) {
  if (v < 1) throw InputError(std::string(name) + ": " + std::to_string(v) + " is not positive");
}

void require_model_dir(const std::string& what, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw InputError(what + ": '" + dir + "' is not a folder (expected a model folder)");
  }
}

py::dict row_dict(const slimformer::EvalRow& r) {
  py::dict d;
  d["label"] = r.label;
  d["model_dir"] = r.model_dir;
  d["scored_by"] = r.scored_by;
  d["parameters"] = r.parameters;
  d["file_bytes"] = r.file_bytes;
  py::dict dtypes;
  for (const auto& [dtype, bytes] : r.dtype_bytes) dtypes[py::str(dtype)] = bytes;
  d["dtype_bytes"] = dtypes;
  d["pearson"] = number(r.pearson);
  d["spearman"] = number(r.spearman);
  d["angular_pearson"] = number(r.angular_pearson);
  d["angular_spearman"] = number(r.angular_spearman);
  d["threshold"] = number(r.threshold);
  d["train_accuracy"] = number(r.train_accuracy);
  d["accuracy"] = number(r.accuracy);
  d["f1"] = number(r.f1);
  d["inputs"] = r.inputs;
  d["encode_seconds"] = r.encode_seconds;
  return d;
}

slimformer::EvalOptions eval_options(int64_t batch_size, const std::optional<int64_t>& max_length,
                                     const std::optional<std::string>& attention) {
  require_positive("batch_size", batch_size);
  if (max_length) require_positive("max_length", *max_length);
  slimformer::EvalOptions o;
  o.batch_size = batch_size;
  o.max_length = max_length.value_or(0);
  o.attention = attention_spec(attention);
  return o;
}

template <typename Pair>
void keep_first(std::vector<Pair>& pairs, const std::optional<int64_t>& max_pairs) {
  if (max_pairs && static_cast<int64_t>(pairs.size()) > *max_pairs) pairs.resize(static_cast<size_t>(*max_pairs));
}

std::string folder_label(const std::string& dir) {
  return std::filesystem::path(dir).lexically_normal().filename().string();
}

py::dict eval_stsb(const std::string& model_dir, const std::string& data_path, int64_t batch_size,
                   const std::optional<int64_t>& max_length, const std::optional<std::string>& attention,
                   const std::optional<int64_t>& max_pairs, const std::optional<int>& threads) {
  slimformer::EvalOptions options = eval_options(batch_size, max_length, attention);
  if (max_pairs) require_positive("max_pairs", *max_pairs);
  require_model_dir("model_dir", model_dir);
  apply_threads(threads);
  slimformer::EvalRow row;
  {
    py::gil_scoped_release unlocked;
    std::vector<slimformer::StsPair> pairs = slimformer::read_sts(data_path);
    keep_first(pairs, max_pairs);
    row = slimformer::evaluate_stsb(model_dir, pairs, options);
  }
  row.label = folder_label(model_dir);
  return row_dict(row);
}

py::dict eval_mrpc(const std::string& model_dir, const std::string& data_path,
                   const std::optional<std::string>& train_path, int64_t batch_size,
                   const std::optional<int64_t>& max_length, const std::optional<std::string>& attention,
                   const std::optional<int64_t>& max_pairs, const std::optional<int>& threads) {
  slimformer::EvalOptions options = eval_options(batch_size, max_length, attention);
  if (max_pairs) require_positive("max_pairs", *max_pairs);
  require_model_dir("model_dir", model_dir);
  apply_threads(threads);
  slimformer::EvalRow row;
  {
    py::gil_scoped_release unlocked;
    std::vector<slimformer::LabelledPair> data = slimformer::read_mrpc(data_path), train;
    keep_first(data, max_pairs);
    if (train_path) {
      train = slimformer::read_mrpc(*train_path);
      keep_first(train, max_pairs);
    }
    row = slimformer::evaluate_mrpc(model_dir, train, data, options);
  }
  row.label = folder_label(model_dir);
  return row_dict(row);
}

// A model spec (as --models takes it: "[LABEL=]SOURCE[:KEY=VALUE,...],...") or a list of them.
std::vector<bench::ModelSpec> bench_specs(const py::object& model) {
  if (py::isinstance<py::str>(model)) return bench::parse_model_list(model.cast<std::string>());
  std::vector<bench::ModelSpec> specs;
  for (const std::string& s : model.cast<std::vector<std::string>>()) specs.push_back(bench::parse_model_spec(s));
  if (specs.empty()) throw InputError("model: no model given (expected a folder or built-in name, or a list of them)");
  return specs;
}

py::list bench_records(const py::object& model, const std::vector<int64_t>& batch_sizes,
                       const std::vector<int64_t>& seq_lens, int runs, int warmup,
                       const std::optional<std::string>& attention, const std::optional<int>& threads,
                       double time_limit, const std::optional<size_t>& max_memory, bool training,
                       bool checkpoint_activations, uint64_t seed) {
  bench::BenchGrid grid;
  grid.batch_sizes = batch_sizes;
  grid.seq_lens = seq_lens;
  grid.runs = runs;
  grid.warmup = warmup;
  grid.seed = seed;
  if (!(time_limit >= 0)) throw InputError("time_limit: expected seconds >= 0 (0: no limit)");
  grid.time_limit_s = time_limit;
  grid.training = training;
  grid.checkpoint_activations = checkpoint_activations;
  if (checkpoint_activations && !training) {
    throw InputError("checkpoint_activations is for training=True (inference keeps no activations)");
  }
  if (max_memory && *max_memory == 0) throw InputError("max_memory: 0 bytes (expected a positive byte count)");
  const std::vector<bench::ModelSpec> specs = bench_specs(model);
  std::vector<bench::BenchModel> models;
  std::vector<slimformer::EncoderConfig> configs;
  for (bench::ModelSpec spec : specs) {   // every model checked before any weights are loaded
    if (attention && spec.attention.empty()) spec.attention = attention_spec(attention).str();
    models.push_back(bench::resolve_model(spec));
    if (training) {
      const std::string why = bench::training_refusal(models.back());
      if (!why.empty()) throw InputError("model '" + spec.text + "': " + why);
    }
    configs.push_back(models.back().config);
  }
  bench::check_grid(grid, configs);
  grid.max_activation_bytes = max_memory ? *max_memory : slimformer::available_memory_bytes() / 4 * 3;
  // Timed runs need one fixed count (default: every available core); the caller's setting returns after.
  const int before = slimformer::requested_threads();
  apply_threads(threads ? threads : std::optional<int>(slimformer::available_cores()));
  std::string json;
  {
    py::gil_scoped_release unlocked;
    try {
      json = bench::format_json(bench::run_models(models, grid));
    } catch (...) {
      slimformer::set_num_threads(before);
      throw;
    }
    slimformer::set_num_threads(before);
  }
  // The CLI's JSON writer, read back: the records have exactly the fields (and nulls) it writes.
  return py::module_::import("json").attr("loads")(json)["records"];
}

size_t weight_bytes(const std::string& dir) { return slimformer::Checkpoint(dir).file_bytes(); }

double fraction(const char* name, const std::optional<double>& v) {
  if (!v || !(*v >= 0.0 && *v < 1.0)) {
    throw InputError(std::string(name) + ": expected a fraction in [0, 1) (the share of weights, heads or neurons to remove)");
  }
  return *v;
}

// Arguments that the method does not use are refused rather than ignored.
void refuse_unused(const std::string& method, const std::vector<std::pair<const char*, bool>>& given) {
  for (const auto& [name, is_given] : given) {
    if (is_given) throw InputError(std::string(name) + " does not apply to the " + method + " method");
  }
}

struct PruneArgs {
  std::string model_dir, out_dir, method;
  std::optional<double> amount;
  std::optional<std::map<int64_t, std::vector<int64_t>>> heads;
  std::optional<std::vector<int64_t>> keep;
  std::optional<int64_t> drop;
  bool global_ranking = false;
  std::string scope;
  std::optional<int64_t> steps, norm, data_limit;
  std::optional<std::string> data;
  bool dense = false;
};

// Runs the pruning (GIL released by the caller); fills `info` with plain values.
struct PruneResult {
  std::string summary;
  compress::PruneSummary l1;
  std::map<int64_t, std::vector<int64_t>> removed;   // heads or FFN neurons per layer
  std::vector<int64_t> kept;
  int64_t layers_before = 0, pairs = 0;
  size_t weights_bytes = 0, input_bytes = 0;
};

PruneResult run_prune(const PruneArgs& a) {
  require_model_dir("model_dir", a.model_dir);
  compress::check_output_folder(a.model_dir, a.out_dir);
  const std::string& method = a.method;
  if (method != "l1-unstructured" && method != "heads" && method != "ffn" && method != "layers") {
    throw InputError("method: '" + method + "' is not a method (expected l1-unstructured, heads, ffn or layers)");
  }
  const bool l1 = method == "l1-unstructured";
  refuse_unused(method, {{"global_ranking", !l1 && a.global_ranking}, {"scope", !l1 && !a.scope.empty()},
                         {"steps", !l1 && a.steps.has_value()}, {"heads", method != "heads" && a.heads.has_value()},
                         {"data", method != "heads" && a.data.has_value()},
                         {"data_limit", method != "heads" && a.data_limit.has_value()},
                         {"norm", method != "ffn" && a.norm.has_value()},
                         {"keep", method != "layers" && a.keep.has_value()},
                         {"drop", method != "layers" && a.drop.has_value()},
                         {"amount", method == "layers" && a.amount.has_value()}});
  compress::ModelState m = compress::state_of(slimformer::Checkpoint(a.model_dir));
  PruneResult r;
  if (l1) {
    compress::UnstructuredPruning p;
    p.amount = fraction("amount", a.amount);
    p.global = a.global_ranking;
    if (a.scope.empty() || a.scope == "linear") p.scope = compress::PruneScope::Linear;
    else if (a.scope == "every-weight") p.scope = compress::PruneScope::EveryWeight;
    else throw InputError("scope: '" + a.scope + "' is not a scope (expected linear or every-weight)");
    p.steps = a.steps.value_or(1);
    if (p.steps < 1 || p.steps > 1000) throw InputError("steps: expected 1 to 1000");
    r.l1 = compress::prune_l1_unstructured(m, p);
  } else if (method == "heads") {
    if (a.amount.has_value() == a.heads.has_value()) throw InputError("heads: give either amount or heads (one of them)");
    if (a.heads && (a.data || a.data_limit)) throw InputError("data and data_limit rank heads for amount; heads lists them instead");
    if (a.data_limit && !a.data) throw InputError("data_limit needs data (the pairs to score heads on)");
    if (a.heads) {
      r.removed = *a.heads;
    } else if (!a.data) {
      r.removed = compress::heads_by_importance(m, fraction("amount", a.amount));
    } else {
      compress::HeadGradientOptions g;
      if (a.data_limit) {
        require_positive("data_limit", *a.data_limit);
        g.max_pairs = *a.data_limit;
      }
      const compress::HeadImportance imp = compress::head_importance_by_gradient(a.model_dir, slimformer::read_sts(*a.data), g);
      r.pairs = imp.pairs;
      r.removed = compress::heads_by_importance(m, imp.scores, fraction("amount", a.amount));
    }
    compress::remove_heads(m, r.removed);
  } else if (method == "ffn") {
    const int64_t norm = a.norm.value_or(2);
    if (norm != 1 && norm != 2) throw InputError("norm: expected 1 or 2");
    r.removed = compress::ffn_neurons_by_norm(m, fraction("amount", a.amount), static_cast<int>(norm));
    compress::remove_ffn_neurons(m, r.removed);
  } else {
    if (a.keep.has_value() == a.drop.has_value()) throw InputError("layers: give either keep or drop (one of them)");
    r.layers_before = m.config.num_layers;
    if (a.keep) {
      r.kept = *a.keep;
    } else {
      if (*a.drop < 1 || *a.drop >= r.layers_before) {
        throw InputError("drop: expected 1 to " + std::to_string(r.layers_before - 1) + " layers");
      }
      for (int64_t l = 0; l < r.layers_before - *a.drop; ++l) r.kept.push_back(l);   // the top layers go
    }
    compress::keep_layers(m, r.kept);
  }
  const compress::SavedModel saved = compress::save_model(m, a.model_dir, a.out_dir, {{"slimformer.pruned", method}},
                                                          a.dense ? compress::Storage::Dense : compress::Storage::Sparse);
  r.weights_bytes = saved.weights_bytes;
  r.input_bytes = weight_bytes(a.model_dir);
  return r;
}

py::dict prune(const PruneArgs& a) {
  PruneResult r;
  {
    py::gil_scoped_release unlocked;
    r = run_prune(a);
  }
  py::dict d;
  d["method"] = a.method;
  d["out_dir"] = a.out_dir;
  d["weights_bytes"] = r.weights_bytes;
  d["input_weights_bytes"] = r.input_bytes;
  if (a.method == "l1-unstructured") {
    d["tensors"] = r.l1.tensors;
    d["weights"] = r.l1.weights;
    d["zeros"] = r.l1.zeros;
  } else if (a.method == "heads") {
    d["heads_removed"] = r.removed;
    d["scored_by"] = a.heads ? "listed" : a.data ? "gradient importance" : "weight norm";
    if (a.data) d["pairs"] = r.pairs;
  } else if (a.method == "ffn") {
    d["neurons_removed"] = r.removed;
    d["norm"] = a.norm.value_or(2);
  } else {
    d["layers_kept"] = r.kept;
    d["layers_before"] = r.layers_before;
  }
  return d;
}

py::dict quantize(const std::string& model_dir, const std::string& out_dir, const std::string& dtype,
                  const std::optional<std::string>& embeddings, const std::vector<std::string>& skip, bool dense) {
  require_model_dir("model_dir", model_dir);
  compress::Quantization q;
  if (dtype == "int8") q.dtype = compress::WeightDType::Int8;
  else if (dtype == "fp16") q.dtype = compress::WeightDType::F16;
  else if (dtype == "bf16") q.dtype = compress::WeightDType::BF16;
  else throw InputError("dtype: '" + dtype + "' is not a dtype (expected int8, fp16 or bf16)");
  const std::string e = embeddings.value_or("");
  if (e.empty()) q.embeddings = compress::EmbeddingDType::Same;
  else if (e == "keep") q.embeddings = compress::EmbeddingDType::Keep;
  else if (e == "int8") q.embeddings = compress::EmbeddingDType::Int8;
  else if (e == "fp16") q.embeddings = compress::EmbeddingDType::F16;
  else if (e == "bf16") q.embeddings = compress::EmbeddingDType::BF16;
  else throw InputError("embeddings: '" + e + "' is not a choice (expected int8, fp16, bf16 or keep)");
  q.skip = skip;
  compress::QuantizeSummary s;
  compress::SavedModel saved;
  size_t input_bytes = 0;
  {
    py::gil_scoped_release unlocked;
    compress::check_output_folder(model_dir, out_dir);
    compress::ModelState m = compress::state_of(slimformer::Checkpoint(model_dir));
    s = compress::quantize(m, q);
    saved = compress::save_model(m, model_dir, out_dir, {{"slimformer.quantized", dtype}},
                                 dense ? compress::Storage::Dense : compress::Storage::Sparse);
    input_bytes = weight_bytes(model_dir);
  }
  py::dict d;
  d["dtype"] = dtype;
  d["out_dir"] = out_dir;
  d["changed"] = s.changed;
  d["skipped"] = s.skipped;
  d["weights_bytes"] = saved.weights_bytes;
  d["input_weights_bytes"] = input_bytes;
  return d;
}

py::dict epoch_dict(const compress::DistillEpoch& e) {
  py::dict d;
  d["epoch"] = e.epoch;
  d["mean_loss"] = e.mean_loss;
  d["seconds"] = e.seconds;
  // -2 is the library's "not evaluated"
  d["spearman"] = e.spearman > -2 ? py::object(py::float_(e.spearman)) : py::object(py::none());
  d["accuracy"] = e.accuracy > -2 ? py::object(py::float_(e.accuracy)) : py::object(py::none());
  d["f1"] = e.f1 > -2 ? py::object(py::float_(e.f1)) : py::object(py::none());
  d["peak_bytes"] = e.peak_bytes;
  return d;
}

py::dict distill(compress::DistillOptions d, const std::string& init, const std::optional<std::string>& loss,
                 const std::optional<std::string>& prune_spec, const std::optional<int>& threads) {
  require_model_dir("teacher", d.teacher_dir);
  if (!d.student_dir.empty()) require_model_dir("student", d.student_dir);
  if (init == "every-other") d.init = compress::StudentInit::EveryOther;
  else if (init == "first") d.init = compress::StudentInit::First;
  else if (init == "random") d.init = compress::StudentInit::Random;
  else throw InputError("student_init: '" + init + "' is not a choice (expected every-other, first or random)");
  const std::string l = loss.value_or("");
  if (l.empty()) d.loss = compress::DistillLoss::Auto;
  else if (l == "embedding-mse") d.loss = compress::DistillLoss::EmbeddingMse;
  else if (l == "cosine") d.loss = compress::DistillLoss::Cosine;
  else if (l == "kd") d.loss = compress::DistillLoss::Kd;
  else throw InputError("loss: '" + l + "' is not a loss (expected embedding-mse, cosine or kd)");
  if (d.temperature != 0 && !(d.temperature > 0)) throw InputError("temperature must be a positive number");
  if (prune_spec) d.movement = compress::parse_movement_spec(*prune_spec);
  apply_threads(threads);
  std::vector<compress::DistillEpoch> epochs;
  {
    py::gil_scoped_release unlocked;
    epochs = compress::distill(d);
  }
  py::list rows;
  for (const auto& e : epochs) rows.append(epoch_dict(e));
  py::dict out;
  out["out_dir"] = d.out_dir;
  out["epochs"] = rows;
  return out;
}

}  // namespace

void add_tools(py::module_& m) {
  m.def("eval_stsb", &eval_stsb, py::arg("model_dir"), py::arg("data_path"), py::arg("batch_size") = 32,
        py::arg("max_length") = py::none(), py::arg("attention") = py::none(), py::arg("max_pairs") = py::none(),
        py::arg("threads") = py::none(),
        "Scores a model on an STS-B file (sts-*.csv or GLUE STS-B/*.tsv): a dict of the evaluation row "
        "(pearson, spearman, angular_*, parameters, file_bytes, dtype_bytes, inputs, encode_seconds, ...; "
        "None where a figure does not apply).");
  m.def("eval_mrpc", &eval_mrpc, py::arg("model_dir"), py::arg("data_path"), py::arg("train_path") = py::none(),
        py::arg("batch_size") = 32, py::arg("max_length") = py::none(), py::arg("attention") = py::none(),
        py::arg("max_pairs") = py::none(), py::arg("threads") = py::none(),
        "Scores a model on an MRPC file (accuracy, f1; a sentence model's cosine threshold chosen on train_path).");
  m.def("bench", &bench_records, py::arg("model"), py::arg("batch_sizes") = std::vector<int64_t>{1},
        py::arg("seq_lens") = std::vector<int64_t>{128}, py::arg("runs") = 3, py::arg("warmup") = 1,
        py::arg("attention") = py::none(), py::arg("threads") = py::none(), py::arg("time_limit") = 0.0,
        py::arg("max_memory") = py::none(), py::arg("training") = false, py::arg("checkpoint_activations") = false,
        py::arg("seed") = 0,
        "Times forward passes (or training steps) over batch_sizes x seq_lens for a model folder or built-in "
        "configuration ('[LABEL=]SOURCE[:KEY=VALUE,...]', several comma-separated or in a list); returns the "
        "records as dicts with the fields of `slimformer bench --json` (None for what an N/A cell lacks).");
  m.def(
      "prune",
      [](const std::string& model_dir, const std::string& out_dir, const std::string& method,
         const std::optional<double>& amount, const std::optional<std::map<int64_t, std::vector<int64_t>>>& heads,
         const std::optional<std::vector<int64_t>>& keep, const std::optional<int64_t>& drop, bool global_ranking,
         const std::optional<std::string>& scope, const std::optional<int64_t>& steps,
         const std::optional<int64_t>& norm, const std::optional<std::string>& data,
         const std::optional<int64_t>& data_limit, bool dense) {
        PruneArgs a{model_dir, out_dir, method, amount, heads, keep, drop, global_ranking, scope.value_or(""),
                    steps, norm, data_limit, data, dense};
        return prune(a);
      },
      py::arg("model_dir"), py::arg("out_dir"), py::arg("method"), py::arg("amount") = py::none(),
      py::arg("heads") = py::none(), py::arg("keep") = py::none(), py::arg("drop") = py::none(),
      py::arg("global_ranking") = false, py::arg("scope") = py::none(), py::arg("steps") = py::none(),
      py::arg("norm") = py::none(), py::arg("data") = py::none(), py::arg("data_limit") = py::none(),
      py::arg("dense") = false,
      "Writes a pruned copy of model_dir to out_dir (absent or empty), as `slimformer prune` does. method: "
      "l1-unstructured (amount, global_ranking, scope, steps), heads (amount [data, data_limit] or heads "
      "{layer: [head, ...]}), ffn (amount, norm) or layers (keep [...] or drop N). Returns what was removed "
      "and the weight file sizes.");
  m.def("quantize", &quantize, py::arg("model_dir"), py::arg("out_dir"), py::arg("dtype") = "int8",
        py::arg("embeddings") = py::none(), py::arg("skip") = std::vector<std::string>{}, py::arg("dense") = false,
        "Writes a copy of model_dir with int8, fp16 or bf16 weights to out_dir, as `slimformer quantize` does; "
        "returns the tensors changed and skipped and the weight file sizes.");
  m.def(
      "distill",
      [](const std::string& teacher, const std::string& out_dir, const std::string& data,
         const std::optional<int64_t>& student_layers, const std::optional<std::string>& student,
         const std::string& student_init, const std::optional<std::string>& loss, int64_t epochs, int64_t batch_size,
         int64_t max_length, double lr, uint64_t seed, const std::optional<std::string>& eval_stsb_path,
         const std::optional<std::string>& eval_mrpc_path, bool resume, bool checkpoint_activations,
         double temperature, double hard_label_weight, double dropout, const std::optional<std::string>& prune_spec,
         bool dense, const std::optional<int>& threads) {
        compress::DistillOptions d;
        d.teacher_dir = teacher;
        d.out_dir = out_dir;
        d.data_path = data;
        d.student_layers = student_layers.value_or(0);
        d.student_dir = student.value_or("");
        d.epochs = epochs;
        d.batch_size = batch_size;
        d.max_length = max_length;
        d.lr = lr;
        d.seed = seed;
        d.eval_stsb = eval_stsb_path.value_or("");
        d.eval_mrpc = eval_mrpc_path.value_or("");
        d.resume = resume;
        d.checkpoint_activations = checkpoint_activations;
        d.temperature = temperature;
        d.hard_label_weight = hard_label_weight;
        d.dropout = dropout;
        d.dense_storage = dense;
        return distill(d, student_init, loss, prune_spec, threads);
      },
      py::arg("teacher"), py::arg("out_dir"), py::arg("data"), py::arg("student_layers") = py::none(),
      py::arg("student") = py::none(), py::arg("student_init") = "every-other", py::arg("loss") = py::none(),
      py::arg("epochs") = 1, py::arg("batch_size") = 32, py::arg("max_length") = 128, py::arg("lr") = 1e-4,
      py::arg("seed") = 42, py::arg("eval_stsb") = py::none(), py::arg("eval_mrpc") = py::none(),
      py::arg("resume") = false, py::arg("checkpoint_activations") = false, py::arg("temperature") = 0.0,
      py::arg("hard_label_weight") = -1.0, py::arg("dropout") = 0.0, py::arg("prune") = py::none(),
      py::arg("dense") = false, py::arg("threads") = py::none(),
      "Trains a student to mimic the teacher, as `slimformer distill` does, writing it to out_dir after each "
      "epoch; returns {'out_dir', 'epochs': [{epoch, mean_loss, seconds, spearman, accuracy, f1, peak_bytes}]}.");
}

}  // namespace slimpy
