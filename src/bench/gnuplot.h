// Running gnuplot: one script in a working folder, its output files beside it; and that working
// folder, made beside the figures' targets so that each figure is renamed into place whole.
#pragma once
#include <string>

#include "io/signal_cleanup.h"

namespace slimformer::plot {

// Runs `gnuplot script` (script relative to dir) with `dir` as the working folder, so the script
// names its files without paths (no quoting of user paths). stdout is discarded. IoError with the
// first line gnuplot wrote on stderr when it exits non-zero, or when it cannot be started.
void run_gnuplot(const std::string& gnuplot, const std::string& dir, const std::string& script);

// A temporary folder for gnuplot to draw in, made beside the figures' targets (in `parent`) so that
// moving a figure into place is a rename on one file system: a target appears complete or not at
// all. Removed, with whatever is left in it, on destruction or when a signal kills the process.
class DrawingFolder {
 public:
  // IoError naming `target` (what is being written) when the folder cannot be made.
  DrawingFolder(const std::string& parent, const std::string& target);
  ~DrawingFolder();
  DrawingFolder(const DrawingFolder&) = delete;
  DrawingFolder& operator=(const DrawingFolder&) = delete;

  const std::string& path() const { return path_; }
  // Writes `bytes` to the file `name` in the folder (a script, data). IoError when it cannot.
  void write(const std::string& name, const std::string& bytes) const;
  // Syncs the figure `name` that gnuplot drew here and renames it onto `target` (a device or FIFO
  // target gets its bytes written in place). IoError naming the target when gnuplot wrote nothing
  // there, or a figure cut short (no PNG end chunk, no </svg>), or the rename fails.
  void publish(const std::string& name, const std::string& target) const;

 private:
  std::string path_;
  io::CleanupGuard guard_;
};

// The first line `program arg` writes on stdout ("" when it cannot be started). The child starts
// with default signal actions and is killed with this process (io/signal_cleanup.h).
std::string first_output_line(const std::string& program, const std::string& arg);

// `text` as a gnuplot double-quoted string literal (backslash, quote and newline escaped).
std::string gnuplot_string(const std::string& text);

}  // namespace slimformer::plot
