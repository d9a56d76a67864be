#include "compress/rank.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace slimformer::compress {

std::vector<int64_t> torch_topk_indices(const std::vector<double>& scores, int64_t k, bool largest) {
  const int64_t n = static_cast<int64_t>(scores.size());
  k = std::clamp<int64_t>(k, 0, n);
  if (k == 0) return {};
  using Pair = std::pair<double, int64_t>;
  std::vector<Pair> queue(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) queue[static_cast<size_t>(j)] = {scores[static_cast<size_t>(j)], j};
  auto smaller = [](const Pair& x, const Pair& y) { return x.first < y.first; };
  auto larger = [](const Pair& x, const Pair& y) { return x.first > y.first; };
  if (k * 64 <= n) {
    if (largest) std::partial_sort(queue.begin(), queue.begin() + k, queue.end(), larger);
    else std::partial_sort(queue.begin(), queue.begin() + k, queue.end(), smaller);
  } else {
    if (largest) std::nth_element(queue.begin(), queue.begin() + (k - 1), queue.end(), larger);
    else std::nth_element(queue.begin(), queue.begin() + (k - 1), queue.end(), smaller);
  }
  std::vector<int64_t> out(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(j)] = queue[static_cast<size_t>(j)].second;
  return out;
}

int64_t prune_count(double amount, int64_t n) {
  return static_cast<int64_t>(std::nearbyint(amount * static_cast<double>(n)));
}

}  // namespace slimformer::compress
