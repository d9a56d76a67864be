// TrainableEncoder: its forward equals the inference Encoder's, and its gradients equal PyTorch's
// through the whole of bert-tiny (the fixture holds every parameter's gradient of an MSE loss on
// mean-pooled embeddings), including on structurally pruned shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "fixture_util.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/memory.h"
#include "slimformer/error.h"
#include "test_util.h"
#include "train/losses.h"
#include "train/trainable_encoder.h"

using namespace slimformer;

namespace {

const std::string kDir = slimtest::fixtures_dir();

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(static_cast<double>(t.data<float>()[i])));
  return m;
}

double max_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

}  // namespace

TEST(TrainTrainableEncoder, ForwardEqualsTheInferenceEncoder) {
  for (const std::string name : {"bert-tiny", "roberta-tiny", "distilbert-tiny"}) {
    SCOPED_TRACE(name);
    auto ckpt = std::make_shared<const Checkpoint>(kDir + "/models/" + name);
    SafetensorsFile in(kDir + "/outputs/" + name + ".safetensors");
    const Batch b = slimtest::fixture_batch(in);
    train::TrainableEncoder te(*ckpt);
    for (PoolingMode mode : {PoolingMode::Mean, PoolingMode::Cls}) {
      const Tensor got = te.forward(b, mode);
      const Tensor want = pool(Encoder(ckpt).forward(b).last_hidden_state, b.mask, mode);
      ASSERT_EQ(got.shape(), want.shape());
      EXPECT_LE(max_diff(got, want), 1e-5);
    }
  }
}

TEST(TrainTrainableEncoder, GradientsEqualPyTorchOnBertTiny) {
  SafetensorsFile ref(kDir + "/training/bert-tiny-mean-pool-mse-grads.safetensors");
  SafetensorsFile in(kDir + "/outputs/bert-tiny.safetensors");
  const Batch b = slimtest::fixture_batch(in);
  train::TrainableEncoder te(Checkpoint(kDir + "/models/bert-tiny"));
  const Tensor pooled = te.forward(b, PoolingMode::Mean);
  const Tensor target = ref.get("target");
  Tensor dpooled = Tensor::empty(pooled.shape());
  const float loss = train::mse_loss(dpooled.data<float>(), pooled.data<float>(), target.data<float>(), pooled.numel());
  EXPECT_NEAR(loss, ref.get("loss").data<float>()[0], 1e-5 * std::fabs(ref.get("loss").data<float>()[0]));
  te.backward(dpooled);
  int checked = 0;
  for (const std::string& key : ref.names()) {
    if (key.rfind("grad.", 0) != 0) continue;
    const std::string name = key.substr(5);
    const Tensor want = ref.get(key), got = te.parameter(name).grad;
    ASSERT_EQ(got.shape(), want.shape()) << name;
    // relative to the tensor's largest gradient
    EXPECT_LE(max_diff(got, want), 1e-4 * std::max(max_abs(want), 1e-6)) << name << " (largest " << max_abs(want) << ")";
    ++checked;
  }
  EXPECT_EQ(checked, 37);
  // Gradients accumulate over calls; zero_grad clears them.
  te.zero_grad();
  EXPECT_EQ(max_abs(te.parameter("encoder.layer.0.output.dense.weight").grad), 0.0);
}

// A pruned layer (fewer heads, narrower FFN) trains on the shapes it has: its gradients equal those
// of the same model exported at full shape (removed heads and neurons as zero weights), at every
// weight the pruned model kept.
TEST(TrainTrainableEncoder, PrunedShapesGetTheGradientsOfTheirZeroPaddedTwin) {
  compress::ModelState m = compress::state_of(Checkpoint(kDir + "/models/bert-tiny"));
  compress::remove_heads(m, {{0, {1}}});
  compress::remove_ffn_neurons(m, {{1, {0, 3, 7, 8}}});
  compress::ModelState padded = m;
  compress::to_dense_f32(padded);
  SafetensorsFile in(kDir + "/outputs/bert-tiny.safetensors");
  const Batch b = slimtest::fixture_batch(in);
  train::TrainableEncoder small(*compress::checkpoint_of(m)), full(*compress::checkpoint_of(padded));
  const Tensor ps = small.forward(b, PoolingMode::Mean), pf = full.forward(b, PoolingMode::Mean);
  EXPECT_LE(max_diff(ps, pf), 1e-5);
  Tensor d = Tensor::empty(ps.shape());
  for (int64_t i = 0; i < d.numel(); ++i) d.data<float>()[i] = std::sin(0.37f * static_cast<float>(i));
  small.backward(d);
  full.backward(d);
  // Layer 1 FFN output weight: export puts the removed neurons back as zero columns after the
  // kept ones, so the pruned model's columns are the padded one's first columns.
  const Tensor gs = small.parameter("encoder.layer.1.output.dense.weight").grad;
  const Tensor gf = full.parameter("encoder.layer.1.output.dense.weight").grad;
  ASSERT_EQ(gs.dim(0), gf.dim(0));
  ASSERT_EQ(gs.dim(1) + 4, gf.dim(1));
  const double scale = max_abs(gf);
  for (int64_t r = 0; r < gs.dim(0); ++r)
    for (int64_t c = 0; c < gs.dim(1); ++c)
      ASSERT_NEAR(gs.data<float>()[r * gs.dim(1) + c], gf.data<float>()[r * gf.dim(1) + c], 1e-4 * scale) << r << "," << c;
  // Parameters whose shape pruning did not change match whole.
  for (const std::string name : {"embeddings.word_embeddings.weight", "encoder.layer.0.attention.output.LayerNorm.weight",
                                 "encoder.layer.1.attention.self.query.weight"}) {
    EXPECT_LE(max_diff(small.parameter(name).grad, full.parameter(name).grad), 1e-4 * max_abs(full.parameter(name).grad))
        << name;
  }
}

TEST(TrainTrainableEncoder, RefusesWhatItCannotTrain) {
  compress::ModelState m = compress::state_of(Checkpoint(kDir + "/models/bert-tiny"));
  compress::quantize(m, compress::Quantization{});
  EXPECT_THROW(train::TrainableEncoder te(*compress::checkpoint_of(m)), ModelError);
  train::TrainableEncoder te(Checkpoint(kDir + "/models/bert-tiny"));
  EXPECT_THROW(te.backward(Tensor::zeros({1, 64})), InputError);   // no forward yet
}

// Gradient checkpointing: the same gradients bit for bit, and less activation memory at the peak
// of forward + backward.
TEST(TrainTrainableEncoder, CheckpointingGivesTheSameGradientsWithLessMemory) {
  const Checkpoint ckpt(kDir + "/models/bert-tiny");
  Batch b;
  b.batch = 4;
  b.seq = 96;
  for (int64_t i = 0; i < b.batch * b.seq; ++i) {
    b.ids.push_back(1 + (i * 37) % 900);
    b.mask.push_back(i % b.seq < b.seq - (i / b.seq) * 7 ? 1 : 0);   // some padding
    b.type_ids.push_back(0);
  }
  size_t peak[2] = {0, 0};
  std::vector<std::map<std::string, Tensor>> grads(2);
  for (int on = 0; on < 2; ++on) {
    train::TrainableEncoder te(ckpt);
    te.set_checkpoint_activations(on == 1);
    reset_peak_bytes();
    const size_t before = live_bytes();
    const Tensor pooled = te.forward(b, PoolingMode::Mean);
    Tensor d = Tensor::empty(pooled.shape());
    for (int64_t i = 0; i < d.numel(); ++i) d.data<float>()[i] = std::cos(0.11f * static_cast<float>(i));
    te.backward(d);
    peak[on] = peak_bytes() - before;
    for (const train::Parameter& p : te.parameters()) {
      Tensor copy = Tensor::empty(p.grad.shape());
      std::memcpy(copy.raw(), p.grad.raw(), p.grad.nbytes());
      grads[on][p.name] = copy;
    }
  }
  for (const auto& [name, g] : grads[0]) {
    EXPECT_EQ(std::memcmp(g.raw(), grads[1].at(name).raw(), g.nbytes()), 0) << name;
  }
  EXPECT_LT(peak[1], peak[0]);
  std::printf("activation peak: %zu bytes without checkpointing, %zu with\n", peak[0], peak[1]);
}

namespace {

Batch dropout_batch() {
  Batch b;
  b.batch = 2;
  b.seq = 9;
  for (int64_t i = 0; i < b.batch * b.seq; ++i) {
    b.ids.push_back(1 + (i * 53) % 900);
    b.mask.push_back(i == 17 ? 0 : 1);   // one padded position
    b.type_ids.push_back(i % b.seq > 4 ? 1 : 0);
  }
  return b;
}

// sum_i cos(0.3 i) pooled_i, in double: the scalar the gradient checks differentiate.
double weighted_loss(train::TrainableEncoder& te, const Batch& b, uint64_t step) {
  const Tensor pooled = te.forward(b, PoolingMode::Mean, step);
  double s = 0;
  for (int64_t i = 0; i < pooled.numel(); ++i) s += std::cos(0.3 * double(i)) * pooled.data<float>()[i];
  return s;
}

}  // namespace

// Dropout: masks keyed by the step (the same step, the same result; another step, another), the
// same gradients when checkpointed layers are recomputed, and gradients that agree with central
// differences of the loss under that step's masks.
TEST(TrainTrainableEncoder, DropoutIsKeyedByTheStepAndDifferentiatedThroughItsMasks) {
  const Checkpoint ckpt(kDir + "/models/bert-tiny");
  const Batch b = dropout_batch();
  const train::TrainableEncoder::Dropout dropout{0.1, 0.1, 5};
  train::TrainableEncoder plain(ckpt), te(ckpt);
  te.set_dropout(dropout);
  const Tensor none = plain.forward(b, PoolingMode::Mean);
  const Tensor a = te.forward(b, PoolingMode::Mean, 3), again = te.forward(b, PoolingMode::Mean, 3);
  const Tensor other = te.forward(b, PoolingMode::Mean, 4);
  EXPECT_EQ(std::memcmp(a.raw(), again.raw(), a.nbytes()), 0);
  EXPECT_GT(max_diff(a, other), 1e-3);
  EXPECT_GT(max_diff(a, none), 1e-3);

  std::vector<std::map<std::string, Tensor>> grads(2);
  for (int on = 0; on < 2; ++on) {
    train::TrainableEncoder m(ckpt);
    m.set_dropout(dropout);
    m.set_checkpoint_activations(on == 1);
    const Tensor pooled = m.forward(b, PoolingMode::Mean, 3);
    Tensor d = Tensor::empty(pooled.shape());
    for (int64_t i = 0; i < d.numel(); ++i) d.data<float>()[i] = static_cast<float>(std::cos(0.3 * double(i)));
    m.backward(d);
    for (const train::Parameter& p : m.parameters()) {
      Tensor copy = Tensor::empty(p.grad.shape());
      std::memcpy(copy.raw(), p.grad.raw(), p.grad.nbytes());
      grads[on][p.name] = copy;
    }
  }
  for (const auto& [name, g] : grads[0]) EXPECT_EQ(std::memcmp(g.raw(), grads[1].at(name).raw(), g.nbytes()), 0) << name;

  // Central differences on the largest gradient entry of tensors along the whole path (each
  // dropout site sits between two of them), in the f32 forward: h = 1e-3, 2% agreement.
  train::TrainableEncoder m(ckpt);
  m.set_dropout(dropout);
  for (const std::string name : {"embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight",
                                 "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.output.dense.weight",
                                 "encoder.layer.1.intermediate.dense.weight", "encoder.layer.1.output.dense.bias"}) {
    const Tensor& g = grads[0].at(name);
    int64_t at = 0;
    for (int64_t i = 0; i < g.numel(); ++i)
      if (std::fabs(g.data<float>()[i]) > std::fabs(g.data<float>()[at])) at = i;
    float* w = nullptr;
    for (train::Parameter& p : m.parameters())
      if (p.name == name) w = p.value.data<float>() + at;
    ASSERT_NE(w, nullptr) << name;
    const float keep = *w, h = 1e-3f;
    *w = keep + h;
    const double up = weighted_loss(m, b, 3);
    *w = keep - h;
    const double down = weighted_loss(m, b, 3);
    *w = keep;
    const double numeric = (up - down) / (2.0 * h), analytic = g.data<float>()[at];
    EXPECT_NEAR(analytic, numeric, 0.02 * std::max(std::fabs(numeric), 1e-2)) << name << "[" << at << "]";
  }
  EXPECT_THROW(m.set_dropout({1.0, 0.0, 1}), InputError);
}
