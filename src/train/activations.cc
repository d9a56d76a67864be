// Backward of the elementwise activations and of the row softmax.
#include <cmath>

#include "train/ops.h"

namespace slimformer::train {
namespace {
constexpr int64_t kParallelFloats = 32768;
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1 / sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286536f;  // sqrt(2 / pi)
constexpr float kGeluTanhCoef = 0.044715f;
}  // namespace

void gelu_backward(float* dx, const float* dy, const float* x, int64_t n) {
  // d/dx [x Phi(x)] = Phi(x) + x phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2)).
#pragma omp parallel for simd schedule(static) if (n > kParallelFloats)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

void gelu_tanh_backward(float* dx, const float* dy, const float* x, int64_t n) {
  // f = 0.5 x (1 + t), t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3):
  // f' = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
#pragma omp parallel for simd schedule(static) if (n > kParallelFloats)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float t = std::tanh(kSqrt2OverPi * (v + kGeluTanhCoef * v * v * v));
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluTanhCoef * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
  }
}

void relu_backward(float* dx, const float* dy, const float* x, int64_t n) {
  // torch's threshold_backward: the gradient passes where x > 0 only (0 at x == 0).
#pragma omp parallel for simd schedule(static) if (n > kParallelFloats)
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

void tanh_backward(float* dx, const float* dy, const float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelFloats)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void softmax_backward(float* ds, const float* dp, const float* p, int64_t rows, int64_t cols) {
  // The softmax Jacobian is diag(p) - p p^T, so ds = p * (dp - <dp, p>) row by row.
#pragma omp parallel for schedule(static) if (rows * cols > kParallelFloats)
  for (int64_t i = 0; i < rows; ++i) {
    const float* pr = p + i * cols;
    const float* g = dp + i * cols;
    float* o = ds + i * cols;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; ++j) dot += g[j] * pr[j];
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) o[j] = pr[j] * (g[j] - dot);
  }
}

}  // namespace slimformer::train
