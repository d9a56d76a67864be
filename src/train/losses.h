// Training losses: each returns the loss value and WRITES d loss / d input (an input gradient, so
// =, as in train/ops.h) into a buffer shaped like the input. The values and gradients equal
// PyTorch's for the module named beside each; rows are samples, the reduction is the mean.
#pragma once
#include <cstdint>
#include <functional>

namespace slimformer::train {

// nn.MSELoss(): mean over all n elements of (pred - target)^2. dpred (n) = 2 (pred - target) / n.
float mse_loss(float* dpred, const float* pred, const float* target, int64_t n);

// mean over rows of 1 - F.cosine_similarity(a, b, eps=1e-8), a and b (rows, dim); the norms are
// clamped to eps as torch does. da, db (rows, dim) written, either may be null (a teacher's b
// needs none).
float cosine_loss(float* da, float* db, const float* a, const float* b, int64_t rows, int64_t dim);

// What every loss on the cosine of row pairs shares (cosine_loss, CosineSimilarityLoss): for each
// row r, cos = F.cosine_similarity(a_r, b_r, eps=1e-8) in double (norms clamped to eps without
// gradient, as torch); g = dloss_dcos(r, cos), the caller's d loss / d cos of that row (which may
// also add the row's loss to a sum); then da, db rows (either may be null) written as g d cos/d a_r,
// g d cos/d b_r.
void cosine_rows(float* da, float* db, const float* a, const float* b, int64_t rows, int64_t dim,
                 const std::function<double(int64_t row, double cos)>& dloss_dcos);

// Knowledge distillation: nn.KLDivLoss(reduction='batchmean')(log_softmax(student / T),
// softmax(teacher / T)), student and teacher logits (rows, classes). No T^2 factor (the caller
// scales by T^2 if it wants Hinton's gradient magnitude). dstudent (rows, classes) written:
// (softmax(student / T) - softmax(teacher / T)) / (T rows).
float kd_loss(float* dstudent, const float* student, const float* teacher, int64_t rows,
              int64_t classes, float temperature);

// nn.CrossEntropyLoss() on hard labels: mean over rows of -log softmax(logits)[label]. Rows whose
// label is ignore_index (-100, torch's default) count neither in the sum nor in the mean; with
// none left the loss is 0 (torch gives 0/0 = NaN). dlogits (rows, classes) written. InputError for
// a label outside [0, classes) other than ignore_index.
float cross_entropy_loss(float* dlogits, const float* logits, const int64_t* labels, int64_t rows,
                         int64_t classes, int64_t ignore_index = -100);

}  // namespace slimformer::train
