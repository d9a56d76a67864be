// `linear` (Katharopoulos et al. 2020, "Transformers are RNNs"): softmax's exp(q.k) replaced by
// phi(q).phi(k) with phi(x) = elu(x) + 1, so attention regroups as
//   out_i = phi(q_i) S / phi(q_i).z,   S = sum_j phi(k_j) v_j^T (d, d),   z = sum_j phi(k_j) (d)
// over the tokens j: time linear in n, scratch independent of n (docs/attention/linear.md).
#include <omp.h>

#include <algorithm>
#include <string>

#include "attention/approx.h"
#include "attention/approx_common.h"
#include "attention/registry.h"

namespace slimformer::attention {

namespace {

using approx::Head;

using approx::kRowBlock;

// Floats one thread works in: S (d, d), z (d), a block of feature rows and of value rows (kRowBlock, d).
int64_t linear_thread_floats(int64_t d) { return approx::padded_floats(d * d + d + 2 * kRowBlock * d); }

// out (d) = elu(x) + 1 = x + 1 for x > 0, e^x otherwise
SLIM_APPROX_INLINE void feature_row(float* out, const float* x, int64_t d) {
#pragma omp simd
  for (int64_t c = 0; c < d; ++c) out[c] = x[c] > 0.0f ? x[c] + 1.0f : approx::exp_approx(x[c]);
}

SLIM_APPROX_INLINE void linear_head(const Head& x, float* work) {
  const int64_t d = x.d;
  float* s = work;           // (d, d): sum_j phi(k_j) v_j^T
  float* z = s + d * d;      // (d): sum_j phi(k_j)
  float* phi = z + d;        // (kRowBlock, d): features of a block of keys, then of one query
  float* vb = phi + kRowBlock * d;   // (kRowBlock, d): their values
  std::fill_n(s, d * d + d, 0.0f);
  int64_t pos[kRowBlock];
  for (int64_t from = 0, count; (count = x.next_tokens(&from, kRowBlock, pos)) > 0;) {
    for (int64_t t = 0; t < count; ++t) {
      feature_row(phi + t * d, x.k + pos[t] * x.in_stride, d);
      std::copy_n(x.v + pos[t] * x.in_stride, d, vb + t * d);
    }
    for (int64_t c = 0; c < d; ++c) {
      approx::fold_rows(s + c * d, phi + c, d, vb, d, count, d);   // S[c] += sum_t phi_t[c] v_t
      float sum = 0.0f;
      for (int64_t t = 0; t < count; ++t) sum += phi[t * d + c];
      z[c] += sum;
    }
  }
  for (int64_t i = 0; i < x.n; ++i) {
    float* o = x.out + i * x.out_stride;
    std::fill_n(o, d, 0.0f);   // padding rows get defined zeros
    if (!x.token(i)) continue;
    feature_row(phi, x.q + i * x.in_stride, d);
    float den = 0.0f;
#pragma omp simd reduction(+ : den)
    for (int64_t c = 0; c < d; ++c) den += phi[c] * z[c];
    approx::fold_rows(o, phi, 1, s, d, d, d);   // o = phi(q) S
    // den > 0 whenever a token exists (phi > 0); a sequence of padding only gives zeros
    const float inv = den > 0.0f ? 1.0f / den : 0.0f;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) o[e] *= inv;
  }
}

SLIM_APPROX_AVX512 void linear_head_avx512(const Head& x, float* work) { linear_head(x, work); }
SLIM_APPROX_AVX2 void linear_head_avx2(const Head& x, float* work) { linear_head(x, work); }
void linear_head_portable(const Head& x, float* work) { linear_head(x, work); }

class LinearAttention final : public Attention {
 public:
  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    if (io.batch == 0 || io.seq == 0 || io.heads == 0) return;
    const int threads = omp_get_max_threads();
    const int64_t per_thread = linear_thread_floats(io.head_dim);
    float* buf = scratch.floats(static_cast<size_t>(threads * per_thread));
    const auto kernel = approx::pick(linear_head_avx512, linear_head_avx2, linear_head_portable);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < io.batch; ++b) {
      for (int64_t h = 0; h < io.heads; ++h) {
        kernel(approx::head_of(io, b, h), buf + omp_get_thread_num() * per_thread);
      }
    }
  }

  std::vector<uint8_t> pattern(int64_t n, int /*layer*/) const override {
    return std::vector<uint8_t>(static_cast<size_t>(n * n), 1);   // every token sees every token
  }

  std::string describe() const override { return "linear"; }
};

const bool registered = register_attention(
    {"linear", {}, "linear attention (Katharopoulos et al. 2020): elu+1 feature map, time linear in n",
     [](const AttentionSpec&, const AttentionPart&, const AttentionContext&) -> std::unique_ptr<Attention> {
       return make_linear_attention();
     }});

}  // namespace

std::unique_ptr<Attention> make_linear_attention() { return std::make_unique<LinearAttention>(); }

}  // namespace slimformer::attention
