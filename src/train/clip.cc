#include "train/clip.h"

#include <cmath>
#include <string>

#include "slimformer/error.h"

namespace slimformer::train {

namespace {

void check_f32(const Tensor& grad, size_t index) {
  if (grad.dtype() != DType::F32)
    throw InputError("gradient clipping: gradient " + std::to_string(index) + " must be F32, got " +
                     dtype_name(grad.dtype()));
}

// Sum of squares in double: summation order then barely matters, so the norm does not depend on
// the thread count and stays within float rounding of torch's.
double sum_of_squares(const Tensor& grad) {
  const float* g = grad.data<float>();
  const int64_t n = grad.numel();
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
  return sum;
}

}  // namespace

float global_grad_norm(const std::vector<Tensor>& grads) {
  // torch takes each tensor's norm, then the norm of those norms; the squares add up the same.
  double total = 0.0;
  for (size_t i = 0; i < grads.size(); ++i) {
    check_f32(grads[i], i);
    total += sum_of_squares(grads[i]);
  }
  return static_cast<float>(std::sqrt(total));
}

float clip_grad_norm(std::vector<Tensor> grads, double max_norm) {
  if (!(max_norm > 0.0) || !std::isfinite(max_norm))
    throw InputError("gradient clipping: max_norm must be a positive finite number, got " +
                     std::to_string(max_norm));
  const float total_norm = global_grad_norm(grads);
  if (!std::isfinite(total_norm)) return total_norm;
  // torch computes max_norm / (total_norm + 1e-6) in float as reciprocal(total_norm + 1e-6) * max_norm.
  const float coef = (1.0f / (total_norm + 1e-6f)) * static_cast<float>(max_norm);
  if (coef >= 1.0f) return total_norm;
  for (Tensor& grad : grads) {
    float* g = grad.data<float>();
    const int64_t n = grad.numel();
    for (int64_t i = 0; i < n; ++i) g[i] *= coef;
  }
  return total_norm;
}

}  // namespace slimformer::train
