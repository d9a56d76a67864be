// Correlations (Pearson, Spearman with average ranks for ties) and cosine similarity.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimformer {
namespace {

void check_pair(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  if (x.size() != y.size()) {
    throw InputError(std::string(what) + ": the two series differ in length (" + std::to_string(x.size()) + " vs " +
                     std::to_string(y.size()) + ")");
  }
  if (x.size() < 2) throw InputError(std::string(what) + ": needs at least 2 values, got " + std::to_string(x.size()));
}

}  // namespace

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "pearson");
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0.0 || syy == 0.0) throw InputError("pearson: a series is constant, the correlation is undefined");
  return sxy / std::sqrt(sxx * syy);
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;   // mean of ranks i+1..j+1
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "spearman");
  return pearson(average_ranks(x), average_ranks(y));
}

std::vector<double> row_cosines(const Tensor& a, const Tensor& b) {
  if (a.rank() != 2 || a.shape() != b.shape() || a.dtype() != DType::F32 || b.dtype() != DType::F32) {
    throw InputError("row_cosines: expected two F32 (N, H) tensors of one shape, got " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()));
  }
  const int64_t N = a.dim(0), H = a.dim(1);
  std::vector<double> out(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    const float* p = a.data<float>() + i * H;
    const float* q = b.data<float>() + i * H;
    double pq = 0.0, pp = 0.0, qq = 0.0;
    for (int64_t j = 0; j < H; ++j) {
      pq += double(p[j]) * q[j];
      pp += double(p[j]) * p[j];
      qq += double(q[j]) * q[j];
    }
    out[i] = (pp == 0.0 || qq == 0.0) ? 0.0 : pq / std::sqrt(pp * qq);
  }
  return out;
}

}  // namespace slimformer
