// Tables as text: aligned columns for a terminal, Markdown for a report, and CSV quoting. One copy
// for every writer (bench records, bench compare, eval).
#pragma once
#include <string>
#include <vector>

namespace slimformer {

// rows[0] is the header. Columns are two spaces apart, each as wide as its widest cell; a column
// with right_aligned[i] set (numbers, so their digits line up) is padded on the left, the others
// on the right. Trailing spaces are dropped; every line ends in '\n'. Rows shorter than the
// header are padded with empty cells.
std::string aligned_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_aligned);

// The same rows as a GitHub Markdown table ('|' in a cell escaped), numbers right-aligned.
std::string markdown_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_aligned);

// A CSV field: as is, or in double quotes (inner quotes doubled) when it holds , " CR or LF.
std::string csv_quote(const std::string& s);

}  // namespace slimformer
