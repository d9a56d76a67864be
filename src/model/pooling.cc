// Sentence vectors from token states, as sentence-transformers' Pooling and Normalize compute them.
#include <algorithm>
#include <cmath>

#include "slimformer/encoder.h"
#include "slimformer/error.h"

namespace slimformer {

Tensor pool(const Tensor& hidden, const std::vector<int64_t>& mask, PoolingMode mode) {
  if (hidden.rank() != 3 || hidden.dtype() != DType::F32) {
    throw InputError("pool: hidden must be an F32 (B, T, H) tensor, got " + std::string(dtype_name(hidden.dtype())) + " " +
                     shape_str(hidden.shape()));
  }
  const int64_t B = hidden.dim(0), T = hidden.dim(1), H = hidden.dim(2);
  if (static_cast<int64_t>(mask.size()) != B * T) {
    throw InputError("pool: mask holds " + std::to_string(mask.size()) + " values, expected B x T = " + std::to_string(B * T));
  }
  Tensor out = Tensor::zeros({B, H});
  const float* h = hidden.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    float* o = out.data<float>() + b * H;
    const int64_t* m = mask.data() + b * T;
    if (mode == PoolingMode::Cls) {
      std::copy_n(h + b * T * H, H, o);
      continue;
    }
    if (mode == PoolingMode::Max) {
      // Padded tokens count as -1e9, as sentence-transformers sets them before taking the max.
      std::fill_n(o, H, -1e9f);
      for (int64_t t = 0; t < T; ++t) {
        const float* row = h + (b * T + t) * H;
        for (int64_t j = 0; j < H; ++j) o[j] = std::max(o[j], m[t] ? row[j] : -1e9f);
      }
      continue;
    }
    float count = 0.0f;
    for (int64_t t = 0; t < T; ++t) {
      if (!m[t]) continue;
      count += 1.0f;
      const float* row = h + (b * T + t) * H;
      for (int64_t j = 0; j < H; ++j) o[j] += row[j];
    }
    count = std::max(count, 1e-9f);   // sentence-transformers clamps the token count
    const float div = mode == PoolingMode::Mean ? count : std::sqrt(count);
    for (int64_t j = 0; j < H; ++j) o[j] /= div;
  }
  return out;
}

void l2_normalize_rows(Tensor& x) {
  if (x.rank() != 2 || x.dtype() != DType::F32) {
    throw InputError("l2_normalize_rows: expected an F32 (B, H) tensor, got " + shape_str(x.shape()));
  }
  const int64_t B = x.dim(0), H = x.dim(1);
  for (int64_t b = 0; b < B; ++b) {
    float* r = x.data<float>() + b * H;
    double sq = 0.0;
    for (int64_t j = 0; j < H; ++j) sq += double(r[j]) * r[j];
    const float inv = 1.0f / std::max(static_cast<float>(std::sqrt(sq)), 1e-12f);   // F.normalize's eps
    for (int64_t j = 0; j < H; ++j) r[j] *= inv;
  }
}

}  // namespace slimformer
