// What the linformer, performer and linear attention tests share: one layer's q, k, v in the
// encoder's fused layout, running a mechanism on it, and the direct formulas (double, one head
// and query at a time, no blocking, no stabilization) the mechanisms are checked against.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "slimformer/attention.h"
#include "test_util.h"

namespace approxtest {

// Rows (B*T) of [q heads | k heads | v heads] and a 0/1 mask from each sequence's length.
struct Layer {
  int64_t batch, seq, heads, head_dim;
  std::vector<float> qkv;
  std::vector<int64_t> mask;
  int layer = 0;

  // lengths: unpadded tokens per sequence (empty: no padding); values N(0, scale^2)
  Layer(int64_t b, int64_t t, int64_t h, int64_t d, std::vector<int64_t> lengths, unsigned seed, float scale = 1.0f)
      : batch(b), seq(t), heads(h), head_dim(d), qkv(slimtest::random_vec(b * t * 3 * h * d, seed, scale)) {
    if (!lengths.empty()) {
      mask.assign(static_cast<size_t>(b * t), 0);
      for (int64_t s = 0; s < b; ++s) std::fill_n(mask.begin() + s * t, std::min(t, lengths[s]), 1);
    }
  }
  int64_t stride() const { return 3 * heads * head_dim; }
  int64_t width() const { return heads * head_dim; }
  bool token(int64_t b, int64_t t) const { return mask.empty() || mask[b * seq + t] != 0; }
  // element e of head h at position t of sequence b; part 0 = q, 1 = k, 2 = v
  float at(int part, int64_t b, int64_t t, int64_t h, int64_t e) const {
    return qkv[(b * seq + t) * stride() + part * width() + h * head_dim + e];
  }
  float& at(int part, int64_t b, int64_t t, int64_t h, int64_t e) {
    return qkv[(b * seq + t) * stride() + part * width() + h * head_dim + e];
  }
  // Fills every padding row of q, k and v with `value` (NaN: proves they are never read).
  void spoil_padding(float value) {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < seq; ++t)
        if (!token(b, t)) std::fill_n(qkv.begin() + (b * seq + t) * stride(), stride(), value);
  }
};

// out (B, T, H*d) of the mechanism; starts as NaN so unwritten rows show.
inline std::vector<float> run(const slimformer::Attention& a, const Layer& L) {
  std::vector<float> out(static_cast<size_t>(L.batch * L.seq * L.width()), std::numeric_limits<float>::quiet_NaN());
  slimformer::AttentionIO io;
  io.batch = L.batch, io.seq = L.seq, io.heads = L.heads, io.head_dim = L.head_dim;
  io.q = L.qkv.data(), io.k = L.qkv.data() + L.width(), io.v = L.qkv.data() + 2 * L.width();
  io.in_row_stride = L.stride();
  io.out = out.data(), io.out_row_stride = L.width();
  io.mask = L.mask.empty() ? nullptr : L.mask.data();
  io.layer = L.layer;
  slimformer::AttentionScratch scratch;
  a.forward(io, scratch);
  return out;
}

// A direct formula for one (b, h): out (T, d) for every token query, from the layer.
using HeadFormula = std::function<std::vector<double>(const Layer&, int64_t b, int64_t h)>;

inline std::vector<float> apply(const Layer& L, const HeadFormula& f) {
  std::vector<float> out(static_cast<size_t>(L.batch * L.seq * L.width()), 0.0f);
  for (int64_t b = 0; b < L.batch; ++b)
    for (int64_t h = 0; h < L.heads; ++h) {
      const std::vector<double> o = f(L, b, h);
      for (int64_t t = 0; t < L.seq; ++t)
        for (int64_t e = 0; e < L.head_dim; ++e)
          out[(b * L.seq + t) * L.width() + h * L.head_dim + e] = static_cast<float>(o[t * L.head_dim + e]);
    }
  return out;
}

// Largest |got - want| / max(1, |want|) over the token query rows; infinity on a NaN there.
inline double max_diff(const Layer& L, const std::vector<float>& got, const std::vector<float>& want) {
  double m = 0.0;
  for (int64_t b = 0; b < L.batch; ++b)
    for (int64_t t = 0; t < L.seq; ++t) {
      if (!L.token(b, t)) continue;
      for (int64_t c = 0; c < L.width(); ++c) {
        const size_t i = (b * L.seq + t) * L.width() + c;
        if (std::isnan(got[i])) return std::numeric_limits<double>::infinity();
        m = std::max(m, std::fabs(got[i] - want[i]) / std::max(1.0, std::fabs(double(want[i]))));
      }
    }
  return m;
}

// Mean |got - want| over the token query rows.
inline double mean_abs_diff(const Layer& L, const std::vector<float>& got, const std::vector<float>& want) {
  double sum = 0.0;
  int64_t count = 0;
  for (int64_t b = 0; b < L.batch; ++b)
    for (int64_t t = 0; t < L.seq; ++t) {
      if (!L.token(b, t)) continue;
      for (int64_t c = 0; c < L.width(); ++c, ++count) {
        const size_t i = (b * L.seq + t) * L.width() + c;
        sum += std::fabs(double(got[i]) - double(want[i]));
      }
    }
  return sum / static_cast<double>(count);
}

// out_i = sum_j w(i, j) v_j / sum_j w(i, j) over the token keys j: every mechanism here is this
// with its own weight (softmax: w = exp(scale q.k)); a query with no token keys gets zeros.
inline std::vector<double> weighted_average(const Layer& L, int64_t b, int64_t h,
                                            const std::function<double(int64_t i, int64_t j)>& w) {
  const int64_t T = L.seq, d = L.head_dim;
  std::vector<double> out(static_cast<size_t>(T * d), 0.0);
  for (int64_t i = 0; i < T; ++i) {
    if (!L.token(b, i)) continue;
    double den = 0.0;
    std::vector<double> num(static_cast<size_t>(d), 0.0);
    for (int64_t j = 0; j < T; ++j) {
      if (!L.token(b, j)) continue;
      const double wij = w(i, j);
      den += wij;
      for (int64_t e = 0; e < d; ++e) num[e] += wij * L.at(2, b, j, h, e);
    }
    for (int64_t e = 0; e < d; ++e) out[i * d + e] = den > 0.0 ? num[e] / den : 0.0;
  }
  return out;
}

inline double dot_qk(const Layer& L, int64_t b, int64_t h, int64_t i, int64_t j) {
  double s = 0.0;
  for (int64_t e = 0; e < L.head_dim; ++e) s += double(L.at(0, b, i, h, e)) * L.at(1, b, j, h, e);
  return s;
}

// Softmax attention over the token keys, scale 1/sqrt(d): the exact result being approximated.
inline std::vector<double> softmax_head(const Layer& L, int64_t b, int64_t h) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(L.head_dim));
  // exp(s - max_j s) for numerical range; the row constant cancels
  std::vector<double> row_max(static_cast<size_t>(L.seq), -1e300);
  for (int64_t i = 0; i < L.seq; ++i)
    for (int64_t j = 0; j < L.seq; ++j)
      if (L.token(b, j)) row_max[i] = std::max(row_max[i], scale * dot_qk(L, b, h, i, j));
  return weighted_average(L, b, h, [&](int64_t i, int64_t j) { return std::exp(scale * dot_qk(L, b, h, i, j) - row_max[i]); });
}

inline slimformer::AttentionContext context(const Layer& L, int layers = 2) {
  slimformer::AttentionContext ctx;
  ctx.num_layers = layers;
  ctx.heads = L.heads;
  ctx.head_dim = L.head_dim;
  return ctx;
}

inline std::unique_ptr<slimformer::Attention> build(const std::string& spec, const Layer& L) {
  return slimformer::make_attention(slimformer::AttentionSpec::parse(spec), context(L));
}

}  // namespace approxtest
