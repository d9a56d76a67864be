// `full`: the reference mechanism. Materializes the (heads, n, n) scores of a few sequences at a
// time: two batched products (Q.K^T with the padding mask fused, then P.V) around a row softmax.
// Fast for short sequences, quadratic in memory: the yardstick every other mechanism is held to.
#include <algorithm>
#include <cmath>

#include "attention/registry.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"

namespace slimformer::attention {

namespace {

// Scores for at most this many floats at once (32 MiB): all of a batch of 8 x 128 tokens fits;
// long or large batches run a few sequences (at least one) at a time.
constexpr int64_t kMaxScoreFloats = int64_t{8} << 20;

class FullAttention final : public Attention {
 public:
  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    const int64_t T = io.seq, h = io.heads, hd = io.head_dim;
    if (io.batch == 0 || T == 0) return;
    const int64_t per_seq = h * T * T;
    const int64_t chunk = std::clamp<int64_t>(kMaxScoreFloats / per_seq, 1, io.batch);
    float* buf = scratch.floats(static_cast<size_t>(io.batch * T + chunk * per_seq));
    float* add_mask = buf;                 // (B, T): 0 for tokens, kMaskedScore for padding
    float* scores = buf + io.batch * T;    // (chunk, h, T, T)
    if (io.mask) {
      kernels::additive_mask(add_mask, io.mask, io.batch, T);
    } else {
      std::fill_n(add_mask, io.batch * T, 0.0f);
    }
    const float scale = io.scale != 0.0f ? io.scale : 1.0f / std::sqrt(static_cast<float>(hd));
    const int64_t ld = io.in_row_stride, ldo = io.out_row_stride;
    for (int64_t b0 = 0; b0 < io.batch; b0 += chunk) {
      const int64_t nb = std::min(chunk, io.batch - b0);
      const int64_t off = b0 * T * ld;
      // scores (nb, h, T, T) = scale * q . k^T + mask[b] on every row
      kernels::gemm_batched_f32(true, nb, h, T, T, hd, scale, io.q + off, ld, {T * ld, hd}, io.k + off, ld,
                                {T * ld, hd}, scores, T, {h * T * T, T * T}, add_mask + b0 * T);
      kernels::softmax_masked(scores, nullptr, nb * h * T, T);
      // out (nb, T, h, d) = p (nb, h, T, T) . v (nb, T, h, d)
      kernels::gemm_batched_f32(false, nb, h, T, hd, T, 1.0f, scores, T, {h * T * T, T * T}, io.v + off, ld,
                                {T * ld, hd}, io.out + b0 * T * ldo, ldo, {T * ldo, hd});
    }
  }
  std::string describe() const override { return "full"; }
};

const bool registered = register_attention(
    {"full", {}, "reference: materializes the n x n scores (quadratic memory)",
     [](const AttentionSpec&, const AttentionPart&, const AttentionContext&) -> std::unique_ptr<Attention> {
       return std::make_unique<FullAttention>();
     }});

}  // namespace

}  // namespace slimformer::attention
