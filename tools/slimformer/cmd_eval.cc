// slimformer eval: STS-B or MRPC scores of one or more models side by side, with their size and
// speed, so what shrinking a model cost is one table. The work is in src/eval/.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "commands.h"
#include "io/signal_cleanup.h"
#include "slimformer/bench.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimcli {
namespace {

namespace fs = std::filesystem;
using slimformer::InputError;

struct EvalCliOptions {
  std::string task, data, train, output_dir, max_pairs, batch_size = "32", max_length, attention, threads;
  std::vector<std::string> models, names;
};

// A model's label: --name, else the folder's name (the whole path when two folders share a name).
std::vector<std::string> model_labels(const EvalCliOptions& o) {
  if (!o.names.empty() && o.names.size() != o.models.size()) {
    throw InputError("--name: " + std::to_string(o.names.size()) + " names for " + std::to_string(o.models.size()) +
                     " models (expected one --name per --model, in the same order, or none)");
  }
  std::vector<std::string> labels;
  std::set<std::string> base_names;
  bool clash = false;
  for (const std::string& m : o.models) {
    const std::string base = fs::path(m).lexically_normal().filename().string();
    clash = clash || !base_names.insert(base).second;
  }
  for (size_t i = 0; i < o.models.size(); ++i) {
    if (!o.names.empty()) {
      if (o.names[i].empty()) throw InputError("--name: label " + std::to_string(i + 1) + " is empty");
      labels.push_back(o.names[i]);
    } else {
      const fs::path p = fs::path(o.models[i]).lexically_normal();
      labels.push_back(clash || p.filename().empty() ? o.models[i] : p.filename().string());
    }
  }
  std::set<std::string> seen;
  for (const std::string& l : labels) {
    if (!seen.insert(l).second) throw InputError("--name: the label '" + l + "' is given to two models (labels must differ)");
  }
  return labels;
}

template <typename Pair>
void keep_first(std::vector<Pair>& pairs, int64_t max_pairs) {
  if (max_pairs > 0 && static_cast<int64_t>(pairs.size()) > max_pairs) pairs.resize(static_cast<size_t>(max_pairs));
}

// Correlation needs two pairs and gold scores that vary: said here, naming the file.
void check_correlatable(const std::vector<slimformer::StsPair>& pairs, const std::string& path) {
  if (pairs.size() < 2) {
    throw InputError("'" + path + "': " + std::to_string(pairs.size()) + " pair, expected at least 2 to correlate scores with");
  }
  for (const auto& p : pairs) {
    if (p.score != pairs[0].score) return;
  }
  throw InputError("'" + path + "': every gold score is " + std::to_string(pairs[0].score) +
                   ", expected scores that vary (a correlation with a constant is undefined)");
}

// "eval: [1/2] bert-mini: 1536/5516 inputs, 4.1s, about 10.6s left" on stderr, at most every 2 s:
// a short evaluation prints only its closing line.
class Progress {
 public:
  Progress(size_t index, size_t count, const std::string& label)
      : prefix_("eval: [" + std::to_string(index + 1) + "/" + std::to_string(count) + "] " + label + ": "),
        start_(Clock::now()), last_(start_) {}
  void update(int64_t done, int64_t total) {
    const auto now = Clock::now();
    if (seconds(last_, now) < 2.0 || done >= total) return;
    last_ = now;
    const double elapsed = seconds(start_, now);
    const double left = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
    std::fprintf(stderr, "%s%lld/%lld inputs, %s, about %s left\n", prefix_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), duration_text(elapsed, 1).c_str(), duration_text(left, 1).c_str());
  }
  void done(const std::string& result) {
    std::fprintf(stderr, "%s%s (%s)\n", prefix_.c_str(), result.c_str(), duration_text(seconds(start_, Clock::now()), 1).c_str());
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
  std::string prefix_;
  Clock::time_point start_, last_;
};

std::string headline(const slimformer::EvalRow& r, slimformer::EvalTask task) {
  char buf[128];
  if (task == slimformer::EvalTask::Stsb) {
    std::snprintf(buf, sizeof buf, "Spearman %.4f, Pearson %.4f", r.spearman, r.pearson);
  } else {
    std::snprintf(buf, sizeof buf, "accuracy %.4f, F1 %.4f", r.accuracy, r.f1);
  }
  return buf;
}

const char* const kEvalFiles[] = {"report.md", "results.json", "results.csv"};

// report.md, results.json and results.csv in --output-dir, opened before any work (so an
// unwritable folder fails first) and committed together at the end. A folder made here is
// removed again while empty: after an error, or a signal.
struct EvalFiles {
  std::string dir;
  bool made = false, written = false;
  slimformer::io::CleanupGuard made_guard;
  std::unique_ptr<Output> report, json, csv;
  explicit EvalFiles(const std::string& folder) : dir(folder) {
    if (dir.empty()) return;
    std::error_code ec;
    made = !fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir, ec)) throw slimformer::IoError("--output-dir: cannot make the folder '" + dir + "'");
    if (made) made_guard = slimformer::io::CleanupGuard(dir, slimformer::io::CleanupKind::EmptyFolder);
    report = std::make_unique<Output>((fs::path(dir) / "report.md").string(), "--output-dir");
    json = std::make_unique<Output>((fs::path(dir) / "results.json").string(), "--output-dir");
    csv = std::make_unique<Output>((fs::path(dir) / "results.csv").string(), "--output-dir");
  }
  ~EvalFiles() {
    report.reset();   // their temporary files first
    json.reset();
    csv.reset();
    if (made && !written) ::rmdir(dir.c_str());
  }
};

int run_eval(const EvalCliOptions& o) {
  slimformer::EvalTask task;
  if (o.task == "stsb") {
    task = slimformer::EvalTask::Stsb;
  } else if (o.task == "mrpc") {
    task = slimformer::EvalTask::Mrpc;
  } else {
    throw InputError("--task: '" + o.task + "' is not a task (expected stsb or mrpc)");
  }
  if (task == slimformer::EvalTask::Stsb && !o.train.empty()) {
    throw InputError("--train: STS-B is scored without training pairs (--train is for --task mrpc)");
  }
  slimformer::EvalOptions options;
  options.batch_size = parse_int("--batch-size", o.batch_size, 1);
  options.max_length = o.max_length.empty() ? 0 : parse_int("--max-length", o.max_length, 1);
  const int64_t max_pairs = o.max_pairs.empty() ? 0 : parse_int("--max-pairs", o.max_pairs, 1);
  options.attention = parse_attention_flag(o.attention);
  apply_threads(o.threads);
  const std::vector<std::string> labels = model_labels(o);
  // Every folder's config (and the mechanism for it) is checked before any data is read or model
  // scored, so a bad last model does not fail a long run at its end.
  for (const std::string& m : o.models) {
    require_model_dir("--model", m);
    const slimformer::EncoderConfig config = slimformer::read_encoder_config(m + "/config.json");
    if (!options.attention.empty()) build_attention_flag(options.attention, slimformer::attention_context(config));
  }
  std::vector<PathArg> inputs = {{"--data", o.data, PathArg::File}, {"--train", o.train, PathArg::File}};
  for (const std::string& m : o.models) inputs.push_back({"--model", m, PathArg::Folder});
  std::vector<PathArg> outputs = {{"--output-dir", o.output_dir, PathArg::Folder}};
  for (const char* name : kEvalFiles) {
    if (!o.output_dir.empty()) outputs.push_back({"--output-dir", (fs::path(o.output_dir) / name).string(), PathArg::File});
  }
  refuse_outputs_onto_inputs(inputs, outputs);   // an input is never written to
  EvalFiles files(o.output_dir);

  slimformer::EvalReport report;
  report.task = task;
  report.data_path = o.data;
  std::vector<slimformer::StsPair> sts;
  std::vector<slimformer::LabelledPair> train, mrpc;
  if (task == slimformer::EvalTask::Stsb) {
    sts = slimformer::read_sts(o.data);
    keep_first(sts, max_pairs);
    check_correlatable(sts, o.data);
    report.pairs = static_cast<int64_t>(sts.size());
  } else {
    mrpc = slimformer::read_mrpc(o.data);
    keep_first(mrpc, max_pairs);
    report.pairs = static_cast<int64_t>(mrpc.size());
    if (!o.train.empty()) {
      train = slimformer::read_mrpc(o.train);
      keep_first(train, max_pairs);
      report.train_path = o.train;
      report.train_pairs = static_cast<int64_t>(train.size());
    }
  }

  for (size_t i = 0; i < o.models.size(); ++i) {
    Progress progress(i, o.models.size(), labels[i]);
    options.progress = [&progress](int64_t done, int64_t total) { progress.update(done, total); };
    slimformer::EvalRow row = task == slimformer::EvalTask::Stsb
                                  ? slimformer::evaluate_stsb(o.models[i], sts, options)
                                  : slimformer::evaluate_mrpc(o.models[i], train, mrpc, options);
    row.label = labels[i];
    progress.done(headline(row, task));
    report.rows.push_back(std::move(row));
  }

  Output out("", "");
  out.write(slimformer::format_eval_table(report));
  if (files.report) {
    const auto env = slimformer::bench::collect_environment();
    files.report->write(slimformer::format_eval_markdown(report, env));
    files.json->write(slimformer::format_eval_json(report, env));
    files.csv->write(slimformer::format_eval_csv(report));
    files.report->commit();
    files.json->commit();
    files.csv->commit();
    files.written = true;
    std::fprintf(stderr, "eval: report.md, results.json and results.csv written to '%s'\n", o.output_dir.c_str());
  }
  out.commit();
  return 0;
}

}  // namespace

Runner add_eval(CLI::App& root) {
  auto o = std::make_shared<EvalCliOptions>();
  CLI::App* cmd = root.add_subcommand("eval", "Score models on STS-B or MRPC, side by side with their size and speed");
  cmd->add_option("--task", o->task, "stsb (correlation with gold similarity) or mrpc (paraphrase accuracy, F1)")
      ->type_name("TASK")->required();
  cmd->add_option("--data", o->data, "Pairs to score: an STS-B file (sts-*.csv or GLUE STS-B/*.tsv) or a GLUE MRPC tsv")
      ->type_name("FILE")->required();
  cmd->add_option("--train", o->train, "MRPC: pairs to choose a sentence model's cosine threshold on")->type_name("FILE");
  cmd->add_option("--model", o->models, "Model folder; repeat to compare (the first is the baseline)")
      ->type_name("DIR")->required();
  cmd->add_option("--name", o->names, "Label for each --model, in order (default: the folder's name)")->type_name("LABEL");
  cmd->add_option("--output-dir", o->output_dir, "Also write report.md, results.json and results.csv here")->type_name("DIR");
  cmd->add_option("--max-pairs", o->max_pairs, "Score only the first N pairs of each file (a quick look)")->type_name("N");
  cmd->add_option("--batch-size", o->batch_size, "Inputs per forward pass (default 32)")->type_name("N");
  cmd->add_option("--max-length", o->max_length, "Truncate inputs to N tokens (default: the model's limit)")->type_name("N");
  cmd->add_option("--attention", o->attention, "Attention mechanism for every layer (default: the model's own)")
      ->type_name("SPEC");
  add_threads_flag(cmd, &o->threads);
  return [o] { return run_eval(*o); };
}

}  // namespace slimcli
