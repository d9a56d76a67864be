// The two distillation tasks: a sentence-embedding teacher's pooled embeddings, and a sequence
// classifier's logits (distill_task.h).
#include "compress/distill_task.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "slimformer/error.h"
#include "slimformer/eval.h"
#include "train/classifier_head.h"
#include "train/losses.h"

namespace slimformer::compress {
namespace {

// The rows order[begin, end) of an (N, C) table of targets, gathered into a (end - begin, C) tensor.
Tensor gather_rows(const Tensor& table, const std::vector<int64_t>& order, int64_t begin, int64_t end) {
  const int64_t C = table.dim(1);
  Tensor out = Tensor::empty({end - begin, C});
  for (int64_t i = begin; i < end; ++i) {
    std::copy_n(table.data<float>() + order[i] * C, C, out.data<float>() + (i - begin) * C);
  }
  return out;
}

std::string name_of(const std::string& dir) { return "'" + std::filesystem::path(dir).filename().string() + "'"; }

class EmbeddingTask : public DistillTask {
 public:
  explicit EmbeddingTask(const DistillOptions& o)
      : loss_(o.loss), sentences_(read_distill_sentences(o.data_path)), teacher_(o.teacher_dir) {
    if (o.loss == DistillLoss::Kd) {
      throw InputError("--loss kd distils a classifier's logits; the teacher " + name_of(o.teacher_dir) +
                       " declares no sequence-classification head (embedding-mse or cosine distil its embeddings)");
    }
    if (o.temperature != 0 || o.hard_label_weight != -1) {
      throw InputError("--temperature and --hard-label-weight apply to a classifier's logits; the teacher " +
                       name_of(o.teacher_dir) + " is a sentence-embedding model");
    }
    if (!o.eval_mrpc.empty()) {
      throw InputError("--eval-mrpc scores a classifier student; the teacher " + name_of(o.teacher_dir) +
                       " is a sentence-embedding model (use --eval-stsb)");
    }
    if (!o.eval_stsb.empty()) eval_pairs_ = read_sts(o.eval_stsb);
    pooling_ = teacher_.sentence_config().pooling;
    if (pooling_ != PoolingMode::Mean && pooling_ != PoolingMode::Cls) {
      throw InputError("distill: the teacher " + name_of(o.teacher_dir) +
                       " pools by max, mean_sqrt_len, weightedmean or lasttoken; mean and cls train");
    }
    // The student trains its pooled vector against the teacher's embeddings; a projection the
    // student does not have would make them different things.
    if (!teacher_.sentence_config().dense.empty()) {
      throw InputError("distill: the teacher " + name_of(o.teacher_dir) +
                       " projects its pooled vector with Dense modules; only teachers without them are distilled");
    }
    max_length_ = std::min(o.max_length, teacher_.max_length());
    targets_ = teacher_.embed(sentences_, 64, max_length_, /*normalize_override_off=*/true);
  }

  int64_t size() const override { return static_cast<int64_t>(sentences_.size()); }
  PoolingMode pooling() const override { return pooling_; }

  Batch batch(const std::vector<int64_t>& order, int64_t begin, int64_t end) const override {
    std::vector<Encoding> enc;
    EncodeOptions opt;
    opt.max_length = max_length_;
    for (int64_t i = begin; i < end; ++i) enc.push_back(teacher_.tokenizer().encode(sentences_[order[i]], opt));
    return make_batch(enc, teacher_.tokenizer().pad_id());
  }

  float loss(const Tensor& pooled, const std::vector<int64_t>& order, int64_t begin, int64_t end,
             Tensor& d) override {
    const Tensor target = gather_rows(targets_, order, begin, end);
    return loss_ == DistillLoss::Cosine
               ? train::cosine_loss(d.data<float>(), nullptr, pooled.data<float>(), target.data<float>(), end - begin,
                                    pooled.dim(1))
               : train::mse_loss(d.data<float>(), pooled.data<float>(), target.data<float>(), pooled.numel());
  }

  void attach_student(const Checkpoint& student, const std::string& student_dir) override {
    if (!student_dir.empty() && !read_sentence_config(student_dir).dense.empty()) {
      throw InputError("distill: the student " + name_of(student_dir) +
                       " projects its pooled vector with Dense modules, which distillation does not train");
    }
    const int64_t teacher_h = teacher_.encoder().config().hidden_size;
    if (student.config().hidden_size != teacher_h) {
      throw InputError("distill: the student's hidden size " + std::to_string(student.config().hidden_size) +
                       " differs from the teacher's " + std::to_string(teacher_h) +
                       " (embeddings are compared as they are)");
    }
  }

  void score(const std::string& out_dir, DistillEpoch& row) const override {
    if (!eval_pairs_.empty()) row.spearman = evaluate_stsb(out_dir, eval_pairs_, EvalOptions{}).spearman;
  }

 private:
  DistillLoss loss_;
  std::vector<std::string> sentences_;
  SentenceEncoder teacher_;
  PoolingMode pooling_ = PoolingMode::Mean;
  int64_t max_length_ = 0;
  Tensor targets_;
  std::vector<StsPair> eval_pairs_;
};

class ClassifierTask : public DistillTask {
 public:
  ClassifierTask(const DistillOptions& o, const std::string& head)
      : pairs_(read_distill_pairs(o.data_path)), teacher_(o.teacher_dir) {
    const std::string who = "the teacher " + name_of(o.teacher_dir) + " (" + head + ", " +
                            std::to_string(teacher_.num_labels()) + " label(s))";
    if (o.loss == DistillLoss::EmbeddingMse || o.loss == DistillLoss::Cosine) {
      throw InputError("--loss embedding-mse and cosine distil sentence embeddings; " + who +
                       " is a classifier, whose logits --loss kd distils");
    }
    temperature_ = o.temperature == 0 ? 2.0 : o.temperature;
    hard_label_weight_ = o.hard_label_weight == -1 ? 0.5 : o.hard_label_weight;
    if (!(temperature_ > 0) || !std::isfinite(temperature_)) throw InputError("--temperature must be a positive number");
    if (!(hard_label_weight_ >= 0 && hard_label_weight_ <= 1)) throw InputError("--hard-label-weight must be in [0, 1]");
    labels_ = teacher_.num_labels();
    for (size_t i = 0; i < pairs_.labels.size(); ++i) {
      if (pairs_.labels[i] >= labels_) {
        throw InputError("data file '" + o.data_path + "': pair " + std::to_string(i + 1) + " has label " +
                         std::to_string(pairs_.labels[i]) + ", but " + who + " has classes 0.." +
                         std::to_string(labels_ - 1));
      }
      if (pairs_.labels[i] >= 0) labelled_ = true;
    }
    if (labels_ == 1) labelled_ = false;   // a regression head: its scores are not classes
    if (!o.eval_stsb.empty()) {
      if (labels_ != 1) throw InputError("--eval-stsb scores a 1-label regression head; " + who + " (use --eval-mrpc)");
      sts_ = read_sts(o.eval_stsb);
    }
    if (!o.eval_mrpc.empty()) {
      if (labels_ != 2) throw InputError("--eval-mrpc scores a 2-label classifier; " + who);
      mrpc_ = read_mrpc(o.eval_mrpc);
    }
    max_length_ = std::min(o.max_length, teacher_.max_length());
    targets_ = teacher_.logits(pairs_.first, pairs_.second, 64, max_length_);
    architecture_ = head;
  }

  int64_t size() const override { return static_cast<int64_t>(pairs_.first.size()); }
  // Both heads read the first token's final state.
  PoolingMode pooling() const override { return PoolingMode::Cls; }

  Batch batch(const std::vector<int64_t>& order, int64_t begin, int64_t end) const override {
    std::vector<Encoding> enc;
    EncodeOptions opt;
    opt.max_length = max_length_;   // longest-first, as the teacher's logits were computed
    for (int64_t i = begin; i < end; ++i) {
      enc.push_back(teacher_.tokenizer().encode_pair(pairs_.first[order[i]], pairs_.second[order[i]], opt));
    }
    return make_batch(enc, teacher_.tokenizer().pad_id());
  }

  float loss(const Tensor& first, const std::vector<int64_t>& order, int64_t begin, int64_t end,
             Tensor& dfirst) override {
    const int64_t b = end - begin;
    const Tensor logits = head_->forward(first);
    const Tensor teacher = gather_rows(targets_, order, begin, end);
    Tensor dlogits = Tensor::empty(logits.shape());
    float loss = 0;
    if (labels_ == 1) {   // regression: the teacher's score is the target
      loss = train::mse_loss(dlogits.data<float>(), logits.data<float>(), teacher.data<float>(), b);
    } else {
      const float T = static_cast<float>(temperature_);
      const float a = labelled_ ? static_cast<float>(hard_label_weight_) : 0.0f;
      loss = (1 - a) * T * T *
             train::kd_loss(dlogits.data<float>(), logits.data<float>(), teacher.data<float>(), b, labels_, T);
      for (int64_t i = 0; i < dlogits.numel(); ++i) dlogits.data<float>()[i] *= (1 - a) * T * T;
      if (a > 0) {
        std::vector<int64_t> hard(static_cast<size_t>(b));
        for (int64_t i = 0; i < b; ++i) {
          const int64_t l = pairs_.labels[order[begin + i]];
          hard[i] = l < 0 ? -100 : l;   // unlabelled pairs: ignored by the cross-entropy
        }
        Tensor dce = Tensor::empty(logits.shape());
        loss += a * train::cross_entropy_loss(dce.data<float>(), logits.data<float>(), hard.data(), b, labels_);
        for (int64_t i = 0; i < dlogits.numel(); ++i) dlogits.data<float>()[i] += a * dce.data<float>()[i];
      }
    }
    dfirst = head_->backward(dlogits);
    return loss;
  }

  void attach_student(const Checkpoint& student, const std::string& student_dir) override {
    // A student made from the teacher's layers has the teacher's head; a student folder must
    // declare one itself.
    const std::string head = student_dir.empty() ? architecture_ : sequence_classification_head(student_dir);
    if (head.empty()) {
      throw InputError("distill: the student " + name_of(student_dir) +
                       " has no sequence-classification head to learn the teacher's logits with");
    }
    head_ = std::make_unique<train::ClassifierHead>(student, head);
    if (head_->num_labels() != labels_) {
      throw InputError("distill: the student's head has " + std::to_string(head_->num_labels()) +
                       " label(s), the teacher's " + std::to_string(labels_));
    }
  }

  std::vector<train::Parameter>& extra_parameters() override { return head_->parameters(); }

  void score(const std::string& out_dir, DistillEpoch& row) const override {
    if (!sts_.empty()) row.spearman = evaluate_stsb(out_dir, sts_, EvalOptions{}).spearman;
    if (!mrpc_.empty()) {
      const EvalRow r = evaluate_mrpc(out_dir, {}, mrpc_, EvalOptions{});
      row.accuracy = r.accuracy;
      row.f1 = r.f1;
    }
  }

 private:
  DistillPairs pairs_;
  SequenceClassifier teacher_;
  std::string architecture_;
  int64_t labels_ = 0, max_length_ = 0;
  double temperature_ = 2, hard_label_weight_ = 0.5;
  bool labelled_ = false;
  Tensor targets_;   // (N, labels) teacher logits
  std::unique_ptr<train::ClassifierHead> head_;
  std::vector<StsPair> sts_;
  std::vector<LabelledPair> mrpc_;
};

}  // namespace

std::unique_ptr<DistillTask> make_distill_task(const DistillOptions& o) {
  const std::string head = sequence_classification_head(o.teacher_dir);
  if (head.empty()) return std::make_unique<EmbeddingTask>(o);
  return std::make_unique<ClassifierTask>(o, head);
}

}  // namespace slimformer::compress
