// Picking the k smallest (or largest) of n scores exactly as torch.topk does on the CPU, so a
// pruning mask equals PyTorch's one even where scores tie (LayerNorm weights all 1.0, say).
#pragma once
#include <cstdint>
#include <vector>

namespace slimformer::compress {

// The indices of the k smallest scores (largest = true: the k largest), in no particular order.
// torch.topk ranks (score, index) pairs with std::partial_sort when k * 64 <= n and
// std::nth_element otherwise, comparing scores only; the same calls on the same pairs choose the
// same elements among equal scores.
std::vector<int64_t> torch_topk_indices(const std::vector<double>& scores, int64_t k, bool largest);

// torch.nn.utils.prune's count for a fraction: round(amount * n), halves to even (Python's round).
int64_t prune_count(double amount, int64_t n);

}  // namespace slimformer::compress
