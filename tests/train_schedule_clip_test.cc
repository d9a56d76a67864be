// The linear warm-up/decay schedule and global-norm gradient clipping on hand-worked cases
// (train_optimizer_test.cc compares both with PyTorch).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "slimformer/error.h"
#include "train/clip.h"
#include "train/schedule.h"

using namespace slimformer;
using namespace slimformer::train;

namespace {

Tensor filled(const std::vector<float>& values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = values[i];
  return t;
}

}  // namespace

TEST(TrainSchedule, WarmsUpLinearlyThenDecaysToZero) {
  // warm-up 4 of 10 steps: 0, 1/4, 2/4, 3/4, then (10 - step) / 6 down to 0, and 0 after.
  const std::vector<double> expected = {0.0, 0.25, 0.5, 0.75, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0, 0.0};
  for (size_t step = 0; step < expected.size(); ++step)
    EXPECT_DOUBLE_EQ(linear_warmup_decay(static_cast<int64_t>(step), 4, 10), expected[step]) << step;
  const LinearWarmupSchedule schedule(2e-5, 4, 10);
  EXPECT_DOUBLE_EQ(schedule.lr(2), 1e-5);
  EXPECT_DOUBLE_EQ(schedule.base_lr(), 2e-5);
}

TEST(TrainSchedule, EdgeWarmupsFollowTransformers) {
  // No warm-up: full rate at step 0, decaying over all steps.
  EXPECT_DOUBLE_EQ(linear_warmup_decay(0, 0, 8), 1.0);
  EXPECT_DOUBLE_EQ(linear_warmup_decay(2, 0, 8), 0.75);
  // Warm-up over every step: the decay denominator is max(1, 0) = 1, so the rate drops to 0.
  EXPECT_DOUBLE_EQ(linear_warmup_decay(3, 6, 6), 0.5);
  EXPECT_DOUBLE_EQ(linear_warmup_decay(6, 6, 6), 0.0);
}

TEST(TrainSchedule, RejectsImpossibleStepCounts) {
  EXPECT_THROW(linear_warmup_decay(0, 11, 10), InputError);
  EXPECT_THROW(linear_warmup_decay(-1, 1, 10), InputError);
  EXPECT_THROW(linear_warmup_decay(0, -1, 10), InputError);
  EXPECT_THROW(LinearWarmupSchedule(-1e-3, 1, 10), InputError);
}

TEST(TrainClip, ReturnsGlobalNormAndScalesOnlyAboveTheBound) {
  // |(3, 4)| = 5 and |(0, 0, 12)| = 12: together 13.
  Tensor a = filled({3, 4}), b = filled({0, 0, 12});
  EXPECT_FLOAT_EQ(global_grad_norm({a, b}), 13.0f);
  EXPECT_FLOAT_EQ(clip_grad_norm({a, b}, 20.0), 13.0f);
  EXPECT_EQ(a.data<float>()[0], 3.0f);   // under the bound: untouched
  EXPECT_FLOAT_EQ(clip_grad_norm({a, b}, 6.5), 13.0f);
  EXPECT_NEAR(a.data<float>()[1], 2.0f, 1e-6);   // scaled by 6.5 / (13 + 1e-6) in place
  EXPECT_NEAR(b.data<float>()[2], 6.0f, 1e-6);
  EXPECT_NEAR(global_grad_norm({a, b}), 6.5f, 1e-5);
}

TEST(TrainClip, EmptyAndNonFiniteGradients) {
  EXPECT_EQ(clip_grad_norm({}, 1.0), 0.0f);
  Tensor g = filled({1.0f, INFINITY, 2.0f});
  EXPECT_TRUE(std::isinf(clip_grad_norm({g}, 1.0)));
  EXPECT_EQ(g.data<float>()[2], 2.0f);   // left for the caller to skip the step
}

TEST(TrainClip, RejectsBadInput) {
  EXPECT_THROW(clip_grad_norm({filled({1})}, 0.0), InputError);
  EXPECT_THROW(clip_grad_norm({filled({1})}, NAN), InputError);
  EXPECT_THROW(clip_grad_norm({Tensor::zeros({2}, DType::BF16)}, 1.0), InputError);
}
