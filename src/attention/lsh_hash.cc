#include "attention/lsh_hash.h"

#include "core/splitmix.h"

#include <cmath>
#include <numbers>
#include <vector>

namespace slimformer::attention::lsh {
namespace {

using rng::splitmix64;
using rng::uniform_open0;

float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

void fill_standard_normal(float* out, int64_t count, uint64_t seed, uint64_t a, uint64_t b) {
  // Mixing the key through splitmix64 once per field keeps nearby (a, b) streams apart.
  uint64_t state = seed;
  state = splitmix64(state) ^ a;
  state = splitmix64(state) ^ b;
  // Box-Muller: a few thousand values per forward, so its logs and trigs cost nothing, and
  // unlike std::normal_distribution the values do not depend on the standard library.
  for (int64_t i = 0; i < count; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(uniform_open0(state)));
    const double angle = 2.0 * std::numbers::pi * uniform_open0(state);
    out[i] = static_cast<float>(r * std::cos(angle));
    if (i + 1 < count) out[i + 1] = static_cast<float>(r * std::sin(angle));
  }
}

void random_rotation(float* rot_t, int64_t head_dim, int64_t n_buckets, uint64_t seed, int64_t head,
                     int64_t round) {
  fill_standard_normal(rot_t, (n_buckets / 2) * head_dim, seed, static_cast<uint64_t>(head),
                       static_cast<uint64_t>(round));
}

int32_t bucket_from_projections(const float* y, int64_t n_buckets) {
  const int64_t half = n_buckets / 2;
  // The first maximum of [y, -y] is either the first maximum of y (index k) or the first minimum
  // of y (index half + k); the first half wins a tie because its indices come first.
  int64_t arg_max = 0, arg_min = 0;
  for (int64_t k = 1; k < half; ++k) {
    if (y[k] > y[arg_max]) arg_max = k;
    if (y[k] < y[arg_min]) arg_min = k;
  }
  return static_cast<int32_t>(y[arg_max] >= -y[arg_min] ? arg_max : half + arg_min);
}

int32_t bucket_of(const float* x, const float* rot_t, int64_t head_dim, int64_t n_buckets) {
  std::vector<float> y(static_cast<size_t>(n_buckets / 2));
  for (int64_t k = 0; k < n_buckets / 2; ++k) y[k] = dot(x, rot_t + k * head_dim, head_dim);
  return bucket_from_projections(y.data(), n_buckets);
}

void sort_by_bucket(const int32_t* buckets, int64_t n, int64_t bucket_values, int32_t* counts,
                    int32_t* order) {
  for (int64_t b = 0; b <= bucket_values; ++b) counts[b] = 0;
  for (int64_t t = 0; t < n; ++t) ++counts[buckets[t] + 1];
  for (int64_t b = 0; b < bucket_values; ++b) counts[b + 1] += counts[b];   // counts[b]: start of b
  for (int64_t t = 0; t < n; ++t) order[counts[buckets[t]]++] = static_cast<int32_t>(t);
}

}  // namespace slimformer::attention::lsh
