// Unstructured L1 pruning against torch.nn.utils.prune's fixtures: the same elements zeroed (ties
// included), the same outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "compress/rank.h"
#include "fixture_util.h"
#include "io_test_util.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

using namespace slimformer;
using slimtest::fixture_batch;
using slimtest::masked_max_diff;

namespace {

const std::string kDir = slimtest::fixtures_dir();

compress::ModelState bert_tiny() { return compress::state_of(Checkpoint(kDir + "/models/bert-tiny")); }

Tensor run(const compress::ModelState& m, std::vector<int64_t>* mask) {
  SafetensorsFile in(kDir + "/outputs/bert-tiny.safetensors");
  *mask = fixture_batch(in).mask;
  return Encoder(compress::checkpoint_of(m)).forward(fixture_batch(in)).last_hidden_state;
}

// Every tensor of the fixture equals ours element for element (zeros where PyTorch zeroed, the
// rest untouched), and the outputs agree.
void expect_matches_fixture(const compress::ModelState& m, const std::string& file) {
  SafetensorsFile want(kDir + "/compression/" + file);
  for (const std::string& name : want.names()) {
    if (name.rfind("out.", 0) == 0) continue;
    const Tensor w = want.get(name).to_f32(), ours = m.tensors.at(name).to_f32();
    ASSERT_EQ(w.numel(), ours.numel()) << name;
    int64_t differ = 0;
    for (int64_t i = 0; i < w.numel(); ++i) differ += w.data<float>()[i] != ours.data<float>()[i];
    EXPECT_EQ(differ, 0) << name;
  }
  std::vector<int64_t> mask;
  const Tensor y = run(m, &mask);
  EXPECT_LE(masked_max_diff(y, want.get("out.last_hidden_state"), mask), 1e-5);
}

int64_t zeros(const Tensor& t) {
  const Tensor f = t.to_f32();
  return std::count(f.data<float>(), f.data<float>() + f.numel(), 0.0f);
}

}  // namespace

TEST(CompressUnstructured, EveryWeightRecipeEqualsPyTorchL1Unstructured) {
  compress::ModelState m = bert_tiny();
  compress::UnstructuredPruning p;
  p.amount = 0.2;
  p.scope = compress::PruneScope::EveryWeight;
  const compress::PruneSummary s = compress::prune_l1_unstructured(m, p);
  EXPECT_EQ(s.tensors.size(), 21u);   // embeddings (3), their LayerNorm, 2 layers x 8, the pooler
  expect_matches_fixture(m, "l1-unstructured-0.2-every-weight.safetensors");
}

TEST(CompressUnstructured, GlobalLinearEqualsPyTorchGlobalUnstructured) {
  compress::ModelState m = bert_tiny();
  compress::UnstructuredPruning p;
  p.amount = 0.5;
  p.global = true;
  const compress::PruneSummary s = compress::prune_l1_unstructured(m, p);
  EXPECT_EQ(s.zeros, compress::prune_count(0.5, s.weights));
  expect_matches_fixture(m, "global-l1-linear-0.5.safetensors");
}

TEST(CompressUnstructured, DefaultScopeSparesNormsBiasesAndEmbeddings) {
  const compress::ModelState before = bert_tiny();
  compress::ModelState m = before;
  compress::UnstructuredPruning p;
  p.amount = 0.3;
  const compress::PruneSummary s = compress::prune_l1_unstructured(m, p);
  EXPECT_EQ(s.tensors.size(), 13u);   // 6 Linears per layer, the pooler
  for (const std::string& name : s.tensors) {
    EXPECT_EQ(zeros(m.tensors.at(name)), compress::prune_count(0.3, m.tensors.at(name).numel())) << name;
  }
  for (const auto& [name, t] : before.tensors) {
    if (std::find(s.tensors.begin(), s.tensors.end(), name) != s.tensors.end()) continue;
    EXPECT_EQ(std::memcmp(t.raw(), m.tensors.at(name).raw(), t.nbytes()), 0) << name << " changed";
  }
}

// Without training between steps, pruning in steps zeroes what one step zeroes (no ties here).
TEST(CompressUnstructured, StepsReachTheSameMaskAsOneStep) {
  compress::ModelState one = bert_tiny(), four = bert_tiny();
  compress::UnstructuredPruning p;
  p.amount = 0.6;
  p.global = true;
  compress::prune_l1_unstructured(one, p);
  p.steps = 4;
  compress::prune_l1_unstructured(four, p);
  for (const auto& [name, t] : one.tensors) {
    EXPECT_EQ(std::memcmp(t.raw(), four.tensors.at(name).raw(), t.nbytes()), 0) << name;
  }
}

TEST(CompressUnstructured, BadRequestsAreRefusedAndChangeNothing) {
  compress::ModelState m = bert_tiny();
  compress::UnstructuredPruning p;
  for (double amount : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    p.amount = amount;
    iotest::expect_error<InputError>([&] { compress::prune_l1_unstructured(m, p); }, {"amount", "[0, 1)"});
  }
  p.amount = 0.5;
  p.steps = 0;
  iotest::expect_error<InputError>([&] { compress::prune_l1_unstructured(m, p); }, {"steps"});
  p.steps = 1;
  const std::string last = "encoder.layer.1.output.dense.weight";
  Tensor bad = m.tensors.at(last).to_f32();
  bad.data<float>()[7] = std::numeric_limits<float>::infinity();
  m.tensors[last] = bad;
  iotest::expect_error<InputError>([&] { compress::prune_l1_unstructured(m, p); }, {last, "non-finite", "element 7"});
  EXPECT_EQ(zeros(m.tensors.at("encoder.layer.0.attention.self.query.weight")), 0);   // nothing pruned
  m.tensors[last] = Tensor::zeros(bad.shape(), DType::I8);
  iotest::expect_error<InputError>([&] { compress::prune_l1_unstructured(m, p); }, {"quantized", "prune the float model first"});
  iotest::expect_error<InputError>([&] { compress::remove_heads(m, {{0, {1}}}); }, {"quantized"});
  iotest::expect_error<InputError>([&] { compress::remove_ffn_neurons(m, {{0, {1}}}); }, {"quantized"});
}

// torch.topk's two paths: partial_sort for k * 64 <= n, nth_element otherwise; the same calls
// choose the same tied elements.
TEST(CompressRank, TopkFollowsTorchOnTies) {
  std::vector<double> ones(64, 1.0);
  std::vector<int64_t> got = compress::torch_topk_indices(ones, 13, false);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{33, 34, 35, 36, 38, 40, 41, 42, 43, 44, 45, 46, 47}));   // PyTorch's
  std::vector<double> scores = {5, 1, 4, 1, 3, 9, 2, 6};
  got = compress::torch_topk_indices(scores, 3, true);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{0, 5, 7}));
  std::vector<double> many(200);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>((i * 37) % 200);
  got = compress::torch_topk_indices(many, 3, false);   // the partial_sort path
  std::sort(got.begin(), got.end());
  std::vector<int64_t> want;
  for (int64_t i = 0; i < 200; ++i)
    if ((i * 37) % 200 < 3) want.push_back(i);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(compress::prune_count(0.2, 64), 13);
  EXPECT_EQ(compress::prune_count(0.5, 5), 2);   // halves to even, as Python's round
  EXPECT_EQ(compress::prune_count(0.5, 7), 4);
}
