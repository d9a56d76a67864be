// Attention pattern figures: the pattern reduced to at most ~1024 cells a side, written as bytes
// beside a gnuplot script that draws them as an image (one rectangle per cell would make a
// 4096-token SVG of millions of elements), in a temporary folder next to the target (DrawingFolder).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

#include "bench/gnuplot.h"
#include "slimformer/error.h"
#include "slimformer/plot.h"

namespace slimformer::plot {

namespace fs = std::filesystem;

PatternImage downsample_pattern(const std::vector<uint8_t>& pattern, int64_t n, int64_t max_cells) {
  if (n < 0 || static_cast<uint64_t>(n) * static_cast<uint64_t>(n) != pattern.size()) {
    throw InputError("attention pattern: expected " + std::to_string(n) + " x " + std::to_string(n) + " entries, got " +
                     std::to_string(pattern.size()));
  }
  if (max_cells < 1) throw InputError("attention pattern: max_cells must be positive");
  PatternImage img;
  img.n = n;
  img.factor = std::max<int64_t>(1, (n + max_cells - 1) / max_cells);
  img.cells = (n + img.factor - 1) / img.factor;
  img.data.assign(static_cast<size_t>(img.cells * img.cells), 0);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* row = pattern.data() + i * n;
    uint8_t* cell_row = img.data.data() + (i / img.factor) * img.cells;
    for (int64_t j = 0; j < n; ++j) {
      if (row[j]) cell_row[j / img.factor] = 1;
    }
  }
  return img;
}

namespace {

std::string extension_of(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// Long specs (a Longformer window list per layer) broken after ',' or '+' or ' ' into lines of
// at most `width` characters where possible, so the title fits the figure.
std::string wrap(const std::string& text, size_t width) {
  std::string out, line;
  size_t last_break = std::string::npos;   // in `line`, just after a break character
  for (char c : text) {
    line += c;
    if (c == ',' || c == '+' || c == ' ') last_break = line.size();
    if (line.size() > width && last_break != std::string::npos && last_break < line.size()) {
      out += line.substr(0, last_break) + "\n";
      line = line.substr(last_break);
      const size_t b = line.find_last_of(",+ ");
      last_break = b == std::string::npos ? b : b + 1;
    }
  }
  return out + line;
}

// The gnuplot script drawing `pattern.u8` (cells x cells bytes) into `out_name`.
std::string pattern_script(const PatternImage& img, const std::string& title, bool svg, const std::string& out_name) {
  // Big enough that a cell of a 1024-cell image is about one pixel, small enough to view.
  const int64_t size = std::clamp<int64_t>(img.cells + 240, 800, 1280);
  std::string full_title = wrap(title, static_cast<size_t>(size / 10));
  if (img.factor > 1) {
    full_title += "\neach pixel: " + std::to_string(img.factor) + " x " + std::to_string(img.factor) +
                  " tokens, dark if any query there attends any key there";
  }
  const std::string n = std::to_string(img.n), m = std::to_string(img.cells), f = std::to_string(img.factor);
  std::string s;
  if (svg) {
    s += "set terminal svg size " + std::to_string(size) + "," + std::to_string(size) + " background rgb 'white'\n";
  } else {
    s += "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) {\n"
         "  set terminal pngcairo size " + std::to_string(size) + "," + std::to_string(size) + "\n"
         "} else {\n"
         "  set terminal png size " + std::to_string(size) + "," + std::to_string(size) + "\n"
         "}\n";
  }
  s += "set output '" + out_name + "'\n";
  // Room above the plot for the title's lines, the key tics and the key label.
  const int64_t title_lines = 1 + std::count(full_title.begin(), full_title.end(), '\n');
  s += "set title " + gnuplot_string(full_title) + " noenhanced offset 0,0.5\n";
  s += "set tmargin " + std::to_string(title_lines + 4) + "\n";
  s += "set size square\nunset key\nunset colorbox\n";
  s += "set palette defined (0 'white', 1 '#1a1a1a')\nset cbrange [0:1]\n";
  // Query rows run down from the top, keys across the top edge, as in the figures of the papers.
  s += "set xrange [-0.5:" + n + "-0.5]\nset yrange [" + n + "-0.5:-0.5]\n";
  s += "set link x2\nunset xtics\nset x2tics out nomirror\nset ytics out nomirror\n";
  s += "set x2label 'key'\nset ylabel 'query'\n";
  if (img.factor == 1 && img.n <= 64) {   // small patterns: cell borders, like the textbook grids
    s += "do for [i=0:" + n + "] {\n"
         "  set arrow from i-0.5, graph 0 to i-0.5, graph 1 nohead lc rgb '#bbbbbb' lw 0.5 front\n"
         "  set arrow from graph 0, first i-0.5 to graph 1, first i-0.5 nohead lc rgb '#bbbbbb' lw 0.5 front\n"
         "}\n";
  }
  s += "plot 'pattern.u8' binary array=(" + m + "," + m + ") format='%uchar' dx=" + f + " dy=" + f +
       " origin=(" + f + "/2.0-0.5," + f + "/2.0-0.5) with image\n";
  return s;
}

}  // namespace

struct PatternPlot::Impl {
  std::string target, gnuplot;
  bool svg = false;
  std::unique_ptr<DrawingFolder> folder;
};

PatternPlot::PatternPlot(const std::string& path) : impl_(std::make_unique<Impl>()) {
  const std::string ext = extension_of(path);
  if (ext != ".png" && ext != ".svg") {
    throw InputError("'" + path + "' must end in .png or .svg (the figure's format)");
  }
  impl_->svg = ext == ".svg";
  impl_->target = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError("cannot write '" + path + "': it is a folder");
  impl_->gnuplot = find_gnuplot();
  if (impl_->gnuplot.empty()) {
    throw IoError("gnuplot not found (install gnuplot-nox, e.g. scripts/install-deps.sh, or set SLIMFORMER_GNUPLOT)");
  }
  impl_->folder = std::make_unique<DrawingFolder>(fs::path(path).parent_path().string(), path);
}

PatternPlot::~PatternPlot() = default;

void PatternPlot::write(const PatternImage& image, const std::string& title) {
  const std::string out_name = impl_->svg ? "plot.svg" : "plot.png";
  const DrawingFolder& folder = *impl_->folder;
  folder.write("pattern.u8", std::string(image.data.begin(), image.data.end()));
  folder.write("plot.gp", pattern_script(image, title, impl_->svg, out_name));
  run_gnuplot(impl_->gnuplot, folder.path(), "plot.gp");
  folder.publish(out_name, impl_->target);
}

}  // namespace slimformer::plot
