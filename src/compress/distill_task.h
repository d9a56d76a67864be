// What a student learns from, apart from the training loop that distill() runs: the teacher's
// targets (computed once: the teacher has no dropout and does not change), the batches, and the
// loss of the student's pooled output with its gradient.
//   - a sentence-embedding teacher: its pooled embeddings of single sentences, MSE or cosine;
//   - a sequence classifier: its logits of text pairs, KL at a temperature (+ cross-entropy on
//     hard labels), through a trainable copy of the head on the student's first-token states.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "slimformer/distill.h"
#include "slimformer/encoder.h"
#include "train/trainable_encoder.h"

namespace slimformer::compress {

class DistillTask {
 public:
  virtual ~DistillTask() = default;
  virtual int64_t size() const = 0;            // examples in the data
  virtual PoolingMode pooling() const = 0;     // what the student's forward returns
  // The examples order[begin, end) tokenized as the teacher's were.
  virtual Batch batch(const std::vector<int64_t>& order, int64_t begin, int64_t end) const = 0;
  // The loss of the student's pooled output for those examples; writes d loss / d pooled.
  virtual float loss(const Tensor& pooled, const std::vector<int64_t>& order, int64_t begin, int64_t end,
                     Tensor& dpooled) = 0;
  // Checks the student against the teacher (hidden size, head) and builds what the task trains
  // beside the encoder. `student_dir` is the folder the student's config.json comes from.
  virtual void attach_student(const Checkpoint& student, const std::string& student_dir) = 0;
  // Parameters trained beside the student encoder's (a classifier head), empty if none.
  virtual std::vector<train::Parameter>& extra_parameters() { return none_; }
  // Scores the student written at out_dir on the --eval-* file, filling row.
  virtual void score(const std::string& out_dir, DistillEpoch& row) const = 0;

 private:
  std::vector<train::Parameter> none_;
};

// The task the teacher folder calls for (a classifier when config.json declares a
// *ForSequenceClassification head), its data read and its targets computed. InputError for a
// loss, data file or --eval-* file that does not fit the teacher.
std::unique_ptr<DistillTask> make_distill_task(const DistillOptions& options);

}  // namespace slimformer::compress
