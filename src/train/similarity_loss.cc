// CosineSimilarityLoss = nn.MSELoss()(cos(a, b), target). Through the cosine:
//   d cos / d a = b / (|a|_c |b|_c) - cos a / (|a|_c |a|)   (|x|_c = max(|x|, eps), the clamp is
// applied without gradient, as torch's; a zero vector gets no radial term), and the squared error
// adds 2 (cos - target) / rows.
#include "train/similarity_loss.h"

#include <algorithm>
#include <cmath>

namespace slimformer::train {

double cosine_similarity_loss(float* da, float* db, const float* a, const float* b, const double* target,
                              int64_t rows, int64_t dim) {
  if (rows == 0) return 0.0;
  constexpr double kEps = 1e-8;
  const double inv_rows = 1.0 / static_cast<double>(rows);
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = a + r * dim;
    const float* y = b + r * dim;
    double dot = 0.0, xx = 0.0, yy = 0.0;
    for (int64_t j = 0; j < dim; ++j) {
      dot += double(x[j]) * y[j];
      xx += double(x[j]) * x[j];
      yy += double(y[j]) * y[j];
    }
    const double nx = std::sqrt(xx), ny = std::sqrt(yy);
    const double cx = std::max(nx, kEps), cy = std::max(ny, kEps);
    const double cos = dot / (cx * cy);
    const double err = cos - target[r];
    total += err * err;
    const double scale = 2.0 * err * inv_rows;   // d loss / d cos of this row
    auto grad = [&](float* out, const float* self, const float* other, double cs, double co, double ns) {
      if (!out) return;
      const double radial = ns > 0.0 ? cos / (cs * ns) : 0.0;
      for (int64_t j = 0; j < dim; ++j)
        out[r * dim + j] = static_cast<float>(scale * (other[j] / (cs * co) - radial * self[j]));
    };
    grad(da, x, y, cx, cy, nx);
    grad(db, y, x, cy, cx, ny);
  }
  return total * inv_rows;
}

}  // namespace slimformer::train
