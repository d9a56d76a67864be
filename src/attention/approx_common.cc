#include "attention/approx_common.h"

#include <cmath>
#include <numbers>

#include "core/splitmix.h"

namespace slimformer::attention::approx {

Head head_of(const AttentionIO& io, int64_t b, int64_t h) {
  Head x;
  const int64_t in_offset = b * io.seq * io.in_row_stride + h * io.head_dim;
  x.q = io.q + in_offset;
  x.k = io.k + in_offset;
  x.v = io.v + in_offset;
  x.out = io.out + b * io.seq * io.out_row_stride + h * io.head_dim;
  x.in_stride = io.in_row_stride;
  x.out_stride = io.out_row_stride;
  x.mask = io.mask ? io.mask + b * io.seq : nullptr;
  x.n = io.seq;
  x.d = io.head_dim;
  return x;
}

float score_scale(const AttentionIO& io) {
  return io.scale != 0.0f ? io.scale : 1.0f / std::sqrt(static_cast<float>(io.head_dim));
}

uint64_t NormalStream::bits() { return rng::splitmix64(state_); }

double NormalStream::next() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1)
  const double u1 = static_cast<double>((bits() >> 11) + 1) * 0x1.0p-53;
  const double u2 = static_cast<double>(bits() >> 11) * 0x1.0p-53;
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t s = seed;
  for (uint64_t part : {a, b, c}) {
    // splitmix64 finalizer over the running value and the next coordinate
    s = rng::mix64(s ^ (part + rng::kGolden + (s << 6) + (s >> 2)));
  }
  return s;
}

}  // namespace slimformer::attention::approx
