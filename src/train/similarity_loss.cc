// CosineSimilarityLoss = nn.MSELoss()(cos(a, b), target): the squared error's 2 (cos - target) /
// rows through the cosine rows train/losses.h computes.
#include "train/similarity_loss.h"

#include "train/losses.h"

namespace slimformer::train {

double cosine_similarity_loss(float* da, float* db, const float* a, const float* b, const double* target,
                              int64_t rows, int64_t dim) {
  if (rows == 0) return 0.0;
  const double inv_rows = 1.0 / static_cast<double>(rows);
  double total = 0.0;
  cosine_rows(da, db, a, b, rows, dim, [&](int64_t r, double cos) {
    const double err = cos - target[r];
    total += err * err;
    return 2.0 * err * inv_rows;   // d mean((cos - target)^2) / d cos
  });
  return total * inv_rows;
}

}  // namespace slimformer::train
