#include "bench/cell_timing.h"

#include <chrono>
#include <cstdio>

namespace slimformer::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
  return buf;
}

}  // namespace

CellTiming time_cell(const std::function<void()>& first, const std::function<void()>& repeat, int runs, int warmup,
                     double limit_s) {
  CellTiming t;
  const double limit_ms = limit_s * 1000.0;
  const auto cell_start = Clock::now();
  auto t0 = Clock::now();
  first();
  t.first_ms = ms_since(t0);
  if (limit_ms > 0 && t.first_ms > limit_ms) {
    t.na_reason = "time limit: one forward took " + seconds(t.first_ms) + " (limit " + seconds(limit_ms) + ")";
    return t;
  }
  double last_ms = t.first_ms;
  // Would one more forward of `last_ms`, plus `after` more of them, end past the limit?
  const auto would_pass = [&](int after) { return limit_ms > 0 && ms_since(cell_start) + (1 + after) * last_ms > limit_ms; };
  for (int i = 0; i < warmup && !would_pass(1); ++i) {
    t0 = Clock::now();
    repeat();
    last_ms = ms_since(t0);
    ++t.warmup_done;
  }
  for (int i = 0; i < runs && (i == 0 || !would_pass(0)); ++i) {
    t0 = Clock::now();
    repeat();
    last_ms = ms_since(t0);
    t.run_ms.push_back(last_ms);
  }
  return t;
}

void FailedCells::add(int64_t batch, int64_t seq, const std::string& reason) {
  failures_.push_back({batch, seq, reason});
}

std::string FailedCells::skip_reason(int64_t batch, int64_t seq) const {
  for (const Failure& f : failures_) {
    if (batch >= f.batch && seq >= f.seq) {
      const bool memory = f.reason.rfind("out of memory", 0) == 0;
      return "skipped: batch " + std::to_string(f.batch) + " x " + std::to_string(f.seq) + " tokens already " +
             (memory ? "ran out of memory" : "passed the time limit");
    }
  }
  return "";
}

}  // namespace slimformer::bench
