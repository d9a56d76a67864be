// Losses and their input gradients. Sizes here are a batch of rows (a few thousand floats), so the
// loops are plain and the sums are taken in double: the loss is reported to many digits and
// compared across runs.
#include "train/losses.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "slimformer/error.h"

namespace slimformer::train {
namespace {

// log_softmax(x / T) of one row into out (n), in double.
void log_softmax_row(double* out, const float* x, int64_t n, double T) {
  double m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j] / T);
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(x[j] / T - m);
  const double lse = m + std::log(sum);
  for (int64_t j = 0; j < n; ++j) out[j] = x[j] / T - lse;
}

}  // namespace

float mse_loss(float* dpred, const float* pred, const float* target, int64_t n) {
  if (n == 0) return 0.0f;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    sum += d * d;
    if (dpred) dpred[i] = static_cast<float>(2.0 * d / static_cast<double>(n));
  }
  return static_cast<float>(sum / static_cast<double>(n));
}

void cosine_rows(float* da, float* db, const float* a, const float* b, int64_t rows, int64_t dim,
                 const std::function<double(int64_t row, double cos)>& dloss_dcos) {
  constexpr double kEps = 1e-8;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = a + r * dim;
    const float* y = b + r * dim;
    double dot = 0.0, xx = 0.0, yy = 0.0;
    for (int64_t j = 0; j < dim; ++j) {
      dot += double(x[j]) * y[j];
      xx += double(x[j]) * x[j];
      yy += double(y[j]) * y[j];
    }
    // torch: (x / max(|x|, eps)) . (y / max(|y|, eps)); the clamp is applied without gradient,
    // so d|x|/dx = x / |x| still flows (0 for a zero vector, as torch's norm backward).
    const double nx = std::sqrt(xx), ny = std::sqrt(yy);
    const double cx = std::max(nx, kEps), cy = std::max(ny, kEps);
    const double cos = dot / (cx * cy);
    const double g = dloss_dcos(r, cos);
    // d cos / dx = y / (cx cy) - cos / cx * x / |x|
    auto grad = [&](float* out, const float* self, const float* other, double cs, double co, double ns) {
      if (!out) return;
      const double radial = ns > 0.0 ? cos / (cs * ns) : 0.0;
      for (int64_t j = 0; j < dim; ++j) out[r * dim + j] = static_cast<float>(g * (other[j] / (cs * co) - radial * self[j]));
    };
    grad(da, x, y, cx, cy, nx);
    grad(db, y, x, cy, cx, ny);
  }
}

float cosine_loss(float* da, float* db, const float* a, const float* b, int64_t rows, int64_t dim) {
  if (rows == 0) return 0.0f;
  const double inv_rows = 1.0 / static_cast<double>(rows);
  double total = 0.0;
  cosine_rows(da, db, a, b, rows, dim, [&](int64_t, double cos) {
    total += 1.0 - cos;
    return -inv_rows;   // d mean(1 - cos) / d cos
  });
  return static_cast<float>(total * inv_rows);
}

float kd_loss(float* dstudent, const float* student, const float* teacher, int64_t rows,
              int64_t classes, float temperature) {
  if (rows == 0) return 0.0f;
  const double T = temperature;
  std::vector<double> ls(static_cast<size_t>(classes)), lt(static_cast<size_t>(classes));
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    log_softmax_row(ls.data(), student + r * classes, classes, T);
    log_softmax_row(lt.data(), teacher + r * classes, classes, T);
    for (int64_t j = 0; j < classes; ++j) {
      const double pt = std::exp(lt[j]);
      // KLDivLoss's pointwise target * (log target - input); a zero target adds 0 (xlogy).
      if (pt > 0.0) total += pt * (lt[j] - ls[j]);
      if (dstudent)
        dstudent[r * classes + j] = static_cast<float>((std::exp(ls[j]) - pt) / (T * static_cast<double>(rows)));
    }
  }
  return static_cast<float>(total / static_cast<double>(rows));   // 'batchmean': sum / rows
}

float cross_entropy_loss(float* dlogits, const float* logits, const int64_t* labels, int64_t rows,
                         int64_t classes, int64_t ignore_index) {
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (labels[r] == ignore_index) continue;
    if (labels[r] < 0 || labels[r] >= classes)
      throw InputError("cross_entropy_loss: label " + std::to_string(labels[r]) + " of row " + std::to_string(r) +
                       " is outside [0, " + std::to_string(classes) + ")");
    ++counted;
  }
  std::vector<double> lp(static_cast<size_t>(classes));
  double total = 0.0;
  const double inv = counted > 0 ? 1.0 / static_cast<double>(counted) : 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    float* g = dlogits ? dlogits + r * classes : nullptr;
    if (labels[r] == ignore_index) {
      if (g) std::fill_n(g, classes, 0.0f);
      continue;
    }
    log_softmax_row(lp.data(), logits + r * classes, classes, 1.0);
    total -= lp[static_cast<size_t>(labels[r])];
    if (g) {
      for (int64_t j = 0; j < classes; ++j)
        g[j] = static_cast<float>((std::exp(lp[j]) - (j == labels[r] ? 1.0 : 0.0)) * inv);
    }
  }
  return static_cast<float>(total * inv);
}

}  // namespace slimformer::train
