// Movement pruning: the cubic schedule against the paper's formula, top-v masks, the
// straight-through gradients against central differences, the direction the scores move, the
// --prune parser, and a distillation run that prunes, saves sparse, embeds and resumes bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "compress/movement.h"
#include "compress/rank.h"
#include "io_test_util.h"
#include "slimformer/distill.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
namespace fs = std::filesystem;

namespace {

// s_t = s_f + (s_i - s_f)(1 - (t - t_i)/(T - t_i - t_f))^3 as the paper writes it, s_i = 0.
double paper_sparsity(double s_f, double t, double t_i, double t_f, double T) {
  return s_f + (0.0 - s_f) * std::pow(1.0 - (t - t_i) / (T - t_i - t_f), 3.0);
}

Tensor filled(const Shape& shape, std::vector<float> v) {
  Tensor t = Tensor::empty(shape);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

train::Parameter parameter(const std::string& name, const Tensor& w) {
  return {name, filled(w.shape(), values(w)), Tensor::zeros(w.shape())};
}

}  // namespace

TEST(CompressMovement, CubicScheduleFollowsThePaper) {
  compress::MovementPruning m;
  m.amount = 0.6;   // T = 100: t_i = 10, t_f = 20
  EXPECT_EQ(compress::movement_sparsity(m, 0, 100), 0.0);
  EXPECT_EQ(compress::movement_sparsity(m, 10, 100), 0.0);
  EXPECT_GT(compress::movement_sparsity(m, 11, 100), 0.0);
  EXPECT_EQ(compress::movement_sparsity(m, 80, 100), 0.6);
  EXPECT_EQ(compress::movement_sparsity(m, 100, 100), 0.6);
  EXPECT_EQ(compress::movement_sparsity(m, 250, 100), 0.6);   // past the end: clamped
  // Half-way through the pruning phase: 0.6 * (1 - 0.5^3).
  EXPECT_NEAR(compress::movement_sparsity(m, 45, 100), 0.6 * 0.875, 1e-12);
  double last = 0;
  for (int64_t t = 0; t <= 100; ++t) {
    const double s = compress::movement_sparsity(m, t, 100);
    EXPECT_GE(s, last) << t;
    last = s;
    if (t >= 10 && t <= 80) {
      EXPECT_NEAR(s, paper_sparsity(0.6, t, 10, 20, 100), 1e-12) << t;
    }
  }
  // Cubic: it prunes fast early, slowly late (the second difference is negative).
  EXPECT_GT(compress::movement_sparsity(m, 20, 100) - compress::movement_sparsity(m, 10, 100),
            compress::movement_sparsity(m, 80, 100) - compress::movement_sparsity(m, 70, 100));
  m.amount = 1.0;
  iotest::expect_error<InputError>([&] { compress::movement_sparsity(m, 0, 10); }, {"amount"});
}

TEST(CompressMovement, TopVMasksKeepExactCountsAndBreakTiesByIndex) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> scores(17), mask(17);
  for (float& s : scores) s = normal(rng);
  for (int64_t keep = 0; keep <= 17; ++keep) {
    compress::top_v_mask(mask.data(), scores.data(), 17, keep);
    EXPECT_EQ(std::count(mask.begin(), mask.end(), 1.0f), keep);
    EXPECT_EQ(std::count(mask.begin(), mask.end(), 0.0f), 17 - keep);
    float lowest_kept = INFINITY, highest_dropped = -INFINITY;
    for (size_t i = 0; i < 17; ++i) {
      if (mask[i] != 0) lowest_kept = std::min(lowest_kept, scores[i]);
      else highest_dropped = std::max(highest_dropped, scores[i]);
    }
    EXPECT_GT(lowest_kept, highest_dropped) << keep;
  }
  std::vector<float> ties = {1, 2, 2, 2, 0, 2}, m6(6);
  compress::top_v_mask(m6.data(), ties.data(), 6, 2);
  EXPECT_EQ(m6, (std::vector<float>{0, 1, 1, 0, 0, 0}));
  std::vector<float> zeros(5, 0.0f), m5(5);
  compress::top_v_mask(m5.data(), zeros.data(), 5, 3);
  EXPECT_EQ(m5, (std::vector<float>{1, 1, 1, 0, 0}));
}

// W' = W ⊙ M in the forward; the gradients the hooks leave must be the derivatives of
// L(W ⊙ M) in W (M fixed) and of L(W ⊙ m) in m at m = M (the mask relaxed: straight through).
TEST(CompressMovement, StraightThroughGradientsMatchCentralDifferences) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  const int64_t n = 3 * 5;
  std::vector<float> w(n), c(n), b(n), s(n);
  for (int64_t i = 0; i < n; ++i) w[i] = normal(rng), c[i] = 1.0f + std::abs(normal(rng)), b[i] = normal(rng), s[i] = normal(rng);
  // L(x) = sum(c x^2 / 2 + b x + x^3 / 3): nonlinear, dL/dx = c x + b + x^2.
  const auto loss = [&](const std::vector<double>& x) {
    double l = 0;
    for (int64_t i = 0; i < n; ++i) l += c[i] * x[i] * x[i] / 2 + b[i] * x[i] + x[i] * x[i] * x[i] / 3;
    return l;
  };
  std::vector<train::Parameter> params = {parameter("w", filled({3, 5}, w))};
  compress::MovementPruning o;
  o.amount = 0.4;
  o.warmup_fraction = 0;
  o.final_fraction = 1;   // the final sparsity from step 1 (step 0 is t_i: none yet)
  compress::MovementPruner pruner(o, {"w"}, params, 10);
  std::map<std::string, Tensor> state = pruner.state();
  state["movement.scores.w"] = filled({3, 5}, s);
  pruner.load_state(state);

  pruner.before_forward(1);
  const std::vector<float> mask = values(pruner.mask("w"));
  EXPECT_EQ(std::count(mask.begin(), mask.end(), 0.0f), compress::prune_count(0.4, n));
  float* x = params[0].value.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(x[i], w[i] * mask[i]) << i;
    params[0].grad.data<float>()[i] = c[i] * x[i] + b[i] + x[i] * x[i];
  }
  pruner.after_backward();
  EXPECT_EQ(values(params[0].value), w);   // the dense master is back, bit for bit
  const double h = 1e-4;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> up(n), down(n);
    for (int64_t j = 0; j < n; ++j) up[j] = down[j] = static_cast<double>(w[j]) * mask[j];
    up[i] = (w[i] + h) * mask[i], down[i] = (w[i] - h) * mask[i];
    EXPECT_NEAR(params[0].grad.data<float>()[i], (loss(up) - loss(down)) / (2 * h), 1e-4) << "dL/dW " << i;
    up[i] = w[i] * (mask[i] + h), down[i] = w[i] * (mask[i] - h);
    EXPECT_NEAR(pruner.score_grad("w").data<float>()[i], (loss(up) - loss(down)) / (2 * h), 1e-4) << "dL/dS " << i;
  }
}

// The paper's point: a weight that training pushes away from zero gains score, one pulled toward
// zero loses it, whatever its magnitude; then top-v keeps the ones moving out.
TEST(CompressMovement, WeightsMovingAwayFromZeroGainScore) {
  std::vector<train::Parameter> params = {parameter("w", filled({2, 2}, {0.01f, -0.01f, 3.0f, -3.0f}))};
  compress::MovementPruning o;
  o.amount = 0.5;   // T = 100: no pruning at step 0, 0.5 from step 80
  compress::MovementPruner pruner(o, {"w"}, params, 100);
  pruner.before_forward(0);
  EXPECT_EQ(values(pruner.mask("w")), (std::vector<float>{1, 1, 1, 1}));
  // SGD would move the weights to 0.01 + g, -0.01 - g (away from 0) and 3 - g, -3 + g (toward it).
  const std::vector<float> dw = {-1.0f, 1.0f, 1.0f, -1.0f};
  std::copy(dw.begin(), dw.end(), params[0].grad.data<float>());
  pruner.after_backward();
  pruner.score_step(0.01);
  const std::vector<float> s = values(pruner.scores("w"));
  EXPECT_GT(s[0], 0);
  EXPECT_GT(s[1], 0);
  EXPECT_LT(s[2], 0);
  EXPECT_LT(s[3], 0);
  pruner.before_forward(80);
  EXPECT_EQ(values(pruner.mask("w")), (std::vector<float>{1, 1, 0, 0}));   // the large weights go
  EXPECT_EQ(values(params[0].value), (std::vector<float>{0.01f, -0.01f, 0.0f, -0.0f}));
  std::map<std::string, Tensor> saved;
  pruner.write_masked(saved, 100);
  EXPECT_EQ(values(saved.at("w")), (std::vector<float>{0.01f, -0.01f, 0.0f, 0.0f}));
}

TEST(CompressMovement, SpecParserNamesTheFault) {
  EXPECT_EQ(compress::parse_movement_spec("movement:amount=0.5").amount, 0.5);
  EXPECT_EQ(compress::parse_movement_spec("movement:amount=.25").amount, 0.25);
  iotest::expect_error<InputError>([] { compress::parse_movement_spec("l1:amount=0.5"); }, {"'l1'", "not a pruning method"});
  iotest::expect_error<InputError>([] { compress::parse_movement_spec("movement"); }, {"needs an amount"});
  iotest::expect_error<InputError>([] { compress::parse_movement_spec("movement:"); }, {"needs an amount"});
  for (const char* bad : {"movement:amount=", "movement:amount=1", "movement:amount=0", "movement:amount=-0.5",
                          "movement:amount=0.5x", "movement:amount=nan"}) {
    iotest::expect_error<InputError>([&] { compress::parse_movement_spec(bad); }, {"amount", "(0, 1)"});
  }
  iotest::expect_error<InputError>([] { compress::parse_movement_spec("movement:amount=0.5,warmup=2"); },
                                   {"unknown key", "'warmup=2'"});
  iotest::expect_error<InputError>([] { compress::parse_movement_spec("movement:size=0.5"); }, {"unknown key"});
}

TEST(CompressMovement, StateRoundTripsAndRefusesAMismatchedResume) {
  std::vector<train::Parameter> params = {parameter("w", filled({1, 3}, {1, 2, 3}))};
  compress::MovementPruner pruner(compress::MovementPruning{0.5}, {"w"}, params, 10);
  std::map<std::string, Tensor> state = pruner.state();
  EXPECT_EQ(state.count("movement.scores.w"), 1u);
  EXPECT_EQ(state.count("movement.weights.w"), 1u);
  EXPECT_EQ(state.count("movement.step"), 1u);
  std::map<std::string, Tensor> no_movement = {{"step", Tensor::zeros({1}, DType::I64)}};
  iotest::expect_error<InputError>([&] { compress::take_movement_state(&pruner, no_movement); }, {"without --prune"});
  iotest::expect_error<InputError>([&] { compress::take_movement_state(nullptr, state); }, {"--prune movement"});
  state = pruner.state();
  state.erase("movement.scores.w");
  iotest::expect_error<InputError>([&] { pruner.load_state(state); }, {"movement.scores.w"});
  iotest::expect_error<InputError>([&] { compress::MovementPruner(compress::MovementPruning{0.5}, {"v"}, params, 10); },
                                   {"'v'"});
}

namespace {

const char* kSentences =
    "a man is playing a guitar\nthe cat sleeps on the sofa\nchildren run in the park\n"
    "a woman slices an onion\nthe train leaves at noon\ntwo dogs chase a ball\n"
    "rain falls on the city\nhe reads a long book\nthe sun sets over the sea\nshe plays the piano\n";

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST(CompressMovement, DistillPrunesEveryLayerLinearSavesSparseAndResumesBitForBit) {
  const fs::path dir = fs::temp_directory_path() / ("slimformer-movement-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "data.txt") << kSentences;
  compress::DistillOptions o;
  o.teacher_dir = slimtest::fixtures_dir() + "/models/st-bert-uncased";
  o.data_path = (dir / "data.txt").string();
  o.student_layers = 2;
  o.batch_size = 4;
  o.lr = 1e-3;
  o.epochs = 4;   // 12 steps: no pruning up to step 1, the final sparsity from step 10
  o.movement.amount = 0.6;
  o.out_dir = (dir / "whole").string();
  const std::vector<compress::DistillEpoch> whole = compress::distill(o);
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_LT(whole.back().mean_loss, whole.front().mean_loss);

  const Checkpoint out(o.out_dir);
  const compress::ModelState state = compress::state_of(out);
  const std::vector<std::string> targets = compress::movement_targets(state);
  EXPECT_EQ(targets.size(), 12u);   // 2 layers x (query, key, value, attention output, FFN in, FFN out)
  for (const std::string& name : targets) {
    const Tensor w = out.get(name).to_f32();
    EXPECT_EQ(std::count(w.data<float>(), w.data<float>() + w.numel(), 0.0f), compress::prune_count(0.6, w.numel())) << name;
    EXPECT_TRUE(out.is_decoded(name)) << name;   // stored as prune stores it
  }
  for (const std::string& name : out.names()) {   // nothing else is pruned
    if (std::find(targets.begin(), targets.end(), name) != targets.end()) continue;
    EXPECT_FALSE(out.is_decoded(name)) << name;
  }
  const SentenceEncoder student(o.out_dir);
  const Tensor e = student.embed({"a small test"});
  EXPECT_EQ(e.dim(1), 16);
  EXPECT_TRUE(std::isfinite(e.data<float>()[0]));

  // Interrupted in its third epoch, then resumed: the same bytes, scores included.
  o.out_dir = (dir / "split").string();
  o.progress = [](int64_t epoch, int64_t, int64_t, double, double) {
    if (epoch == 3) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(compress::distill(o), std::runtime_error);
  o.progress = nullptr;
  o.resume = true;
  compress::MovementPruning movement = o.movement;
  o.movement.amount = 0;   // a pruned run is continued only with its --prune
  iotest::expect_error<InputError>([&] { compress::distill(o); }, {"--prune movement"});
  o.movement = movement;
  ASSERT_EQ(compress::distill(o).size(), 2u);
  const Checkpoint b(o.out_dir);
  for (const std::string& name : out.names()) EXPECT_TRUE(same_bytes(out.get(name), b.get(name))) << name;
  const SafetensorsFile sa((dir / "whole" / "training_state.safetensors").string()),
      sb((dir / "split" / "training_state.safetensors").string());
  const std::vector<std::string> names = sa.names();
  EXPECT_EQ(names, sb.names());
  for (const std::string& name : names) EXPECT_TRUE(same_bytes(sa.get(name), sb.get(name))) << name;
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return n.rfind("movement.scores.", 0) == 0; }),
            12);
  fs::remove_all(dir);
}
