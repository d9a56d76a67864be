// AdamW's state: saved through a safetensors file and loaded into a fresh optimizer, a run
// continues exactly as if it had never stopped; bad state files are refused whole.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "test_util.h"
#include "train/clip.h"
#include "train/optimizer.h"
#include "train/schedule.h"

using namespace slimformer;
using namespace slimformer::train;

namespace {

const std::map<std::string, Shape> kShapes = {
    {"embeddings.LayerNorm.weight", {17}},
    {"encoder.layer.0.intermediate.dense.bias", {3}},
    {"encoder.layer.0.intermediate.dense.weight", {3, 17}},
    {"pooler.dense.weight", {1, 5}},
};
constexpr int kTotalSteps = 9;
constexpr int kStopAfter = 4;

Tensor tensor_from(const std::vector<float>& values, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

// A small training run: parameters, gradient buffers, AdamW with Hugging Face's no-decay rule,
// warm-up schedule and clipping; the gradient of each step is a fixed function of the step.
struct TrainingRun {
  std::map<std::string, Tensor> params, grads;
  AdamW adamw{AdamWOptions{.lr = 0.02, .weight_decay = 0.05}, is_bias_or_layer_norm};
  LinearWarmupSchedule schedule{0.02, 3, kTotalSteps};

  explicit TrainingRun(const std::map<std::string, Tensor>& initial) {
    for (const auto& [name, shape] : kShapes) {
      params[name] = Tensor::empty(shape);
      std::memcpy(params[name].raw(), initial.at(name).raw(), params[name].nbytes());
      grads[name] = Tensor::zeros(shape);
      adamw.add_parameter(name, params[name], grads[name]);
    }
  }

  void train_step() {
    const int64_t step = adamw.steps_taken();
    unsigned seed = 100 + static_cast<unsigned>(step) * 7;
    for (auto& [name, grad] : grads) {
      const auto values = slimtest::random_vec(grad.numel(), seed++, 0.5f + static_cast<float>(step));
      std::memcpy(grad.raw(), values.data(), grad.nbytes());
    }
    clip_grad_norm(adamw.gradients(), 1.0);
    adamw.step(schedule.lr(step));
  }
};

std::map<std::string, Tensor> initial_params() {
  std::map<std::string, Tensor> initial;
  unsigned seed = 1;
  for (const auto& [name, shape] : kShapes) initial[name] = tensor_from(slimtest::random_vec(shape_numel(shape), seed++), shape);
  return initial;
}

std::map<std::string, Tensor> read_all(const SafetensorsFile& file) {
  std::map<std::string, Tensor> tensors;
  for (const std::string& name : file.names()) tensors[name] = file.get(name);
  return tensors;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST(TrainAdamWState, ResumeFromSafetensorsIsBitIdentical) {
  const auto initial = initial_params();
  TrainingRun uninterrupted(initial);
  for (int i = 0; i < kTotalSteps; ++i) uninterrupted.train_step();

  // Stop after a few steps: the parameters and the optimizer state go to disk...
  TrainingRun first_half(initial);
  for (int i = 0; i < kStopAfter; ++i) first_half.train_step();
  const std::string dir = slimtest::make_temp_dir();
  write_safetensors(dir + "/model.safetensors", first_half.params);
  write_safetensors(dir + "/optimizer.safetensors", first_half.adamw.state());

  // ...and a new process (fresh buffers, fresh optimizer) picks the run up from the files.
  const SafetensorsFile model(dir + "/model.safetensors");
  const SafetensorsFile state(dir + "/optimizer.safetensors");
  TrainingRun resumed(read_all(model));
  resumed.adamw.load_state(read_all(state));
  EXPECT_EQ(resumed.adamw.steps_taken(), kStopAfter);
  for (int i = kStopAfter; i < kTotalSteps; ++i) resumed.train_step();

  for (const auto& [name, param] : uninterrupted.params) EXPECT_TRUE(same_bits(param, resumed.params.at(name))) << name;
  const auto expected_state = uninterrupted.adamw.state();
  const auto resumed_state = resumed.adamw.state();
  ASSERT_EQ(expected_state.size(), resumed_state.size());
  for (const auto& [key, tensor] : expected_state) EXPECT_TRUE(same_bits(tensor, resumed_state.at(key))) << key;
}

TEST(TrainAdamWState, StateNamesEveryMomentAndTheStep) {
  TrainingRun run(initial_params());
  run.train_step();
  const auto state = run.adamw.state();
  EXPECT_EQ(state.size(), 1 + 2 * kShapes.size());
  EXPECT_EQ(state.at("step").dtype(), DType::I64);
  EXPECT_EQ(state.at("step").data<int64_t>()[0], 1);
  EXPECT_EQ(state.at("exp_avg.pooler.dense.weight").shape(), (Shape{1, 5}));
  EXPECT_EQ(state.at("exp_avg_sq.pooler.dense.weight").dtype(), DType::F32);
}

TEST(TrainAdamWState, BadStateIsRefusedAndChangesNothing) {
  TrainingRun run(initial_params());
  run.train_step();
  const auto good = run.adamw.state();

  auto missing = good;
  missing.erase("exp_avg_sq.pooler.dense.weight");
  EXPECT_NE(slimtest::message_of<InputError>([&] { run.adamw.load_state(missing); })
                .find("exp_avg_sq.pooler.dense.weight"),
            std::string::npos);

  auto wrong_shape = good;
  wrong_shape["exp_avg.pooler.dense.weight"] = Tensor::zeros({5});
  EXPECT_NE(slimtest::message_of<InputError>([&] { run.adamw.load_state(wrong_shape); }).find("[1, 5]"),
            std::string::npos);

  auto extra = good;
  extra["exp_avg.classifier.weight"] = Tensor::zeros({2});
  EXPECT_NE(slimtest::message_of<InputError>([&] { run.adamw.load_state(extra); }).find("classifier.weight"),
            std::string::npos);

  auto no_step = good;
  no_step.erase("step");
  EXPECT_THROW(run.adamw.load_state(no_step), InputError);

  const auto after = run.adamw.state();
  for (const auto& [key, tensor] : good) EXPECT_TRUE(same_bits(tensor, after.at(key))) << key;
}
