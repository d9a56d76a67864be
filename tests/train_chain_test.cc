// The backward passes composed the way a training step uses them, on a small residual block:
//   x = word[ids] + pos[t];  h = LayerNorm(x);  u = gelu(h W1^T + b1);  z = h + (u W2^T + b2);
//   loss = MSE(mean_pool(z), target)
// Parameter gradients accumulate in place; the residual's two input gradients are summed by the
// caller (they are written, not accumulated). Checked against central differences of the same
// chain in double precision.
#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"
#include "train/losses.h"
#include "train/ops.h"
#include "train/reference.h"

namespace tr = slimformer::train;
namespace ref = slimformer::train::ref;
using ref::Vec;
using slimtest::random_vec;

namespace {

constexpr int64_t B = 2, T = 5, D = 5, F = 7, V = 9;
constexpr float kEps = 1e-12f;
const std::vector<int64_t> kIds = {2, 7, 7, 1, 0, 3, 8, 2, 0, 0};
const std::vector<int64_t> kPos = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
const std::vector<int64_t> kMask = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};

struct Params {
  Vec word, pos, gamma, beta, W1, b1, W2, b2;
};

double chain_loss(const Params& p, const Vec& target) {
  const Vec we = ref::embedding(p.word, kIds, D), pe = ref::embedding(p.pos, kPos, D);
  Vec x(we.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = we[i] + pe[i];
  const Vec h = ref::layernorm(x, p.gamma, p.beta, B * T, D, kEps);
  const Vec u = ref::map(ref::linear(h, p.W1, p.b1, B * T, F, D), ref::gelu);
  Vec z = ref::linear(u, p.W2, p.b2, B * T, D, F);
  for (size_t i = 0; i < z.size(); ++i) z[i] += h[i];
  return ref::mse(ref::mean_pool(z, kMask.data(), B, T, D), target);
}

std::vector<float> f32(const Vec& v) { return std::vector<float>(v.begin(), v.end()); }
Vec f64(const std::vector<float>& v) { return Vec(v.begin(), v.end()); }

}  // namespace

TEST(TrainChain, ResidualBlockGradientsMatchFiniteDifferences) {
  Params p{f64(random_vec(V * D, 81)), f64(random_vec(T * D, 82)),     f64(random_vec(D, 83)),
           f64(random_vec(D, 84)),     f64(random_vec(F * D, 85, 0.5f)), f64(random_vec(F, 86)),
           f64(random_vec(D * F, 87, 0.5f)), f64(random_vec(D, 88))};
  const Vec target = f64(random_vec(B * D, 89));
  // f32 copies of the parameters (exactly the doubles above).
  const auto word = f32(p.word), pos = f32(p.pos), gamma = f32(p.gamma), beta = f32(p.beta), W1 = f32(p.W1),
             b1 = f32(p.b1), W2 = f32(p.W2), b2 = f32(p.b2), tgt = f32(target);
  const int64_t R = B * T;

  // Forward, keeping what the backward needs.
  std::vector<float> x(R * D, 0.0f), h(R * D), mean(R), rstd(R), a(R * F), u(R * F), z(R * D), pooled(B * D);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < D; ++j) x[i * D + j] = word[kIds[i] * D + j] + pos[kPos[i] * D + j];
  tr::layernorm_forward(h.data(), mean.data(), rstd.data(), x.data(), gamma.data(), beta.data(), R, D, kEps);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t n = 0; n < F; ++n) {
      float s = b1[n];
      for (int64_t k = 0; k < D; ++k) s += h[i * D + k] * W1[n * D + k];
      a[i * F + n] = s;
      u[i * F + n] = static_cast<float>(ref::gelu(s));
    }
  for (int64_t i = 0; i < R; ++i)
    for (int64_t n = 0; n < D; ++n) {
      float s = b2[n] + h[i * D + n];
      for (int64_t k = 0; k < F; ++k) s += u[i * F + k] * W2[n * F + k];
      z[i * D + n] = s;
    }
  for (int64_t b = 0; b < B; ++b) {
    float count = 0.0f;
    for (int64_t t = 0; t < T; ++t) count += static_cast<float>(kMask[b * T + t]);
    for (int64_t j = 0; j < D; ++j) {
      float s = 0.0f;
      for (int64_t t = 0; t < T; ++t) s += kMask[b * T + t] ? z[(b * T + t) * D + j] : 0.0f;
      pooled[b * D + j] = s / count;
    }
  }

  // Backward. Parameter gradients start at zero and accumulate.
  std::vector<float> dpooled(B * D), dz(R * D), du(R * F), da(R * F), dh(R * D), dh2(R * D), dx(R * D);
  std::vector<float> dword(V * D, 0.0f), dpos(T * D, 0.0f), dgamma(D, 0.0f), dbeta(D, 0.0f), dW1(F * D, 0.0f),
      db1(F, 0.0f), dW2(D * F, 0.0f), db2(D, 0.0f);
  const float loss = tr::mse_loss(dpooled.data(), pooled.data(), tgt.data(), B * D);
  EXPECT_NEAR(loss, chain_loss(p, target), 1e-5);
  tr::mean_pool_backward(dz.data(), dpooled.data(), kMask.data(), B, T, D);
  tr::linear_backward(du.data(), dW2.data(), db2.data(), dz.data(), u.data(), W2.data(), R, D, F);
  tr::gelu_backward(da.data(), du.data(), a.data(), R * F);
  tr::linear_backward(dh.data(), dW1.data(), db1.data(), da.data(), h.data(), W1.data(), R, F, D);
  for (int64_t i = 0; i < R * D; ++i) dh[i] += dz[i];   // the residual branch: the caller sums
  tr::layernorm_backward(dx.data(), dgamma.data(), dbeta.data(), dh.data(), x.data(), gamma.data(), mean.data(),
                         rstd.data(), R, D, kEps);
  tr::embedding_backward(dword.data(), dx.data(), kIds.data(), R, D);
  tr::embedding_backward(dpos.data(), dx.data(), kPos.data(), R, D);

  auto fd = [&](Vec Params::*member) {
    return ref::numeric_gradient(
        [&](const Vec& v) {
          Params q = p;
          q.*member = v;
          return chain_loss(q, target);
        },
        p.*member);
  };
  // Gradients here are ~1e-2..1e-1: a floor of 1e-3 keeps the comparison relative.
  EXPECT_LT(ref::max_rel_error(dword.data(), fd(&Params::word), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(dpos.data(), fd(&Params::pos), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(dgamma.data(), fd(&Params::gamma), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(dbeta.data(), fd(&Params::beta), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(dW1.data(), fd(&Params::W1), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(db1.data(), fd(&Params::b1), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(dW2.data(), fd(&Params::W2), 1e-3), 1e-3);
  EXPECT_LT(ref::max_rel_error(db2.data(), fd(&Params::b2), 1e-3), 1e-3);
}
