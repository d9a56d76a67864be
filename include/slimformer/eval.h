// Evaluation: correlation metrics and the STS Benchmark reader.
#pragma once
#include <string>
#include <vector>

#include "slimformer/tensor.h"

namespace slimformer {

// Pearson's r. InputError if the lengths differ, there are fewer than 2 values, or one side is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's r of the ranks, ties given their average rank (as scipy does).
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks; tied values share the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& x);

// Row-wise cosine similarity of two (N, H) F32 tensors (0 where a row is all zeros).
std::vector<double> row_cosines(const Tensor& a, const Tensor& b);

struct StsPair {
  std::string genre, filename, year, id;
  double score = 0.0;   // gold similarity in [0, 5]
  std::string sentence1, sentence2;
};

// An STS Benchmark file (sts-train/dev/test.csv): tab-separated, no header, the first 7 fields
// genre, filename, year, id, score, sentence1, sentence2; any later fields are ignored. Not
// quoted CSV: quotes are text. IoError if unreadable; FormatError naming the line for a row with
// fewer than 7 fields or a score that is not a number.
std::vector<StsPair> read_sts_benchmark(const std::string& path);

}  // namespace slimformer
