// Evaluation: the data sets (STS-B in its two layouts, MRPC), the metrics (correlations,
// threshold classification) and the comparison table that shows what shrinking a model cost.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "slimformer/attention.h"
#include "slimformer/tensor.h"

namespace slimformer {

// ---- metrics ----------------------------------------------------------------------------------

// Pearson's r. InputError if the lengths differ, there are fewer than 2 values, or one side is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's r of the ranks, ties given their average rank (as scipy does).
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks; tied values share the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& x);

// Row-wise cosine similarity of two (N, H) F32 tensors (0 where a row is all zeros).
std::vector<double> row_cosines(const Tensor& a, const Tensor& b);
// The angular similarity 1 - arccos(cos)/pi, in [0, 1] (cos is clamped to [-1, 1] first).
double angular_similarity(double cosine);

// Binary classification scores with label 1 as the positive class (GLUE's F1 for MRPC).
struct BinaryScores {
  int64_t true_pos = 0, false_pos = 0, true_neg = 0, false_neg = 0;
  double accuracy = 0.0;
  double precision = 0.0;   // 0 when nothing was predicted positive
  double recall = 0.0;      // 0 when nothing is positive
  double f1 = 0.0;          // 0 when precision + recall is 0
};
// InputError if the lengths differ, the series are empty, or a value is not 0 or 1.
BinaryScores binary_scores(const std::vector<int>& predicted, const std::vector<int>& gold);

// The threshold t that maximises the accuracy of "score >= t means 1" on (scores, gold): every
// distinct cut is tried (midpoints between consecutive distinct scores, and one below all
// scores); among equally accurate cuts the lowest wins. InputError as binary_scores.
struct ThresholdChoice {
  double threshold = 0.0;
  double accuracy = 0.0;    // on the data the threshold was chosen on
};
ThresholdChoice choose_threshold(const std::vector<double>& scores, const std::vector<int>& gold);
// 1 where score >= threshold, else 0.
std::vector<int> apply_threshold(const std::vector<double>& scores, double threshold);

// ---- data -------------------------------------------------------------------------------------
//
// Every reader takes a UTF-8 text file, tab-separated, never quoted CSV (sentences hold unbalanced
// quotes). Accepted as users have them: a UTF-8 byte-order mark at the start (GLUE ships MRPC with
// one) and CRLF line ends (Windows tools). Refused with a FormatError naming the file, the line
// and what was expected: an empty file (or a header alone), a UTF-16/UTF-32 byte-order mark, a
// byte-order mark past the start (files joined together), a carriage return inside a line,
// invalid UTF-8, a NUL byte, a row with too few fields, and the task's own checks below. IoError
// when the file cannot be read. Blank lines are skipped.

struct StsPair {
  std::string genre, filename, year, id;
  double score = 0.0;   // gold similarity in [0, 5]
  std::string sentence1, sentence2;
};

// An STS-B file in either layout, told apart by the first line:
// - the STS Benchmark (sts-train/dev/test.csv): no header, the first 7 fields genre, filename,
//   year, id, score, sentence1, sentence2; later fields (StackExchange credits) are ignored;
// - GLUE's STS-B/{train,dev}.tsv: a header naming the columns (index genre filename year
//   old_index source1 source2 sentence1 sentence2 score), read by name (sentence1, sentence2 and
//   score required, in any order; `id` is old_index); every row has as many fields as the header,
//   since a tab inside a sentence would otherwise cut it silently. A GLUE file without a score
//   column (its test.tsv) is refused, saying that the scored test split is sts-test.csv.
// Scores must be finite numbers in [0, 5], written as plain decimals (no locale, hex or spaces).
std::vector<StsPair> read_sts(const std::string& path);

struct LabelledPair {
  std::string id1, id2;
  int label = 0;        // 1: paraphrase
  std::string sentence1, sentence2;
};

// A GLUE MRPC file (train.tsv, dev.tsv, or the msr_paraphrase_*.txt files): the header
// "Quality #1 ID #2 ID #1 String #2 String", then rows of exactly those 5 fields: label, id1, id2,
// sentence1, sentence2 (a sixth means a tab inside a sentence). The label must be "0" or "1". GLUE's unlabelled test.tsv (header "index ...") is refused, saying
// that msr_paraphrase_test.txt holds the labelled test pairs.
std::vector<LabelledPair> read_mrpc(const std::string& path);

// ---- evaluating models: the comparison table ---------------------------------------------------

enum class EvalTask { Stsb, Mrpc };
const char* eval_task_name(EvalTask task);   // "stsb", "mrpc"

struct EvalOptions {
  int64_t batch_size = 32;
  int64_t max_length = 0;      // 0: the model's limit
  AttentionSpec attention;     // empty: the model's own mechanism
  // Called after each batch with the inputs encoded so far for this model (the --train pairs
  // first, then the evaluated ones) and their total.
  std::function<void(int64_t done, int64_t total)> progress;
};

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One model's row of the table. Quality fields that do not apply to how the model was scored
// are NaN (angular scores for a head, a threshold for a classifier head).
struct EvalRow {
  std::string label, model_dir;
  std::string scored_by;       // "cosine", "classifier head" (MRPC) or "regression head" (STS-B)
  int64_t parameters = 0;      // what the model computes with, head included
  size_t file_bytes = 0;       // the weight files' real size on disk
  // Bytes per stored dtype over every tensor of the weight files ("F32", "F16", "I8", ...),
  // largest first: what the files hold, whatever later formats they use.
  std::vector<std::pair<std::string, size_t>> dtype_bytes;
  // STS-B: correlations of the similarity (cosine, and 1 - arccos(cos)/pi) with the gold scores.
  double pearson = kNaN, spearman = kNaN, angular_pearson = kNaN, angular_spearman = kNaN;
  // MRPC: the cosine threshold chosen on --train (and its accuracy there), accuracy and F1 on the data.
  double threshold = kNaN, train_accuracy = kNaN, accuracy = kNaN, f1 = kNaN;
  int64_t inputs = 0;          // encoded from the evaluated data: sentences, or pairs for a head
  double encode_seconds = 0.0; // wall time of encoding them (loading and --train excluded)
};

struct EvalReport {
  EvalTask task = EvalTask::Stsb;
  std::string data_path, train_path;   // train_path: MRPC's --train, "" if none
  int64_t pairs = 0, train_pairs = 0;
  std::vector<EvalRow> rows;           // the first is the baseline of the relative columns
};

// Loads `model_dir` (a sentence-embedding model, or one with a sequence-classification head: a
// 1-label regression head scores STS-B pairs, a 2-label classifier MRPC pairs) and scores it.
// InputError for a model that cannot do the task (a classifier head on STS-B, a regression head
// on MRPC, a sentence model on MRPC without train pairs to choose its threshold on).
EvalRow evaluate_stsb(const std::string& model_dir, const std::vector<StsPair>& pairs, const EvalOptions& options);
EvalRow evaluate_mrpc(const std::string& model_dir, const std::vector<LabelledPair>& train,
                      const std::vector<LabelledPair>& data, const EvalOptions& options);
// The bytes on disk and bytes per dtype of a model folder's weight files (EvalRow's fields).
void describe_weight_files(const std::string& model_dir, EvalRow& row);

// Writers. The aligned text table for a terminal: one row per model with its label, parameters,
// size (MB = 10^6 bytes), dtypes, how it was scored, the quality figures, their change relative to
// the first row (%), the size and speed ratios to the first row, encode time and inputs per
// second; a title line naming the task, data and pair count. Markdown: the same table under a
// heading, the environment below it. JSON: {"task", "data", "train", "pairs", "train_pairs",
// "environment", "models": [...]} with exact values (bytes, unrounded metrics, null for NaN).
// CSV: a header row and one row per model with the JSON's fields.
using EvalEnvironment = std::vector<std::pair<std::string, std::string>>;
std::string format_eval_table(const EvalReport& report);
std::string format_eval_markdown(const EvalReport& report, const EvalEnvironment& env);
std::string format_eval_json(const EvalReport& report, const EvalEnvironment& env);
std::string format_eval_csv(const EvalReport& report);

}  // namespace slimformer
