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
    if (mode == PoolingMode::LastToken) {
      // The last position the mask keeps (right padding or not); none kept: a zero vector, as
      // sentence-transformers gathers the masked-out first token.
      for (int64_t t = T - 1; t >= 0; --t) {
        if (!m[t]) continue;
        std::copy_n(h + (b * T + t) * H, H, o);
        break;
      }
      continue;
    }
    // Mean, MeanSqrtLen, WeightedMean: each kept token weighted by 1, or by its position 1..T
    // (counted from the first column, so right padding leaves a text's weights as they are alone).
    const bool by_position = mode == PoolingMode::WeightedMean;
    float weights = 0.0f;
    for (int64_t t = 0; t < T; ++t) {
      if (!m[t]) continue;
      const float w = by_position ? static_cast<float>(t + 1) : 1.0f;
      weights += w;
      const float* row = h + (b * T + t) * H;
      for (int64_t j = 0; j < H; ++j) o[j] += row[j] * w;
    }
    weights = std::max(weights, 1e-9f);   // sentence-transformers clamps the weight sum
    const float div = mode == PoolingMode::MeanSqrtLen ? std::sqrt(weights) : weights;
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
