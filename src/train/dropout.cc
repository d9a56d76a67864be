#include "train/dropout.h"

#include <string>

#include "core/splitmix.h"
#include "slimformer/error.h"

namespace slimformer::train {

namespace {

void check_probability(double p, const char* where) {
  if (!(p >= 0.0 && p <= 1.0))
    throw InputError(std::string(where) + ": dropout probability must lie in [0, 1], got " + std::to_string(p));
}

// One 64-bit stream key per (seed, step, site). Each mix64 is a bijection, so distinct keys
// differ at every stage; the odd constants keep (0, 0, 0) away from the all-zero state.
uint64_t stream_key(const DropoutKey& key) {
  uint64_t h = rng::mix64(key.seed + rng::kGolden);
  h = rng::mix64(h ^ (key.step + 0xD1B54A32D192ED03ull));
  return rng::mix64(h ^ (key.site + 0x8CB92BA72F3D8DD7ull));
}

// An element is dropped when its top 53 random bits, read as a number in [0, 1), fall below p:
// comparing integers against p * 2^53 makes p = 0 keep all and p = 1 keep none, exactly.
uint64_t drop_threshold(double p) { return static_cast<uint64_t>(p * 0x1.0p53); }

bool keeps(uint64_t stream, uint64_t threshold, int64_t index) {
  // splitmix64's output at position index + 1 of the stream: a counter, not a sequence.
  const uint64_t bits = rng::mix64(stream + (static_cast<uint64_t>(index) + 1) * rng::kGolden);
  return (bits >> 11) >= threshold;
}

// torch scales by a float 1/(1-p) (noise.div_(1 - p) on a float tensor of ones).
float keep_scale(double p) { return 1.0f / static_cast<float>(1.0 - p); }

}  // namespace

bool dropout_keeps(const DropoutKey& key, double p, int64_t index) {
  check_probability(p, "dropout_keeps");
  return keeps(stream_key(key), drop_threshold(p), index);
}

void dropout_forward(float* out, uint8_t* keep_mask, const float* in, int64_t n, double p,
                     const DropoutKey& key) {
  check_probability(p, "dropout_forward");
  const uint64_t stream = stream_key(key);
  const uint64_t threshold = drop_threshold(p);
  const float scale = p < 1.0 ? keep_scale(p) : 0.0f;   // exactly 1 for p = 0: out == in
#pragma omp parallel for schedule(static) if (n >= 16384)
  for (int64_t i = 0; i < n; ++i) {
    const bool kept = keeps(stream, threshold, i);
    keep_mask[i] = kept ? 1 : 0;
    out[i] = kept ? in[i] * scale : 0.0f;
  }
}

void dropout_backward(float* grad_in, const float* grad_out, const uint8_t* keep_mask, int64_t n, double p) {
  check_probability(p, "dropout_backward");
  const float scale = p < 1.0 ? keep_scale(p) : 0.0f;
#pragma omp parallel for schedule(static) if (n >= 16384)
  for (int64_t i = 0; i < n; ++i) grad_in[i] = keep_mask[i] ? grad_out[i] * scale : 0.0f;
}

}  // namespace slimformer::train
