// Several models over one grid, one at a time, with a running estimate of the time left.
#include <malloc.h>

#include <chrono>

#include "slimformer/bench.h"

namespace slimformer::bench {
namespace {

// Work units of a cell, for the estimate: tokens times a factor that grows with the length (the
// attention part of a forward grows with it). A cell's seconds divided by its units is its
// model's rate; cells of a model not yet run use the rate of all cells so far.
double units(int64_t batch, int64_t seq) {
  const double tokens = static_cast<double>(batch) * static_cast<double>(seq);
  return tokens * (1.0 + static_cast<double>(seq) / 2048.0);
}

struct Rate {
  double seconds = 0, units = 0;
  bool known() const { return units > 0; }
  double per_unit() const { return seconds / units; }
};

}  // namespace

std::vector<BenchRecord> run_models(const std::vector<BenchModel>& models, const BenchGrid& grid,
                                    const std::function<void(const BenchRecord&, const RunProgress&)>& on_record) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const size_t per_model = grid.batch_sizes.size() * grid.seq_lens.size();
  RunProgress progress;
  progress.cells = models.size() * per_model;
  std::vector<Rate> rates(models.size());
  Rate all;
  std::vector<BenchRecord> out;

  // Seconds the cells after position (model m, cell c) will take, at the rates known now.
  const auto estimate_left = [&](size_t m, size_t c) {
    double left = 0;
    for (size_t mm = m; mm < models.size(); ++mm) {
      const Rate& r = rates[mm].known() ? rates[mm] : all;
      if (!r.known()) return -1.0;
      size_t cell = 0;
      for (int64_t b : grid.batch_sizes) {
        for (int64_t s : grid.seq_lens) {
          if (mm > m || cell > c) left += r.per_unit() * units(b, s) * (1 + grid.warmup + grid.runs);
          ++cell;
        }
      }
    }
    return left;
  };

  for (size_t m = 0; m < models.size(); ++m) {
    const BenchModel& model = models[m];
    auto cell_start = Clock::now();
    size_t cell = 0;
    const auto on_cell = [&](const BenchRecord& record) {
      BenchRecord r = record;
      r.config = model.spec.text;
      const double took = seconds_since(cell_start);
      if (r.na_reason.empty()) {   // N/A cells say nothing about the rate
        const double u = units(r.batch, r.seq) * (1 + r.warmup + r.runs);
        rates[m].seconds += took;
        rates[m].units += u;
        all.seconds += took;
        all.units += u;
      }
      progress.cell += 1;
      progress.elapsed_s = seconds_since(start);
      progress.left_s = estimate_left(m, cell);
      out.push_back(r);
      if (on_record) on_record(out.back(), progress);
      ++cell;
      cell_start = Clock::now();
    };
    if (grid.training) {
      // The trainer copies the weights and trims the heap itself; the copy counts in the first
      // cell's rate, a small part of a training cell.
      run_training_grid(load_checkpoint(model, grid.seed), model.spec.label, grid, on_cell);
      continue;
    }
    const Encoder encoder(load_checkpoint(model, grid.seed), model.attention);
    // The previous model and this one's drawn checkpoint (freed once packed) went back to the
    // heap; hand its free pages back to the system too, so they do not count in this model's
    // peak RSS.
    malloc_trim(0);
    cell_start = Clock::now();   // loading is in the elapsed time, not in a cell's rate
    run_grid(encoder, model.spec.label, grid, on_cell);
  }
  return out;
}

}  // namespace slimformer::bench
