// Scoring one model on STS-B or MRPC: sentence-embedding models by the cosine of their two
// embeddings, models with a sequence-classification head by the head's output on the pair.
#include <chrono>
#include <cstring>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimformer {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Reports the encodes of one model as one count: `offset` inputs were done before this encode.
ProgressFn shifted(const EvalOptions& o, int64_t offset, int64_t total) {
  if (!o.progress) return {};
  return [&o, offset, total](int64_t done, int64_t) { o.progress(offset + done, total); };
}

// Rows [0, n) and [n, 2n) of a (2n, H) tensor: the first and second sentences of each pair.
std::vector<double> pair_cosines(const Tensor& both, int64_t n) {
  const int64_t H = both.dim(1);
  Tensor a = Tensor::empty({n, H}), b = Tensor::empty({n, H});
  if (n > 0) {
    std::memcpy(a.raw(), both.data<float>(), static_cast<size_t>(n * H) * sizeof(float));
    std::memcpy(b.raw(), both.data<float>() + n * H, static_cast<size_t>(n * H) * sizeof(float));
  }
  return row_cosines(a, b);
}

template <typename Pair>
std::vector<std::string> both_sides(const std::vector<Pair>& pairs) {
  std::vector<std::string> texts;
  texts.reserve(2 * pairs.size());
  for (const Pair& p : pairs) texts.push_back(p.sentence1);
  for (const Pair& p : pairs) texts.push_back(p.sentence2);
  return texts;
}

template <typename Pair>
void split_sides(const std::vector<Pair>& pairs, std::vector<std::string>& a, std::vector<std::string>& b) {
  for (const Pair& p : pairs) {
    a.push_back(p.sentence1);
    b.push_back(p.sentence2);
  }
}

// Cosines of the pairs, timed into row (when `timed`).
template <typename Pair>
std::vector<double> embed_pairs(const SentenceEncoder& enc, const std::vector<Pair>& pairs, const EvalOptions& o,
                                const ProgressFn& progress, EvalRow* timed) {
  const auto start = Clock::now();
  const Tensor e = enc.embed(both_sides(pairs), o.batch_size, o.max_length, false, progress);
  if (timed) {
    timed->encode_seconds = seconds_since(start);
    timed->inputs = e.dim(0);
  }
  return pair_cosines(e, static_cast<int64_t>(pairs.size()));
}

// The logits of a model with a head on the pairs, timed into row, after checking the head has the
// `labels` outputs `task` needs ("STS-B needs ... a 1-label regression head").
template <typename Pair>
Tensor head_logits(const std::string& model_dir, const std::vector<Pair>& pairs, const EvalOptions& o, int64_t labels,
                   const char* task, const char* head_kind, EvalRow& row) {
  const SequenceClassifier clf(model_dir, o.attention);
  if (clf.num_labels() != labels) {
    throw InputError("model '" + model_dir + "' has a " + std::to_string(clf.num_labels()) + "-label " +
                     clf.architecture() + " head; " + task + " needs a sentence-embedding model or a " +
                     std::to_string(labels) + "-label " + head_kind);
  }
  row.parameters = clf.parameter_count();
  row.scored_by = head_kind;
  std::vector<std::string> a, b;
  split_sides(pairs, a, b);
  const auto start = Clock::now();
  Tensor logits = clf.logits(a, b, o.batch_size, o.max_length, shifted(o, 0, static_cast<int64_t>(pairs.size())));
  row.encode_seconds = seconds_since(start);
  row.inputs = static_cast<int64_t>(pairs.size());
  return logits;
}

EvalRow new_row(const std::string& model_dir) {
  EvalRow row;
  row.model_dir = model_dir;
  describe_weight_files(model_dir, row);
  return row;
}

}  // namespace

const char* eval_task_name(EvalTask task) { return task == EvalTask::Stsb ? "stsb" : "mrpc"; }

void describe_weight_files(const std::string& model_dir, EvalRow& row) {
  const Checkpoint ckpt(model_dir);
  row.file_bytes = ckpt.file_bytes();
  row.dtype_bytes = ckpt.bytes_by_dtype();
}

EvalRow evaluate_stsb(const std::string& model_dir, const std::vector<StsPair>& pairs, const EvalOptions& o) {
  EvalRow row = new_row(model_dir);
  std::vector<double> gold;
  for (const StsPair& p : pairs) gold.push_back(p.score);
  if (!sequence_classification_head(model_dir).empty()) {
    const Tensor logits = head_logits(model_dir, pairs, o, 1, "STS-B", "regression head", row);
    const std::vector<double> score(logits.data<float>(), logits.data<float>() + logits.numel());
    row.pearson = pearson(score, gold);
    row.spearman = spearman(score, gold);
    return row;
  }
  const SentenceEncoder enc(model_dir, o.attention);
  row.parameters = enc.encoder().parameter_count();
  row.scored_by = "cosine";
  const std::vector<double> cos = embed_pairs(enc, pairs, o, shifted(o, 0, 2 * static_cast<int64_t>(pairs.size())), &row);
  std::vector<double> angular(cos.size());
  for (size_t i = 0; i < cos.size(); ++i) angular[i] = angular_similarity(cos[i]);
  row.pearson = pearson(cos, gold);
  row.spearman = spearman(cos, gold);
  row.angular_pearson = pearson(angular, gold);
  row.angular_spearman = spearman(angular, gold);
  return row;
}

EvalRow evaluate_mrpc(const std::string& model_dir, const std::vector<LabelledPair>& train,
                      const std::vector<LabelledPair>& data, const EvalOptions& o) {
  EvalRow row = new_row(model_dir);
  std::vector<int> gold, train_gold;
  for (const LabelledPair& p : data) gold.push_back(p.label);
  for (const LabelledPair& p : train) train_gold.push_back(p.label);
  if (!sequence_classification_head(model_dir).empty()) {
    const Tensor logits = head_logits(model_dir, data, o, 2, "MRPC", "classifier head", row);
    std::vector<int> predicted(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
      predicted[i] = logits.data<float>()[2 * i + 1] > logits.data<float>()[2 * i] ? 1 : 0;   // label 1: paraphrase
    }
    const BinaryScores s = binary_scores(predicted, gold);
    row.accuracy = s.accuracy;
    row.f1 = s.f1;
    return row;
  }
  if (train.empty()) {
    throw InputError("model '" + model_dir + "' is a sentence-embedding model: MRPC needs --train pairs to choose its "
                     "cosine threshold on");
  }
  const SentenceEncoder enc(model_dir, o.attention);
  row.parameters = enc.encoder().parameter_count();
  row.scored_by = "cosine";
  const int64_t total = 2 * static_cast<int64_t>(train.size() + data.size());
  const ThresholdChoice choice =
      choose_threshold(embed_pairs(enc, train, o, shifted(o, 0, total), nullptr), train_gold);
  const std::vector<double> cos = embed_pairs(enc, data, o, shifted(o, 2 * static_cast<int64_t>(train.size()), total), &row);
  const BinaryScores s = binary_scores(apply_threshold(cos, choice.threshold), gold);
  row.threshold = choice.threshold;
  row.train_accuracy = choice.accuracy;
  row.accuracy = s.accuracy;
  row.f1 = s.f1;
  return row;
}

}  // namespace slimformer
