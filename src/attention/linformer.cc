// `linformer` (Wang et al. 2020): keys and values projected along the sequence to k rows,
//   K' = E K, V' = F V (E, F: (k, n)),   out = softmax(scale Q K'^T) V'
// so the scores are (n, k) instead of (n, n). Padding keys are zeroed before projecting (they
// are left out of the sums), which makes E[:, :n] K independent of how much padding follows.
// Without trained projections E and F are seeded Gaussians, std 1/sqrt(k), kept per layer and
// grown with the longest sequence seen (docs/attention/linformer.md).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <string>

#include "attention/approx.h"
#include "attention/approx_common.h"
#include "attention/registry.h"
#include "slimformer/error.h"
#include "slimformer/tensor.h"

namespace slimformer::attention {

namespace {

using approx::Head;
using approx::kRowBlock;

// One layer's projections, transposed to (length, k) so that position j's k coefficients are
// one row. e and f hold one matrix (shared by every head) or one per head; with key-value
// sharing both point at the same matrix. Held in counting-allocator memory: they grow with the
// sequence length, so peak activation memory shows them.
using Matrix = std::shared_ptr<const Tensor>;
struct Projections {
  int64_t length = 0;
  std::vector<Matrix> e, f;
};

// et (n, k): row j of the seeded projection, drawn from its own seed so rows never depend on n.
void fill_projection(float* et, uint64_t seed, int layer, int64_t matrix, int64_t k, int64_t n) {
  const double std_dev = 1.0 / std::sqrt(static_cast<double>(k));
  for (int64_t j = 0; j < n; ++j) {
    approx::NormalStream rng(approx::derive_seed(seed, static_cast<uint64_t>(layer), static_cast<uint64_t>(matrix),
                                                 static_cast<uint64_t>(j)));
    for (int64_t r = 0; r < k; ++r) et[j * k + r] = static_cast<float>(std_dev * rng.next());
  }
}

// Rows of Q.K'^T-side work (K'^T) a block of queries reads together, and rows of V'.
constexpr int64_t kDimChunk = 16;
constexpr int64_t kProjectedChunk = 64;

struct LinformerHead {
  Head x;
  const float* et = nullptr;   // (>= n, k)
  const float* ft = nullptr;   // (>= n, k); may equal et
  int64_t k = 0;
  float scale = 0.0f;
};

// Floats one thread works in: K', V' (k, d), K'^T (d, k), a block of E, F rows (kRowBlock, k),
// of key and value rows (kRowBlock, d) and of scores (kRowBlock, k).
int64_t linformer_thread_floats(int64_t k, int64_t d) {
  return approx::padded_floats(3 * k * d + 3 * kRowBlock * k + 2 * kRowBlock * d);
}

SLIM_APPROX_INLINE void linformer_head(const LinformerHead& a, float* work) {
  const Head& x = a.x;
  const int64_t k = a.k, d = x.d;
  float* kp = work;                   // (k, d): K' = E K
  float* vp = kp + k * d;             // (k, d): V' = F V
  float* kpt = vp + k * d;            // (d, k): scale K'^T
  float* eb = kpt + d * k;            // (kRowBlock, k)
  float* fb = eb + kRowBlock * k;     // (kRowBlock, k)
  float* sb = fb + kRowBlock * k;     // (kRowBlock, k)
  float* kb = sb + kRowBlock * k;     // (kRowBlock, d)
  float* vb = kb + kRowBlock * d;     // (kRowBlock, d)
  std::fill_n(kp, 2 * k * d, 0.0f);
  int64_t pos[kRowBlock];

  // K' = sum_j E[:, j] k_j^T, V' = sum_j F[:, j] v_j^T over the tokens j
  const bool shared_ef = a.et == a.ft;
  for (int64_t from = 0, count; (count = x.next_tokens(&from, kRowBlock, pos)) > 0;) {
    for (int64_t t = 0; t < count; ++t) {
      std::copy_n(x.k + pos[t] * x.in_stride, d, kb + t * d);
      std::copy_n(x.v + pos[t] * x.in_stride, d, vb + t * d);
      std::copy_n(a.et + pos[t] * k, k, eb + t * k);
      if (!shared_ef) std::copy_n(a.ft + pos[t] * k, k, fb + t * k);
    }
    const float* fcoef = shared_ef ? eb : fb;
    for (int64_t r = 0; r < k; ++r) {
      approx::fold_rows(kp + r * d, eb + r, k, kb, d, count, d);
      approx::fold_rows(vp + r * d, fcoef + r, k, vb, d, count, d);
    }
  }
  for (int64_t r = 0; r < k; ++r) {
    for (int64_t c = 0; c < d; ++c) kpt[c * k + r] = a.scale * kp[r * d + c];
  }

  // Queries, a block at a time: s = scale q K'^T (k), out = softmax(s) V'
  float inv[kRowBlock];
  for (int64_t from = 0; from < x.n;) {
    const int64_t first = from;
    const int64_t count = x.next_tokens(&from, kRowBlock, pos);
    for (int64_t i = first; i < from; ++i) std::fill_n(x.out + i * x.out_stride, d, 0.0f);   // padding rows: zeros
    if (count == 0) break;
    std::fill_n(sb, count * k, 0.0f);
    for (int64_t c0 = 0; c0 < d; c0 += kDimChunk) {
      const int64_t rows = std::min(kDimChunk, d - c0);
      for (int64_t t = 0; t < count; ++t) {
        approx::fold_rows(sb + t * k, x.q + pos[t] * x.in_stride + c0, 1, kpt + c0 * k, k, rows, k);
      }
    }
    for (int64_t t = 0; t < count; ++t) {
      float* st = sb + t * k;
      float mx = st[0];
      for (int64_t r = 1; r < k; ++r) mx = std::max(mx, st[r]);
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t r = 0; r < k; ++r) {
        st[r] = approx::exp_approx(st[r] - mx);
        sum += st[r];
      }
      inv[t] = 1.0f / sum;   // sum >= 1: the largest term is e^0
    }
    for (int64_t r0 = 0; r0 < k; r0 += kProjectedChunk) {
      const int64_t rows = std::min(kProjectedChunk, k - r0);
      for (int64_t t = 0; t < count; ++t) {
        approx::fold_rows(x.out + pos[t] * x.out_stride, sb + t * k + r0, 1, vp + r0 * d, d, rows, d);
      }
    }
    for (int64_t t = 0; t < count; ++t) {
      float* o = x.out + pos[t] * x.out_stride;
      const float f = inv[t];
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) o[c] *= f;
    }
  }
}

SLIM_APPROX_AVX512 void linformer_head_avx512(const LinformerHead& a, float* work) { linformer_head(a, work); }
SLIM_APPROX_AVX2 void linformer_head_avx2(const LinformerHead& a, float* work) { linformer_head(a, work); }
void linformer_head_portable(const LinformerHead& a, float* work) { linformer_head(a, work); }

const char* sharing_name(LinformerSharing s) {
  switch (s) {
    case LinformerSharing::Layer: return "layer";
    case LinformerSharing::Head: return "head";
    case LinformerSharing::None: return "none";
  }
  return "layer";
}

class LinformerAttention final : public Attention {
 public:
  // Seeded projections, drawn per layer as sequences need them.
  explicit LinformerAttention(const LinformerOptions& options) : options_(options) {}
  // Given projections, the same for every layer.
  LinformerAttention(int64_t k, std::shared_ptr<const Projections> given) : given_(std::move(given)) {
    options_.k = k;
  }

  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    if (io.batch == 0 || io.seq == 0 || io.heads == 0) return;
    const int64_t k = options_.k, d = io.head_dim;
    if (k > io.seq) {
      throw InputError("attention linformer: k=" + std::to_string(k) + " is larger than the sequence length n=" +
                       std::to_string(io.seq) + " (expected 1 <= k <= n: keys are projected to k rows)");
    }
    const std::shared_ptr<const Projections> proj = given_ ? given_ : seeded(io.layer, io.seq, io.heads);
    if (proj->length < io.seq) {
      throw InputError("attention linformer: the given projections cover " + std::to_string(proj->length) +
                       " positions, the sequence has n=" + std::to_string(io.seq));
    }
    const auto heads_ok = [&](size_t count) { return count == 1 || count == static_cast<size_t>(io.heads); };
    if (!heads_ok(proj->e.size()) || !heads_ok(proj->f.size())) {
      throw InputError("attention linformer: the given projections are for " + std::to_string(proj->e.size()) +
                       " heads, the layer has " + std::to_string(io.heads) + " (expected 1, shared, or one per head)");
    }
    const int threads = omp_get_max_threads();
    const int64_t per_thread = linformer_thread_floats(k, d);
    float* buf = scratch.floats(static_cast<size_t>(threads * per_thread));
    const float scale = approx::score_scale(io);
    const auto kernel = approx::pick(linformer_head_avx512, linformer_head_avx2, linformer_head_portable);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < io.batch; ++b) {
      for (int64_t h = 0; h < io.heads; ++h) {
        LinformerHead a;
        a.x = approx::head_of(io, b, h);
        a.et = proj->e[proj->e.size() == 1 ? 0 : h]->data<float>();
        a.ft = proj->f[proj->f.size() == 1 ? 0 : h]->data<float>();
        a.k = k;
        a.scale = scale;
        kernel(a, buf + omp_get_thread_num() * per_thread);
      }
    }
  }

  std::vector<uint8_t> pattern(int64_t n, int /*layer*/) const override {
    if (options_.k > n) {   // the same refusal as forward()
      throw InputError("attention linformer: k=" + std::to_string(options_.k) + " is larger than the sequence length n=" +
                       std::to_string(n) + " (expected 1 <= k <= n: keys are projected to k rows)");
    }
    return std::vector<uint8_t>(static_cast<size_t>(n * n), 1);   // every token sees every token
  }

  std::string describe() const override {
    if (given_) return "linformer:k=" + std::to_string(options_.k) + ",projections=given";
    return "linformer:k=" + std::to_string(options_.k) + ",sharing=" + sharing_name(options_.sharing) +
           ",seed=" + std::to_string(options_.seed);
  }

 private:
  // The layer's seeded projections covering at least n positions. Grown in place of the old
  // ones (same first rows: each row is drawn from its own seed), so memory follows the longest
  // sequence seen; a forward holding the old ones keeps them alive until it ends.
  std::shared_ptr<const Projections> seeded(int layer, int64_t n, int64_t heads) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<const Projections>& slot = layers_[layer];
    const int64_t matrices = options_.sharing == LinformerSharing::Layer  ? 1
                             : options_.sharing == LinformerSharing::Head ? 2
                                                                          : 2 * heads;
    const size_t per_head = options_.sharing == LinformerSharing::None ? static_cast<size_t>(heads) : 1;
    if (slot && slot->length >= n && slot->e.size() == per_head) return slot;
    const int64_t k = options_.k;
    slot.reset();   // the old rows are drawn again below: never hold both
    std::vector<Matrix> drawn;
    for (int64_t mtx = 0; mtx < matrices; ++mtx) {
      auto et = std::make_shared<Tensor>(Tensor::empty({n, k}));
      fill_projection(et->data<float>(), options_.seed, layer, mtx, k, n);
      drawn.push_back(std::move(et));
    }
    auto p = std::make_shared<Projections>();
    p->length = n;
    if (options_.sharing == LinformerSharing::Layer) {
      p->e = {drawn[0]};
      p->f = {drawn[0]};
    } else {
      for (size_t i = 0; i < drawn.size(); i += 2) {
        p->e.push_back(drawn[i]);
        p->f.push_back(drawn[i + 1]);
      }
    }
    slot = p;
    return slot;
  }

  LinformerOptions options_;
  std::shared_ptr<const Projections> given_;
  mutable std::mutex mu_;
  mutable std::map<int, std::shared_ptr<const Projections>> layers_;
};

const bool registered = register_attention(
    {"linformer", {"k", "sharing", "seed"},
     "Linformer (Wang et al. 2020): keys and values projected along the sequence to k rows, time linear in n",
     [](const AttentionSpec&, const AttentionPart& part, const AttentionContext&) -> std::unique_ptr<Attention> {
       LinformerOptions o;
       o.k = part.integer("k", o.k);
       const std::string sharing = part.text("sharing", "layer");
       if (sharing == "layer") {
         o.sharing = LinformerSharing::Layer;
       } else if (sharing == "head") {
         o.sharing = LinformerSharing::Head;
       } else if (sharing == "none") {
         o.sharing = LinformerSharing::None;
       } else {
         throw InputError("attention linformer: sharing=" + sharing + " is not one of layer, head, none");
       }
       o.seed = part.seed();
       return make_linformer(o);
     }});

}  // namespace

std::vector<float> linformer_projection(uint64_t seed, int layer, int64_t matrix, int64_t k, int64_t n) {
  std::vector<float> et(static_cast<size_t>(n * k));
  fill_projection(et.data(), seed, layer, matrix, k, n);
  return et;
}

std::unique_ptr<Attention> make_linformer(const LinformerOptions& options) {
  if (options.k < 1) {
    throw InputError("attention linformer: k=" + std::to_string(options.k) +
                     " is out of range (expected an integer >= 1: the projected length)");
  }
  return std::make_unique<LinformerAttention>(options);
}

std::unique_ptr<Attention> make_linformer_with(int64_t k, int64_t length, std::vector<std::vector<float>> e,
                                               std::vector<std::vector<float>> f) {
  if (k < 1 || length < 1) {
    throw InputError("attention linformer: given projections of k=" + std::to_string(k) + " rows and " +
                     std::to_string(length) + " positions (expected both >= 1)");
  }
  if (e.empty() || e.size() != f.size()) {
    throw InputError("attention linformer: " + std::to_string(e.size()) + " E and " + std::to_string(f.size()) +
                     " F projections given (expected the same number, at least 1)");
  }
  auto p = std::make_shared<Projections>();
  p->length = length;
  for (size_t i = 0; i < e.size(); ++i) {
    for (const std::vector<float>* m : {&e[i], &f[i]}) {
      if (static_cast<int64_t>(m->size()) != k * length) {
        throw InputError("attention linformer: a given projection has " + std::to_string(m->size()) +
                         " values (expected k x length = " + std::to_string(k * length) + ")");
      }
    }
    // (k, length) as the paper writes E -> (length, k), one row per position
    const auto transposed = [&](const std::vector<float>& m) {
      auto t = std::make_shared<Tensor>(Tensor::empty({length, k}));
      float* et = t->data<float>();
      for (int64_t r = 0; r < k; ++r) {
        for (int64_t j = 0; j < length; ++j) et[j * k + r] = m[r * length + j];
      }
      return Matrix(std::move(t));
    };
    p->e.push_back(transposed(e[i]));
    p->f.push_back(transposed(f[i]));
  }
  return std::make_unique<LinformerAttention>(k, std::move(p));
}

}  // namespace slimformer::attention
