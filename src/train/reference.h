// Double-precision forwards of the layers and losses in train/, written for clarity, and central
// finite differences: the tests differentiate these numerically and hold the f32 backward passes
// to the result. Nothing here is fast; shapes as in train/ops.h, contiguous buffers.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace slimformer::train::ref {

using Vec = std::vector<double>;

// g[i] = (f(x + h e_i) - f(x - h e_i)) / 2h for a scalar function f of x.
inline Vec numeric_gradient(const std::function<double(const Vec&)>& f, Vec x, double h = 1e-5) {
  Vec g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = f(x);
    x[i] = keep - h;
    const double down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2.0 * h);
  }
  return g;
}

// sum_i w[i] y[i]: the scalar whose gradient with respect to y is the upstream gradient w.
inline double weighted_sum(const Vec& w, const Vec& y) {
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
  return s;
}

// Largest |got - want| / max(|want|, floor): a relative error that does not blow up near zero.
inline double max_rel_error(const float* got, const Vec& want, double floor = 1e-2) {
  double m = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double e = std::fabs(double(got[i]) - want[i]) / std::max(std::fabs(want[i]), floor);
    if (std::isnan(e)) return INFINITY;
    m = std::max(m, e);
  }
  return m;
}

// y (M,N) = x (M,K) W^T (N,K) + b (N)
inline Vec linear(const Vec& x, const Vec& W, const Vec& b, int64_t M, int64_t N, int64_t K) {
  Vec y(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t n = 0; n < N; ++n) {
      double s = b[n];
      for (int64_t k = 0; k < K; ++k) s += x[i * K + k] * W[n * K + k];
      y[i * N + n] = s;
    }
  return y;
}

// nn.LayerNorm over rows of x (R,C): biased variance, eps inside the square root.
inline Vec layernorm(const Vec& x, const Vec& gamma, const Vec& beta, int64_t R, int64_t C, double eps) {
  Vec y(x.size());
  for (int64_t r = 0; r < R; ++r) {
    double m = 0.0, v = 0.0;
    for (int64_t j = 0; j < C; ++j) m += x[r * C + j];
    m /= double(C);
    for (int64_t j = 0; j < C; ++j) v += (x[r * C + j] - m) * (x[r * C + j] - m);
    v /= double(C);
    for (int64_t j = 0; j < C; ++j) y[r * C + j] = (x[r * C + j] - m) / std::sqrt(v + eps) * gamma[j] + beta[j];
  }
  return y;
}

inline double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
inline double gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
inline double relu(double x) { return x > 0.0 ? x : 0.0; }
inline Vec map(const Vec& x, double (*f)(double)) {
  Vec y(x.size());
  std::transform(x.begin(), x.end(), y.begin(), f);
  return y;
}

// out (B,T,H,d) = softmax(q k^T / sqrt(d) + mask) v per head, q, k, v (B,T,H,d) contiguous;
// mask (B,T) 0/1 or null: padded keys get finfo(float).min added, as Hugging Face does.
// keep (B,H,T,T) or null: dropout on the probabilities with that mask, kept ones scaled 1/(1-p).
inline Vec attention(const Vec& q, const Vec& k, const Vec& v, const int64_t* mask, int64_t B, int64_t T,
                     int64_t H, int64_t d, const uint8_t* keep = nullptr, double p = 0.0) {
  const double scale = 1.0 / std::sqrt(double(d));
  const double masked = std::numeric_limits<float>::lowest();
  Vec out(q.size(), 0.0), s(static_cast<size_t>(T));
  auto at = [&](int64_t b, int64_t t, int64_t h) { return ((b * T + t) * H + h) * d; };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < T; ++j) {
          double dot = 0.0;
          for (int64_t c = 0; c < d; ++c) dot += q[at(b, i, h) + c] * k[at(b, j, h) + c];
          s[j] = dot * scale + (mask && mask[b * T + j] == 0 ? masked : 0.0);
          mx = std::max(mx, s[j]);
        }
        double sum = 0.0;
        for (int64_t j = 0; j < T; ++j) sum += (s[j] = std::exp(s[j] - mx));
        for (int64_t j = 0; j < T; ++j) {
          const double drop = keep ? keep[((b * H + h) * T + i) * T + j] / (1.0 - p) : 1.0;
          for (int64_t c = 0; c < d; ++c) out[at(b, i, h) + c] += s[j] / sum * drop * v[at(b, j, h) + c];
        }
      }
  return out;
}

// out (n,D) = table[ids[i]] (V,D)
inline Vec embedding(const Vec& table, const std::vector<int64_t>& ids, int64_t D) {
  Vec out(ids.size() * static_cast<size_t>(D));
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < D; ++j) out[i * D + j] = table[ids[i] * D + j];
  return out;
}

// sentence-transformers mean pooling: (B,H) = sum_t mask h (B,T,H) / max(sum_t mask, 1e-9)
inline Vec mean_pool(const Vec& h, const int64_t* mask, int64_t B, int64_t T, int64_t H) {
  Vec out(static_cast<size_t>(B * H), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    double count = 0.0;
    for (int64_t t = 0; t < T; ++t) {
      if (!mask[b * T + t]) continue;
      count += 1.0;
      for (int64_t j = 0; j < H; ++j) out[b * H + j] += h[(b * T + t) * H + j];
    }
    for (int64_t j = 0; j < H; ++j) out[b * H + j] /= std::max(count, 1e-9);
  }
  return out;
}

// log_softmax of each row of x (R,C) divided by T
inline Vec log_softmax(const Vec& x, int64_t R, int64_t C, double T = 1.0) {
  Vec y(x.size());
  for (int64_t r = 0; r < R; ++r) {
    double mx = -INFINITY, sum = 0.0;
    for (int64_t j = 0; j < C; ++j) mx = std::max(mx, x[r * C + j] / T);
    for (int64_t j = 0; j < C; ++j) sum += std::exp(x[r * C + j] / T - mx);
    for (int64_t j = 0; j < C; ++j) y[r * C + j] = x[r * C + j] / T - mx - std::log(sum);
  }
  return y;
}

inline double mse(const Vec& p, const Vec& t) {
  double s = 0.0;
  for (size_t i = 0; i < p.size(); ++i) s += (p[i] - t[i]) * (p[i] - t[i]);
  return s / double(p.size());
}

// F.cosine_similarity(a_r, b_r, eps=1e-8) of each row r of a, b (R,D)
inline Vec cosine_rows(const Vec& a, const Vec& b, int64_t R, int64_t D) {
  Vec cos(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r) {
    double dot = 0.0, aa = 0.0, bb = 0.0;
    for (int64_t j = 0; j < D; ++j) {
      dot += a[r * D + j] * b[r * D + j];
      aa += a[r * D + j] * a[r * D + j];
      bb += b[r * D + j] * b[r * D + j];
    }
    cos[r] = dot / (std::max(std::sqrt(aa), 1e-8) * std::max(std::sqrt(bb), 1e-8));
  }
  return cos;
}

// mean over rows of 1 - F.cosine_similarity(a, b, eps=1e-8)
inline double cosine_loss(const Vec& a, const Vec& b, int64_t R, int64_t D) {
  double total = 0.0;
  for (double c : cosine_rows(a, b, R, D)) total += 1.0 - c;
  return total / double(R);
}

// KLDivLoss(batchmean)(log_softmax(s / T), softmax(t / T))
inline double kd(const Vec& s, const Vec& t, int64_t R, int64_t C, double T) {
  const Vec ls = log_softmax(s, R, C, T), lt = log_softmax(t, R, C, T);
  double total = 0.0;
  for (size_t i = 0; i < ls.size(); ++i) total += std::exp(lt[i]) * (lt[i] - ls[i]);
  return total / double(R);
}

// CrossEntropyLoss (mean over rows whose label is not ignore_index)
inline double cross_entropy(const Vec& x, const std::vector<int64_t>& labels, int64_t R, int64_t C,
                            int64_t ignore_index = -100) {
  const Vec lp = log_softmax(x, R, C);
  double total = 0.0;
  int64_t n = 0;
  for (int64_t r = 0; r < R; ++r) {
    if (labels[r] == ignore_index) continue;
    total -= lp[r * C + labels[r]];
    ++n;
  }
  return n > 0 ? total / double(n) : 0.0;
}

}  // namespace slimformer::train::ref
