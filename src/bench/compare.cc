// `bench compare`: two record files side by side, cell by cell. A cell is (model, attention,
// batch, seq); a cell listed twice in one file counts by its first record (later ones are
// ignored), so a file that appends a rerun does not double a cell.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "core/text_table.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"

namespace slimformer::bench {
namespace {

using CellKey = std::tuple<std::string, std::string, int64_t, int64_t>;

CellKey key_of(const BenchRecord& r) { return {r.model, r.attention, r.batch, r.seq}; }

// The first record of each cell, in order.
std::vector<const BenchRecord*> first_of_each(const std::vector<BenchRecord>& records,
                                              std::map<CellKey, const BenchRecord*>& by_key) {
  std::vector<const BenchRecord*> out;
  for (const BenchRecord& r : records) {
    if (by_key.emplace(key_of(r), &r).second) out.push_back(&r);
  }
  return out;
}

std::string fixed(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

double mib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// after / before when both are positive (a ratio with a zero is no ratio); NAN otherwise.
double ratio(double before, double after) { return before > 0 && after > 0 ? after / before : NAN; }

std::string ratio_text(double r) { return std::isnan(r) ? "-" : fixed("%.2fx", r); }

// Geometric means of the ratios measured so far.
struct RatioMean {
  double log_sum = 0;
  size_t count = 0;
  void add(double r) {
    if (std::isnan(r)) return;
    log_sum += std::log(r);
    ++count;
  }
  double value() const { return std::exp(log_sum / static_cast<double>(count)); }
};

struct Row {
  std::vector<std::string> cells;   // one per column of kHeaders
  std::string note;
};

const std::vector<std::string> kHeaders = {"model",     "attention",  "batch",     "seq",    "before ms",
                                           "after ms", "time",       "before MiB", "after MiB", "memory"};
// Columns 0 and 1 (and the note) are text, left-aligned; the rest are numbers, right-aligned.
constexpr size_t kTextColumns = 2;

// One side's median time and peak memory: numbers, "N/A", or "-" for a side without the cell.
void side_cells(const BenchRecord* r, std::string& ms, std::string& peak) {
  if (!r) {
    ms = peak = "-";
  } else if (!r->na_reason.empty()) {
    ms = peak = "N/A";
  } else {
    ms = fixed("%.2f", r->median_ms);
    peak = fixed("%.1f", mib(r->peak_activation_bytes));
  }
}

Row make_row(const BenchRecord* before, const BenchRecord* after, RatioMean& time, RatioMean& memory, size_t& both) {
  const BenchRecord& any = before ? *before : *after;
  Row row;
  row.cells = {any.model, any.attention, std::to_string(any.batch), std::to_string(any.seq), "", "", "-", "", "", "-"};
  side_cells(before, row.cells[4], row.cells[7]);
  side_cells(after, row.cells[5], row.cells[8]);
  if (!before || !after) {
    row.note = before ? "only before" : "only after";
  } else if (!before->na_reason.empty() || !after->na_reason.empty()) {
    if (!before->na_reason.empty()) row.note = "before N/A: " + before->na_reason;
    if (!after->na_reason.empty()) row.note += (row.note.empty() ? "" : "; ") + std::string("after N/A: ") + after->na_reason;
  } else {
    const double t = ratio(before->median_ms, after->median_ms);
    const double m = ratio(static_cast<double>(before->peak_activation_bytes), static_cast<double>(after->peak_activation_bytes));
    row.cells[6] = ratio_text(t);
    row.cells[9] = ratio_text(m);
    time.add(t);
    memory.add(m);
    ++both;
  }
  return row;
}

std::string aligned(const std::vector<Row>& rows) {
  bool any_note = false;
  for (const Row& row : rows) any_note = any_note || !row.note.empty();
  std::vector<std::vector<std::string>> table = {kHeaders};
  if (any_note) table[0].push_back("note");
  for (const Row& row : rows) {
    table.push_back(row.cells);
    if (any_note) table.back().push_back(row.note);
  }
  std::vector<bool> right(table[0].size(), true);
  for (size_t i = 0; i < right.size(); ++i) right[i] = i >= kTextColumns && i < kHeaders.size();
  return aligned_table(table, right);
}

// The closing line: the geometric means over the cells measured on both sides.
std::string summary(const RatioMean& time, const RatioMean& memory, size_t both) {
  if (both == 0) return "no cell was measured on both sides: no ratio to average\n";
  const auto mean_text = [&](const char* name, const RatioMean& m) {
    std::string text = std::string(name) + " " + (m.count ? fixed("%.2fx", m.value()) : std::string("-"));
    // A zero time or peak has no ratio; say how many cells the mean is over when that happened.
    if (m.count != both) text += " (over " + std::to_string(m.count) + " cells, the others having a zero)";
    return text;
  };
  return "geometric mean of after/before over " + std::to_string(both) + (both == 1 ? " cell" : " cells") +
         " measured on both sides: " + mean_text("time", time) + ", " + mean_text("memory", memory) + "\n";
}

}  // namespace

std::string format_comparison(const std::vector<BenchRecord>& before, const std::vector<BenchRecord>& after) {
  // A training step and a forward pass are different measurements: comparing one file of each
  // would pair cells that only share their shape. (Plain and checkpointed training steps compare.)
  const auto kinds = [](const std::vector<BenchRecord>& records) {
    std::set<std::string> k;
    for (const BenchRecord& r : records) k.insert(r.mode.rfind("training", 0) == 0 ? "training steps" : "forward passes");
    return k;
  };
  const std::set<std::string> kb = kinds(before), ka = kinds(after);
  if (kb.size() == 1 && ka.size() == 1 && kb != ka) {
    throw InputError("bench compare: the first file holds " + *kb.begin() + " and the second " + *ka.begin() +
                     " (bench --training); compare records of one kind");
  }
  std::map<CellKey, const BenchRecord*> before_by_key, after_by_key;
  const std::vector<const BenchRecord*> before_cells = first_of_each(before, before_by_key);
  const std::vector<const BenchRecord*> after_cells = first_of_each(after, after_by_key);
  std::vector<Row> rows;
  RatioMean time, memory;
  size_t both = 0;
  for (const BenchRecord* b : before_cells) {
    const auto it = after_by_key.find(key_of(*b));
    rows.push_back(make_row(b, it == after_by_key.end() ? nullptr : it->second, time, memory, both));
  }
  for (const BenchRecord* a : after_cells) {
    if (!before_by_key.count(key_of(*a))) rows.push_back(make_row(nullptr, a, time, memory, both));
  }
  return aligned(rows) + summary(time, memory, both);
}

}  // namespace slimformer::bench
