// Structured pruning (heads, FFN neurons) against Hugging Face's prune_heads and ln_structured
// fixtures, and per-layer shapes against an equivalent masked model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "fixture_util.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "io_test_util.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::fixture_batch;
using slimtest::masked_max_diff;

namespace {

const std::string kDir = slimtest::fixtures_dir();

compress::ModelState bert_tiny() { return compress::state_of(Checkpoint(kDir + "/models/bert-tiny")); }

Tensor run(const compress::ModelState& m) {
  SafetensorsFile in(kDir + "/outputs/bert-tiny.safetensors");
  return Encoder(compress::checkpoint_of(m)).forward(fixture_batch(in)).last_hidden_state;
}

std::vector<int64_t> fixture_mask() {
  SafetensorsFile in(kDir + "/outputs/bert-tiny.safetensors");
  return fixture_batch(in).mask;
}

// The fixture's heads_removed (rows of (layer, head)) as prune_heads' argument.
std::map<int64_t, std::vector<int64_t>> fixture_heads(const SafetensorsFile& f) {
  const Tensor t = f.get("heads_removed");
  std::map<int64_t, std::vector<int64_t>> heads;
  for (int64_t r = 0; r < t.dim(0); ++r) heads[t.data<int64_t>()[2 * r]].push_back(t.data<int64_t>()[2 * r + 1]);
  return heads;
}

}  // namespace

TEST(CompressHeads, RemovedHeadsMatchHuggingFacePruneHeads) {
  SafetensorsFile want(kDir + "/compression/prune-heads-l0-h0h2-l1-h1.safetensors");
  compress::ModelState m = bert_tiny();
  const auto heads = fixture_heads(want);
  ASSERT_EQ(heads, (std::map<int64_t, std::vector<int64_t>>{{0, {0, 2}}, {1, {1}}}));
  compress::remove_heads(m, heads);
  EXPECT_EQ(m.config.pruned_heads, heads);
  const int64_t d = m.config.hidden_size / m.config.num_heads;
  EXPECT_EQ(m.tensors.at("encoder.layer.0.attention.self.query.weight").dim(0), (m.config.num_heads - 2) * d);
  EXPECT_EQ(m.tensors.at("encoder.layer.1.attention.output.dense.weight").dim(1), (m.config.num_heads - 1) * d);
  EXPECT_LE(masked_max_diff(run(m), want.get("out.last_hidden_state"), fixture_mask()), 1e-5);
}

TEST(CompressHeads, RemovingInStepsCountsOriginalIndices) {
  SafetensorsFile want(kDir + "/compression/prune-heads-l0-h0h2-l1-h1.safetensors");
  compress::ModelState m = bert_tiny();
  compress::remove_heads(m, {{0, {2}}});
  compress::remove_heads(m, {{0, {0, 2}}, {1, {1}}});   // head 2 again: already gone, skipped
  EXPECT_EQ(m.config.pruned_heads, (std::map<int64_t, std::vector<int64_t>>{{0, {0, 2}}, {1, {1}}}));
  EXPECT_LE(masked_max_diff(run(m), want.get("out.last_hidden_state"), fixture_mask()), 1e-5);
}

TEST(CompressHeads, BadRequestsAreRefused) {
  compress::ModelState m = bert_tiny();
  const int64_t heads = m.config.num_heads;
  iotest::expect_error<InputError>([&] { compress::remove_heads(m, {{5, {0}}}); }, {"layer 5", "out of range"});
  iotest::expect_error<InputError>([&] { compress::remove_heads(m, {{0, {heads}}}); }, {"head", "out of range"});
  std::vector<int64_t> all;
  for (int64_t h = 0; h < heads; ++h) all.push_back(h);
  iotest::expect_error<InputError>([&] { compress::remove_heads(m, {{1, all}}); }, {"at least one"});
  iotest::expect_error<InputError>([&] { compress::remove_heads(m, {{0, {0}}, {1, all}}); }, {"at least one"});
  EXPECT_TRUE(m.config.pruned_heads.empty());
  EXPECT_EQ(m.tensors.at("encoder.layer.0.attention.self.query.weight").dim(0), m.config.hidden_size);
}

// ln_structured zeroed half the FFN input rows (biases kept): removing those neurons, with
// act(bias) folded into the output bias, gives the masked model's output.
TEST(CompressFfn, RemovingZeroedNeuronsMatchesLnStructured) {
  const Checkpoint fixture(kDir + "/models/bert-tiny");
  SafetensorsFile want(kDir + "/compression/ln-structured-ffn-rows-0.5.safetensors");
  compress::ModelState m = compress::state_of(fixture);
  std::map<int64_t, std::vector<int64_t>> zero_rows;
  for (int64_t l = 0; l < m.config.num_layers; ++l) {
    const std::string name = "encoder.layer." + std::to_string(l) + ".intermediate.dense.weight";
    const Tensor w = want.get(name);
    m.tensors[name] = w;
    for (int64_t r = 0; r < w.dim(0); ++r) {
      bool zero = true;
      for (int64_t k = 0; k < w.dim(1); ++k) zero = zero && w.data<float>()[r * w.dim(1) + k] == 0.0f;
      if (zero) zero_rows[l].push_back(r);
    }
    ASSERT_EQ(static_cast<int64_t>(zero_rows[l].size()), w.dim(0) / 2) << name;
  }
  compress::remove_ffn_neurons(m, zero_rows);
  EXPECT_EQ(m.config.intermediate_size, fixture.config().intermediate_size / 2);
  EXPECT_TRUE(m.config.intermediate_sizes.empty()) << "one width for all layers needs no list";
  EXPECT_LE(masked_max_diff(run(m), want.get("out.last_hidden_state"), fixture_mask()), 1e-5);
}

// Layers of different widths (and heads) run as the same model with those neurons' input rows
// zeroed, which is what removal with the bias folded computes exactly.
TEST(CompressFfn, PerLayerWidthsEqualTheMaskedModel) {
  compress::ModelState masked = bert_tiny();
  const std::map<int64_t, std::vector<int64_t>> drop = {{0, {0, 5, 6, 7, 100, 255}}, {1, {3}}};
  for (const auto& [layer, rows] : drop) {
    const std::string name = "encoder.layer." + std::to_string(layer) + ".intermediate.dense.weight";
    Tensor w = masked.tensors.at(name).to_f32();
    for (int64_t r : rows) std::fill_n(w.data<float>() + r * w.dim(1), w.dim(1), 0.0f);
    masked.tensors[name] = w;
  }
  compress::ModelState pruned = masked;
  compress::remove_ffn_neurons(pruned, drop);
  const int64_t I = masked.config.intermediate_size;
  EXPECT_EQ(pruned.config.intermediate_sizes, (std::vector<int64_t>{I - 6, I - 1}));
  EXPECT_EQ(layer_shape(pruned.config, 0).intermediate, I - 6);
  EXPECT_LE(masked_max_diff(run(pruned), run(masked), fixture_mask()), 1e-5);
  // Heads removed too: every layer with its own shape in one forward.
  compress::remove_heads(pruned, {{1, {0, 3}}});
  compress::remove_heads(masked, {{1, {0, 3}}});
  EXPECT_LE(masked_max_diff(run(pruned), run(masked), fixture_mask()), 1e-5);
}

TEST(CompressFfn, BadRequestsAreRefused) {
  compress::ModelState m = bert_tiny();
  const int64_t I = m.config.intermediate_size;
  iotest::expect_error<InputError>([&] { compress::remove_ffn_neurons(m, {{-1, {0}}}); }, {"layer -1", "out of range"});
  iotest::expect_error<InputError>([&] { compress::remove_ffn_neurons(m, {{0, {I}}}); }, {"neuron", "out of range"});
  std::vector<int64_t> all;
  for (int64_t j = 0; j < I; ++j) all.push_back(j);
  iotest::expect_error<InputError>([&] { compress::remove_ffn_neurons(m, {{0, all}}); }, {"at least one"});
  // A refused request changes nothing, even when an earlier layer's part of it was valid.
  iotest::expect_error<InputError>([&] { compress::remove_ffn_neurons(m, {{0, {1}}, {1, {I}}}); }, {"out of range"});
  EXPECT_EQ(m.config.intermediate_size, I);
  EXPECT_TRUE(m.config.intermediate_sizes.empty());
  EXPECT_EQ(m.tensors.at("encoder.layer.0.intermediate.dense.weight").dim(0), I);
}

// ln_structured(n=2, dim=0, amount=0.5) zeroed the rows our ranking picks.
TEST(CompressFfn, NormRankingPicksLnStructuredRows) {
  SafetensorsFile want(kDir + "/compression/ln-structured-ffn-rows-0.5.safetensors");
  compress::ModelState m = bert_tiny();
  const auto picked = compress::ffn_neurons_by_norm(m, 0.5, 2);
  ASSERT_EQ(picked.size(), 2u);
  for (const auto& [layer, neurons] : picked) {
    const Tensor w = want.get("encoder.layer." + std::to_string(layer) + ".intermediate.dense.weight");
    std::vector<int64_t> zero_rows;
    for (int64_t r = 0; r < w.dim(0); ++r) {
      bool all_zero = true;
      for (int64_t c = 0; c < w.dim(1); ++c) all_zero = all_zero && w.data<float>()[r * w.dim(1) + c] == 0.0f;
      if (all_zero) zero_rows.push_back(r);
    }
    EXPECT_EQ(neurons, zero_rows) << "layer " << layer;
  }
  compress::remove_ffn_neurons(m, picked);
  EXPECT_LE(masked_max_diff(run(m), want.get("out.last_hidden_state"), fixture_mask()), 1e-5);
  iotest::expect_error<InputError>([&] { compress::ffn_neurons_by_norm(m, 1.0); }, {"amount", "[0, 1)"});
}

TEST(CompressHeads, ImportanceRankingRemovesTheWeakestAndKeepsOnePerLayer) {
  compress::ModelState m = bert_tiny();
  const auto scores = compress::head_importance(m);
  const auto picked = compress::heads_by_importance(m, 0.5);   // 4 of 8 heads
  int64_t count = 0;
  double worst_kept = 1e300, best_removed = 0.0;
  for (const auto& [layer, s] : scores) {
    const auto p = picked.find(layer);
    for (int64_t h = 0; h < static_cast<int64_t>(s.size()); ++h) {
      const bool removed = p != picked.end() && std::count(p->second.begin(), p->second.end(), h);
      count += removed;
      if (removed) best_removed = std::max(best_removed, s[static_cast<size_t>(h)]);
      else worst_kept = std::min(worst_kept, s[static_cast<size_t>(h)]);
    }
  }
  EXPECT_EQ(count, 4);
  EXPECT_LE(best_removed, worst_kept);
  compress::remove_heads(m, picked);
  // 0.9 of the 4 left asks for 4 more, which would empty a layer: each layer keeps one.
  const auto more = compress::heads_by_importance(m, 0.9);
  compress::remove_heads(m, more);
  for (int64_t l = 0; l < m.config.num_layers; ++l) EXPECT_EQ(layer_shape(m.config, l).heads, 1);
}

TEST(CompressLayers, KeptLayersRunAsTheyDidInTheFullModel) {
  compress::ModelState m = bert_tiny();
  compress::remove_heads(m, {{1, {0}}});
  compress::remove_ffn_neurons(m, {{1, {3, 4}}});
  compress::ModelState last = m;
  compress::keep_layers(last, {1});
  EXPECT_EQ(last.config.num_layers, 1);
  EXPECT_EQ(last.config.pruned_heads, (std::map<int64_t, std::vector<int64_t>>{{0, {0}}}));
  EXPECT_EQ(last.config.intermediate_size, m.config.intermediate_size - 2);
  EXPECT_TRUE(last.config.intermediate_sizes.empty());
  EXPECT_EQ(last.tensors.count("encoder.layer.1.attention.self.query.weight"), 0u);
  EXPECT_TRUE(std::memcmp(last.tensors.at("encoder.layer.0.output.dense.weight").raw(),
                          m.tensors.at("encoder.layer.1.output.dense.weight").raw(),
                          m.tensors.at("encoder.layer.1.output.dense.weight").nbytes()) == 0);
  Encoder(compress::checkpoint_of(last));   // loads: every shape fits the smaller config
  iotest::expect_error<InputError>([&] { compress::keep_layers(m, {}); }, {"at least one"});
  iotest::expect_error<InputError>([&] { compress::keep_layers(m, {0, 0}); }, {"twice"});
  iotest::expect_error<InputError>([&] { compress::keep_layers(m, {2}); }, {"layer 2", "out of range"});
}
