// Benchmark plots: time and peak activation memory against sequence length, one line per (model,
// batch size). The numbers go to a data file (one index block per line) beside one gnuplot script
// in a temporary folder; names reach the script only as quoted string literals. When no cell was
// measured the plots are still drawn, empty, with a note under the title, so that a run whose
// every cell was N/A still leaves its figures (and a caller's later steps) in place.
#include <algorithm>
#include <charconv>
#include <filesystem>

#include "bench/gnuplot.h"
#include "slimformer/bench.h"
#include "slimformer/error.h"
#include "slimformer/plot.h"

namespace slimformer::bench {
namespace {

namespace fs = std::filesystem;
using plot::gnuplot_string;

// The measured cells of one (model, batch size), in increasing sequence length.
struct Series {
  std::string model;
  int64_t batch = 0;
  std::vector<const BenchRecord*> cells;
};

// Every (model, batch size) in the order it first appears; N/A cells left out, so a series may be
// empty.
std::vector<Series> series_of(const std::vector<BenchRecord>& records) {
  std::vector<Series> out;
  for (const BenchRecord& r : records) {
    auto it = std::find_if(out.begin(), out.end(), [&](const Series& s) { return s.model == r.model && s.batch == r.batch; });
    if (it == out.end()) it = out.insert(out.end(), Series{r.model, r.batch, {}});
    if (r.na_reason.empty()) it->cells.push_back(&r);
  }
  for (Series& s : out) {
    std::stable_sort(s.cells.begin(), s.cells.end(), [](const BenchRecord* a, const BenchRecord* b) { return a->seq < b->seq; });
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const Series& s) { return s.cells.empty(); }), out.end());
  return out;
}

std::string number(double v) {   // shortest text that reads back as v
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// Columns: sequence length, median time (s), peak activation memory (MB); blocks for gnuplot's
// `index` are separated by two blank lines.
std::string data_file(const std::vector<Series>& series) {
  std::string out;
  for (const Series& s : series) {
    for (const BenchRecord* r : s.cells) {
      out += std::to_string(r->seq) + " " + number(r->median_ms / 1000.0) + " " +
             number(static_cast<double>(r->peak_activation_bytes) / (1024.0 * 1024.0)) + "\n";
    }
    out += "\n\n";
  }
  return out;
}

struct Figure {
  const char* name;     // file name without extension
  const char* ylabel;
  int column;           // of the data file
};
const Figure kFigures[] = {{"speed", "time (s)", 2}, {"memory", "peak activation memory (MB)", 3}};
constexpr int kWidth = 900, kHeight = 600;

std::string terminal(bool svg) {
  const std::string size = std::to_string(kWidth) + "," + std::to_string(kHeight);
  if (svg) return "set terminal svg size " + size + " background rgb 'white'\n";
  // pngcairo draws smoother lines; plain png (libgd) where gnuplot was built without cairo.
  return "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) {\n"
         "  set terminal pngcairo size " + size + "\n"
         "} else {\n"
         "  set terminal png size " + size + "\n"
         "}\n";
}

std::string figure_script(const Figure& f, const std::vector<Series>& series, const std::string& title, bool svg) {
  std::string s = terminal(svg);
  s += "set termoption noenhanced\n";   // names and titles as written: no _ subscripts
  s += "set output '" + std::string(f.name) + (svg ? ".svg" : ".png") + "'\n";
  s += "set title " + gnuplot_string(series.empty() ? title + "\n(no cell was measured)" : title) + "\n";
  s += "set xlabel 'sequence length (tokens)'\nset ylabel '" + std::string(f.ylabel) + "'\n";
  s += "set grid\nset key top left Left reverse box opaque\nset xrange [0:*]\nset yrange [0:*]\n";
  if (series.empty()) return s + "unset key\nplot [0:1] [0:1] 1/0 notitle\n";   // axes only: gnuplot needs a plot
  s += "plot ";
  for (size_t i = 0; i < series.size(); ++i) {
    if (i > 0) s += ", \\\n     ";
    s += "'data.txt' index " + std::to_string(i) + " using 1:" + std::to_string(f.column) +
         " with linespoints pointtype 7 title " + gnuplot_string(series[i].model + ", batch " + std::to_string(series[i].batch));
  }
  return s + "\n";
}

}  // namespace

std::vector<std::string> write_plots(const std::vector<BenchRecord>& records, const std::string& dir,
                                     const std::string& title) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError("cannot write plots into '" + dir + "': not an existing folder");
  const std::string gnuplot = plot::find_gnuplot();
  if (gnuplot.empty()) {
    throw IoError("gnuplot not found (install gnuplot-nox, e.g. scripts/install-deps.sh, or set SLIMFORMER_GNUPLOT)");
  }
  const std::vector<Series> series = series_of(records);
  plot::DrawingFolder folder(dir, (fs::path(dir) / "speed.png").string());
  folder.write("data.txt", data_file(series));
  std::string script;
  for (const Figure& f : kFigures) {
    for (bool svg : {false, true}) script += figure_script(f, series, title, svg) + "unset output\n";
  }
  folder.write("plots.gp", script);
  plot::run_gnuplot(gnuplot, folder.path(), "plots.gp");
  std::vector<std::string> paths;
  for (const Figure& f : kFigures) {
    for (const char* ext : {".png", ".svg"}) {
      paths.push_back((fs::path(dir) / (std::string(f.name) + ext)).string());
      folder.publish(std::string(f.name) + ext, paths.back());
    }
  }
  return paths;
}

}  // namespace slimformer::bench
