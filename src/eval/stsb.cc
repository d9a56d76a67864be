// STS Benchmark reader: tab-separated fields, never quoted CSV (sentences hold unbalanced quotes).
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimformer {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> f;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    f.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return f;
    start = tab + 1;
  }
}

double parse_score(const std::string& s, const std::string& where) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0) {
    throw FormatError(where + ": score '" + s + "' is not a number");
  }
  return v;
}

}  // namespace

std::vector<StsPair> read_sts_benchmark(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open STS Benchmark file '" + path + "'");
  std::vector<StsPair> out;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = "'" + path + "' line " + std::to_string(lineno);
    const std::vector<std::string> f = split_tabs(line);
    if (f.size() < 7) {
      throw FormatError(where + ": expected at least 7 tab-separated fields, got " + std::to_string(f.size()));
    }
    StsPair p{f[0], f[1], f[2], f[3], parse_score(f[4], where), f[5], f[6]};
    out.push_back(std::move(p));
  }
  if (in.bad()) throw IoError("error reading '" + path + "'");
  return out;
}

}  // namespace slimformer
