// `performer` (Choromanski et al. 2021, FAVOR+): exp(q.k * scale) estimated by positive
// orthogonal random features phi(x) = exp(w_r.x' - |x'|^2 / 2) / sqrt(m), x' = x sqrt(scale)
// (x / d^(1/4) for the usual scale), so attention regroups as
//   out_i = phi(q_i) S / phi(q_i).z,   S = sum_j phi(k_j) v_j^T (m, d),   z = sum_j phi(k_j) (m)
// Time linear in n, scratch independent of n (docs/attention/performer.md).
//
// Numerics: a constant factor on every phi(k_j) (or on one phi(q_i)) cancels between numerator
// and denominator, and so does 1/sqrt(m). Query features subtract their row's largest exponent
// (|q'|^2 / 2 cancels with it); key features subtract the largest exponent seen so far, and S, z
// are rescaled when a later block raises it (one pass over the keys, every exponent <= 0).
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <string>

#include "attention/approx.h"
#include "attention/approx_common.h"
#include "attention/registry.h"
#include "slimformer/error.h"

namespace slimformer::attention {

std::vector<float> performer_features(uint64_t seed, int layer, uint64_t draw, int64_t m, int64_t d) {
  approx::NormalStream rng(approx::derive_seed(seed, static_cast<uint64_t>(layer), draw, 0x9E4F));
  std::vector<float> w(static_cast<size_t>(m * d));
  std::vector<double> block(static_cast<size_t>(d * d));
  for (int64_t r0 = 0; r0 < m; r0 += d) {
    const int64_t rows = std::min(d, m - r0);
    for (int64_t i = 0; i < rows * d; ++i) block[i] = rng.next();
    // Modified Gram-Schmidt on the rows (double): the first `rows` rows of a Haar-random
    // orthogonal matrix.
    for (int64_t i = 0; i < rows; ++i) {
      double* bi = block.data() + i * d;
      for (int64_t j = 0; j < i; ++j) {
        const double* bj = block.data() + j * d;
        double dot = 0.0;
        for (int64_t c = 0; c < d; ++c) dot += bi[c] * bj[c];
        for (int64_t c = 0; c < d; ++c) bi[c] -= dot * bj[c];
      }
      double norm = 0.0;
      for (int64_t c = 0; c < d; ++c) norm += bi[c] * bi[c];
      const double inv = 1.0 / std::sqrt(norm);
      for (int64_t c = 0; c < d; ++c) bi[c] *= inv;
    }
    // Each row gets the length of an independent Gaussian vector, as an unstructured Gaussian
    // row would have (chi with d degrees of freedom): the estimator stays unbiased.
    for (int64_t i = 0; i < rows; ++i) {
      double len2 = 0.0;
      for (int64_t c = 0; c < d; ++c) {
        const double g = rng.next();
        len2 += g * g;
      }
      const double len = std::sqrt(len2);
      for (int64_t c = 0; c < d; ++c) w[(r0 + i) * d + c] = static_cast<float>(block[i * d + c] * len);
    }
  }
  return w;
}

namespace {

using approx::Head;
using approx::kRowBlock;

// Columns of S (the m feature rows) a block of queries reads together, so those S rows stay in
// L1 while every query of the block takes them.
constexpr int64_t kFeatureChunk = 64;

// Floats one thread works in: S (m, d), z (m), a block of features (kRowBlock, m) and of
// packed rows (kRowBlock, d).
int64_t performer_thread_floats(int64_t m, int64_t d) {
  return approx::padded_floats(m * d + m + kRowBlock * m + kRowBlock * d);
}

struct PerformerHead {
  Head x;
  const float* wt = nullptr;   // (d, m): the features times sqrt(scale), transposed
  int64_t m = 0;
  float scale = 0.0f;
};

// p (count, m) = rows . wt for the given row positions of `src`
SLIM_APPROX_INLINE void project(float* p, const float* src, int64_t stride, const int64_t* pos, int64_t count,
                                const float* wt, int64_t m, int64_t d) {
  std::fill_n(p, count * m, 0.0f);
  for (int64_t t = 0; t < count; ++t) approx::fold_rows(p + t * m, src + pos[t] * stride, 1, wt, m, d, m);
}

SLIM_APPROX_INLINE float max_of(const float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  // No `omp simd reduction(max)`: OpenMP may start each lane at the lowest finite float (clang
  // does), so a run of -inf would come out -FLT_MAX instead of -inf.
  for (int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

// x (n) = e^(x - shift)
SLIM_APPROX_INLINE void exp_shifted(float* x, float shift, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = approx::exp_approx(x[i] - shift);
}

SLIM_APPROX_INLINE void scale_in_place(float* x, float f, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= f;
}

SLIM_APPROX_INLINE void performer_head(const PerformerHead& a, float* work) {
  const Head& x = a.x;
  const int64_t m = a.m, d = x.d;
  float* s = work;                   // (m, d)
  float* z = s + m * d;              // (m)
  float* p = z + m;                  // (kRowBlock, m)
  float* vb = p + kRowBlock * m;     // (kRowBlock, d)
  std::fill_n(s, m * d + m, 0.0f);
  int64_t pos[kRowBlock];

  // Keys: S = sum_j phi(k_j) v_j^T, z = sum_j phi(k_j), each phi(k_j) times e^-shift.
  float shift = -std::numeric_limits<float>::infinity();
  for (int64_t from = 0, count; (count = x.next_tokens(&from, kRowBlock, pos)) > 0;) {
    project(p, x.k, x.in_stride, pos, count, a.wt, m, d);
    for (int64_t t = 0; t < count; ++t) {
      const float* kt = x.k + pos[t] * x.in_stride;
      float norm2 = 0.0f;
#pragma omp simd reduction(+ : norm2)
      for (int64_t c = 0; c < d; ++c) norm2 += kt[c] * kt[c];
      const float half = 0.5f * a.scale * norm2;   // |k'|^2 / 2
      float* pt = p + t * m;
#pragma omp simd
      for (int64_t r = 0; r < m; ++r) pt[r] -= half;
      std::copy_n(x.v + pos[t] * x.in_stride, d, vb + t * d);
    }
    const float block_max = max_of(p, count * m);
    if (block_max > shift) {
      // e^(old shift - new shift) is 0 on the first block, where S and z are still zero
      scale_in_place(s, std::exp(shift - block_max), m * d + m);
      shift = block_max;
    }
    exp_shifted(p, shift, count * m);
    for (int64_t r = 0; r < m; ++r) {
      approx::fold_rows(s + r * d, p + r, m, vb, d, count, d);   // S[r] += sum_t phi_t[r] v_t
    }
    for (int64_t t = 0; t < count; ++t) {
      const float* pt = p + t * m;
#pragma omp simd
      for (int64_t r = 0; r < m; ++r) z[r] += pt[r];
    }
  }

  // Queries, a block at a time: out_i = phi(q_i) S / phi(q_i).z
  float den[kRowBlock];
  for (int64_t from = 0; from < x.n;) {
    const int64_t first = from;
    const int64_t count = x.next_tokens(&from, kRowBlock, pos);
    for (int64_t i = first; i < from; ++i) std::fill_n(x.out + i * x.out_stride, d, 0.0f);   // padding rows: zeros
    if (count == 0) break;
    project(p, x.q, x.in_stride, pos, count, a.wt, m, d);
    for (int64_t t = 0; t < count; ++t) {
      float* pt = p + t * m;
      exp_shifted(pt, max_of(pt, m), m);
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t r = 0; r < m; ++r) sum += pt[r] * z[r];
      den[t] = sum;
    }
    for (int64_t r0 = 0; r0 < m; r0 += kFeatureChunk) {
      const int64_t rows = std::min(kFeatureChunk, m - r0);
      for (int64_t t = 0; t < count; ++t) {
        approx::fold_rows(x.out + pos[t] * x.out_stride, p + t * m + r0, 1, s + r0 * d, d, rows, d);
      }
    }
    for (int64_t t = 0; t < count; ++t) {
      // den > 0 unless every feature underflowed; a sequence of padding only gives zeros
      scale_in_place(x.out + pos[t] * x.out_stride, den[t] > 0.0f ? 1.0f / den[t] : 0.0f, d);
    }
  }
}

SLIM_APPROX_AVX512 void performer_head_avx512(const PerformerHead& a, float* work) { performer_head(a, work); }
SLIM_APPROX_AVX2 void performer_head_avx2(const PerformerHead& a, float* work) { performer_head(a, work); }
void performer_head_portable(const PerformerHead& a, float* work) { performer_head(a, work); }

class PerformerAttention final : public Attention {
 public:
  explicit PerformerAttention(const PerformerOptions& options) : options_(options) {}

  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    if (io.batch == 0 || io.seq == 0 || io.heads == 0) return;
    const int64_t m = options_.features, d = io.head_dim;
    const std::shared_ptr<const std::vector<float>> w = features(io.layer, d);
    const int threads = omp_get_max_threads();
    const int64_t shared = approx::padded_floats(d * m);
    const int64_t per_thread = performer_thread_floats(m, d);
    float* buf = scratch.floats(static_cast<size_t>(shared + threads * per_thread));
    // wt (d, m) = sqrt(scale) W^T: w.x' with x' = sqrt(scale) x
    const float scale = approx::score_scale(io);
    const float root = std::sqrt(scale);
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t c = 0; c < d; ++c) buf[c * m + r] = root * (*w)[r * d + c];
    }
    const auto kernel = approx::pick(performer_head_avx512, performer_head_avx2, performer_head_portable);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < io.batch; ++b) {
      for (int64_t h = 0; h < io.heads; ++h) {
        PerformerHead a;
        a.x = approx::head_of(io, b, h);
        a.wt = buf;
        a.m = m;
        a.scale = scale;
        kernel(a, buf + shared + omp_get_thread_num() * per_thread);
      }
    }
  }

  std::vector<uint8_t> pattern(int64_t n, int /*layer*/) const override {
    return std::vector<uint8_t>(static_cast<size_t>(n * n), 1);   // every token sees every token
  }

  std::string describe() const override {
    return "performer:features=" + std::to_string(options_.features) +
           ",redraw=" + (options_.redraw ? "true" : "false") + ",seed=" + std::to_string(options_.seed);
  }

 private:
  // The layer's features: drawn once per (layer, head_dim) and kept, or drawn afresh on every
  // forward when redraw is on (the n-th forward of this object draws number n).
  std::shared_ptr<const std::vector<float>> features(int layer, int64_t d) const {
    if (options_.redraw) {
      const uint64_t draw = draws_.fetch_add(1) + 1;
      return std::make_shared<const std::vector<float>>(
          performer_features(options_.seed, layer, draw, options_.features, d));
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = kept_[{layer, d}];
    if (!slot) {
      slot = std::make_shared<const std::vector<float>>(performer_features(options_.seed, layer, 0, options_.features, d));
    }
    return slot;
  }

  PerformerOptions options_;
  mutable std::atomic<uint64_t> draws_{0};
  mutable std::mutex mu_;
  mutable std::map<std::pair<int, int64_t>, std::shared_ptr<const std::vector<float>>> kept_;
};

bool parse_bool(const AttentionPart& part, const char* key, bool fallback) {
  const std::string v = part.text(key, fallback ? "true" : "false");
  if (v == "true") return true;
  if (v == "false") return false;
  throw InputError("attention " + part.name + ": " + key + "=" + v + " is not true or false");
}

const bool registered = register_attention(
    {"performer", {"features", "redraw", "seed"},
     "Performer FAVOR+ (Choromanski et al. 2021): positive orthogonal random features, time linear in n",
     [](const AttentionSpec&, const AttentionPart& part, const AttentionContext&) -> std::unique_ptr<Attention> {
       PerformerOptions o;
       o.features = part.integer("features", o.features);
       o.redraw = parse_bool(part, "redraw", o.redraw);
       o.seed = part.seed();
       return make_performer(o);
     }});

}  // namespace

std::unique_ptr<Attention> make_performer(const PerformerOptions& options) {
  // The features are m x head_dim floats per layer: 65536 of them is already far past any use.
  constexpr int64_t kMaxFeatures = 1 << 16;
  if (options.features < 1 || options.features > kMaxFeatures) {
    throw InputError("attention performer: features=" + std::to_string(options.features) +
                     " is out of range (expected an integer from 1 to " + std::to_string(kMaxFeatures) +
                     ": the number of random features m)");
  }
  return std::make_unique<PerformerAttention>(options);
}

}  // namespace slimformer::attention
