// Gradient head importance: d loss / d gate of each head against central finite differences of
// the CosineSimilarityLoss (the head's output columns scaled by 1 +- eps), and the ranking it
// gives on a model built to have a head that does nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compress/head_gradient.h"
#include "slimformer/compress.h"
#include "slimformer/error.h"
#include "test_util.h"
#include "train/trainable_encoder.h"

using namespace slimformer;

namespace {

const std::string kSt = slimtest::fixtures_dir() + "/models/st-bert-uncased";
// A trained model (4 layers of 4 heads): a random fixture's gate gradients are too small to check.
const std::string kMini = slimtest::shared_dir() + "/models/bert-mini-sts";
const std::string kStsDev = slimtest::shared_dir() + "/data/stsbenchmark/sts-dev.csv";

std::vector<StsPair> some_pairs() {
  const std::vector<std::pair<std::string, std::string>> text = {
      {"A man is playing a guitar.", "A man plays the guitar."},
      {"A woman is slicing an onion.", "Two dogs run across a field."},
      {"The cat sat on the mat.", "A cat is sitting on a rug in the sun."},
      {"Stocks fell sharply today.", "The market dropped."}};
  const double scores[] = {4.8, 0.2, 3.5, 3.9};
  std::vector<StsPair> pairs;
  for (size_t i = 0; i < text.size(); ++i) {
    StsPair p;
    p.sentence1 = text[i].first;
    p.sentence2 = text[i].second;
    p.score = scores[i];
    pairs.push_back(p);
  }
  return pairs;
}

std::vector<double> targets_of(const std::vector<StsPair>& pairs) {
  std::vector<double> t;
  for (const StsPair& p : pairs) t.push_back(p.score / 5.0);
  return t;
}

// The analytic gate gradients of `state` against central differences, for every head.
void check_against_finite_differences(const compress::ModelState& state, PoolingMode pooling) {
  const auto tok = load_tokenizer(kMini);
  const std::vector<StsPair> pairs = some_pairs();
  const Batch batch = compress::pair_batch(*tok, pairs, 0, pairs.size(), 64);
  const std::vector<double> t = targets_of(pairs);
  train::TrainableEncoder model(*compress::checkpoint_of(state));
  std::vector<std::string> out_weights;
  for (int64_t l = 0; l < state.config.num_layers; ++l) {
    out_weights.push_back("encoder.layer." + std::to_string(l) + ".attention.output.dense.weight");
  }
  const int64_t d = state.config.hidden_size / state.config.num_heads;
  model.zero_grad();
  compress::pair_batch_loss(model, batch, t, pooling, /*backward=*/true);
  const std::vector<std::vector<double>> got = compress::head_gate_gradients(model, out_weights, d);
  ASSERT_EQ(got.size(), out_weights.size());
  // f32 forward: eps 1e-2 keeps rounding noise (~1e-7 of the loss / eps) far below the gradients,
  // and the O(eps^2) truncation of a central difference small against them.
  const double eps = 1e-2;
  double largest = 0.0;
  for (size_t l = 0; l < got.size(); ++l) {
    Tensor& w = [&]() -> Tensor& {
      for (train::Parameter& p : model.parameters())
        if (p.name == out_weights[l]) return p.value;
      throw std::runtime_error("no " + out_weights[l]);
    }();
    const int64_t rows = w.dim(0), cols = w.dim(1);
    ASSERT_EQ(static_cast<int64_t>(got[l].size()), cols / d);
    for (int64_t h = 0; h < cols / d; ++h) {
      SCOPED_TRACE("layer " + std::to_string(l) + " head " + std::to_string(h));
      const Tensor keep = w.to_f32();
      auto loss_at = [&](double s) {
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = h * d; j < (h + 1) * d; ++j)
            w.data<float>()[i * cols + j] = static_cast<float>(keep.data<float>()[i * cols + j] * s);
        return compress::pair_batch_loss(model, batch, t, pooling, /*backward=*/false);
      };
      const double fd = (loss_at(1 + eps) - loss_at(1 - eps)) / (2 * eps);
      std::copy_n(keep.data<float>(), keep.numel(), w.data<float>());
      EXPECT_NEAR(got[l][static_cast<size_t>(h)], fd, 2e-3 * std::fabs(fd) + 3e-6) << "finite difference " << fd;
      largest = std::max(largest, std::fabs(fd));
    }
  }
  EXPECT_GT(largest, 1e-3) << "the gradients are too small for the comparison to mean anything";
}

}  // namespace

TEST(CompressHeadGradient, GateGradientsMatchFiniteDifferences) {
  const compress::ModelState m = compress::state_of(Checkpoint(kMini));
  for (PoolingMode pooling : {PoolingMode::Mean, PoolingMode::Cls}) {
    SCOPED_TRACE(pooling == PoolingMode::Mean ? "mean" : "cls");
    check_against_finite_differences(m, pooling);
  }
}

TEST(CompressHeadGradient, GateGradientsMatchFiniteDifferencesOnPrunedHeads) {
  compress::ModelState m = compress::state_of(Checkpoint(kMini));
  compress::remove_heads(m, {{0, {0, 2}}, {3, {1}}});
  check_against_finite_differences(m, PoolingMode::Mean);
}

TEST(CompressHeadGradient, AHeadWithoutOutputIsRemovedFirst) {
  // Layer 1's head 0 writes nothing (its output columns are zero) but has the largest Q/K/V
  // weights: the norm ranking keeps it, the gradient ranking removes it first.
  compress::ModelState m = compress::state_of(Checkpoint(kSt));
  const int64_t d = m.config.hidden_size / m.config.num_heads;
  Tensor& out = m.tensors.at("encoder.layer.1.attention.output.dense.weight");
  out = out.to_f32();
  for (int64_t i = 0; i < out.dim(0); ++i)
    for (int64_t j = 0; j < d; ++j) out.data<float>()[i * out.dim(1) + j] = 0.0f;
  for (const std::string w : {"query", "key", "value"}) {
    Tensor& t = m.tensors.at("encoder.layer.1.attention.self." + w + ".weight");
    t = t.to_f32();
    for (int64_t i = 0; i < d * t.dim(1); ++i) t.data<float>()[i] *= 10.0f;
  }
  const std::map<int64_t, std::vector<int64_t>> removed_first = {{1, {0}}};
  ASSERT_NE(compress::heads_by_importance(m, 0.25), removed_first) << "the case does not tell the scores apart";
  const std::string dir = slimtest::make_temp_dir() + "/model";
  compress::save_model(m, kSt, dir);

  compress::HeadGradientOptions o;
  o.max_pairs = 24;
  o.batch_size = 8;
  const std::vector<StsPair> pairs = read_sts(kStsDev);
  const compress::HeadImportance got = compress::head_importance_by_gradient(dir, pairs, o);
  EXPECT_EQ(got.pairs, 24);
  ASSERT_EQ(got.scores.size(), 2u);
  EXPECT_EQ(got.scores.at(1)[0], 0.0);
  EXPECT_NEAR(got.scores.at(1)[1], 1.0, 1e-12);   // normalised: the layer's other head
  EXPECT_EQ(compress::heads_by_importance(m, got.scores, 0.25), removed_first);

  // Normalisation divides each layer's summed |gradients| by their L2 norm.
  o.normalize_layers = false;
  const compress::HeadImportance raw = compress::head_importance_by_gradient(dir, pairs, o);
  for (const auto& [layer, s] : raw.scores) {
    const double norm = std::hypot(s[0], s[1]);
    ASSERT_GT(norm, 0.0);
    for (size_t h = 0; h < s.size(); ++h) EXPECT_NEAR(got.scores.at(layer)[h], s[h] / norm, 1e-12);
  }
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST(CompressHeadGradient, RefusesWhatItCannotScore) {
  compress::ModelState m = compress::state_of(Checkpoint(kSt));
  EXPECT_THROW(compress::head_importance_by_gradient(kSt, {}), InputError);
  compress::HeadGradientOptions o;
  o.max_pairs = 0;
  EXPECT_THROW(compress::head_importance_by_gradient(kSt, some_pairs(), o), InputError);
  // Scores of the wrong shape are refused by the ranking.
  EXPECT_THROW(compress::heads_by_importance(m, {{0, {1.0, 2.0}}}, 0.25), InputError);
  EXPECT_THROW(compress::heads_by_importance(m, {{0, {1.0}}, {1, {1.0, 2.0}}}, 0.25), InputError);
}
