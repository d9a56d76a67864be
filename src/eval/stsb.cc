// STS-B readers: the STS Benchmark's headerless sts-*.csv files and GLUE's *.tsv copies, which
// carry a header and are read by column name.
#include <charconv>
#include <cmath>
#include <utility>

#include "eval/tsv_file.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimformer {
namespace {

using eval::fail_at;
using eval::field_count;
using eval::fail_file;
using eval::quoted;
using eval::TsvRow;

constexpr const char* kExpected = "an STS-B file (the STS Benchmark's sts-*.csv or GLUE's STS-B *.tsv)";
constexpr const char* kScoreRange = "a number from 0 to 5";

// from_chars, not strtod: it ignores the locale and takes no hex, leading spaces or '+'.
double parse_score(const std::string& s, const std::string& path, int64_t line) {
  double v = 0.0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end) fail_at(path, line, "score " + quoted(s), kScoreRange);
  if (!std::isfinite(v)) fail_at(path, line, "score " + quoted(s) + " (not finite)", kScoreRange);
  if (v < 0.0 || v > 5.0) fail_at(path, line, "score " + quoted(s) + " (out of range)", kScoreRange);
  return v + 0.0;   // "-0" reads as -0.0; give the plain zero
}

// ---- the STS Benchmark: genre filename year id score sentence1 sentence2 [credits...] ----

StsPair benchmark_pair(const TsvRow& r, const std::string& path) {
  const auto& f = r.fields;
  if (f.size() < 7) {
    fail_at(path, r.line, field_count(f.size()),
            "at least 7 (genre, filename, year, id, score, sentence1, sentence2)");
  }
  return StsPair{f[0], f[1], f[2], f[3], parse_score(f[4], path, r.line), f[5], f[6]};
}

// ---- GLUE: a header naming the columns ----

constexpr const char* kGlueColumns =
    "GLUE's STS-B columns (index genre filename year old_index source1 source2 sentence1 sentence2 score)";

// Where each column the reader uses sits; -1 for a metadata column the header lacks (left empty).
struct GlueColumns {
  size_t count = 0;
  int genre = -1, filename = -1, year = -1, old_index = -1;
  int sentence1 = -1, sentence2 = -1, score = -1;
};

// GLUE's header starts with "index"; a sentence1 column anywhere also marks a header (a file whose
// columns were reordered or cut down), since no STS Benchmark row has that text as a field.
bool is_glue_header(const TsvRow& first) {
  if (first.fields[0] == "index") return true;
  for (const auto& f : first.fields) {
    if (f == "sentence1") return true;
  }
  return false;
}

GlueColumns glue_columns(const TsvRow& header, const std::string& path) {
  GlueColumns c;
  c.count = header.fields.size();
  const std::pair<const char*, int*> wanted[] = {
      {"genre", &c.genre}, {"filename", &c.filename}, {"year", &c.year}, {"old_index", &c.old_index},
      {"sentence1", &c.sentence1}, {"sentence2", &c.sentence2}, {"score", &c.score}};
  for (size_t i = 0; i < header.fields.size(); ++i) {
    for (const auto& [name, slot] : wanted) {
      if (header.fields[i] != name) continue;
      if (*slot >= 0) fail_at(path, header.line, "a second " + quoted(name) + " column", kGlueColumns);
      *slot = static_cast<int>(i);
    }
  }
  if (c.score < 0) {
    fail_at(path, header.line, "a header without a 'score' column (GLUE's unscored test.tsv?)",
            "a scored STS-B file: the scored test split is stsbenchmark/sts-test.csv");
  }
  if (c.sentence1 < 0 || c.sentence2 < 0) {
    fail_at(path, header.line,
            std::string("a header without a ") + (c.sentence1 < 0 ? "'sentence1'" : "'sentence2'") + " column",
            kGlueColumns);
  }
  return c;
}

StsPair glue_pair(const TsvRow& r, const GlueColumns& c, int64_t header_line, const std::string& path) {
  const auto& f = r.fields;
  if (f.size() != c.count) {
    fail_at(path, r.line, field_count(f.size()),
            std::to_string(c.count) + " as in the header on line " + std::to_string(header_line));
  }
  const auto get = [&](int i) { return i < 0 ? std::string() : f[static_cast<size_t>(i)]; };
  return StsPair{get(c.genre),     get(c.filename),  get(c.year),     get(c.old_index),
                 parse_score(f[static_cast<size_t>(c.score)], path, r.line),
                 get(c.sentence1), get(c.sentence2)};
}

}  // namespace

std::vector<StsPair> read_sts(const std::string& path) {
  const eval::TsvFile table = eval::read_tsv_file(path, kExpected);
  const auto& rows = table.rows;
  std::vector<StsPair> pairs;
  if (!is_glue_header(rows[0])) {
    pairs.reserve(rows.size());
    for (const auto& r : rows) pairs.push_back(benchmark_pair(r, path));
    return pairs;
  }
  const GlueColumns columns = glue_columns(rows[0], path);
  if (rows.size() == 1) fail_file(path, "a header and no rows", "an STS-B file with at least one scored pair");
  pairs.reserve(rows.size() - 1);
  for (size_t i = 1; i < rows.size(); ++i) pairs.push_back(glue_pair(rows[i], columns, rows[0].line, path));
  return pairs;
}

}  // namespace slimformer
