// Figures drawn with gnuplot: an attention mechanism's pattern (which query attends which key),
// as the textbook figures of full, sliding, dilated, global, random and block-sparse attention.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slimformer::plot {

// An (n, n) pattern reduced to at most max_cells cells a side for drawing: cell (i, j) covers
// queries [i * factor, (i + 1) * factor) and keys [j * factor, (j + 1) * factor), and is 1 when
// any query there attends any key there. factor is 1 (the pattern itself) when n <= max_cells.
struct PatternImage {
  int64_t n = 0;                 // tokens a side
  int64_t factor = 1;            // tokens a cell side covers
  int64_t cells = 0;             // cells a side, ceil(n / factor)
  std::vector<uint8_t> data;     // (cells, cells) row-major: row = query, column = key
};
PatternImage downsample_pattern(const std::vector<uint8_t>& pattern, int64_t n, int64_t max_cells = 1024);

// The gnuplot executable: $SLIMFORMER_GNUPLOT when set (a name looked up on PATH, or a path),
// else `gnuplot` on PATH. "" when it is not found.
std::string find_gnuplot();

// A pattern figure to be written to `path` (.png or .svg, any case). The constructor does every
// check that needs no pattern, so a bad path fails before the work: InputError for another
// extension; IoError when gnuplot is missing or the folder is not writable (a temporary folder is
// made beside the target). write() runs gnuplot and renames the figure into place: the file
// appears complete or not at all (IoError with gnuplot's first error line when it fails).
class PatternPlot {
 public:
  explicit PatternPlot(const std::string& path);
  ~PatternPlot();
  PatternPlot(const PatternPlot&) = delete;
  PatternPlot& operator=(const PatternPlot&) = delete;

  // A square image, query on the y axis from the top, key on the x axis, attended cells dark;
  // `title` on top, with a line saying how many tokens a pixel covers when image.factor > 1.
  void write(const PatternImage& image, const std::string& title);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slimformer::plot
