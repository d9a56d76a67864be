#include "bench_output.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli_common.h"
#include "io/signal_cleanup.h"
#include "slimformer/error.h"
#include "slimformer/plot.h"

namespace fs = std::filesystem;

namespace slimcli {
namespace {

// "bench-results/20261128-021500", or "-2", "-3", ... after it when that exists already, so no
// run ever overwrites another.
std::string fresh_folder(const std::string& parent) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::error_code ec;
  fs::create_directories(parent, ec);
  for (int i = 1;; ++i) {
    const std::string dir = (fs::path(parent) / (std::string(stamp) + (i == 1 ? "" : "-" + std::to_string(i)))).string();
    if (fs::create_directory(dir, ec)) return dir;
    if (ec) throw slimformer::IoError("cannot make the results folder '" + dir + "': " + ec.message());
  }
}

// What a results folder receives.
const char* const kFolderFiles[] = {"report.txt", "results.json", "results.csv", "speed.png",
                                    "speed.svg",  "memory.png",   "memory.svg"};

}  // namespace

struct BenchOutputs::Impl {
  BenchOutputOptions options;
  std::string folder;   // where every file goes; "" = none
  std::unique_ptr<Output> json, csv, report, results_json, results_csv;
  // A folder this run made (the default run's fresh one, or a new --output-dir) is removed while
  // still empty: after an error, or a signal.
  bool made_folder = false, written = false;
  slimformer::io::CleanupGuard made_folder_guard;
  ~Impl() {
    for (auto* out : {&json, &csv, &report, &results_json, &results_csv}) out->reset();   // their temporary files
    if (!written && made_folder) ::rmdir(folder.c_str());
  }
};

BenchOutputs::BenchOutputs(const BenchOutputOptions& o) : impl_(std::make_unique<Impl>()) {
  impl_->options = o;
  std::vector<PathArg> outputs = {{"--json", o.json, PathArg::File}, {"--csv", o.csv, PathArg::File}};
  if (!o.folder.empty() && !o.fresh_folder) {
    outputs.push_back({"--output-dir", o.folder, PathArg::Folder});
    for (const char* name : kFolderFiles) outputs.push_back({"--output-dir", (fs::path(o.folder) / name).string(), PathArg::File});
  }
  refuse_outputs_onto_inputs(o.inputs, outputs);
  if (!o.json.empty()) impl_->json = std::make_unique<Output>(o.json, "--json");
  if (!o.csv.empty()) impl_->csv = std::make_unique<Output>(o.csv, "--csv");
  if (o.folder.empty()) return;
  if (o.plots && slimformer::plot::find_gnuplot().empty()) {
    throw slimformer::IoError("gnuplot was not found (install it, set SLIMFORMER_GNUPLOT, or pass --no-plots)");
  }
  if (o.fresh_folder) {
    impl_->folder = fresh_folder(o.folder);
    impl_->made_folder = true;
  } else {
    std::error_code ec;
    impl_->made_folder = !fs::exists(o.folder, ec);
    fs::create_directories(o.folder, ec);
    if (!fs::is_directory(o.folder, ec)) throw slimformer::IoError("--output-dir: cannot make the folder '" + o.folder + "'");
    impl_->folder = o.folder;
  }
  if (impl_->made_folder) {
    impl_->made_folder_guard = slimformer::io::CleanupGuard(impl_->folder, slimformer::io::CleanupKind::EmptyFolder);
  }
  const auto in_folder = [&](const char* name) { return (fs::path(impl_->folder) / name).string(); };
  impl_->report = std::make_unique<Output>(in_folder("report.txt"), "--output-dir");
  impl_->results_json = std::make_unique<Output>(in_folder("results.json"), "--output-dir");
  impl_->results_csv = std::make_unique<Output>(in_folder("results.csv"), "--output-dir");
}

BenchOutputs::~BenchOutputs() = default;

void BenchOutputs::write(const std::vector<slimformer::bench::BenchRecord>& records,
                         const slimformer::bench::Environment& env, const std::string& plot_title) {
  namespace bench = slimformer::bench;
  const std::string summary = bench::format_environment(env) + "\n" + bench::format_result_tables(records);
  const std::string json = bench::format_json(records, env), csv = bench::format_csv(records);
  for (auto* out : {impl_->json.get(), impl_->results_json.get()}) {
    if (out) out->write(json);
  }
  for (auto* out : {impl_->csv.get(), impl_->results_csv.get()}) {
    if (out) out->write(csv);
  }
  if (impl_->report) impl_->report->write(summary + "\nALL FIELDS\n" + bench::format_table(records));
  for (auto* out : {impl_->json.get(), impl_->csv.get(), impl_->report.get(), impl_->results_json.get(),
                    impl_->results_csv.get()}) {
    if (out) out->commit();
  }
  impl_->written = true;
  std::vector<std::string> written;
  if (!impl_->folder.empty() && impl_->options.plots) written = bench::write_plots(records, impl_->folder, plot_title);
  Output stdout_text("", "");
  stdout_text.write(summary);
  stdout_text.commit();
  if (!impl_->folder.empty()) {
    std::string files = "report.txt, results.json, results.csv";
    for (const std::string& p : written) files += ", " + fs::path(p).filename().string();
    std::fprintf(stderr, "slimformer: results in %s/ (%s)\n", impl_->folder.c_str(), files.c_str());
  }
}

void print_progress(const slimformer::bench::BenchRecord& r, const slimformer::bench::RunProgress& p) {
  const int width = static_cast<int>(std::to_string(p.cells).size());
  char head[64];
  std::snprintf(head, sizeof head, "[%*zu/%zu] ", width, p.cell, p.cells);
  char result[64];
  if (r.na_reason.empty()) {
    std::snprintf(result, sizeof result, "%.3f s", r.median_ms / 1000.0);
  }
  const std::string left = p.cell == p.cells ? "done" : p.left_s < 0 ? "time left not known yet"
                                                                     : "about " + duration_text(p.left_s) + " left";
  std::fprintf(stderr, "%s%s, batch %lld, %lld tokens: %s | elapsed %s, %s\n", head, r.model.c_str(),
               static_cast<long long>(r.batch), static_cast<long long>(r.seq),
               r.na_reason.empty() ? result : ("N/A (" + r.na_reason + ")").c_str(), duration_text(p.elapsed_s).c_str(),
               left.c_str());
  std::fflush(stderr);
}

}  // namespace slimcli
