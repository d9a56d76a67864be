// AdamW, the linear warm-up schedule and gradient clipping against PyTorch 1.13
// (tests/reference/make_optimizer_reference.py wrote optimizer_reference.json), and resuming a
// run from saved optimizer state bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
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
using nlohmann::json;

namespace {

constexpr double kRelativeTolerance = 1e-6;

json load_reference() {
  const auto path = std::filesystem::path(SLIM_TEST_DATA).parent_path() / "reference" / "optimizer_reference.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

Tensor tensor_of(const json& values, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.numel());
  float* data = t.data<float>();
  for (size_t i = 0; i < values.size(); ++i) data[i] = static_cast<float>(values[i].get<double>());
  return t;
}

void copy_into(Tensor& dst, const json& values) {
  Tensor src = tensor_of(values, dst.shape());
  std::memcpy(dst.raw(), src.raw(), dst.nbytes());
}

// Each element within kRelativeTolerance of torch's (with a floor of 1e-7 for values near 0).
void expect_close(const Tensor& actual, const json& expected, const std::string& what) {
  ASSERT_EQ(actual.numel(), static_cast<int64_t>(expected.size())) << what;
  const float* a = actual.data<float>();
  for (size_t i = 0; i < expected.size(); ++i) {
    const double e = expected[i].get<double>();
    EXPECT_NEAR(a[i], e, kRelativeTolerance * std::max(std::fabs(e), 0.1)) << what << " element " << i;
  }
}

// A scenario's parameters, their gradient buffers and an AdamW over them.
struct TorchScenario {
  std::map<std::string, Tensor> params, grads;
  std::optional<AdamW> optimizer;
};

TorchScenario set_up(const json& ref, const json& scenario) {
  TorchScenario s;
  AdamWOptions options;
  options.lr = scenario["lr"].get<double>();
  options.weight_decay = scenario["weight_decay"].get<double>();
  s.optimizer.emplace(options, scenario["no_decay"].get<bool>() ? AdamW::NamePredicate(is_bias_or_layer_norm)
                                                                : AdamW::NamePredicate());
  for (const auto& [name, shape] : ref["shapes"].items()) {
    s.params[name] = tensor_of(ref["initial"][name], shape.get<Shape>());
    s.grads[name] = Tensor::zeros(shape.get<Shape>());
    s.optimizer->add_parameter(name, s.params[name], s.grads[name]);
  }
  return s;
}

}  // namespace

TEST(TrainAdamW, NoDecayRuleMatchesHuggingFace) {
  const json ref = load_reference();
  for (const auto& [name, shape] : ref["shapes"].items()) {
    bool hf_no_decay = false;
    for (const auto& part : ref["no_decay"]) hf_no_decay |= name.find(part.get<std::string>()) != std::string::npos;
    EXPECT_EQ(is_bias_or_layer_norm(name), hf_no_decay) << name;
  }
  EXPECT_TRUE(is_bias_or_layer_norm("distilbert.transformer.layer.0.sa_layer_norm.weight"));
  EXPECT_FALSE(is_bias_or_layer_norm("encoder.layer.0.attention.self.query.weight"));
}

TEST(TrainAdamW, MatchesTorchWithScheduleAndClipping) {
  const json ref = load_reference();
  for (const json& scenario : ref["scenarios"]) {
    SCOPED_TRACE(scenario["name"].get<std::string>());
    TorchScenario s = set_up(ref, scenario);
    std::optional<LinearWarmupSchedule> schedule;
    if (!scenario["warmup"].is_null())
      schedule.emplace(scenario["lr"].get<double>(), scenario["warmup"].get<int64_t>(),
                       scenario["total"].get<int64_t>());
    int64_t step = 0;
    for (const json& record : scenario["steps"]) {
      SCOPED_TRACE("step " + std::to_string(step));
      for (auto& [name, grad] : s.grads) copy_into(grad, ref["grads"][step][name]);

      const double lr = schedule ? schedule->lr(step) : scenario["lr"].get<double>();
      EXPECT_DOUBLE_EQ(lr, record["lr"].get<double>());

      if (!scenario["max_norm"].is_null()) {
        const float norm = clip_grad_norm(s.optimizer->gradients(), scenario["max_norm"].get<double>());
        const double expected = record["total_norm"].get<double>();
        EXPECT_NEAR(norm, expected, kRelativeTolerance * expected);
        const bool clipped = record.contains("clipped_grads");
        EXPECT_EQ(clipped, norm > scenario["max_norm"].get<double>());
        for (const auto& [name, grad] : s.grads)
          expect_close(grad, clipped ? record["clipped_grads"][name] : ref["grads"][step][name], "grad " + name);
      }

      s.optimizer->step(lr);
      EXPECT_EQ(s.optimizer->steps_taken(), step + 1);
      for (const auto& [name, param] : s.params) expect_close(param, record["params"][name], name);
      ++step;
    }
  }
}

TEST(TrainAdamW, ExcludedParametersSkipOnlyWeightDecay) {
  // With zero gradients Adam's step is 0, so what is left is the decay: p * (1 - lr * wd).
  AdamWOptions options;
  options.lr = 0.1;
  options.weight_decay = 0.5;
  AdamW adamw(options, is_bias_or_layer_norm);
  Tensor weight = Tensor::empty({3}), bias = Tensor::empty({3});
  for (int i = 0; i < 3; ++i) weight.data<float>()[i] = bias.data<float>()[i] = 2.0f;
  adamw.add_parameter("dense.weight", weight, Tensor::zeros({3}));
  adamw.add_parameter("dense.bias", bias, Tensor::zeros({3}));
  EXPECT_TRUE(adamw.decays("dense.weight"));
  EXPECT_FALSE(adamw.decays("dense.bias"));
  adamw.step();
  EXPECT_FLOAT_EQ(weight.data<float>()[1], 2.0f * 0.95f);
  EXPECT_EQ(bias.data<float>()[1], 2.0f);
}

TEST(TrainAdamW, RejectsBadParametersAndOptions) {
  AdamW adamw;
  adamw.add_parameter("w", Tensor::zeros({2, 3}), Tensor::zeros({2, 3}));
  EXPECT_NE(slimtest::message_of<InputError>([&] { adamw.add_parameter("w", Tensor::zeros({1}), Tensor::zeros({1})); })
                .find("'w'"),
            std::string::npos);
  EXPECT_NE(slimtest::message_of<InputError>(
                [&] { adamw.add_parameter("v", Tensor::zeros({2, 3}), Tensor::zeros({3, 2})); })
                .find("shape"),
            std::string::npos);
  EXPECT_NE(slimtest::message_of<InputError>(
                [&] { adamw.add_parameter("u", Tensor::zeros({2}, DType::F16), Tensor::zeros({2}, DType::F16)); })
                .find("F32"),
            std::string::npos);
  EXPECT_THROW(adamw.step(-1.0), InputError);
  EXPECT_THROW(adamw.decays("missing"), InputError);
  AdamWOptions bad;
  bad.beta2 = 1.0;
  EXPECT_THROW(AdamW{bad}, InputError);
}
