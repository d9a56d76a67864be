// The two result tables in the layout of Hugging Face's benchmark utilities (a title bar, then
// model, batch size, sequence length and the figure, centred), so runs read like the tables
// readers know; widths grow to fit long model labels instead of cutting them.
#include <algorithm>
#include <cstdio>
#include <functional>

#include "slimformer/bench.h"

namespace slimformer::bench {
namespace {

std::string centred(const std::string& text, size_t width) {
  if (text.size() >= width) return text;
  const size_t left = (width - text.size()) / 2;
  return std::string(left, ' ') + text + std::string(width - text.size() - left, ' ');
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string seconds(double ms) {
  const double s = ms / 1000.0;
  return format("%.4g", s);   // 4 significant digits: a small model's milliseconds are not all 0.002
}

std::string megabytes(size_t bytes) { return format("%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0)); }

struct Figure {
  const char* header;
  std::function<std::string(const BenchRecord&)> value;
  bool measured;   // N/A in a cell that was not measured
};

std::string table(const std::string& title, const std::vector<BenchRecord>& records, const std::vector<Figure>& figures) {
  size_t model_width = 30;
  for (const BenchRecord& r : records) model_width = std::max(model_width, r.model.size() + 2);
  const size_t width = model_width + 16 * (2 + figures.size());
  const std::string rule(width, '-');
  const size_t bar = (width - 40) / 2;
  std::string out = std::string(bar, '=') + centred(title, 40) + std::string(width - 40 - bar, '=') + "\n" + rule + "\n";
  std::string header = centred("Model Name", model_width) + centred("Batch Size", 16) + centred("Seq Length", 16);
  for (const Figure& f : figures) header += centred(f.header, 16);
  while (!header.empty() && header.back() == ' ') header.pop_back();
  out += header + "\n" + rule + "\n";
  for (const BenchRecord& r : records) {
    std::string line = centred(r.model, model_width) + centred(std::to_string(r.batch), 16) + centred(std::to_string(r.seq), 16);
    for (const Figure& f : figures) line += centred(f.measured && !r.na_reason.empty() ? "N/A" : f.value(r), 16);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out + rule + "\n";
}

bool is_training(const BenchRecord& r) { return r.mode.rfind("training", 0) == 0; }

// What the tables time: records of one kind give their own titles; a mix (only from the library:
// a CLI run is of one kind) gets neutral ones. Sets `intro` to a line saying what a training step is.
std::string heading(const std::vector<BenchRecord>& records, std::string& intro) {
  const bool all_training = !records.empty() && std::all_of(records.begin(), records.end(), is_training);
  if (std::none_of(records.begin(), records.end(), is_training)) return "INFERENCE";
  if (!all_training) return "BENCHMARK";
  const bool checkpointed = std::any_of(records.begin(), records.end(), [](const BenchRecord& r) {
    return r.mode == "training-checkpointed";
  });
  const bool plain = std::any_of(records.begin(), records.end(), [](const BenchRecord& r) { return r.mode == "training"; });
  intro = std::string("One training step: forward + backward + AdamW update") +
          (checkpointed && plain ? ", some with activations checkpointed"
           : checkpointed        ? ", activations checkpointed (each layer recomputed in the backward)"
                                 : "") +
          ".\n\n";
  return "TRAINING STEP";
}

}  // namespace

std::string format_result_tables(const std::vector<BenchRecord>& records) {
  std::string intro;
  const std::string kind = heading(records, intro);
  std::string out = intro + table(kind + " - SPEED - RESULT", records,
                          {{"Time in s", [](const BenchRecord& r) { return seconds(r.median_ms); }, true},
                           {"Min in s", [](const BenchRecord& r) { return seconds(r.min_ms); }, true},
                           {"Max in s", [](const BenchRecord& r) { return seconds(r.max_ms); }, true}});
  out += "\n";
  out += table(kind + " - MEMORY - RESULT", records,
               {{"Memory in MB", [](const BenchRecord& r) { return megabytes(r.peak_activation_bytes); }, true},
                {"Weights in MB", [](const BenchRecord& r) { return megabytes(r.weights_bytes); }, false},
                {"Peak RSS in MB", [](const BenchRecord& r) { return megabytes(r.peak_rss_bytes); }, false}});
  std::string reasons;
  for (const BenchRecord& r : records) {
    if (!r.na_reason.empty()) {
      reasons += "  " + r.model + ", batch " + std::to_string(r.batch) + ", " + std::to_string(r.seq) + " tokens: " + r.na_reason + "\n";
    }
  }
  if (!reasons.empty()) out += "\nN/A cells:\n" + reasons;
  return out;
}

}  // namespace slimformer::bench
