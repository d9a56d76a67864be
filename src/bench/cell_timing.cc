#include "bench/cell_timing.h"

#include <new>

#include <chrono>
#include <cstdio>

#include "bench/common.h"

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
                     double limit_s, const std::string& what) {
  CellTiming t;
  const double limit_ms = limit_s * 1000.0;
  const auto cell_start = Clock::now();
  auto t0 = Clock::now();
  first();
  t.first_ms = ms_since(t0);
  if (limit_ms > 0 && t.first_ms > limit_ms) {
    t.na_reason = "time limit: one " + what + " took " + seconds(t.first_ms) + " (limit " + seconds(limit_ms) + ")";
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

std::vector<BenchRecord> run_cells(const std::vector<int64_t>& batch_sizes, const std::vector<int64_t>& seq_lens,
                                   size_t max_activation_bytes, const CellMaker& make,
                                   const std::function<void(const BenchRecord&)>& on_record) {
  const LiveLimit limit(max_activation_bytes);
  std::vector<BenchRecord> out;
  FailedCells failed;
  for (int64_t b : batch_sizes) {
    for (int64_t s : seq_lens) {
      reset_process_peak_rss();   // the cell's own high-water mark, not an earlier cell's
      const std::string refused = make.refuse ? make.refuse(b, s) : "";
      const std::string skip = refused.empty() ? failed.skip_reason(b, s) : refused;
      if (!skip.empty()) {
        out.push_back(make.blank(b, s));
        out.back().na_reason = skip;
      } else {
        try {
          out.push_back(make.run(b, s));
        } catch (const std::bad_alloc&) {   // the cell's buffers are freed on the way out
          out.push_back(make.blank(b, s));
          out.back().na_reason = out_of_memory_reason();
        }
        if (!out.back().na_reason.empty()) failed.add(b, s, out.back().na_reason);
      }
      out.back().peak_rss_bytes = process_peak_rss_bytes();
      if (on_record) on_record(out.back());
    }
  }
  return out;
}

}  // namespace slimformer::bench
