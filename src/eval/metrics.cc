// Correlations (Pearson, Spearman with average ranks for ties), cosine and angular similarity, and
// binary classification by a threshold (accuracy, F1, the threshold that maximises accuracy).
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

double angular_similarity(double cosine) {
  const double c = std::clamp(cosine, -1.0, 1.0);   // rounding can put a cosine just past 1
  return 1.0 - std::acos(c) / M_PI;
}

namespace {

void check_labels(const std::vector<int>& v, const char* what) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != 0 && v[i] != 1) {
      throw InputError(std::string(what) + ": label " + std::to_string(v[i]) + " at index " + std::to_string(i) +
                       ", expected 0 or 1");
    }
  }
}

void check_binary(size_t n_predicted, size_t n_gold, const char* what) {
  if (n_predicted != n_gold) {
    throw InputError(std::string(what) + ": the two series differ in length (" + std::to_string(n_predicted) + " vs " +
                     std::to_string(n_gold) + ")");
  }
  if (n_gold == 0) throw InputError(std::string(what) + ": needs at least 1 value, got 0");
}

// A threshold t with below < t <= above, so "score >= t" calls `below` 0 and `above` 1: the
// midpoint, unless the two are neighbouring doubles (then `above` itself); past the highest score
// (above = inf) the next double up.
double cut_between(double below, double above) {
  if (std::isinf(above)) return std::nextafter(below, INFINITY);
  const double mid = below + (above - below) / 2.0;
  return mid > below ? mid : above;
}

double ratio(int64_t num, int64_t den) { return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den); }

}  // namespace

BinaryScores binary_scores(const std::vector<int>& predicted, const std::vector<int>& gold) {
  check_binary(predicted.size(), gold.size(), "binary_scores");
  check_labels(predicted, "binary_scores (predicted)");
  check_labels(gold, "binary_scores (gold)");
  BinaryScores s;
  for (size_t i = 0; i < gold.size(); ++i) {
    if (predicted[i] == 1) {
      (gold[i] == 1 ? s.true_pos : s.false_pos) += 1;
    } else {
      (gold[i] == 0 ? s.true_neg : s.false_neg) += 1;
    }
  }
  s.accuracy = ratio(s.true_pos + s.true_neg, static_cast<int64_t>(gold.size()));
  s.precision = ratio(s.true_pos, s.true_pos + s.false_pos);
  s.recall = ratio(s.true_pos, s.true_pos + s.false_neg);
  s.f1 = s.precision + s.recall == 0.0 ? 0.0 : 2.0 * s.precision * s.recall / (s.precision + s.recall);
  return s;
}

ThresholdChoice choose_threshold(const std::vector<double>& scores, const std::vector<int>& gold) {
  check_binary(scores.size(), gold.size(), "choose_threshold");
  check_labels(gold, "choose_threshold (gold)");
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) throw InputError("choose_threshold: score at index " + std::to_string(i) + " is not finite");
  }
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sweep the cut upwards: below every score all pairs are called 1, so the correct ones are the
  // positives; moving the cut past a score flips that pair to 0 (right if it is a negative).
  int64_t correct = std::count(gold.begin(), gold.end(), 1);
  int64_t best = correct;
  double best_threshold = scores[order[0]];   // the lowest score: every pair is called 1
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {   // a tie moves together
      correct += gold[order[j]] == 0 ? 1 : -1;
      ++j;
    }
    if (correct > best) {
      best = correct;
      best_threshold = cut_between(scores[order[i]], j < order.size() ? scores[order[j]] : INFINITY);
    }
    i = j;
  }
  return {best_threshold, ratio(best, static_cast<int64_t>(scores.size()))};
}

std::vector<int> apply_threshold(const std::vector<double>& scores, double threshold) {
  std::vector<int> out(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) out[i] = scores[i] >= threshold ? 1 : 0;
  return out;
}

}  // namespace slimformer
