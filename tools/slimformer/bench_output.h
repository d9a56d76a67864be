// Where a bench run's results go: the environment block and the two result tables on stdout, a
// progress line per cell on stderr, and the files (--json, --csv, and with an output folder all of
// them: report.txt, results.json, results.csv, speed/memory .png/.svg).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "output_guard.h"
#include "slimformer/bench.h"

namespace slimcli {

struct BenchOutputOptions {
  std::string json, csv;   // single files ("" = none)
  std::string folder;      // every file goes here ("" = none)
  bool fresh_folder = false;   // make a new time-stamped folder inside `folder` (the default run)
  bool plots = true;       // draw the plots into the folder
  std::vector<PathArg> inputs;   // model folders read: no output may land on them
};

class BenchOutputs {
 public:
  // Everything that can fail before the run does: no output lands on an input, the folder is made
  // (and must be writable), --json/--csv are opened, gnuplot is looked up when plots are drawn.
  explicit BenchOutputs(const BenchOutputOptions& options);
  ~BenchOutputs();
  // Prints and writes it all, the data files (JSON, CSV, report) before the figures, so that a
  // figure that fails (a full disk) costs only the figures; says on stderr where the files are.
  void write(const std::vector<slimformer::bench::BenchRecord>& records, const slimformer::bench::Environment& env,
             const std::string& plot_title);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "[ 5/42] label, batch 1, 2048 tokens: 3.214 s | elapsed 1m05s, about 2m10s left" on stderr.
void print_progress(const slimformer::bench::BenchRecord& record, const slimformer::bench::RunProgress& progress);

}  // namespace slimcli
