// What the model and attention-only harnesses share about one cell: its forwards under a time
// limit, and the cells a failed one rules out.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace slimformer::bench {

struct CellTiming {
  double first_ms = 0;          // the first forward (from nothing: what memory is measured on)
  int warmup_done = 0;
  std::vector<double> run_ms;   // timed forwards
  std::string na_reason;        // "time limit ..." when the first forward alone passed the limit
};

// Runs `first` once, then up to `warmup` untimed and `runs` timed calls of `repeat`. With
// limit_s > 0 a cell starts no forward that its last forward's time says would end past the
// limit, skipping warm-ups before timed runs; it always gets one timed forward unless the first
// alone took longer than the limit (then it is N/A). So a cell takes at most about twice the limit.
// `what` names a call in that N/A reason ("one forward took 70.2 s").
CellTiming time_cell(const std::function<void()>& first, const std::function<void()>& repeat, int runs, int warmup,
                     double limit_s, const std::string& what = "forward");

// Cells ruled out by a failure: a cell needing at least as much (batch and sequence length both
// no smaller) as one that ran out of memory or time is skipped, with a reason naming that cell.
class FailedCells {
 public:
  void add(int64_t batch, int64_t seq, const std::string& reason);
  // "" when the cell should run.
  std::string skip_reason(int64_t batch, int64_t seq) const;

 private:
  struct Failure {
    int64_t batch, seq;
    std::string reason;
  };
  std::vector<Failure> failures_;
};

}  // namespace slimformer::bench
