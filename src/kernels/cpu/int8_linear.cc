// Int8 Linear: quantization, the scalar reference, and Int8Linear's layouts, dispatch and threads.
// The AVX-512 VNNI and AVX2 kernels live in int8_linear_vnni.cc and int8_linear_avx2.cc.
#include "kernels/cpu/int8_linear.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cpu/int8_linear_impl.h"
#include "kernels/cpu/isa.h"
#include "slimformer/error.h"

namespace slimformer::kernels {

using int8::Layout;

void quantize_per_channel(int8_t* q, float* scales, const float* w, int64_t N, int64_t K) {
  for (int64_t n = 0; n < N; ++n) {
    const float* row = w + n * K;
    float amax = 0.0f;
    for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(row[k]));
    const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    const float inv = 1.0f / scale;
    for (int64_t k = 0; k < K; ++k) {
      const float r = std::nearbyint(row[k] * inv);
      q[n * K + k] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
    }
    scales[n] = scale;
  }
}

namespace int8 {

// ATen's ChooseQuantizationParams (quantized/cpu/QuantUtils.h) for qmin 0, qmax 255, kept
// statement for statement so the zero point rounds the same way, error terms included.
RowQuant choose_row_quant(float lo, float hi) {
  constexpr int32_t qmin = 0, qmax = 255;
  constexpr float kSmallScale = 6.1e-5f;
  float min = std::min(lo, 0.0f), max = std::max(hi, 0.0f);
  double scale = (static_cast<double>(max) - min) / (qmax - qmin);
  if (static_cast<float>(scale) == 0.0f || std::isinf(1.0f / static_cast<float>(scale))) scale = 0.1;
  if (scale < kSmallScale) {
    const float org_scale = static_cast<float>(scale);
    scale = kSmallScale;
    if (min == 0.0f) {
      max = kSmallScale * (qmax - qmin);
    } else if (max == 0.0f) {
      min = -kSmallScale * (qmax - qmin);
    } else {
      const float amplifier = kSmallScale / org_scale;
      min *= amplifier;
      max *= amplifier;
    }
  }
  const double zp_from_min = qmin - min / scale, zp_from_max = qmax - max / scale;
  const double zp_from_min_error = std::abs(qmin) - std::abs(min / scale);
  const double zp_from_max_error = std::abs(qmax) - std::abs(max / scale);
  const double zp = zp_from_min_error < zp_from_max_error ? zp_from_min : zp_from_max;
  const int32_t nudged = zp < qmin ? qmin : zp > qmax ? qmax : static_cast<int32_t>(std::nearbyint(zp));
  return {static_cast<float>(scale), nudged};
}

void store_row(float* out, const float* v, int64_t ncols, const Params& p) {
  apply_epilogue_row(p.epilogue, out, v, ncols, p.accumulate);
}

namespace {

// Portable tile: plain layout, int32 dot products the compiler vectorizes.
void tile_plain(float* out, const uint8_t* a, int64_t lda, const RowQuant* rq, int64_t rows,
                const int8_t* w, int64_t n0, int64_t ncols, const Params& p) {
  float v[kPlainPanel];
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* x = a + r * lda;
    for (int64_t j = 0; j < ncols; ++j) {
      const int8_t* wr = w + (n0 + j) * p.K;
      int32_t acc = 0;
      for (int64_t k = 0; k < p.K; ++k) acc += static_cast<int32_t>(x[k]) * static_cast<int32_t>(wr[k]);
      v[j] = finish(acc, n0 + j, rq[r], p);
    }
    store_row(out + r * p.N + n0, v, ncols, p);
  }
}

RowQuant quantize_row_plain(uint8_t* dst, const float* x, int64_t K) {
  const RowQuant rq = row_quant_params(x, K);
  const float inv = 1.0f / rq.scale;
  for (int64_t k = 0; k < K; ++k) dst[k] = quantize_u8(x[k], inv, rq.zero_point);
  return rq;
}

}  // namespace
}  // namespace int8

RowQuant row_quant_params(const float* x, int64_t K) {
  float lo = 0.0f, hi = 0.0f;   // the range always holds 0
  for (int64_t k = 0; k < K; ++k) {
    lo = x[k] < lo ? x[k] : lo;
    hi = x[k] > hi ? x[k] : hi;
  }
  return int8::choose_row_quant(lo, hi);
}

uint8_t quantize_u8(float x, float inv_scale, int32_t zero_point) {
  const float t = std::fma(x, inv_scale, static_cast<float>(zero_point));
  return static_cast<uint8_t>(std::nearbyint(std::clamp(t, 0.0f, 255.0f)));
}

void int8_linear_ref(float* out, const float* in, const int8_t* q, const float* scales,
                     const float* bias, int64_t M, int64_t N, int64_t K, Epilogue epilogue,
                     bool accumulate) {
  std::vector<uint8_t> xq(static_cast<size_t>(K));
  for (int64_t m = 0; m < M; ++m) {
    const RowQuant rq = row_quant_params(in + m * K, K);
    const float inv = 1.0f / rq.scale;
    for (int64_t k = 0; k < K; ++k) xq[k] = quantize_u8(in[m * K + k], inv, rq.zero_point);
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += (int64_t{xq[k]} - rq.zero_point) * q[n * K + k];
      const float v = static_cast<float>(acc) * (rq.scale * scales[n]) + (bias ? bias[n] : 0.0f);
      const float y = apply_epilogue(epilogue, v);
      out[m * N + n] = accumulate ? out[m * N + n] + y : y;
    }
  }
}

struct Int8Linear::Impl {
  int64_t N = 0, K = 0;
  Epilogue epilogue = Epilogue::None;
  std::vector<float> scales, bias;
  std::vector<int32_t> colsum;
  Layout primary = int8::kPlain;
  mutable std::mutex mu;   // guards the lazily built layouts
  mutable std::array<std::vector<int8_t>, int8::kLayouts> packed;
  mutable std::array<bool, int8::kLayouts> built{};

  // The weights in layout l, built from the primary layout on first use.
  const int8_t* weights(Layout l) const {
    std::lock_guard<std::mutex> lock(mu);
    if (!built[l]) {
      std::vector<int8_t> dst(static_cast<size_t>(int8::layout_size(l, N, K)), 0);
      const int8_t* src = packed[primary].data();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k)
          dst[int8::layout_index(l, n, k, N, K)] = src[int8::layout_index(primary, n, k, N, K)];
      packed[l] = std::move(dst);
      built[l] = true;
    }
    return packed[l].data();
  }
};

Int8Linear::Int8Linear() = default;

Int8Linear::Int8Linear(const int8_t* q, const float* scales, const float* bias, int64_t N,
                       int64_t K, Epilogue epilogue)
    : impl_(std::make_shared<Impl>()) {
  const std::string shape = "N=" + std::to_string(N) + " K=" + std::to_string(K);
  if (N < 0 || K < 0) throw InputError("Int8Linear: N and K must be >= 0, got " + shape);
  if (K > kInt8MaxK)
    throw InputError("Int8Linear: K must be <= " + std::to_string(kInt8MaxK) +
                     " (int32 accumulation), got " + shape);
  if (q == nullptr && N * K > 0) throw InputError("Int8Linear: q is null for " + shape);
  if (scales == nullptr && N > 0) throw InputError("Int8Linear: scales is null for " + shape);
  Impl& im = *impl_;
  im.N = N;
  im.K = K;
  im.epilogue = epilogue;
  im.scales.assign(scales, scales + N);
  for (int64_t n = 0; n < N; ++n)
    if (!(std::isfinite(scales[n]) && scales[n] > 0.0f))
      throw InputError("Int8Linear: scales[" + std::to_string(n) + "] = " + std::to_string(scales[n]) +
                       ", expected a finite value > 0");
  if (bias) im.bias.assign(bias, bias + N);
  im.colsum.assign(static_cast<size_t>(N), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) im.colsum[n] += q[n * K + k];
  im.packed[int8::kPlain].assign(q, q + N * K);
  im.built[int8::kPlain] = true;
  const Layout best = isa_at_least(Isa::Avx512Vnni) ? int8::kVnni
                      : isa_at_least(Isa::Avx2)     ? int8::kAvx2
                                                    : int8::kPlain;
  if (best != int8::kPlain) {   // keep only the layout the kernel reads
    im.weights(best);
    im.primary = best;
    im.packed[int8::kPlain] = {};
    im.built[int8::kPlain] = false;
  }
}

void Int8Linear::forward(float* out, const float* in, int64_t M, bool accumulate) const {
  if (!impl_) throw InputError("Int8Linear::forward on an empty Int8Linear");
  if (M < 0) throw InputError("Int8Linear::forward: M must be >= 0, got " + std::to_string(M));
  const Impl& im = *impl_;
  if (M == 0 || im.N == 0) return;
  const int64_t N = im.N, K = im.K;
  // The ISA is read once, here: ScopedIsa is not for use while kernels run.
  const Layout l = isa_at_least(Isa::Avx512Vnni) ? int8::kVnni
                   : isa_at_least(Isa::Avx2)     ? int8::kAvx2
                                                 : int8::kPlain;
  const int8_t* w = im.weights(l);
  const int8::Params p{N, K, im.scales.data(), im.colsum.data(),
                       im.bias.empty() ? nullptr : im.bias.data(), im.epilogue, accumulate};
  const int64_t P = int8::panel_of(l), Kp = int8::round_up(K, int8::group_of(l));
  const int64_t elem = l == int8::kAvx2 ? 2 : 1;   // the AVX2 kernel reads int16 activations
  // Quantized activations in a per-calling-thread buffer, reused across calls (a fresh
  // allocation of megabytes would page-fault on every call).
  thread_local std::vector<unsigned char> scratch;
  const size_t a_bytes = static_cast<size_t>(M * Kp * elem);
  if (scratch.size() < a_bytes) scratch.resize(a_bytes);
  thread_local std::vector<RowQuant> rqs;
  if (rqs.size() < static_cast<size_t>(M)) rqs.resize(M);
  unsigned char* a = scratch.data();
  RowQuant* rq = rqs.data();

  // Tiles: a panel of columns x up to kRows rows, panel-major so that a thread's consecutive
  // tiles share their weights.
  constexpr int64_t kRows = 96;   // a multiple of every kernel's rows per micro-kernel
  const int64_t panels = (N + P - 1) / P, row_blocks = (M + kRows - 1) / kRows;
  const int64_t tiles = panels * row_blocks;
  const int threads = static_cast<int>(std::min<int64_t>(omp_get_max_threads(), std::max(tiles, M)));
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (int64_t m = 0; m < M; ++m) {
      const float* x = in + m * K;
      if (l == int8::kVnni) rq[m] = int8::quantize_row_vnni(a + m * Kp, x, K);
      else if (l == int8::kAvx2) rq[m] = int8::quantize_row_avx2(reinterpret_cast<int16_t*>(a) + m * Kp, x, K);
      else rq[m] = int8::quantize_row_plain(a + m * Kp, x, K);
    }
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t pn = t / row_blocks, m0 = (t % row_blocks) * kRows;
      const int64_t rows = std::min(kRows, M - m0), n0 = pn * P, ncols = std::min(P, N - n0);
      float* o = out + m0 * N;
      if (l == int8::kVnni)
        int8::tile_vnni(o, a + m0 * Kp, Kp, rq + m0, rows, w + pn * P * Kp, n0, ncols, p);
      else if (l == int8::kAvx2)
        int8::tile_avx2(o, reinterpret_cast<const int16_t*>(a) + m0 * Kp, Kp, rq + m0, rows,
                        w + pn * P * Kp, n0, ncols, p);
      else
        int8::tile_plain(o, a + m0 * Kp, Kp, rq + m0, rows, w, n0, ncols, p);
    }
  }
}

int64_t Int8Linear::out_features() const { return impl_ ? impl_->N : 0; }
int64_t Int8Linear::in_features() const { return impl_ ? impl_->K : 0; }
size_t Int8Linear::bytes() const {
  if (!impl_) return 0;
  const Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  size_t b = (im.scales.size() + im.bias.size()) * sizeof(float) + im.colsum.size() * sizeof(int32_t);
  for (const auto& v : im.packed) b += v.size();
  return b;
}

}  // namespace slimformer::kernels
