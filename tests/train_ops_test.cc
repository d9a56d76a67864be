// The f32 backward passes of train/ops.h against central differences of double-precision forwards
// (train/reference.h), on odd shapes; and the gradient convention: parameter gradients accumulate
// onto what is there, input gradients are written over whatever was there.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "test_util.h"
#include "train/ops.h"
#include "train/reference.h"

namespace tr = slimformer::train;
namespace ref = slimformer::train::ref;
using ref::Vec;
using slimtest::random_vec;

namespace {

constexpr double kTol = 1e-3;   // relative, with a floor of 1e-2 on the magnitude
const float kNaN = std::numeric_limits<float>::quiet_NaN();

Vec to_double(const std::vector<float>& v) { return Vec(v.begin(), v.end()); }

// a - b elementwise: the part a call added onto a prefilled gradient.
std::vector<float> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

}  // namespace

TEST(TrainOps, LinearBackwardMatchesFiniteDifferences) {
  for (const auto& shape : {std::tuple<int64_t, int64_t, int64_t>{3, 7, 5}, {1, 3, 17}, {17, 9, 33}}) {
    const int64_t M = std::get<0>(shape), N = std::get<1>(shape), K = std::get<2>(shape);   // lambdas capture these
    SCOPED_TRACE(testing::Message() << "M=" << M << " N=" << N << " K=" << K);
    const auto x = random_vec(M * K, 1), W = random_vec(N * K, 2, 0.5f), b = random_vec(N, 3);
    const auto dy = random_vec(M * N, 4);
    const Vec xd = to_double(x), Wd = to_double(W), bd = to_double(b), w = to_double(dy);
    const Vec gx = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::linear(v, Wd, bd, M, N, K)); }, xd);
    const Vec gW = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::linear(xd, v, bd, M, N, K)); }, Wd);
    const Vec gb = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::linear(xd, Wd, v, M, N, K)); }, bd);

    std::vector<float> dx(static_cast<size_t>(M * K), kNaN);   // written: the NaNs must go
    const auto dW0 = random_vec(N * K, 5), db0 = random_vec(N, 6);   // accumulated onto
    auto dW = dW0, db = db0;
    tr::linear_backward(dx.data(), dW.data(), db.data(), dy.data(), x.data(), W.data(), M, N, K);
    EXPECT_LT(ref::max_rel_error(dx.data(), gx), kTol);
    EXPECT_LT(ref::max_rel_error(minus(dW, dW0).data(), gW), kTol);
    EXPECT_LT(ref::max_rel_error(minus(db, db0).data(), gb), kTol);
  }
}

TEST(TrainOps, LinearBackwardTwiceSumsParameterGradients) {
  const int64_t M = 3, N = 7, K = 5;
  const auto x = random_vec(M * K, 7), W = random_vec(N * K, 8), dy = random_vec(M * N, 9);
  std::vector<float> dx(M * K), dW1(N * K, 0.0f), db1(N, 0.0f), dW2(N * K, 0.0f), db2(N, 0.0f);
  tr::linear_backward(dx.data(), dW1.data(), db1.data(), dy.data(), x.data(), W.data(), M, N, K);
  const auto dx1 = dx;
  tr::linear_backward(dx.data(), dW2.data(), db2.data(), dy.data(), x.data(), W.data(), M, N, K);
  tr::linear_backward(dx.data(), dW2.data(), db2.data(), dy.data(), x.data(), W.data(), M, N, K);
  for (size_t i = 0; i < dW1.size(); ++i) EXPECT_NEAR(dW2[i], 2.0f * dW1[i], 1e-5f) << i;
  for (size_t i = 0; i < db1.size(); ++i) EXPECT_NEAR(db2[i], 2.0f * db1[i], 1e-5f) << i;
  EXPECT_EQ(dx, dx1);   // an input gradient is not summed across calls
  // Null gradients are skipped.
  tr::linear_backward(nullptr, nullptr, db2.data(), dy.data(), x.data(), W.data(), M, N, K);
  for (size_t i = 0; i < db1.size(); ++i) EXPECT_NEAR(db2[i], 3.0f * db1[i], 1e-5f) << i;
}

TEST(TrainOps, LayerNormForwardAndBackwardMatchReference) {
  for (const auto& shape : {std::pair<int64_t, int64_t>{3, 7}, {5, 1}, {2, 130}}) {
    const int64_t R = shape.first, C = shape.second;   // lambdas capture these
    SCOPED_TRACE(testing::Message() << "R=" << R << " C=" << C);
    const float eps = 1e-5f;
    auto x = random_vec(R * C, 11, 2.0f);
    for (auto& v : x) v += 3.0f;   // a mean far from 0, as hidden states have
    const auto gamma = random_vec(C, 12), beta = random_vec(C, 13), dy = random_vec(R * C, 14);
    const Vec xd = to_double(x), gd = to_double(gamma), bd = to_double(beta), w = to_double(dy);

    std::vector<float> out(R * C), mean(R), rstd(R);
    tr::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), gamma.data(), beta.data(), R, C, eps);
    const Vec want = ref::layernorm(xd, gd, bd, R, C, eps);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(out[i], want[i], 1e-4) << i;

    const Vec gx = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::layernorm(v, gd, bd, R, C, eps)); }, xd);
    const Vec gg = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::layernorm(xd, v, bd, R, C, eps)); }, gd);
    const Vec gb = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::layernorm(xd, gd, v, R, C, eps)); }, bd);
    // Saved statistics, then recomputed ones (null mean and rstd): the same gradients.
    for (bool saved : {true, false}) {
      SCOPED_TRACE(saved ? "saved mean/rstd" : "recomputed mean/rstd");
      std::vector<float> dx(R * C, kNaN);
      const auto dg0 = random_vec(C, 15), db0 = random_vec(C, 16);
      auto dg = dg0, db = db0;
      tr::layernorm_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), gamma.data(),
                             saved ? mean.data() : nullptr, saved ? rstd.data() : nullptr, R, C, eps);
      EXPECT_LT(ref::max_rel_error(dx.data(), gx), kTol);
      EXPECT_LT(ref::max_rel_error(minus(dg, dg0).data(), gg), kTol);
      EXPECT_LT(ref::max_rel_error(minus(db, db0).data(), gb), kTol);
    }
    // dx may overwrite dout.
    auto inplace = dy;
    std::vector<float> dg(C, 0.0f), db(C, 0.0f);
    tr::layernorm_backward(inplace.data(), dg.data(), db.data(), inplace.data(), x.data(), gamma.data(),
                           mean.data(), rstd.data(), R, C, eps);
    EXPECT_LT(ref::max_rel_error(inplace.data(), gx), kTol);
    EXPECT_LT(ref::max_rel_error(dg.data(), gg), kTol);
  }
}

TEST(TrainOps, ActivationBackwardsMatchFiniteDifferences) {
  const int64_t n = 37;
  auto x = random_vec(n, 21, 2.0f);
  for (auto& v : x)
    if (std::fabs(v) < 1e-3f) v = 0.5f;   // keep ReLU's kink out of the differences' reach
  const auto dy = random_vec(n, 22);
  const Vec xd = to_double(x), w = to_double(dy);
  struct Case {
    const char* name;
    void (*backward)(float*, const float*, const float*, int64_t);
    double (*forward)(double);
  };
  const Case cases[] = {{"gelu", tr::gelu_backward, ref::gelu},
                        {"gelu_tanh", tr::gelu_tanh_backward, ref::gelu_tanh},
                        {"relu", tr::relu_backward, ref::relu}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Vec g = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::map(v, c.forward)); }, xd);
    std::vector<float> dx(n, kNaN);
    c.backward(dx.data(), dy.data(), x.data(), n);
    EXPECT_LT(ref::max_rel_error(dx.data(), g), kTol);
  }
  // tanh takes its output y = tanh(x).
  std::vector<float> y(n), dx(n, kNaN);
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
  const Vec g = ref::numeric_gradient(
      [&](const Vec& v) { return ref::weighted_sum(w, ref::map(v, [](double t) { return std::tanh(t); })); }, xd);
  tr::tanh_backward(dx.data(), dy.data(), y.data(), n);
  EXPECT_LT(ref::max_rel_error(dx.data(), g), kTol);
}

TEST(TrainOps, ActivationBackwardsAtHandPoints) {
  const float x[3] = {0.0f, 1.0f, -1.0f}, dy[3] = {1.0f, 1.0f, 1.0f};
  float d[3];
  tr::relu_backward(d, dy, x, 3);   // torch: no gradient at exactly 0
  EXPECT_EQ(d[0], 0.0f);
  EXPECT_EQ(d[1], 1.0f);
  EXPECT_EQ(d[2], 0.0f);
  tr::gelu_backward(d, dy, x, 3);   // GELU'(0) = 1/2; GELU'(1) = Phi(1) + phi(1)
  EXPECT_NEAR(d[0], 0.5f, 1e-7f);
  EXPECT_NEAR(d[1], 0.8413447461 + 0.2419707245, 1e-6);
  tr::gelu_tanh_backward(d, dy, x, 3);
  EXPECT_NEAR(d[0], 0.5f, 1e-7f);
  // Large inputs saturate: GELU' -> 1 on the right, 0 on the left, with no NaN.
  const float big[2] = {30.0f, -30.0f};
  tr::gelu_tanh_backward(d, dy, big, 2);
  EXPECT_NEAR(d[0], 1.0f, 1e-6f);
  EXPECT_NEAR(d[1], 0.0f, 1e-6f);
}

TEST(TrainOps, SoftmaxBackwardMatchesFiniteDifferences) {
  const int64_t R = 3, C = 7;
  const auto s = random_vec(R * C, 31, 2.0f), dp = random_vec(R * C, 32);
  const Vec sd = to_double(s), w = to_double(dp);
  auto softmax = [&](const Vec& v) {
    Vec p = ref::log_softmax(v, R, C);
    for (auto& e : p) e = std::exp(e);
    return p;
  };
  const Vec g = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, softmax(v)); }, sd);
  const Vec pd = softmax(sd);
  const std::vector<float> p(pd.begin(), pd.end());
  std::vector<float> ds(R * C, kNaN);
  tr::softmax_backward(ds.data(), dp.data(), p.data(), R, C);
  EXPECT_LT(ref::max_rel_error(ds.data(), g), kTol);
}

TEST(TrainOps, EmbeddingBackwardScatterAdds) {
  const int64_t V = 6, D = 5;
  const std::vector<int64_t> ids = {3, 0, 5, 3, 1, 3, 0, 2, 5};   // repeats, and row 4 unused
  const int64_t n = static_cast<int64_t>(ids.size());
  const auto table = random_vec(V * D, 41), dy = random_vec(n * D, 42);
  const Vec w = to_double(dy);
  const Vec g = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::embedding(v, ids, D)); },
                                      to_double(table));
  const auto d0 = random_vec(V * D, 43);
  auto d = d0;
  tr::embedding_backward(d.data(), dy.data(), ids.data(), n, D);
  EXPECT_LT(ref::max_rel_error(minus(d, d0).data(), g), kTol);
  for (int64_t j = 0; j < D; ++j) EXPECT_EQ(d[4 * D + j], d0[4 * D + j]);   // untouched row

  // padding_idx: that row gets nothing (nn.Embedding(padding_idx=0)), the others the same.
  auto dp = d0;
  tr::embedding_backward(dp.data(), dy.data(), ids.data(), n, D, 0);
  Vec gp = g;
  for (int64_t j = 0; j < D; ++j) gp[j] = 0.0;
  EXPECT_LT(ref::max_rel_error(minus(dp, d0).data(), gp), kTol);
}

TEST(TrainOps, EmbeddingBackwardLargeIsDeterministicAndExact) {
  // Big enough to run threaded; many tokens share few ids.
  const int64_t V = 7, D = 131, n = 301;
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = (i * 5 + i / 3) % V;
  const auto dy = random_vec(n * D, 44);
  Vec want(V * D, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < D; ++j) want[ids[i] * D + j] += dy[i * D + j];
  std::vector<float> d1(V * D, 0.0f), d2(V * D, 0.0f);
  tr::embedding_backward(d1.data(), dy.data(), ids.data(), n, D);
  tr::embedding_backward(d2.data(), dy.data(), ids.data(), n, D);
  EXPECT_LT(ref::max_rel_error(d1.data(), want), 1e-4);
  EXPECT_EQ(d1, d2);
}

TEST(TrainOps, MeanPoolBackwardMatchesFiniteDifferences) {
  const int64_t B = 3, T = 5, H = 3;
  // One full sequence, one with a padded position, one all padding (pools to 0, no gradient).
  const std::vector<int64_t> mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
  const auto h = random_vec(B * T * H, 51), dy = random_vec(B * H, 52);
  const Vec w = to_double(dy);
  const Vec g = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, ref::mean_pool(v, mask.data(), B, T, H)); },
                                      to_double(h));
  std::vector<float> dh(B * T * H, kNaN);
  tr::mean_pool_backward(dh.data(), dy.data(), mask.data(), B, T, H);
  EXPECT_LT(ref::max_rel_error(dh.data(), g), kTol);
  for (int64_t j = 0; j < H; ++j) {
    EXPECT_EQ(dh[(1 * T + 4) * H + j], 0.0f);   // the padded token
    EXPECT_FLOAT_EQ(dh[(1 * T + 0) * H + j], dy[1 * H + j] / 4.0f);
    EXPECT_EQ(dh[(2 * T + 0) * H + j], 0.0f);
  }
}

TEST(TrainOps, ClsPoolBackwardRoutesToTheFirstToken) {
  const int64_t B = 2, T = 5, H = 3;
  const auto h = random_vec(B * T * H, 53), dy = random_vec(B * H, 54);
  const Vec w = to_double(dy);
  auto cls = [&](const Vec& v) {
    Vec out(B * H);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) out[b * H + j] = v[b * T * H + j];
    return out;
  };
  const Vec g = ref::numeric_gradient([&](const Vec& v) { return ref::weighted_sum(w, cls(v)); }, to_double(h));
  std::vector<float> dh(B * T * H, kNaN);
  tr::cls_pool_backward(dh.data(), dy.data(), B, T, H);
  EXPECT_LT(ref::max_rel_error(dh.data(), g), kTol);
}

TEST(TrainOps, LayerNormBackwardThreadedEqualsRowByRow) {
  // Large enough for the threaded paths; each row alone runs on one thread.
  const int64_t R = 67, C = 257;
  const float eps = 1e-12f;   // BERT's
  const auto x = random_vec(R * C, 17), gamma = random_vec(C, 18), dy = random_vec(R * C, 19);
  std::vector<float> dx(R * C), dg(C, 0.0f), db(C, 0.0f);
  tr::layernorm_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), gamma.data(), nullptr, nullptr, R, C, eps);
  std::vector<float> dx_row(C);
  Vec dg_sum(C, 0.0), db_sum(C, 0.0);
  for (int64_t r = 0; r < R; ++r) {
    std::vector<float> dg_row(C, 0.0f), db_row(C, 0.0f);
    tr::layernorm_backward(dx_row.data(), dg_row.data(), db_row.data(), dy.data() + r * C, x.data() + r * C,
                           gamma.data(), nullptr, nullptr, 1, C, eps);
    for (int64_t j = 0; j < C; ++j) {
      EXPECT_EQ(dx[r * C + j], dx_row[j]) << r << "," << j;
      dg_sum[j] += dg_row[j];
      db_sum[j] += db_row[j];
    }
  }
  EXPECT_LT(ref::max_rel_error(dg.data(), dg_sum), 1e-4);
  EXPECT_LT(ref::max_rel_error(db.data(), db_sum), 1e-4);
}
