// Scalar references: the textbook formulas with double accumulation, single-threaded.
#include "kernels/cpu/reference.h"

#include <cmath>
#include <limits>
#include <vector>

namespace slimformer::kernels::ref {

void layernorm(float* out, const float* in, const float* gamma, const float* beta, int64_t rows,
               int64_t cols, float eps) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = in + i * cols;
    double mean = 0.0, var = 0.0;
    for (int64_t j = 0; j < cols; ++j) mean += x[j];
    mean /= static_cast<double>(cols);
    for (int64_t j = 0; j < cols; ++j) var += (x[j] - mean) * (x[j] - mean);
    var /= static_cast<double>(cols);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < cols; ++j) {
      out[i * cols + j] = static_cast<float>((x[j] - mean) * inv * gamma[j] + beta[j]);
    }
  }
}

void add_layernorm(float* out, const float* x, const float* residual, const float* gamma,
                   const float* beta, int64_t rows, int64_t cols, float eps) {
  std::vector<float> sum(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) sum[i] = x[i] + residual[i];
  layernorm(out, sum.data(), gamma, beta, rows, cols, eps);
}

void bias_add(float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) x[i * cols + j] += bias[j];
}

void gelu(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double x = in[i];
    out[i] = static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
  }
}

void gelu_tanh(float* out, const float* in, int64_t n) {
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < n; ++i) {
    const double x = in[i];
    out[i] = static_cast<float>(0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x))));
  }
}

void relu(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void softmax_masked(float* x, const float* add_mask, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float* r = x + i * cols;
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < cols; ++j) {
      if (add_mask) r[j] += add_mask[j];
      if (r[j] > m) m = r[j];
    }
    if (std::isinf(m) && m < 0) {
      for (int64_t j = 0; j < cols; ++j) r[j] = 0.0f;
      continue;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) sum += std::exp(r[j] - m);
    for (int64_t j = 0; j < cols; ++j) r[j] = static_cast<float>(std::exp(r[j] - m) / sum);
  }
}

void attention(float* out, const float* q, const float* k, const float* v, const float* add_mask,
               int64_t batch, int64_t heads, int64_t seq, int64_t head_dim) {
  std::vector<float> s(static_cast<size_t>(seq));
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  for (int64_t bh = 0; bh < batch * heads; ++bh) {
    const int64_t b = bh / heads, base = bh * seq * head_dim;
    for (int64_t i = 0; i < seq; ++i) {
      for (int64_t j = 0; j < seq; ++j) {
        double dot = 0.0;
        for (int64_t c = 0; c < head_dim; ++c) dot += double(q[base + i * head_dim + c]) * k[base + j * head_dim + c];
        s[j] = static_cast<float>(dot * scale);
      }
      softmax_masked(s.data(), add_mask ? add_mask + b * seq : nullptr, 1, seq);
      for (int64_t c = 0; c < head_dim; ++c) {
        double acc = 0.0;
        for (int64_t j = 0; j < seq; ++j) acc += double(s[j]) * v[base + j * head_dim + c];
        out[base + i * head_dim + c] = static_cast<float>(acc);
      }
    }
  }
}

void embedding_gather(float* out, const float* table, const int64_t* ids, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < dim; ++j) out[i * dim + j] = table[ids[i] * dim + j];
}

void linear(float* out, const float* in, const float* weight, const float* bias, int64_t M, int64_t N,
            int64_t K, Epilogue epilogue, bool accumulate) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double z = bias ? bias[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) z += static_cast<double>(in[m * K + k]) * weight[n * K + k];
      switch (epilogue) {
        case Epilogue::Gelu: z = 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0))); break;
        case Epilogue::GeluTanh:
          z = 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z)));
          break;
        case Epilogue::Relu: z = z > 0.0 ? z : 0.0; break;
        case Epilogue::None: break;
      }
      float& o = out[m * N + n];
      o = accumulate ? static_cast<float>(o + z) : static_cast<float>(z);
    }
}

}  // namespace slimformer::kernels::ref
