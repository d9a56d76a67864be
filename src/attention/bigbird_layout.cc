#include "attention/bigbird_layout.h"

#include <algorithm>
#include <cassert>

#include "core/splitmix.h"

namespace slimformer::attention {

namespace {

// splitmix64 (core/splitmix.h): the same numbers on every platform, so a seed names the same
// pattern everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() { return rng::splitmix64(state_); }
  // Uniform in [0, n), without modulo bias.
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t x = next();
      if (x >= threshold) return x % n;
    }
  }

 private:
  uint64_t state_;
};

}  // namespace

bool bigbird_random_block_allowed(int64_t qb, int64_t key_block, int64_t nb) {
  if (key_block <= 0 || key_block >= nb - 1) return false;
  if (key_block >= qb - 1 && key_block <= qb + 1) return false;
  if (qb == 1 && key_block == nb - 2) return false;
  if (qb == nb - 2 && key_block == 1) return false;
  return true;
}

int64_t bigbird_min_sparse_tokens(const BigBirdParams& p) { return (5 + 2 * p.num_random_blocks) * p.block_size; }

BigBirdLayout::BigBirdLayout(const BigBirdParams& p, int64_t seq, int layer)
    : p_(p), layer_(layer), seq_(seq), b_(p.block_size), nb_((seq + p.block_size - 1) / p.block_size),
      r_(p.num_random_blocks) {
  assert(bigbird_is_sparse(seq, p));
}

void BigBirdLayout::random_blocks(int64_t qb, int64_t head, std::vector<int64_t>& out) const {
  out.clear();
  if (p_.random == BigBirdRandom::FirstBlock) {
    out.assign(static_cast<size_t>(r_), 0);
    return;
  }
  // seq > (5 + 2r) b gives nb >= 2r + 6, so a row has at least nb - 6 >= 2r allowed blocks:
  // drawing uniformly and redrawing the disallowed and the already drawn ends quickly.
  using rng::mix64;
  const uint64_t key = mix64(mix64(mix64(p_.seed ^ 0x6269676269726421ull) ^ uint64_t(layer_)) ^ uint64_t(head));
  SplitMix64 stream(key ^ uint64_t(qb));
  while (static_cast<int64_t>(out.size()) < r_) {
    const int64_t j = 1 + static_cast<int64_t>(stream.below(uint64_t(nb_ - 2)));
    if (bigbird_random_block_allowed(qb, j, nb_) && std::find(out.begin(), out.end(), j) == out.end()) {
      out.push_back(j);
    }
  }
}

void BigBirdLayout::key_blocks(int64_t qb, int64_t head, std::vector<int64_t>& out) const {
  std::vector<int64_t> random;
  random_blocks(qb, head, random);
  out.clear();
  out.push_back(0);
  for (int64_t j = std::max<int64_t>(1, qb - 1); j <= std::min(nb_ - 2, qb + 1); ++j) out.push_back(j);
  out.push_back(nb_ - 1);
  out.insert(out.end(), random.begin(), random.end());
}

}  // namespace slimformer::attention
