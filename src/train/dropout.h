// Seeded dropout whose masks depend only on (seed, step, site, element index): each element's
// random bits come from a counter-based generator (splitmix64 at position `index` of a stream
// keyed by seed, step and site), never from a sequential stream, so any thread count, chunking
// or recomputation gives the same mask. Kept elements are scaled by 1 / (1 - p), as torch's
// nn.Dropout does in training.
#pragma once
#include <cstdint>

namespace slimformer::train {

struct DropoutKey {
  uint64_t seed = 0;   // the run's seed
  uint64_t step = 0;   // the optimizer step (or micro-batch) the forward belongs to
  uint64_t site = 0;   // which dropout in the model: number each one uniquely, e.g. 4 * layer + k
};

// Whether element `index` survives dropout with probability p under `key` (the mask entry that
// dropout_forward writes). Probability of true: 1 - p.
bool dropout_keeps(const DropoutKey& key, double p, int64_t index);

// out (n), keep_mask (n: 1 kept, 0 dropped), in (n); out may be in. out = in * 1/(1-p) where kept,
// 0 elsewhere; p = 0 copies in unchanged, p = 1 gives zeros. InputError unless 0 <= p <= 1.
void dropout_forward(float* out, uint8_t* keep_mask, const float* in, int64_t n, double p,
                     const DropoutKey& key);

// grad_in (n), grad_out (n), keep_mask (n) as dropout_forward wrote it with the same p;
// grad_in may be grad_out. grad_in = grad_out * 1/(1-p) where kept, 0 elsewhere.
void dropout_backward(float* grad_in, const float* grad_out, const uint8_t* keep_mask, int64_t n, double p);

}  // namespace slimformer::train
