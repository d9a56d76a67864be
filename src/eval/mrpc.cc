// MRPC reader: GLUE's train.tsv/dev.tsv and the corpus's msr_paraphrase_{train,test}.txt, which
// share one header and one row layout (label, id1, id2, sentence1, sentence2).
#include <iterator>
#include <string_view>

#include "eval/tsv_file.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimformer {
namespace {

using eval::fail_at;
using eval::quoted;
using eval::TsvRow;

constexpr const char* kExpected = "an MRPC file (GLUE's MRPC train.tsv/dev.tsv or msr_paraphrase_*.txt)";
constexpr std::string_view kHeader[] = {"Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"};
constexpr size_t kColumns = std::size(kHeader);
constexpr const char* kHeaderText = "the MRPC header Quality, #1 ID, #2 ID, #1 String, #2 String (tab-separated)";

void check_header(const TsvRow& h, const std::string& path) {
  const auto& f = h.fields;
  if (f[0] == "index") {
    fail_at(path, h.line, "GLUE's unlabelled MRPC test.tsv (its header starts with 'index')",
            "a labelled MRPC file: msr_paraphrase_test.txt holds the labelled test pairs");
  }
  for (size_t i = 0; i < kColumns && i < f.size(); ++i) {
    if (f[i] != kHeader[i]) fail_at(path, h.line, "header field " + std::to_string(i + 1) + " " + quoted(f[i]), kHeaderText);
  }
  if (f.size() != kColumns) {
    fail_at(path, h.line, "a header of " + std::to_string(f.size()) + " tab-separated fields", kHeaderText);
  }
}

// Exactly 5 fields: a sixth would mean a tab inside a sentence, which would silently cut it.
LabelledPair labelled_pair(const TsvRow& r, const std::string& path) {
  const auto& f = r.fields;
  if (f.size() != kColumns) {
    fail_at(path, r.line, eval::field_count(f.size()), "5 (Quality, #1 ID, #2 ID, #1 String, #2 String)");
  }
  if (f[0] != "0" && f[0] != "1") fail_at(path, r.line, "label " + quoted(f[0]), "0 or 1");
  return LabelledPair{f[1], f[2], f[0] == "1" ? 1 : 0, f[3], f[4]};
}

}  // namespace

std::vector<LabelledPair> read_mrpc(const std::string& path) {
  const eval::TsvFile table = eval::read_tsv_file(path, kExpected);
  const auto& rows = table.rows;
  check_header(rows[0], path);
  if (rows.size() == 1) eval::fail_file(path, "a header and no rows", "an MRPC file with at least one labelled pair");
  std::vector<LabelledPair> pairs;
  pairs.reserve(rows.size() - 1);
  for (size_t i = 1; i < rows.size(); ++i) pairs.push_back(labelled_pair(rows[i], path));
  return pairs;
}

}  // namespace slimformer
