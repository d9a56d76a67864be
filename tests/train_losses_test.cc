// Losses: values against double-precision forwards, gradients against their central differences,
// and knowledge distillation against PyTorch's KLDivLoss fixture.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"
#include "train/losses.h"
#include "train/reference.h"

namespace tr = slimformer::train;
namespace ref = slimformer::train::ref;
using ref::Vec;
using slimtest::random_vec;

namespace {
constexpr double kTol = 1e-3;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
Vec to_double(const std::vector<float>& v) { return Vec(v.begin(), v.end()); }
}  // namespace

TEST(TrainLosses, MseMatchesTorchDefinition) {
  const int64_t n = 11;
  const auto p = random_vec(n, 71), t = random_vec(n, 72);
  const Vec pd = to_double(p), td = to_double(t);
  std::vector<float> g(n, kNaN);
  const float loss = tr::mse_loss(g.data(), p.data(), t.data(), n);
  EXPECT_NEAR(loss, ref::mse(pd, td), 1e-6);
  const Vec want = ref::numeric_gradient([&](const Vec& x) { return ref::mse(x, td); }, pd);
  EXPECT_LT(ref::max_rel_error(g.data(), want), kTol);
  const float a[2] = {1.0f, 3.0f}, b[2] = {0.0f, 0.0f};
  EXPECT_FLOAT_EQ(tr::mse_loss(nullptr, a, b, 2), 5.0f);   // (1 + 9) / 2
}

TEST(TrainLosses, CosineLossMatchesFiniteDifferences) {
  const int64_t R = 3, D = 5;
  const auto a = random_vec(R * D, 73), b = random_vec(R * D, 74);
  const Vec ad = to_double(a), bd = to_double(b);
  std::vector<float> da(R * D, kNaN), db(R * D, kNaN);
  const float loss = tr::cosine_loss(da.data(), db.data(), a.data(), b.data(), R, D);
  EXPECT_NEAR(loss, ref::cosine_loss(ad, bd, R, D), 1e-6);
  const Vec ga = ref::numeric_gradient([&](const Vec& x) { return ref::cosine_loss(x, bd, R, D); }, ad);
  const Vec gb = ref::numeric_gradient([&](const Vec& x) { return ref::cosine_loss(ad, x, R, D); }, bd);
  EXPECT_LT(ref::max_rel_error(da.data(), ga), kTol);
  EXPECT_LT(ref::max_rel_error(db.data(), gb), kTol);
  // The gradient is orthogonal to a (scaling a does not change the cosine).
  for (int64_t r = 0; r < R; ++r) {
    double dot = 0.0;
    for (int64_t j = 0; j < D; ++j) dot += double(da[r * D + j]) * a[r * D + j];
    EXPECT_NEAR(dot, 0.0, 1e-6);
  }
}

TEST(TrainLosses, CosineLossHandValuesAndZeroVector) {
  const float a[4] = {1.0f, 0.0f, 0.0f, 0.0f}, b[4] = {0.0f, 2.0f, 0.0f, 0.0f};
  float da[4];
  EXPECT_FLOAT_EQ(tr::cosine_loss(da, nullptr, a, a, 2, 2), 1.0f - 0.5f);   // cos 1, then 0/eps = 0
  EXPECT_FLOAT_EQ(tr::cosine_loss(nullptr, nullptr, a, b, 1, 2), 1.0f);     // orthogonal
  for (float g : da) EXPECT_TRUE(std::isfinite(g));
  EXPECT_EQ(da[2], 0.0f);   // a zero vector: torch's norm backward gives 0, and so do we
  EXPECT_EQ(da[3], 0.0f);
}

TEST(TrainLosses, KdLossMatchesFiniteDifferences) {
  const int64_t R = 3, C = 7;
  const auto s = random_vec(R * C, 75, 3.0f), t = random_vec(R * C, 76, 3.0f);
  const Vec sd = to_double(s), td = to_double(t);
  for (double T : {1.0, 2.0, 4.0}) {
    SCOPED_TRACE(T);
    std::vector<float> g(R * C, kNaN);
    const float loss = tr::kd_loss(g.data(), s.data(), t.data(), R, C, static_cast<float>(T));
    EXPECT_NEAR(loss, ref::kd(sd, td, R, C, T), 1e-6);
    const Vec want = ref::numeric_gradient([&](const Vec& x) { return ref::kd(x, td, R, C, T); }, sd);
    EXPECT_LT(ref::max_rel_error(g.data(), want), kTol);
  }
  std::vector<float> g(R * C);
  EXPECT_NEAR(tr::kd_loss(g.data(), s.data(), s.data(), R, C, 2.0f), 0.0f, 1e-7);   // same distribution
  for (float v : g) EXPECT_NEAR(v, 0.0f, 1e-7);
}

TEST(TrainLosses, KdLossMatchesPyTorchFixture) {
  // KLDivLoss(reduction='batchmean')(log_softmax(s / 2), softmax(t / 2)) and its gradient, from PyTorch.
  const slimformer::SafetensorsFile f(slimtest::fixtures_dir() + "/training/kd-loss-T2.safetensors");
  const slimformer::Tensor s = f.get("student_logits"), t = f.get("teacher_logits");
  const slimformer::Tensor want_loss = f.get("loss"), want_grad = f.get("grad_student_logits");
  const int64_t R = s.dim(0), C = s.dim(1);
  ASSERT_EQ(t.shape(), s.shape());
  ASSERT_EQ(want_grad.shape(), s.shape());
  std::vector<float> g(R * C, kNaN);
  const float loss = tr::kd_loss(g.data(), s.data<float>(), t.data<float>(), R, C, 2.0f);
  EXPECT_NEAR(loss, want_loss.data<float>()[0], 1e-5);   // no T^2 factor in the fixture
  for (int64_t i = 0; i < R * C; ++i) EXPECT_NEAR(g[i], want_grad.data<float>()[i], 1e-5) << i;
}

TEST(TrainLosses, CrossEntropyMatchesFiniteDifferences) {
  const int64_t R = 4, C = 5;
  const auto x = random_vec(R * C, 77, 2.0f);
  const std::vector<int64_t> labels = {2, 0, -100, 4};   // one ignored row
  const Vec xd = to_double(x);
  std::vector<float> g(R * C, kNaN);
  const float loss = tr::cross_entropy_loss(g.data(), x.data(), labels.data(), R, C);
  EXPECT_NEAR(loss, ref::cross_entropy(xd, labels, R, C), 1e-6);
  const Vec want = ref::numeric_gradient([&](const Vec& v) { return ref::cross_entropy(v, labels, R, C); }, xd);
  EXPECT_LT(ref::max_rel_error(g.data(), want), kTol);
  for (int64_t j = 0; j < C; ++j) EXPECT_EQ(g[2 * C + j], 0.0f);   // the ignored row
}

TEST(TrainLosses, CrossEntropyHandValueAndBadLabel) {
  const float x[3] = {0.0f, 0.0f, 0.0f};
  const int64_t label = 1, bad = 3;
  EXPECT_NEAR(tr::cross_entropy_loss(nullptr, x, &label, 1, 3), std::log(3.0), 1e-6);   // uniform: log C
  const std::string msg = slimtest::message_of<slimformer::InputError>(
      [&] { tr::cross_entropy_loss(nullptr, x, &bad, 1, 3); });
  EXPECT_NE(msg.find("label 3"), std::string::npos) << msg;
}
