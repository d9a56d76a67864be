#include "core/text_table.h"

#include <algorithm>

namespace slimformer {
namespace {

std::string cell(const std::vector<std::string>& row, size_t i) { return i < row.size() ? row[i] : std::string(); }

bool right(const std::vector<bool>& right_aligned, size_t i) { return i < right_aligned.size() && right_aligned[i]; }

}  // namespace

std::string aligned_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_aligned) {
  if (rows.empty()) return "";
  const size_t cols = rows[0].size();
  std::vector<size_t> width(cols, 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < cols; ++i) width[i] = std::max(width[i], cell(row, i).size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < cols; ++i) {
      const std::string text = cell(row, i), pad(width[i] - text.size(), ' ');
      if (i > 0) line += "  ";
      line += right(right_aligned, i) ? pad + text : text + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string markdown_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_aligned) {
  if (rows.empty()) return "";
  const size_t cols = rows[0].size();
  const auto line = [&](const std::vector<std::string>& row) {
    std::string text = "|";
    for (size_t i = 0; i < cols; ++i) {
      std::string c;
      for (char ch : cell(row, i)) c += ch == '|' ? std::string("\\|") : std::string(1, ch);
      text += " " + c + " |";
    }
    return text + "\n";
  };
  std::string out = line(rows[0]) + "|";
  for (size_t i = 0; i < cols; ++i) out += right(right_aligned, i) ? " ---: |" : " --- |";
  out += "\n";
  for (size_t r = 1; r < rows.size(); ++r) out += line(rows[r]);
  return out;
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

}  // namespace slimformer
