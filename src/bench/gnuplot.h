// Running gnuplot: one script in a working folder, its output files beside it.
#pragma once
#include <string>

namespace slimformer::plot {

// Runs `gnuplot script` (script relative to dir) with `dir` as the working folder, so the script
// names its files without paths (no quoting of user paths). stdout is discarded. IoError with the
// first line gnuplot wrote on stderr when it exits non-zero, or when it cannot be started.
void run_gnuplot(const std::string& gnuplot, const std::string& dir, const std::string& script);

// `text` as a gnuplot double-quoted string literal (backslash, quote and newline escaped).
std::string gnuplot_string(const std::string& text);

}  // namespace slimformer::plot
