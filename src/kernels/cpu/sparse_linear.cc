// SparseLinear: compressed rows (CSR over output features, cut into column blocks) against a
// transposed tile of tokens.
// docs/sparse.md has the layout and the measurements (speed-up over PackedLinear, crossover).
#include "kernels/cpu/sparse_linear.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/sparse_tiles.h"
#include "slimformer/error.h"

namespace slimformer::kernels {

struct SparseLinear::Impl {
  int64_t N = 0, K = 0;
  Epilogue epilogue = Epilogue::None;
  int64_t nkb = 1;                // column blocks of sparse::kKBlock
  std::vector<int64_t> seg;       // N * nkb + 1 offsets (sparse_tiles.h)
  std::vector<uint16_t> col16;    // used when K <= 65536: index bytes are a third of the traffic
  std::vector<uint32_t> col32;
  std::vector<float> val, bias;   // bias: N (zeros when none was given)
};

namespace {

constexpr int64_t kRowChunk = 64;   // output features per work item: 64 x 32 accumulators = 8 KiB
constexpr int64_t kDotMaxTokens = 1;   // up to this many tokens, per-token gather-dots (rows_dot)

std::string dims(int64_t N, int64_t K) { return std::to_string(N) + "x" + std::to_string(K); }

void check_dims(const char* who, int64_t N, int64_t K) {
  if (N < 0 || K < 0)
    throw InputError(std::string(who) + ": N and K must be >= 0, got N=" + std::to_string(N) +
                     " K=" + std::to_string(K));
}

std::shared_ptr<SparseLinear::Impl> start_impl(const float* bias, int64_t N, int64_t K, Epilogue e) {
  auto im = std::make_shared<SparseLinear::Impl>();
  im->N = N;
  im->K = K;
  im->epilogue = e;
  im->nkb = std::max<int64_t>(1, (K + sparse::kKBlock - 1) / sparse::kKBlock);
  im->seg.assign(N * im->nkb + 1, 0);
  im->bias.assign(N, 0.0f);
  if (bias) std::copy_n(bias, N, im->bias.begin());
  return im;
}

// Call before row n's nonzero at column k (in increasing k), and with k = K after its last: fills
// the starts of the row's blocks up to k's.
void mark_blocks(SparseLinear::Impl& im, int64_t n, int64_t k, int64_t* next_block) {
  const int64_t upto = std::min(k / sparse::kKBlock, im.nkb - 1);
  for (; *next_block <= upto; ++*next_block) im.seg[n * im.nkb + *next_block] = static_cast<int64_t>(im.val.size());
}

void push_nonzero(SparseLinear::Impl& im, int64_t k, float v) {
  if (im.K <= 65536) im.col16.push_back(static_cast<uint16_t>(k));
  else im.col32.push_back(static_cast<uint32_t>(k));
  im.val.push_back(v);
}

// z (nr) = W[n0:n0+nr, :] . x (K) + bias for one token: a gather-dot per row, four partial sums.
// Below a handful of tokens this beats a tile, most of whose lanes would be padding.
template <class Idx>
void rows_dot(float* z, const float* x, const SparseLinear::Impl& im, const Idx* col, int64_t n0, int64_t nr) {
  const float* val = im.val.data();
  for (int64_t r = 0; r < nr; ++r) {
    const int64_t n = n0 + r;
    int64_t p = im.seg[n * im.nkb];
    const int64_t e = im.seg[(n + 1) * im.nkb];
    float a = 0.0f, b = 0.0f, c = 0.0f, d = 0.0f;
    for (; p + 4 <= e; p += 4) {
      a += val[p] * x[col[p]];
      b += val[p + 1] * x[col[p + 1]];
      c += val[p + 2] * x[col[p + 2]];
      d += val[p + 3] * x[col[p + 3]];
    }
    for (; p < e; ++p) a += val[p] * x[col[p]];
    z[r] = (a + b) + (c + d) + im.bias[n];
  }
}

}  // namespace

namespace sparse {
// MB = 8 in plain loops (vectorized by the compiler for the baseline target).
void tile8_portable(float* acc, const float* T, const Rows& w, int64_t n0, int64_t n1, int64_t kb) {
  for (int64_t n = n0; n < n1; ++n) {
    float a[8];
    std::memcpy(a, acc + (n - n0) * 8, sizeof a);
    for (int64_t p = w.seg[n * w.nkb + kb]; p < w.seg[n * w.nkb + kb + 1]; ++p) {
      const float* t = T + (w.col16 ? int64_t(w.col16[p]) : int64_t(w.col32[p])) * 8;
      const float v = w.val[p];
      for (int j = 0; j < 8; ++j) a[j] += v * t[j];
    }
    std::memcpy(acc + (n - n0) * 8, a, sizeof a);
  }
}
}  // namespace sparse

SparseEncoding encode_sparse(const float* w, int64_t N, int64_t K) {
  check_dims("encode_sparse", N, K);
  const int64_t total = N * K;
  SparseEncoding enc;
  enc.mask.assign((total + 7) / 8, 0);
  for (int64_t i = 0; i < total; ++i) {
    if (w[i] == 0.0f) continue;
    enc.mask[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    enc.values.push_back(w[i]);
  }
  return enc;
}

void check_sparse_encoding(const SparseEncoding& enc, int64_t N, int64_t K, const std::string& what) {
  check_dims(what.c_str(), N, K);
  const int64_t total = N * K;
  const size_t want = static_cast<size_t>((total + 7) / 8);
  if (enc.mask.size() != want)
    throw InputError(what + ": sparse mask has " + std::to_string(enc.mask.size()) + " bytes, expected " +
                     std::to_string(want) + " for a " + dims(N, K) + " weight");
  if (total % 8 != 0 && (enc.mask.back() >> (total % 8)) != 0)
    throw InputError(what + ": sparse mask sets bits past the " + std::to_string(total) +
                     " entries of a " + dims(N, K) + " weight");
  size_t count = 0;
  for (uint8_t b : enc.mask) count += std::popcount(static_cast<unsigned>(b));
  if (count != enc.values.size())
    throw InputError(what + ": sparse mask marks " + std::to_string(count) + " nonzeros but " +
                     std::to_string(enc.values.size()) + " values are stored");
}

void decode_sparse(float* w, const SparseEncoding& enc, int64_t N, int64_t K) {
  check_sparse_encoding(enc, N, K, "decode_sparse");
  size_t next = 0;
  for (int64_t i = 0; i < N * K; ++i)
    w[i] = (enc.mask[i / 8] >> (i % 8)) & 1u ? enc.values[next++] : 0.0f;
}

SparseLinear::SparseLinear() = default;

SparseLinear::SparseLinear(const float* weight, const float* bias, int64_t N, int64_t K, Epilogue epilogue) {
  check_dims("SparseLinear", N, K);
  if (weight == nullptr && N > 0 && K > 0)
    throw InputError("SparseLinear: weight is null for a " + dims(N, K) + " layer");
  auto im = start_impl(bias, N, K, epilogue);
  for (int64_t n = 0; n < N; ++n) {
    int64_t next_block = 0;
    for (int64_t k = 0; k < K; ++k) {
      if (weight[n * K + k] == 0.0f) continue;
      mark_blocks(*im, n, k, &next_block);
      push_nonzero(*im, k, weight[n * K + k]);
    }
    mark_blocks(*im, n, K + sparse::kKBlock * im->nkb, &next_block);
  }
  im->seg[N * im->nkb] = static_cast<int64_t>(im->val.size());
  impl_ = std::move(im);
}

SparseLinear SparseLinear::from_encoding(const SparseEncoding& enc, const float* bias, int64_t N, int64_t K,
                                         Epilogue epilogue) {
  check_sparse_encoding(enc, N, K, "SparseLinear::from_encoding");
  auto im = start_impl(bias, N, K, epilogue);
  im->val.reserve(enc.values.size());
  size_t next = 0;
  for (int64_t n = 0; n < N; ++n) {
    int64_t next_block = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t i = n * K + k;
      if (!((enc.mask[i / 8] >> (i % 8)) & 1u)) continue;
      mark_blocks(*im, n, k, &next_block);
      push_nonzero(*im, k, enc.values[next++]);
    }
    mark_blocks(*im, n, K + sparse::kKBlock * im->nkb, &next_block);
  }
  im->seg[N * im->nkb] = static_cast<int64_t>(im->val.size());
  SparseLinear out;
  out.impl_ = std::move(im);
  return out;
}

void SparseLinear::forward(float* out, const float* in, int64_t M, bool accumulate) const {
  if (!impl_) throw InputError("SparseLinear::forward on an empty SparseLinear");
  if (M < 0) throw InputError("SparseLinear::forward: M must be >= 0, got " + std::to_string(M));
  const Impl& im = *impl_;
  const int64_t N = im.N, K = im.K;
  if (M == 0 || N == 0) return;

  // The widest tile the active ISA has, halved when the tokens would fill less than half of it.
  sparse::TileFn tile = sparse::tile8_portable;
  int64_t MB = 8;
  if (isa_at_least(Isa::Avx512)) {
    tile = M > 16 ? sparse::tile32_avx512 : sparse::tile16_avx512;
    MB = M > 16 ? 32 : 16;
  } else if (isa_at_least(Isa::Avx2)) {
    tile = M > 8 ? sparse::tile16_avx2 : sparse::tile8_avx2;
    MB = M > 8 ? 16 : 8;
  }
  sparse::Rows rows;
  rows.seg = im.seg.data();
  rows.nkb = im.nkb;
  rows.col16 = im.col16.empty() ? nullptr : im.col16.data();
  rows.col32 = im.col32.empty() ? nullptr : im.col32.data();
  rows.val = im.val.data();

  const int64_t chunks = (N + kRowChunk - 1) / kRowChunk;
  // Threads only where the work (about one multiply-add per nonzero and token) pays for the
  // fork and the two barriers a tile costs.
  const int64_t work = (static_cast<int64_t>(im.val.size()) + N) * M;
  const bool parallel = omp_get_max_threads() > 1 && !omp_in_parallel() && chunks > 1 && work > (1 << 18);
  auto store = [&](float* o, const float* s, int64_t nr) {
    if (accumulate)
      for (int64_t r = 0; r < nr; ++r) o[r] += s[r];
    else
      std::memcpy(o, s, nr * sizeof(float));
  };
  if (M <= kDotMaxTokens) {
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t n0 = c * kRowChunk, nr = std::min(kRowChunk, N - n0);
      float z[kRowChunk];
      for (int64_t m = 0; m < M; ++m) {
        if (rows.col16) rows_dot(z, in + m * K, im, rows.col16, n0, nr);
        else rows_dot(z, in + m * K, im, rows.col32, n0, nr);
        apply_epilogue_row(im.epilogue, z, z, nr, false);
        store(out + m * N + n0, z, nr);
      }
    }
    return;
  }
  std::vector<float> T(static_cast<size_t>(K * MB));   // (K, MB): the tile's tokens, transposed
#pragma omp parallel if (parallel)
  {
    alignas(64) float acc[kRowChunk * 32];   // (rows, MB)
    alignas(64) float z[kRowChunk * 32];     // (MB, rows): one contiguous run per output row
    for (int64_t m0 = 0; m0 < M; m0 += MB) {
      const int64_t mt = std::min(MB, M - m0);
#pragma omp for schedule(static)
      for (int64_t k = 0; k < K; ++k) {
        float* t = T.data() + k * MB;
        for (int64_t m = 0; m < mt; ++m) t[m] = in[(m0 + m) * K + k];
        for (int64_t m = mt; m < MB; ++m) t[m] = 0.0f;
      }
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t n0 = c * kRowChunk, nr = std::min(kRowChunk, N - n0);
        std::fill_n(acc, nr * MB, 0.0f);
        for (int64_t kb = 0; kb < im.nkb; ++kb) tile(acc, T.data(), rows, n0, n0 + nr, kb);
        for (int64_t m = 0; m < mt; ++m)
          for (int64_t r = 0; r < nr; ++r) z[m * nr + r] = acc[r * MB + m] + im.bias[n0 + r];
        apply_epilogue_row(im.epilogue, z, z, mt * nr, false);
        for (int64_t m = 0; m < mt; ++m) store(out + (m0 + m) * N + n0, z + m * nr, nr);
      }   // the barrier here keeps T alive until every chunk of this tile is done
    }
  }
}

int64_t SparseLinear::out_features() const { return impl_ ? impl_->N : 0; }
int64_t SparseLinear::in_features() const { return impl_ ? impl_->K : 0; }
int64_t SparseLinear::nonzeros() const { return impl_ ? static_cast<int64_t>(impl_->val.size()) : 0; }
size_t SparseLinear::bytes() const {
  if (!impl_) return 0;
  const Impl& im = *impl_;
  return im.val.size() * sizeof(float) + im.col16.size() * sizeof(uint16_t) +
         im.col32.size() * sizeof(uint32_t) + im.seg.size() * sizeof(int64_t) +
         im.bias.size() * sizeof(float);
}

}  // namespace slimformer::kernels
